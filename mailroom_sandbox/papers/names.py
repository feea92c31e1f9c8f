"""People and addresses for the papers corpus, from small embedded lists plus combinatorics.

Independent of the first corpus on purpose (no Faker): the lists below lean on the names that break readers:
particles (VAN DER BERG, DE LA CRUZ), apostrophes (O'BRIEN), Mc/Mac, hyphenated double surnames, suffixes,
two-letter surnames (LI, NG, XU), hyphenated first names and name lines close to the IRS 35-character limit.
Accented names appear in the ASCII form the IRS prints (MUNOZ, not MUÑOZ).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# The IRS prints a name line of at most 35 characters; longer joint lines are split over two lines.
NAME_LINE_LIMIT = 35

FIRST_NAMES = tuple(
    "JAMES ROBERT MICHAEL WILLIAM DAVID RICHARD JOSEPH THOMAS CHARLES DANIEL MATTHEW ANTHONY MARK "
    "STEVEN PAUL ANDREW KENNETH KEVIN BRIAN GEORGE TIMOTHY RONALD JASON EDWARD JEFFREY RYAN JACOB "
    "PATRICIA JENNIFER LINDA ELIZABETH BARBARA SUSAN JESSICA SARAH KAREN LISA NANCY BETTY MARGARET "
    "SANDRA ASHLEY DOROTHY KIMBERLY EMILY DONNA MICHELLE CAROL AMANDA MELISSA DEBORAH STEPHANIE "
    "JOSE LUIS CARLOS JUAN MIGUEL JESUS ALEJANDRO MARIA GUADALUPE CARMEN ROSA ANA LUCIA SOFIA "
    "NGOC HUONG THANH MINH WEI XIAO JUN MEI HYUN JIN SEO PRIYA RAJESH ANIL SUNITA DEEPAK "
    "MOHAMMED FATIMA YUSUF AISHA OMAR LAYLA KWAME ABENA CHIDI NGOZI OLUWASEUN ADAEZE "
    "SEAN SIOBHAN NIAMH CIARAN BJORN SOREN JURGEN FRANCOIS RENEE ZOE CHLOE AGNIESZKA WOJCIECH "
    "DESHAWN LAKEISHA TYRONE JAMAL IMANI DARNELL EVA IDA AL BO"
    .split()
)
HYPHENATED_FIRST_NAMES = ("ANNE-MARIE", "JEAN-PAUL", "MARIE-CLAIRE", "JEAN-LUC", "MARY-KATE", "KIM-LY")
APOSTROPHE_FIRST_NAMES = ("D'ANDRE", "DE'ANDRE", "JA'MYA")

PLAIN_SURNAMES = tuple(
    "SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ LOPEZ "
    "GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ THOMPSON WHITE HARRIS "
    "SANCHEZ CLARK RAMIREZ LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL "
    "FLORES GREEN ADAMS NELSON BAKER HALL RIVERA CAMPBELL MITCHELL CARTER ROBERTS KOWALSKI NOWAK "
    "OKAFOR ADEYEMI PATEL SHAH CHEN WANG KIM PARK CHOI TRAN PHAM HUYNH MUNOZ NUNEZ PENA IBANEZ "
    "MULLER SCHRODER BJORKLUND GROSS FORTIER LEFEVRE BEAULIEU WOJCIK ZIELINSKI ABERNATHY "
    "CHRISTENSEN SCHWARZENEGGER WASHINGTON VILLANUEVA BUENAVENTURA"
    .split()
)
SHORT_SURNAMES = ("LI", "NG", "XU", "OH", "LE", "VO", "WU", "YU", "HO", "IM")
PARTICLE_SURNAMES = (
    "VAN DER BERG", "VAN DYKE", "VAN BUREN", "VAN DEN BOSCH", "DE LA CRUZ", "DE LA ROSA", "DE LEON",
    "DE JESUS", "DEL RIO", "DA SILVA", "DOS SANTOS", "DI NAPOLI", "LE BLANC", "LA ROSA", "VON STEIN",
    "TEN BRINK", "TER HORST", "AL HASSAN", "EL AMIN", "ST. JOHN", "ST JAMES", "DU PONT", "MAC ARTHUR",
    "VAN DER WAL", "DE LOS SANTOS", "DE LA TORRE",
)
APOSTROPHE_SURNAMES = ("O'BRIEN", "O'CONNOR", "O'NEIL", "O'MALLEY", "D'AMICO", "D'ANGELO", "N'DIAYE")
MC_SURNAMES = ("MCDONALD", "MCCARTHY", "MACDONALD", "MCNEIL", "MACKENZIE", "MCALLISTER", "MCGRATH")
SUFFIXES = ("JR", "SR", "II", "III", "IV")

SURNAME_CLASSES = ("plain", "short", "particle", "apostrophe", "mc", "hyphenated", "long")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    middle: str | None = None  # a single initial, as the IRS prints it
    suffix: str | None = None

    def line(self) -> str:
        return " ".join(p for p in (self.first, self.middle, self.last, self.suffix) if p)


@dataclass(frozen=True)
class Address:
    street: str
    street2: str | None
    city: str
    state: str
    zip_code: str

    def city_line(self) -> str:
        return f"{self.city} {self.state} {self.zip_code}"


def pick_first_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.06:
        return rng.choice(HYPHENATED_FIRST_NAMES)
    if roll < 0.08:
        return rng.choice(APOSTROPHE_FIRST_NAMES)
    return rng.choice(FIRST_NAMES)


def pick_surname(rng: random.Random, surname_class: str) -> str:
    if surname_class == "plain":
        return rng.choice(PLAIN_SURNAMES)
    if surname_class == "short":
        return rng.choice(SHORT_SURNAMES)
    if surname_class == "particle":
        return rng.choice(PARTICLE_SURNAMES)
    if surname_class == "apostrophe":
        return rng.choice(APOSTROPHE_SURNAMES)
    if surname_class == "mc":
        return rng.choice(MC_SURNAMES)
    if surname_class == "hyphenated":
        first, second = rng.sample(PLAIN_SURNAMES + MC_SURNAMES, 2)
        return f"{first}-{second}"
    if surname_class == "long":
        # Near the 35-character line limit: a particle surname joined to a long plain one.
        longest = sorted(PLAIN_SURNAMES, key=len)[-12:]
        return f"{rng.choice(PARTICLE_SURNAMES[:12])}-{rng.choice(longest)}".replace(". ", " ")
    raise ValueError(f"unknown surname class {surname_class!r}")


def choose_surname_class(rng: random.Random) -> str:
    # Hard cases are over-represented on purpose: plain surnames are what every reader already gets right.
    return rng.choices(SURNAME_CLASSES, weights=(40, 6, 18, 9, 7, 14, 6))[0]


def make_person(rng: random.Random, surname_class: str | None = None, surname: str | None = None) -> Person:
    surname_class = surname_class or choose_surname_class(rng)
    last = surname or pick_surname(rng, surname_class)
    middle = rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.55 else None
    suffix = rng.choice(SUFFIXES) if rng.random() < 0.10 else None
    person = Person(first=pick_first_name(rng), last=last, middle=middle, suffix=suffix)
    if len(person.line()) > NAME_LINE_LIMIT:  # the IRS drops the middle initial first, then truncates nothing we test
        person = Person(first=person.first, last=last, middle=None, suffix=person.suffix)
    if len(person.line()) > NAME_LINE_LIMIT:
        person = Person(first=rng.choice(("AL", "BO", "EVA", "IDA")), last=last, middle=None, suffix=None)
    return person


def make_spouse(rng: random.Random, taxpayer: Person) -> Person:
    roll = rng.random()
    if roll < 0.72:
        last = taxpayer.last
    elif roll < 0.86:
        last = pick_surname(rng, choose_surname_class(rng))
    else:  # kept her name and joined his: SMITH-JONES beside SMITH
        base = taxpayer.last.split("-")[0]
        last = f"{rng.choice(PLAIN_SURNAMES)}-{base}" if " " not in base else rng.choice(PLAIN_SURNAMES)
    middle = rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.5 else None
    first = pick_first_name(rng)
    while first == taxpayer.first:
        first = pick_first_name(rng)
    spouse = Person(first=first, last=last, middle=middle)
    if len(spouse.line()) > NAME_LINE_LIMIT:
        spouse = Person(first=first, last=last)
    if len(spouse.line()) > NAME_LINE_LIMIT:
        spouse = Person(first=rng.choice(("EVA", "IDA", "AL", "BO")), last=last)
    return spouse


def name_lines(taxpayer: Person, spouse: Person | None, style: str) -> list[str]:
    """The name lines of the address block, as the IRS prints them for ``style``.

    Styles: single, joint_amp (JOHN A & MARY B SMITH, same surname only), joint_full (JOHN SMITH & MARY JONES),
    joint_two_lines, and_spouse (JOHN SMITH & SPOUSE: the spouse's name is not printed).
    """
    if spouse is None or style == "single":
        return [taxpayer.line()]
    if style == "and_spouse":
        return [f"{taxpayer.line()} & SPOUSE"]
    if style == "joint_amp" and spouse.last == taxpayer.last and not taxpayer.suffix:
        left = " ".join(p for p in (taxpayer.first, taxpayer.middle) if p)
        right = " ".join(p for p in (spouse.first, spouse.middle, spouse.last) if p)
        line = f"{left} & {right}"
        if len(line) <= NAME_LINE_LIMIT:
            return [line]
    if style in ("joint_amp", "joint_full"):
        line = f"{taxpayer.line()} & {spouse.line()}"
        if len(line) <= NAME_LINE_LIMIT:
            return [line]
    return [taxpayer.line(), spouse.line()]


STREETS = (
    "MAPLE AVE", "OAK ST", "2ND ST", "W 3RD ST", "MARTIN LUTHER KING JR BLVD", "ELM DR", "N MAIN ST",
    "PARK PL", "SUNSET BLVD", "LAKEVIEW CT", "CEDAR LN", "S BROADWAY", "RIVER RD", "HIGHLAND TER",
    "JOHN F KENNEDY PKWY", "WASHINGTON ST", "PINE HOLLOW RD", "COUNTY ROAD 12", "E VAN BUREN ST",
    "DE LA VINA ST", "ST CHARLES AVE",
)
CITIES = (
    ("BOISE", "ID", "83702"), ("SPOKANE", "WA", "99201"), ("ALBUQUERQUE", "NM", "87102"),
    ("SAN ANTONIO", "TX", "78205"), ("EL PASO", "TX", "79901"), ("ST LOUIS", "MO", "63101"),
    ("SALT LAKE CITY", "UT", "84101"), ("FORT LAUDERDALE", "FL", "33301"), ("NEW ORLEANS", "LA", "70112"),
    ("GRAND RAPIDS", "MI", "49503"), ("DES MOINES", "IA", "50309"), ("LAS CRUCES", "NM", "88001"),
    ("PORTLAND", "OR", "97204"), ("PORTLAND", "ME", "04101"), ("CHICAGO", "IL", "60616"),
    ("BROOKLYN", "NY", "11215"), ("NEWARK", "NJ", "07102"), ("ANCHORAGE", "AK", "99501"),
    ("HONOLULU", "HI", "96813"), ("SIOUX FALLS", "SD", "57104"), ("COEUR D ALENE", "ID", "83814"),
    ("WINSTON-SALEM", "NC", "27101"), ("MC ALLEN", "TX", "78501"), ("LA CROSSE", "WI", "54601"),
)


def make_address(rng: random.Random) -> Address:
    city, state, zip_code = rng.choice(CITIES)
    if rng.random() < 0.35:
        zip_code = f"{zip_code}-{rng.randrange(10000):04d}"
    if rng.random() < 0.1:
        street = f"PO BOX {rng.randrange(10, 99999)}"
    else:
        street = f"{rng.randrange(1, 29999)} {rng.choice(STREETS)}"
    street2 = None
    if rng.random() < 0.25:
        street2 = rng.choice(("APT", "UNIT", "STE", "#")) + " " + rng.choice(("4B", "12", "201", "C", "1107"))
        if rng.random() < 0.5:  # usually on the street line, sometimes a line of its own
            street, street2 = f"{street} {street2}", None
    return Address(street=street, street2=street2, city=city, state=state, zip_code=zip_code)


def care_of_line(rng: random.Random) -> str:
    """An in-care-of line: a second person's name inside the address block, who is not the taxpayer."""
    other = make_person(rng, "plain")
    return f"% {other.first} {other.last}" + rng.choice(("", " CPA", " EA", " ESQ"))
