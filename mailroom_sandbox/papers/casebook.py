"""The CRM case book of the papers corpus: the clients' cases, some missing, and the cases that look like them.

What it tests is the matcher's "no confident wrong case" rule. Most taxpayers have their case; about one in eight
has none (the right case is absent). Distractors carry the same last 4 digits of the SSN on purpose:
- part_of_compound: one part of a compound surname, often with a one-letter change, with the same first name
  (SMITH-JONES on the notice, SMITH or SMYTH in the CRM): a different person as often as a typo in a real CRM;
- near_spelling: a one-letter variant of a plain surname, with another first name;
- same_last4: an unrelated person who shares the last 4;
- namesake: the same name with other last 4 digits.
The CRM spells names the way people type them: upper case, Title Case, now and then without punctuation.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from mailroom_sandbox.papers.manifest import Case
from mailroom_sandbox.papers.names import Person, make_person, pick_first_name

CLIENT_PRESENT = 0.87
DISTRACTOR_CLOSED = 0.25


@dataclass(frozen=True)
class Household:
    ssn_last4: str
    key: str  # the full synthetic SSN; one case per taxpayer however many letters they got
    taxpayer: Person
    spouse: Person | None


def title_case(name: str) -> str:
    def cap(word: str) -> str:
        if word.startswith("MC") and len(word) > 2:
            return "Mc" + word[2:].capitalize()
        if word.startswith("MAC") and len(word) > 5 and word not in ("MACK",):
            return "Mac" + word[3:].capitalize()
        return word.capitalize()

    return re.sub(r"[A-Z]+", lambda m: cap(m.group(0)), name)


def drop_punctuation(name: str) -> str:
    return name.replace("'", "").replace(".", "").replace("-", " ")


def one_letter_variant(rng: random.Random, word: str) -> str:
    positions = [i for i, ch in enumerate(word) if ch.isalpha()]
    for _ in range(20):
        i = rng.choice(positions[1:] or positions)
        replacement = rng.choice("AEIOUY" if word[i] in "AEIOUY" else "BDKLMNRSTZ")
        variant = word[:i] + replacement + word[i + 1:]
        if variant != word:
            return variant
    return word + "E"


def compound_parts(last: str) -> list[str]:
    """Parts a CRM might hold for another person. Never the particle surname run together (LEBLANC for LE BLANC):
    that is how a clerk types the same person, so calling it a different one would make the truth unfair."""
    if "-" in last:
        return last.split("-")
    words = last.replace(".", "").split()
    return [words[-1]] if len(words) > 1 else [last]


def is_compound(last: str) -> bool:
    return "-" in last or " " in last


def _form(rng: random.Random, name: str, client: bool) -> tuple[str, str]:
    roll = rng.random()
    if client and roll < 0.05 and drop_punctuation(name) != name:
        return drop_punctuation(name), "punctuation_dropped"
    if roll < 0.45:
        return title_case(name), "title"
    return name, "upper"


class CaseBook:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cases: list[Case] = []
        self.used_ids: set[str] = set()
        self.client_case: dict[str, str | None] = {}
        self.identities: set[tuple[str, str, str]] = set()

    def _new_id(self) -> str:
        while True:
            case_id = str(self.rng.randrange(100000, 999999))
            if case_id not in self.used_ids:
                self.used_ids.add(case_id)
                return case_id

    def _add(self, first: str, last: str, last4: str, role: str, spouse: Person | None = None) -> str:
        client = role == "client"
        if not client and (first, last, last4) in self.identities:
            return ""  # would be the client under another role: the truth must stay unambiguous
        shown_first = first
        shown_last, form = _form(self.rng, last, client)
        if form == "title":
            shown_first = title_case(first)
        status = "active" if client or self.rng.random() >= DISTRACTOR_CLOSED else "closed"
        case_id = self._new_id()
        self.cases.append(Case(
            case_id=case_id, first_name=shown_first, last_name=shown_last, ssn_last4=last4, status=status,
            spouse_first_name=(title_case(spouse.first) if form == "title" else spouse.first) if spouse else None,
            spouse_last_name=(title_case(spouse.last) if form == "title" else spouse.last) if spouse else None,
            role=role, name_form=form))
        return case_id

    def register(self, households: list[Household]) -> None:
        """Makes every taxpayer known before any distractor is drawn, so none can be a client in disguise."""
        for household in households:
            self.identities.add((household.taxpayer.first, household.taxpayer.last, household.ssn_last4))

    def add_household(self, household: Household) -> None:
        if household.key in self.client_case:
            return
        rng = self.rng
        person, last4 = household.taxpayer, household.ssn_last4
        present = rng.random() < CLIENT_PRESENT
        spouse = household.spouse if household.spouse and rng.random() < 0.8 else None
        self.client_case[household.key] = (
            self._add(person.first, person.last, last4, "client", spouse) if present else None)
        if is_compound(person.last) and (not present or rng.random() < 0.5):
            part = rng.choice(compound_parts(person.last))
            if rng.random() < 0.5:
                part = one_letter_variant(rng, part)
            first = person.first if rng.random() < 0.7 else pick_first_name(rng)
            self._add(first, part, last4, "part_of_compound")
        elif not is_compound(person.last) and rng.random() < (0.35 if not present else 0.12):
            first = pick_first_name(rng)
            while first == person.first:
                first = pick_first_name(rng)
            self._add(first, one_letter_variant(rng, person.last), last4, "near_spelling")
        if rng.random() < 0.3:
            other = make_person(rng)
            self._add(other.first, other.last, last4, "same_last4")
        if rng.random() < 0.08:
            self._add(person.first, person.last, f"{rng.randrange(10000):04d}", "namesake")

    def add_background(self, count: int) -> None:
        for _ in range(count):
            other = make_person(self.rng)
            self._add(other.first, other.last, f"{self.rng.randrange(10000):04d}", "background")

    def finish(self) -> list[Case]:
        cases = list(self.cases)
        self.rng.shuffle(cases)
        return cases
