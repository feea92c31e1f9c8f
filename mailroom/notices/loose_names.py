"""Name-like lines of a first page whose address block the reader could not find: evidence for the CRM, never a name.

The address-block reader anchors on a city line and a street line; a stamp, a pen stroke or fading that takes either
leaves the name lines above them unread, and the letter INSUFFICIENT_DATA for want of a surname, although the name
may stand on the page in clean capitals ("SUSAN S" and "HARRIS" split into two chunks by a stamp's edge, spent seed
65537). Such lines are given to the matcher as the page's name evidence: it searches at most three of their tails
with the page's last 4 and takes a case only when the case's own first name and whole surname are found on one of
them (``page_confirmation.confirm_on_page``). The notice's name fields stay empty: a line found this way is never
read as the taxpayer's name.

A line here is a run of chunks, left to right on one OCR line, each printed in capitals and holding no word of the
letter's own vocabulary (box labels, the letterhead, a clerk's "RECEIVED ... TAX RESOLUTION DEPT" stamp), of two
words or more with one of three letters or more read at ``_SURE_CONF``; page order, at most ``MAX_LINES``. A digit
or symbol word read surely ends the run where it stands: after a name's words it is debris a stamp's date left on
the line, and the name before it is kept (round 31); before them it is a street's number or a table's value. A word
in lower case ends the run too once two name words stand before it, one read surely (speckle OCR read as letters;
round 32), unless it is a state's code, which makes the line a city's; before them it is a sentence's.
"""

from __future__ import annotations

from mailroom.notices.address import DEBRIS_CONF, clean_token
from mailroom.notices.layout import Chunk, PageLayout
from mailroom.notices.names import is_not_a_name

MAX_LINES = 4
_SURE_CONF = 80.0
# Words a clerk's date stamp or a scan's mail-sort line prints where the block would be (the stamp's text crosses the
# name lines it covers); with names.py's vocabulary of the letter itself.
_STAMP_WORDS = {"RECEIVED", "RESOLUTION", "DEPT", "RESOL", "CLIENT", "SERVICES", "OFFICE", "MAIL", "ROOM", "SCAN"}

# A city line whose ZIP was lost ("PORTLAND OR") ends with its state; one OCR read in lower case ("EL PASO tx") has
# it where a name would be cut. A surname spelt as a state's code ("LI MA") is lost to this rule; such a letter stays
# INSUFFICIENT_DATA, as it was before round 22.
_STATES = set("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
              "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP AA AE AP".split())


def _name_words(chunk: Chunk) -> tuple[list[str], bool, bool]:
    """The chunk's name tokens, whether one of three letters or more was read surely, and whether the name was cut
    short in it: a digit or symbol word read surely after a name's words ends the name, and the rest of the chunk
    is dropped (a stamp's date run into the name line: "WEI H TORRES & ADAEZE W HARKISY 14 5° D", spent seed
    196418, round 31); so does a word in lower case after two name words, one read surely, unless it is a state's code
    (a city line, "EL PASO tx"; round 32). No tokens when the chunk is not printed like a name: a lower-case word
    before that, a digit word read surely before any name word ("1047 OAK STREET", "$35.00"), a word of the letter's
    or a stamp's vocabulary."""
    words: list[str] = []
    sure = cut = False
    for word in chunk.words:
        cleaned = clean_token(word.text)
        if not cleaned:
            if word.conf >= DEBRIS_CONF and any(ch.isalnum() for ch in word.text):
                cut = True
                break
            continue  # a speck
        lower = any(ch.islower() for ch in word.text)
        if lower and len(words) >= 2 and sure and cleaned not in _STATES:
            cut = True  # speckle read in lower case after a name ("CARLOS DA SILVA-VILLANUEVA POU: 4")
            break
        if lower or cleaned in _STAMP_WORDS:
            return [], False, True
        words.append(cleaned)
        sure = sure or (len(cleaned) >= 3 and word.conf >= _SURE_CONF)
    if not words or is_not_a_name(" ".join(words)):
        return [], False, True
    return words, sure, cut


def _name_line(run: list[tuple[list[str], bool]]) -> str | None:
    """A run of name-like chunks as a name line: two words or more, one read surely, not ending with a state's code."""
    words = [word for tokens, _ in run for word in tokens]
    if len(words) >= 2 and any(sure for _, sure in run) and words[-1] not in _STATES:
        return " ".join(words)
    return None


def loose_name_lines(layout: PageLayout) -> list[str]:
    """Runs of name-like chunks on the page's lines, in page order (see the module's docstring)."""
    runs: list[list[tuple[list[str], bool]]] = []
    for line in layout.lines:
        runs.append([])
        for chunk in sorted(line.chunks, key=lambda chunk: chunk.x0):
            words, sure, cut = _name_words(chunk)
            if words:
                runs[-1].append((words, sure))
            if cut:  # debris, or a chunk that is no name: the run ends here
                runs.append([])
    found = [line for line in map(_name_line, runs) if line is not None]
    return list(dict.fromkeys(found))[:MAX_LINES]
