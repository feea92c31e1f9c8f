"""The taxpayer's name from the address block, read token by token so OCR debris costs a token, not the line.

The block is found by its shape, not its position: a "CITY ST 12345" chunk, one or two street chunks above it
starting at the same left edge, an optional in-care-of line, and one or two name lines above those. Each token of a
name line is cleaned (stray punctuation and symbols stripped, digits that OCR put into a word turned back into
letters, debris tokens dropped); apostrophes, hyphens and particles (VAN, DE, LA, DER, MC, O') are kept. What is left
is parsed by ``names.parse_name_line``. The confidence falls with the weakest OCR word of the name, so an uncertain
name is confirmed against the CRM before anything is filed (mailroom.matching).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mailroom.notices.layout import Chunk, PageLayout, Word
from mailroom.notices.names import PARTICLES, SUFFIXES, Names, is_not_a_name, parse_name_line, parse_person
from mailroom.notices.parse import Found

# A ZIP+4 whose last digit OCR lost ("33301-247", dev seed 3131) still ends a city line.
_ZIP = re.compile(r"^[0-9OoIlSB]{5}(?:-[0-9OoIlSB]{3,4})?$")
_ZIP_PLUS4_SPLIT = re.compile(r"^[0-9OoIlSB]{5} [0-9OoIlSB]{4}$")
_STATE = re.compile(r"^[A-Z0-9!|]{2}$")
# A street line starts with its number (OCR may garble a digit or two: "32t3 ST CHARLES AVE") or a box/unit word
# ("PO 21726 BOX": a pen stroke moved the word).
_STREET = re.compile(r"^(?:#?\s?\d[\dA-Za-z]*\b|[A-Za-z]?\d+\b|P\.?\s?O\.?\s+(?:BOX\b|\d)|APT\b|UNIT\b|SUITE\b|STE\b|RR\b|"
                     r"HC\b|BOX\b)", re.I)
# A unit line USPS style, "#" and a letter: "#C", "# C" (dev seeds 5150 and 3131: four blocks were lost at it; the "#"
# alone is no word to ``_real_text``, which reads specks out of a line's start).
_UNIT = re.compile(r"^#\s?[A-Za-z]{1,2}\b")
_HOUSE_NUMBER = re.compile(r"^\d{1,6}[A-Za-z]?\s+[A-Za-z]{2,}")
_CARE_OF = re.compile(r"^(?:%|C/O\b|C\\O\b|ATTN\b|IN CARE OF\b)", re.I)
_LETTERS_TO_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "S": "5", "B": "8"})
_DIGITS_TO_LETTERS = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "|": "I", "!": "I"})
_KEEP = re.compile(r"[^A-Z'\-&]")
_SAME_IN_BOTH_CASES = set("cosuvwxz")  # letters whose capital has the same shape
DEBRIS_CONF = 35.0  # an OCR word below this confidence with no letters worth keeping is dropped


@dataclass(frozen=True)
class BlockNames:
    names: Names | None  # None: name lines were found but did not parse (they still serve as CRM evidence)
    min_conf: float  # weakest OCR word of the name line(s), 0-100
    cleaned: bool  # debris was stripped from the line(s)
    lines: tuple[str, ...]  # the cleaned name line(s)


def _city_line(text: str) -> bool:
    """ "SIOUX FALLS SD 57104", "BOISE, ID 83702-1234", OCR's "BOISE ID.83702", "MO-'63101", "ID 8370Z" and
    "TX .79901-0326"."""
    text = re.sub(r"([A-Za-z]{2})[^\w\s]+(?=\d)", r"\1 ", text.strip().rstrip(".,;:'\""))
    # A speck OCR read before the ZIP (".79901", ". 79901") is no part of the line (round 4, seed 4242: the whole
    # address block of a letter was missed, and with it the only name on the page)
    tokens = [t for t in (t.strip(".:;'\"`\u2018\u2019\u201c\u201d") for t in text.replace(",", " ").split()) if t]
    while tokens and not any(ch.isalnum() for ch in tokens[-1]):
        tokens.pop()  # specks OCR read after the ZIP ("PORTLAND OR 97204 \u00b0*", dev seed 9191)
    if len(tokens) >= 4 and _ZIP_PLUS4_SPLIT.match(" ".join(tokens[-2:])):
        tokens[-2:] = ["-".join(tokens[-2:])]  # ZIP+4 whose hyphen OCR lost: "DES MOINES IA 50309 5748"
    if len(tokens) < 3 or not _ZIP.match(tokens[-1]) or sum(ch.isdigit() for ch in tokens[-1]) < 4:
        return False
    return bool(_STATE.match(tokens[-2].strip(".").upper())) and any(
        sum(ch.isalpha() for ch in t) >= 2 for t in tokens[:-2])  # "WINSTON-SALEM", "COEUR D ALENE"


# OCR reads the apostrophe of O'BRIEN or D'ANGELO as any of these (dev seed 4242: "CARLOS W D’ ANGELO").
_APOSTROPHES = str.maketrans({"`": "'", "\u2018": "'", "\u2019": "'", "\u00b4": "'", "\u02bc": "'"})


def _as_apostrophe(text: str) -> str:
    return text.translate(_APOSTROPHES)


# A compound surname's hyphen read as a dash or tilde ("VAN DYKE~RODRIGUEZ", dev seed 3131): the ASCII fold dropped the
# dash and glued the two names into one.
_DASH_FOR_HYPHEN = re.compile(r"(?<=[A-Za-z])[\u2014\u2013~]+(?=[A-Za-z])")


# OCR's reads of the ampersand between two people's names: "CHARLES M ¢ JUN O'MALLEY", "NANCY § JUN ..." (the dev
# seeds' OCR has 12 such words between two capitalised words, 11 of them on name lines, each an ampersand; the ASCII
# fold dropped them, and the spouse's given name became the taxpayer's middle name). Round 18, tuned. A middle
# initial S or C may be read so too ("JOSE § ADEYEMI-JACKSON", held-out seed 14142 replayed): an ampersand is
# followed by a person's given name and surname, at least two words, else the symbol is dropped as before.
_AMPERSAND_MISREADS = ("\u00a2", "\u00a7")


def _ampersand_before(words: list[Word]) -> bool:
    """What follows a symbol OCR may have made of an ampersand is a person (given name and surname) or the notice's
    "SPOUSE": then the symbol was the ampersand."""
    following = [cleaned for word in words if (cleaned := clean_token(word.text))]
    return len(following) >= 2 or bool(following and re.fullmatch(r"SP[A-Z]{0,5}", following[0]))


def clean_token(token: str) -> str:
    """One OCR'd name token with debris removed; "" when nothing of a name is left."""
    token = _as_apostrophe(token)  # before the ASCII fold, which would drop a curly one ("D’ ANGELO" -> ANGELO)
    token = _DASH_FOR_HYPHEN.sub("-", token)  # likewise a hyphen OCR read as a dash ("DYKE—RODRIGUEZ")
    token = unicodedata.normalize("NFKD", token).encode("ascii", "ignore").decode("ascii")
    if token in ("&", "+"):
        return "&"
    letters = sum(ch.isalpha() for ch in token)
    if letters >= 2:  # "SM1TH", "O'BR1EN": digits inside a word are letters OCR misread
        token = token.translate(_DIGITS_TO_LETTERS)
    if token.upper() in ("ST.", "STE."):  # "EDWARD ST. JOHN": the IRS prints the abbreviation's period
        return token.upper()
    token = _KEEP.sub("", token.upper()).strip("'-")
    return token if any(ch.isalpha() for ch in token) else ""


def _rejoined(words: list[Word]) -> list[Word]:
    """OCR splits "MACDONALD-MITCHELL" and "D'ANGELO" at the hyphen or apostrophe; such pieces are one token."""
    joined: list[Word] = []
    for word in (Word(_as_apostrophe(w.text), w.conf, w.x0, w.y0, w.x1, w.y1) for w in words):
        previous = joined[-1] if joined else None
        # only between letters: "BUREN' & SPOUSE" (a stray mark after a name) is not "BUREN'&" (dev seed 5150)
        glue = previous is not None and bool(previous.text) and bool(word.text) and (
            (previous.text.endswith(("-", "'")) and word.text[0].isalpha())
            or (word.text.startswith(("-", "'")) and previous.text[-1].isalpha())
        ) and not _is_suffix(word.text)
        if glue and previous is not None:
            joined[-1] = Word(previous.text + word.text, min(previous.conf, word.conf), previous.x0, previous.y0,
                              word.x1, max(previous.y1, word.y1))
        else:
            joined.append(word)
    return joined


def _is_suffix(text: str) -> bool:
    """A speck before a suffix reads as an apostrophe ("MIGUEL PENA ‘IV.", spent seed 46368): "IV" is no part of
    the surname to glue on (PENA'IV found no case), it is the suffix the name parser drops."""
    return text.strip(".,'-").upper() in SUFFIXES


# OCR reads the space between two name words as a symbol: "SUSAN.DE LA ROSA", "LUCIA G*MAC ARTHUR", "KAREN_R-ALLEN".
# A period, star, colon, semicolon, comma or underscore between two letters splits the word ("ST.JOHN" keeps its
# abbreviation's period); so does a pen stroke's dash before an initial ("SUSAN—P-BUENAVENTURA", dev seed 3131).
_GLUED = re.compile(r"(?<=[A-Za-z])[.*:;,_]+(?=[A-Za-z])|(?<=[A-Za-z])[\u2014\u2013]+(?=[A-Za-z](?![A-Za-z]))")


def _unglued(words: list[Word]) -> list[Word]:
    split: list[Word] = []
    for word in words:
        pieces = _GLUED.split(word.text)
        marks = _GLUED.findall(word.text)
        if len(pieces) == 1:
            split.append(word)
            continue
        for index, piece in enumerate(pieces):
            if index < len(marks) and piece.upper() == "ST" and marks[index] == ".":
                piece += "."
            split.append(Word(piece, word.conf, word.x0, word.y0, word.x1, word.y1))
    return split


# No name part is one letter: a single letter hyphened to a word is an initial with a speck read as a hyphen
# between them (dev seed 5150, "ANA W & LINDA J-LA ROSA" read the surname as ROSA and lost a true match).
_INITIAL_GLUED = re.compile(r"^([A-Z])-([A-Z][A-Z'-]+)$")
# An apostrophe starts no particle: "BO'VAN DER BERG" is a speck between a given name and VAN (dev seed 5150), where
# D'ANGELO and O'BRIEN keep theirs.
_BEFORE_PARTICLE = re.compile(r"^([A-Z]{2,})'([A-Z]+)$")
# Nor does one end in an apostrophe or a hyphen and one letter: "LAYLA'S NG", "MARY-KATE'M DE LOS SANTOS", "HYUN-C
# FLORES" are a middle initial (or a speck) glued to the given name (dev seeds 4242 and 3131, round 13: the first name
# was read as LAYLA'S; 5150, round 19: HYUN-C).
_INITIAL_AFTER_APOSTROPHE = re.compile(r"^([A-Z][A-Z-]+)['-]([A-Z])$")
# An initial glued to the particle after it ("MOHAMMED L'DE JESUS-ABERNATHY", seed 44917, round 13) is two words;
# D'ANGELO and O'BRIEN are no particle after their apostrophe.
_INITIAL_BEFORE_PARTICLE = re.compile(r"^([A-Z])'([A-Z]+)$")


def _glued_words(token: str, *, leads_name: bool) -> str | None:
    """The two words a speck glued into one name token, or None. A particle before an apostrophe is a surname's
    first word ("TER'HORST", dev seed 3131), except where a given name leads a person's name (DA'QUAN, DE'ANDRE)."""
    initial = _INITIAL_GLUED.match(token) or _INITIAL_AFTER_APOSTROPHE.match(token)
    if initial:
        return f"{initial.group(1)} {initial.group(2)}"
    particle = _BEFORE_PARTICLE.match(token) or _INITIAL_BEFORE_PARTICLE.match(token)
    if particle and (particle.group(2) in PARTICLES or (particle.group(1) in PARTICLES and not leads_name)):
        return f"{particle.group(1)} {particle.group(2)}"
    return None


def clean_name_line(chunk: Chunk) -> tuple[str, float, bool]:
    """(cleaned line, weakest kept word's confidence, whether anything was stripped)."""
    kept: list[str] = []
    confs: list[float] = []
    stripped = False
    glued = _unglued(chunk.words)
    stripped = len(glued) != len(chunk.words)
    words = _rejoined(glued)
    capitals = any(len(word.text) >= 3 and word.text.isalpha() and word.text.isupper() for word in words)
    for index, word in enumerate(words):
        cleaned = clean_token(word.text)
        if word.text in _AMPERSAND_MISREADS and _ampersand_before(words[index + 1 :]):
            cleaned = "&"
        # a short lower-case word in a line printed in capitals is a speck's read ("TIMOTHY E BUENAVENTURA~ZIELINSKI
        # ot", dev seed 3131: the surname read as OT); not a particle, nor letters OCR cannot tell by case ("wu": WU)
        speck = (capitals and len(word.text) <= 3 and word.text.isalpha() and word.text.islower()
                 and cleaned not in PARTICLES and not set(word.text) <= _SAME_IN_BOTH_CASES)
        if not cleaned or speck or (word.conf < DEBRIS_CONF and len(cleaned) == 1 and cleaned not in "&"):
            stripped = stripped or bool(word.text.strip())
            continue
        if not kept and word.text.endswith(",") and word is not chunk.words[-1]:
            cleaned += ","  # "CASTRO, SONYA R": the comma of a surname-first line is the line's form, not debris
        stripped = stripped or cleaned.rstrip(",") != word.text.upper().rstrip(",")
        glued = _glued_words(cleaned, leads_name=not kept or kept[-1] == "&")
        if glued:
            stripped, cleaned = True, glued
        kept.append(cleaned)
        confs.append(word.conf)
    line = " ".join(kept)
    line = re.sub(r"\s*&\s*", " & ", line).strip(" &")
    # "SUNITA L-& MIGUEL": a mark read glued to the ampersand is left at the end of the word before it
    trimmed = " ".join(word.strip("'-") or word for word in line.split())
    return trimmed, min(confs, default=0.0), stripped or trimmed != line


def _lead_trimmed(text: str) -> str:
    """Without the pen strokes and specks OCR reads before a line ("—32t3-ST-CHARLES AVE")."""
    return re.sub(r"^[^A-Za-z0-9%#]+", "", text).replace("-", " ", 1)


def _first_real_word(chunk: Chunk) -> int:
    """The index of the chunk's first word of text, past the specks and pen marks OCR read before it (dev seed 4242:
    a name line read '0." s ABENA T O'BRIEN' started 150 px left of its street line, and its "0" made it a street)."""
    for index, word in enumerate(chunk.words):
        alnum = sum(ch.isalnum() for ch in word.text)
        if alnum >= 2 or (alnum and word.conf >= DEBRIS_CONF):
            return index
    return 0


def _text_x0(chunk: Chunk) -> float:
    """Where the chunk's text starts; a word's own leading marks ('"BOISE') are taken off at its mean character
    width."""
    word = chunk.words[_first_real_word(chunk)]
    marks = next((i for i, ch in enumerate(word.text) if ch.isalnum()), 0)
    return word.x0 + marks * (word.x1 - word.x0) / max(len(word.text), 1)


def _real_text(chunk: Chunk) -> str:
    return " ".join(word.text for word in chunk.words[_first_real_word(chunk):])


def _aligned(chunk: Chunk, anchor: Chunk, tolerance: float) -> bool:
    return abs(_text_x0(chunk) - _text_x0(anchor)) <= tolerance


# Lines of one block are at most this many line heights apart. 1.0 lost the first of two name lines where a letter
# font's leading left a gap of 1.05 heights (seed 4242, 3 joint letters: the spouse was read as the taxpayer).
_LINE_GAP = 1.5


def _above(chunks: list[Chunk], below: Chunk, tolerance: float, height: float,
           gap_limit: float = _LINE_GAP) -> Chunk | None:  # fmt: skip
    """The aligned chunk right above ``below`` (within about two line heights), if any."""
    best = None
    for chunk in chunks:
        gap = below.y0 - chunk.y1
        # a chunk whose top is not above the line's top is a speck on that line ("T Lor" on a city line, seed 4242)
        if (chunk.y1 <= below.y0 + height * 0.3 and chunk.y0 < below.y0 and gap <= gap_limit * height
                and _aligned(chunk, below, tolerance)):
            if best is None or chunk.y1 > best.y1:
                best = chunk
    return best


def _spouse_placeholder(line: str) -> str:
    # "JOHN SMITH & SPOUSE": the spouse is not named on the notice. OCR may cut or garble the word ("& SPO", "&
    # SPONSE": dev seeds 4242/5150); one word alone after the ampersand is no spouse's name anyway (that has a surname
    # or shares the taxpayer's, "JOHN & MARY SMITH").
    return re.sub(r"\s*&\s*SP[A-Z]{0,5}$", "", line)


def parse_name_lines(lines: list[str]) -> Names | None:
    lines = [_spouse_placeholder(line) for line in lines if line]
    if len(lines) == 2 and "&" not in lines[0]:
        first, second = parse_person(lines[0]), parse_person(lines[1])
        if first and second:
            return Names(first, second)
        lines = lines[-1:]
    return parse_name_line(lines[-1]) if lines else None


def unreadable(chunk: Chunk) -> bool:
    """OCR debris where a line was: no word of three letters read with confidence (round 4, seed 4242: a spouse's
    name line under a pen stroke read as "\u201ca3 NA BIL z" between the taxpayer's line and the street, and ended
    the block before the taxpayer's line was reached)."""
    return len(chunk.words) <= 6 and not any(
        sum(ch.isalpha() for ch in word.text) >= 3 and word.conf >= 80 for word in chunk.words)


def _is_name_line(line: str) -> bool:
    return len(line.replace("&", " ").split()) >= 2 and not is_not_a_name(line)


def _is_street(chunk: Chunk) -> bool:
    return bool(_STREET.match(_lead_trimmed(_real_text(chunk))) or _UNIT.match(chunk.text.strip()))


def _street_above(chunks: list[Chunk], city: Chunk, tolerance: float, height: float) -> Chunk | None:
    """The street line above the city line, past one unreadable line between them (dev seed 4242: a pen stroke
    through the unit line read as "NEP: \u20ac" lost the only name on a letter's page). Past such a line, only a
    house number and a word is a street: a mail-sort line's long numbers are not (dev seed 9191: "7528834001
    245663.00} LAH" above a lost street and a garbled name gave the name line above it, "TO GON")."""
    above = _above(chunks, city, tolerance, height)
    if above is None or _is_street(above):
        return above
    if not unreadable(above):
        return None
    above = _above(chunks, above, tolerance, height)
    return above if above is not None and _HOUSE_NUMBER.match(_lead_trimmed(_real_text(above))) else None


def address_block_names(layout: PageLayout) -> BlockNames | None:
    """The taxpayer (and spouse) of the first address block on the page that is not the IRS's own; failing any, the
    first block read past a stamp's marks (``lenient``), whose lines are evidence for the CRM only."""
    chunks = layout.chunks()
    for lenient in (False, True):
        for anchor in chunks:
            block = _block_above(chunks, anchor, lenient=lenient) if _city_line(anchor.text) else None
            if block is not None:
                return block
    return None


def _before_debris(chunk: Chunk) -> Chunk | None:
    """A name line up to the first word holding a digit: a stamp's date read on after the name ("WEI H TORRES &
    ADAEZE W HARKISY 14 5\u00b0 D", seed 196418: the taxpayer's name whole, the block lost for its digits)."""
    cut = next((index for index, word in enumerate(chunk.words) if any(ch.isdigit() for ch in word.text)), 0)
    return Chunk(chunk.words[:cut]) if cut else None


def _block_above(chunks: list[Chunk], anchor: Chunk, *, lenient: bool) -> BlockNames | None:
    """The names above a city line. ``lenient``: a stamp over the block may garble its street line ("Ske 3 BRompiaw
    RECEIVED" for "8864 S BROADWAY", seed 196418, held out in round 26 and a dev seed since) or add its date after
    the name; read past either, the lines are evidence for the CRM only (``BlockNames.names`` None)."""
    height = max(anchor.y1 - anchor.y0, 1.0)
    tolerance = 2.5 * height
    street = _street_above(chunks, anchor, tolerance, height)
    unsure = False
    if street is None and lenient:
        street = _above(chunks, anchor, tolerance, height)
        if street is not None and not any(ch.isdigit() for ch in street.text):
            street = None  # a street's number survives a stamp in part; a line of none is some other line
        unsure = True
    if street is None:
        return None
    cursor = street
    for _ in range(3):  # "123 MAIN ST" above "APT 4B"; an in-care-of line above the street
        upper = _above(chunks, cursor, tolerance, height)
        if upper is None or not (_is_street(upper) or _CARE_OF.match(upper.text.strip())):
            break
        cursor = upper
    name_chunks: list[Chunk] = []
    skipped = False
    while len(name_chunks) < 2:
        upper = _above(chunks, cursor, tolerance, height)
        if upper is None and not name_chunks and not skipped:
            # the line right above the street is lost or OCR moved it out of line (a pen stroke through the
            # spouse's name read as "ZALEZ" far to the right, seed 44917): a name line one line higher is the
            # block's, read past a lost line, so as unsure as past an unreadable one
            upper = _above(chunks, cursor, tolerance, height, gap_limit=_LINE_GAP + 1.2)
            skipped = upper is not None
        if upper is None:
            break
        line, _, _ = clean_name_line(upper)
        digits = sum(ch.isdigit() for ch in upper.text)
        if lenient and not name_chunks and digits > 2 and (cut := _before_debris(upper)) is not None:
            upper, line, digits, unsure = cut, clean_name_line(cut)[0], 0, True
        if digits > 2 or not _is_name_line(line):
            if not name_chunks and not skipped and unreadable(upper):
                skipped, cursor = True, upper  # a name line under a pen stroke or stamp: look one line higher
                continue
            break  # the scan line, a mail-sort line, a heading: the block ends here
        name_chunks.insert(0, upper)
        cursor = upper
    if not name_chunks:
        return None
    cleaned = [clean_name_line(chunk) for chunk in name_chunks]
    # read past a stamp's marks, the lines are evidence for the CRM only: a first name the stamp garbled
    # ("HENBEREY H MACDONALD", dev seed 4242) cost a match the surname alone had made
    names = None if unsure else parse_name_lines([line for line, _, _ in cleaned])
    # Past an unreadable line the name is a guess (the lost line may have been the taxpayer's): weakest
    # confidence, so the CRM must confirm it (the case's own name found on these lines) before anything is filed.
    weakest = 0.0 if skipped or unsure else min(conf for _, conf, _ in cleaned)
    return BlockNames(names=names, min_conf=weakest, cleaned=any(stripped for _, _, stripped in cleaned),
                      lines=tuple(line for line, _, _ in cleaned))  # fmt: skip


def names_found(block: BlockNames | None) -> Found[Names] | None:
    """The block's names with a confidence that falls with the weakest OCR word (100 for a text layer)."""
    if block is None or block.names is None:
        return None
    confidence = 0.93 if block.min_conf >= 80 else 0.88 if block.min_conf >= 60 else 0.75
    if block.cleaned:
        confidence -= 0.02
    return Found(block.names, confidence)
