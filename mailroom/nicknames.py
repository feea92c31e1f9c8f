"""Common English given-name equivalences (William ~ Bill ~ Will ~ Billy), for matching notices to CRM cases.

Each line is one group of names people use interchangeably. Kept as data here rather than a dependency: the
available packages are large, unmaintained or US-census derived with many false friends (e.g. Jack ~ Jacob).
"""

from __future__ import annotations

_GROUPS = """
william bill billy will willy liam
robert bob bobby rob robbie bert
james jim jimmy jamie
john jack johnny jon
jonathan jon jonny nathan
richard rick ricky dick rich richie
michael mike mikey mick
joseph joe joey
thomas tom tommy
charles chuck charlie chas
christopher chris kit topher
daniel dan danny
anthony tony
steven steve stevie stephen
edward ed eddie ted ned
alexander alex al xander sandy
elizabeth liz beth betty lizzie eliza betsy libby
katherine kate kathy katie kat kathryn catherine cathy
margaret peggy maggie meg marge margie greta
jennifer jen jenny jenn
patricia pat patty trish tricia
patrick pat paddy
susan sue susie suzy
deborah debbie deb debra
rebecca becky becca
kimberly kim kimmy
samantha sam sammy
samuel sam sammy
benjamin ben benny
nicholas nick nicky
matthew matt matty
andrew andy drew
david dave davey
gregory greg
timothy tim timmy
kenneth ken kenny
ronald ron ronnie
donald don donnie
gerald gerry jerry
lawrence larry
raymond ray
jeffrey jeff
joshua josh
zachary zach zack
peter pete
philip phil
frederick fred freddie
harold hal harry
henry hank harry
walter walt
albert al bert
eugene gene
leonard len lenny leo
douglas doug
vincent vince vinny
victoria vicky tori
jessica jess jessie
cynthia cindy
barbara barb barbie
dorothy dot dottie
judith judy
pamela pam
sandra sandy
theresa terry tess tessa teresa
abigail abby gail
alexandra alex sandra lexi
christina chris tina christine
valerie val
veronica ronnie
nancy nan
mary molly polly mae
ann anne annie nancy
caroline carol carrie
virginia ginny
frances fran frankie
francis frank frankie
""".strip()


def _build() -> dict[str, frozenset[str]]:
    equivalents: dict[str, set[str]] = {}
    for line in _GROUPS.splitlines():
        group = set(line.split())
        for name in group:
            equivalents.setdefault(name, set()).update(group)
    return {name: frozenset(names) for name, names in equivalents.items()}


_EQUIVALENTS = _build()


def are_nicknames(first: str, other: str) -> bool:
    """True when the two given names are listed as interchangeable (case-insensitive, not for identical names)."""
    a, b = first.strip().lower(), other.strip().lower()
    return a != b and b in _EQUIVALENTS.get(a, frozenset())
