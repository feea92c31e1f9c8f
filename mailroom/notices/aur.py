"""aur: the AUR (Automated Underreporter) control number a CP2000, CP2501 or CP3219A prints in its box, and the
shapes OCR damages it into. Split from parse.py (the other fields' parsers)."""

from __future__ import annotations

import re

from mailroom.notices.parse import Found, after_labels

# AUR (Automated Underreporter) control numbers look like 87139-0114: 5 digits, hyphen, 4 digits.
_AUR = re.compile(r"(?<![\d-])(\d{5})\s?-\s?(\d{4})(?![\d-])")
AUR_LABELS = ("aur control number", "aur control no", "control number", "control no")


# OCR look-alikes of digits, used only inside a labelled value ("AUR control number §6257-9352"); ssn.py adds the
# rarer ones it needs for guesses at a garbled last 4.
DIGIT_LOOKALIKES = {"§": "5", "S": "5", "$": "5", "O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "i": "1", "|": "1",
                    "!": "1", "]": "1", "B": "8", "Z": "2"}  # fmt: skip
_DIGIT_LOOKALIKES = str.maketrans(DIGIT_LOOKALIKES)
_AUR_OCR = re.compile(r"(?<![\w-])([0-9§S$OoDlI|!BZ]{5})\s?-\s?([0-9§S$OoDlI|!BZ]{4})(?![\w-])")


# Public samples disagree on the control number's shape, so every one seen is read (docs/extraction.md): 5-4 digits
# with a hyphen (our first corpus), 10 digits, or a digit, a letter and 7 digits. Only ever next to its label.
_AUR_PLAIN = re.compile(r"(?<![\w-])(\d{10}|\d[A-Z]\d{7})(?![\w-])")
# ... or in lower case ("1v9504695" for 1V9504695); never l, i, o, which may be the digits 1 and 0.
_AUR_LOWER_LETTER = re.compile(r"(?<![\w-])(\d[a-hjkmnp-z]\d{7})(?![\w-])")
# ... or damaged otherwise: a digit read as its look-alike ("$104899274", "SASO38651" for 5A5038651; a letter cannot
# lead the digit-letter shape, so its S is a 5), the letter read as a symbol (C as "€" or "¢", X as "%", E as "£"), a
# space or a speck after the letter ("3V 9458368", "3Y¥6941467"). Judged by ``repaired_aur``.
AUR_DAMAGED = re.compile(r"(?<![\w-])([^\s\-|]{2}[^\w\s]?\s?[^\s\-|]{7,8})(?![\w-])")
_SYMBOL_LETTERS = {"€": "C", "¢": "C", "%": "X", "£": "E"}
_DIGITISH = set("0123456789§S$OoDlIi|!]BZ")


def repaired_aur(token: str) -> str | None:
    """A damaged control number with at most three digits repaired (none of them the letter), else None."""
    compact = "".join(token.split())
    if len(compact) == 10 and not compact[2].isalnum() and compact[2] not in _DIGITISH:
        compact = compact[:2] + compact[3:]  # the speck after the letter
    if len(compact) == 10 and set(compact) <= _DIGITISH and sum(ch.isdigit() for ch in compact) >= 7:
        return compact.translate(_DIGIT_LOOKALIKES)
    if len(compact) != 9:
        return None
    digits = compact[0] + compact[2:]
    letter = _SYMBOL_LETTERS.get(compact[1], compact[1])
    if set(digits) <= _DIGITISH and sum(ch.isdigit() for ch in digits) >= 5 and "A" <= letter <= "Z":
        repaired = digits.translate(_DIGIT_LOOKALIKES)
        return repaired[0] + letter + repaired[1:]
    return None


# "AUR sonttST number: 8549761770": OCR garbled the label's middle word (a stamp's edge, speckle); "AUR" and "number"
# still frame it. Read only where no label read whole gave a value, and unsure (dev seed 4242, round 14).
_GARBLED_LABEL = re.compile(r"\bAUR\b\W{0,3}[^\W\d_]{3,10}\W{0,3}(?:number|no)\b", re.I)
_GARBLED_LABEL_CONFIDENCE = 0.85
# "rol number: 0596815773": a stamp or a pen stroke took the label's start, its tail is left (dev seed 9191, round
# 17). "number" alone labels the SSN, a phone, an account; "...rol number" only this one. Read only where neither
# the whole label nor the garbled one gave a value, only a value of a clean shape (no digit repaired), and unsure.
_LABEL_TAIL = re.compile(r"(?<![^\W\d_])(?:n?t)?rol\W{0,2}(?:number|no)\b", re.I)
_CLEAN_SHAPE = 0.97  # the confidence _value_after_label gives a control number none of whose characters it repaired
# "AUR Cor N 6190857411", "AUR co Umber, 3877652470", "AUR contrat mumver 1553012524": both label words garbled,
# "AUR" whole (spent seeds, round 23). The word names this number alone; read only where no rule above gave a value,
# only a value of a clean shape right after at most 20 characters of the label's debris, and unsure.
_AUR_WORD_THEN_DEBRIS = re.compile(r"\bAUR\b[^\d\n]{1,20}?(?=\d)")


def find_aur_control_number(text: str) -> Found[str] | None:
    for snippet in after_labels(text, AUR_LABELS, 40):
        found = _value_after_label(snippet)
        if found is not None:
            return found
    for label in _GARBLED_LABEL.finditer(text):
        found = _value_after_label(text[label.end() : label.end() + 40])
        if found is not None:
            return Found(found.value, min(found.confidence, _GARBLED_LABEL_CONFIDENCE))
    for remnant in (_LABEL_TAIL, _AUR_WORD_THEN_DEBRIS):  # what is left of a label: only a clean value, unsure
        for label in remnant.finditer(text):
            found = _value_after_label(text[label.end() : label.end() + 40])
            if found is not None and found.confidence >= _CLEAN_SHAPE:
                return Found(found.value, _GARBLED_LABEL_CONFIDENCE)
    return None


def _value_after_label(snippet: str) -> Found[str] | None:
    """The control number at the start of the text after its label, by shape, from the cleanest to the most damaged."""
    # a speck before the value (",2F240395i") is no part of it
    snippet = re.sub(r"^\s*(?:number|no\.?)?[\s:,.;'\u2018\u2019]*", " ", snippet, flags=re.I)
    match = _AUR.search(snippet)
    if match and match.start() <= 8:
        return Found(f"{match.group(1)}-{match.group(2)}", 0.98)
    plain = _AUR_PLAIN.search(snippet)
    if plain and plain.start() <= 8:
        return Found(plain.group(1), 0.97)
    lower = _AUR_LOWER_LETTER.search(snippet)
    if lower and lower.start() <= 8:
        return Found(lower.group(1).upper(), 0.85)
    repairable = AUR_DAMAGED.search(snippet)
    repaired = repaired_aur(repairable.group(1)) if repairable and repairable.start() <= 8 else None
    if repaired:
        return Found(repaired, 0.85)
    damaged = _AUR_OCR.search(snippet)
    if damaged and damaged.start() <= 8:
        head, tail = (group.translate(_DIGIT_LOOKALIKES) for group in damaged.groups())
        real_digits = sum(char.isdigit() for char in damaged.group(1) + damaged.group(2))
        if head.isdigit() and tail.isdigit() and real_digits >= 7:  # at most two characters repaired
            return Found(f"{head}-{tail}", 0.85)
    return None


def aur_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _AUR.finditer(text)]
