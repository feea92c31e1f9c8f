"""Who each synthetic notice is about, and the Logiqs case book with the trouble real CRMs have.

Every notice gets a *scenario* that decides what the CRM holds for its taxpayer and therefore the expected outcome:
an exact case, a case under a nickname / with a typo, a closed case next to the open one, two open cases for the
same last name and last 4 (ambiguous), only a closed case, no case at all, or a notice without a taxpayer id.
Accidental collisions are prevented: a (last name token, last 4) pair is used by one taxpayer unless a scenario
collides on purpose, so an expected outcome cannot be spoiled by chance.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from faker import Faker

from mailroom_sandbox.corpus.models import CaseRecord, Outcome, Reason

NICKNAMES: dict[str, str] = {
    "William": "Bill", "Robert": "Bob", "James": "Jim", "Richard": "Rick", "Michael": "Mike", "Joseph": "Joe",
    "Thomas": "Tom", "Charles": "Chuck", "Christopher": "Chris", "Daniel": "Dan", "Anthony": "Tony",
    "Steven": "Steve", "Edward": "Ed", "Jonathan": "Jon", "Alexander": "Alex", "Elizabeth": "Liz",
    "Katherine": "Kate", "Margaret": "Peggy", "Jennifer": "Jen", "Patricia": "Pat", "Susan": "Sue",
    "Deborah": "Debbie", "Rebecca": "Becky", "Kimberly": "Kim", "Samantha": "Sam",
}  # fmt: skip
SUFFIXES = ("JR", "SR", "II", "III", "IV")
APOSTROPHE_LAST_NAMES = ("O'Brien", "O'Connor", "D'Angelo", "O'Neil", "D'Souza")
ACTIVE_STATUSES = ("Active", "Open", "In Resolution")
INACTIVE_STATUSES = ("Closed", "Resolved", "Withdrawn")

# scenario -> (weight, expected outcome, reason)
SCENARIOS: dict[str, tuple[float, Outcome, Reason]] = {
    "plain": (0.47, Outcome.MATCHED, Reason.MATCHED),
    # A joint notice whose case the CRM files under the spouse (found by the spouse's last 4). Off by default: the
    # Logiqs case row carries no spouse last 4, so a client cannot yet confirm such a candidate (see docs/sandbox.md).
    "spouse_primary": (0.0, Outcome.MATCHED, Reason.MATCHED),
    "nickname": (0.07, Outcome.MATCHED, Reason.MATCHED),
    "typo": (0.05, Outcome.MATCHED, Reason.MATCHED),
    "suffix": (0.05, Outcome.MATCHED, Reason.MATCHED),
    "hyphenated": (0.04, Outcome.MATCHED, Reason.MATCHED),
    "apostrophe": (0.03, Outcome.MATCHED, Reason.MATCHED),
    "closed_and_open": (0.04, Outcome.MATCHED, Reason.MATCHED),
    "same_last4_other_person": (0.03, Outcome.MATCHED, Reason.MATCHED),
    "ambiguous": (0.04, Outcome.UNMATCHED, Reason.AMBIGUOUS),
    "inactive_only": (0.05, Outcome.UNMATCHED, Reason.INACTIVE_ONLY),
    "no_case": (0.09, Outcome.UNMATCHED, Reason.NO_CASE),
    "insufficient_data": (0.04, Outcome.UNMATCHED, Reason.INSUFFICIENT_DATA),
}


def scenario_weights(rates: dict[str, float]) -> dict[str, float]:
    """SCENARIOS' default shares with ``rates`` fixed for some scenarios; the others are scaled to fill the rest."""
    unknown = set(rates) - set(SCENARIOS)
    if unknown:
        raise ValueError(f"unknown case-book scenarios {sorted(unknown)}; known: {sorted(SCENARIOS)}")
    fixed = sum(rates.values())
    if not 0.0 <= fixed <= 1.0 or any(r < 0 for r in rates.values()):
        raise ValueError("scenario rates must be between 0 and 1 and sum to at most 1")
    free = {name: spec[0] for name, spec in SCENARIOS.items() if name not in rates}
    scale = (1.0 - fixed) / sum(free.values()) if sum(free.values()) else 0.0
    return {name: rates.get(name, free.get(name, 0.0) * scale) for name in SCENARIOS}


@dataclass
class Person:
    first: str
    last: str
    ssn: str = field(repr=False)
    middle_initial: str | None = None
    suffix: str | None = None

    @property
    def last4(self) -> str:
        return self.ssn[-4:]


@dataclass
class Subject:
    """The people a notice is about and what the case book holds for them."""

    scenario: str
    taxpayer: Person
    spouse: Person | None
    outcome: Outcome
    reason: Reason
    case_id: int | None  # the expected case for MATCHED
    prints_ssn: bool = True


def last_name_tokens(last: str) -> set[str]:
    """The forms a CRM search may match a last name by: the whole name and each part, letters only, lower case
    ("Garcia-Lopez" -> garcialopez, garcia, lopez; "Smith Jr." -> smithjr, smith, jr). Every form counts as taken."""
    parts = [last, *re.split(r"[\s\-]+", last)]
    return {t for t in (re.sub(r"[^a-z]", "", p.casefold()) for p in parts) if t}


class CaseBookBuilder:
    def __init__(self, rng: random.Random, fake: Faker, *, rates: dict[str, float] | None = None) -> None:
        self.rng = rng
        self.fake = fake
        self.cases: list[CaseRecord] = []
        self._taken: set[tuple[str, str]] = set()  # (last-name token, last4)
        self._ssns: set[str] = set()
        self._next_id = 40_000 + rng.randrange(1000)
        weights = scenario_weights(rates or {})
        self._scenario_names = list(weights)
        self._scenario_weights = list(weights.values())

    # ---- identities -------------------------------------------------------------------------------------------
    def _ssn(self) -> str:
        """A synthetic taxpayer id: 3 in 4 ITIN-shaped (9xx, group 70-99 as ITINs use), the rest SSN-shaped but never
        with area 000/666/9xx, group 00 or serial 0000. Random, generated here: no real person's number on purpose."""
        while True:
            if self.rng.random() < 0.75:
                value = f"9{self.rng.randrange(100):02d}-{self.rng.choice([70, 71, 72, 73, 78, 80, 88, 90, 94, 99])}"
            else:
                area = self.rng.choice([self.rng.randrange(1, 666), self.rng.randrange(667, 900)])
                value = f"{area:03d}-{self.rng.randrange(1, 100):02d}"
            value += f"-{self.rng.randrange(1, 10_000):04d}"
            if value not in self._ssns:
                self._ssns.add(value)
                return value

    def _free_ssn(self, last: str, *also_last: str) -> str:
        """An SSN whose last 4 collides with no other taxpayer sharing any of these last names."""
        while True:
            ssn = self._ssn()
            keys = {(t, ssn[-4:]) for name in (last, *also_last) for t in last_name_tokens(name)}
            if not keys & self._taken:
                self._taken |= keys
                return ssn

    def _first(self, female: bool | None = None) -> str:
        female = self.rng.random() < 0.5 if female is None else female
        return self.fake.first_name_female() if female else self.fake.first_name_male()

    def _person(self, *, first: str | None = None, last: str | None = None, spouse_last: str | None = None) -> Person:
        last = last or self.fake.last_name()
        middle = self.rng.choice("ABCDEFGHJKLMNPRSTW") if self.rng.random() < 0.35 else None
        ssn = self._free_ssn(last, *([spouse_last] if spouse_last else []))
        return Person(first=first or self._first(), last=last, ssn=ssn, middle_initial=middle)

    def _case(self, person: Person, *, first: str | None = None, last: str | None = None, ssn: str | None = None,
              spouse: Person | None = None, active: bool = True, trouble: str | None = None) -> CaseRecord:
        self._next_id += self.rng.randrange(1, 9)
        case = CaseRecord(
            case_id=self._next_id, first_name=first or person.first, last_name=last or person.last,
            spouse_first_name=spouse.first if spouse else None, spouse_last_name=spouse.last if spouse else None,
            ssn=ssn or person.ssn, spouse_ssn=spouse.ssn if spouse else None,
            status=self.rng.choice(ACTIVE_STATUSES if active else INACTIVE_STATUSES),
            active=active, trouble=trouble,
        )  # fmt: skip
        self.cases.append(case)
        return case

    def _typo(self, name: str) -> str:
        while True:
            i = self.rng.randrange(1, len(name) - 1)
            edit = self.rng.choice(("swap", "drop", "double"))
            if edit == "swap":
                typo = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
            elif edit == "drop":
                typo = name[:i] + name[i + 1 :]
            else:
                typo = name[:i] + name[i] + name[i:]
            if typo.lower() != name.lower():
                return typo

    # ---- scenarios --------------------------------------------------------------------------------------------
    def subject(self) -> Subject:
        scenario = self.rng.choices(self._scenario_names, self._scenario_weights)[0]
        _, outcome, reason = SCENARIOS[scenario]
        first = last = None
        if scenario in ("nickname", "ambiguous") and self.rng.random() < 0.8:
            first = self.rng.choice(list(NICKNAMES))
        elif scenario == "typo":
            first = self._first()
            while len(first) < 4:
                first = self._first()
        if scenario == "hyphenated":
            last = f"{self.fake.last_name()}-{self.fake.last_name()}"
        elif scenario == "apostrophe":
            last = self.rng.choice(APOSTROPHE_LAST_NAMES)
        spouse = None
        joint = scenario == "spouse_primary" or (
            scenario not in ("same_last4_other_person", "insufficient_data") and self.rng.random() < 0.3)
        spouse_last = None
        if joint:
            spouse_last = last if self.rng.random() < 0.8 else self.fake.last_name()
        taxpayer = self._person(first=first, last=last, spouse_last=spouse_last)
        if scenario == "suffix":
            taxpayer.suffix = self.rng.choice(SUFFIXES)
        if joint:
            spouse_last = spouse_last or taxpayer.last
            spouse = Person(first=self._first(), last=spouse_last, ssn=self._free_ssn(spouse_last, taxpayer.last))
        case_id = self._seed_cases(scenario, taxpayer, spouse)
        return Subject(scenario=scenario, taxpayer=taxpayer, spouse=spouse, outcome=outcome, reason=reason,
                       case_id=case_id, prints_ssn=scenario != "insufficient_data")  # fmt: skip

    def _seed_cases(self, scenario: str, taxpayer: Person, spouse: Person | None) -> int | None:
        """Put into the case book what this scenario needs; return the expected case id when MATCHED."""
        if scenario in ("no_case", "insufficient_data"):
            if scenario == "insufficient_data" and self.rng.random() < 0.5:
                self._case(taxpayer, spouse=spouse)  # the case exists, but the notice gives no id to find it by
            return None
        if scenario == "inactive_only":
            self._case(taxpayer, spouse=spouse, active=False, trouble="inactive_only")
            return None
        if scenario == "ambiguous":
            # the same person entered twice (often once under a nickname): both open, nothing to tell them apart
            twin_first = NICKNAMES.get(taxpayer.first, taxpayer.first)
            self._case(taxpayer, spouse=spouse, trouble="ambiguous_pair")
            self._case(taxpayer, first=twin_first, spouse=spouse, trouble="ambiguous_pair")
            return None
        if scenario == "spouse_primary":  # the notice's taxpayer is the case's spouse: found by the spouse's last 4
            assert spouse is not None
            return self._case(spouse, spouse=taxpayer, trouble="spouse_primary").case_id
        if scenario == "closed_and_open":
            old_ssn = taxpayer.ssn  # the closed case is an older engagement of the same taxpayer
            self._case(taxpayer, ssn=old_ssn, spouse=spouse, active=False, trouble="closed_sibling")
        if scenario == "same_last4_other_person":
            other_first = self._first()
            while other_first[:3].lower() == taxpayer.first[:3].lower() or other_first in NICKNAMES.values():
                other_first = self._first()
            other_ssn = f"{self._ssn()[:7]}{taxpayer.last4}"
            self._case(taxpayer, first=other_first, ssn=other_ssn, trouble="same_last4_other_person")
        first, last = taxpayer.first, taxpayer.last
        trouble = scenario if scenario != "plain" else None
        if scenario == "nickname":
            first = NICKNAMES.get(taxpayer.first, taxpayer.first[:3])
        elif scenario == "typo":
            first = self._typo(taxpayer.first)
        elif scenario == "suffix" and self.rng.random() < 0.5:  # the CRM keeps the suffix in the last name
            last = f"{last} {taxpayer.suffix.title()}." if taxpayer.suffix in ("JR", "SR") else f"{last} {taxpayer.suffix}"
        elif scenario == "hyphenated" and self.rng.random() < 0.4:  # keyed with a space instead of the hyphen
            last = last.replace("-", " ")
        spouse_on_case = spouse if self.rng.random() < 0.85 else None
        case = self._case(taxpayer, first=first, last=last, spouse=spouse_on_case, trouble=trouble)
        if self.rng.random() < 0.2:  # an unrelated family member with the same last name
            relative = self._person(last=taxpayer.last)
            self._case(relative, trouble="same_last_name")
        return case.case_id

    def add_filler(self, count: int) -> None:
        """Cases no notice is about: a CRM always holds far more taxpayers than one day's mail."""
        for _ in range(count):
            person = self._person()
            self._case(person, active=self.rng.random() < 0.8)
