"""Which CRM case a notice belongs to, with a score and a reason fit for the run report.

The replaced extractor took the first case the CRM returned. Here every candidate sharing the notice's SSN last 4 is
scored on names (rapidfuzz, nicknames, hyphenated and suffixed last names, typos) and status, and only one active
candidate clearly ahead of every other plausible one is MATCHED. Only MATCHED ever leads to an upload.

Reasons carry case ids, scores and the masked SSN, never a name or a full SSN.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from mailroom.crm import CaseCandidate, CaseDirectory
from mailroom.nicknames import are_nicknames
from mailroom.notices.model import UNSURE_OCR_NAME_BELOW, FieldSource, Notice

DEFAULT_THRESHOLD = 85.0  # 0-100: a candidate below this is not the taxpayer
DEFAULT_MARGIN = 8.0  # the best candidate must lead the next plausible one by this much
NICKNAME_SCORE = 95.0
PREFIX_SCORE = 90.0  # "Chris" on the notice, "Christopher" in the CRM, and the reverse
UNKNOWN_FIRST_SCORE = 80.0  # no first name on the notice: an exact last name + last 4 still reaches the threshold
# (score 90) when it is the only candidate; two such candidates tie and come out AMBIGUOUS
HYPHEN_PART_SCORE = 90.0  # "SMITH-JONES" on the notice, "Smith" in the CRM
# A first name from an address block OCR was unsure of that still resembles the case's this much (rapidfuzz ratio:
# "SUANIB" for JUAN 60, "BEO" for SEO 67) counts as no first name where the whole surname and the last 4 agree.
GARBLED_FIRST_RESEMBLES = 60.0
INACTIVE_PENALTY = 30.0
UNCONFIRMED_SPOUSE_LAST4_PENALTY = 5.0
NARROW_WITH_FIRST_NAME_ABOVE = 25  # candidates; beyond this the search is repeated with the first name
_SUFFIXES = {"JR", "SR", "II", "III", "IV", "V"}


class MatchOutcome(str, Enum):
    MATCHED = "MATCHED"
    AMBIGUOUS = "AMBIGUOUS"
    NO_MATCH = "NO_MATCH"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class ScoredCandidate(BaseModel):
    case_id: int
    score: float
    last_name_score: float
    first_name_score: float
    active: bool
    matched_as: str  # e.g. "taxpayer~case spouse": which notice person matched which person on the case
    basis: str  # "exact", "nickname", "prefix", "fuzzy", "unknown first name", "different first name", "garbled"
    # For the reviewer's form only (mailroom.review): the case's people and CRM status. Never put in a reason,
    # a log line or a report row.
    name: str = Field("", repr=False)
    status: str = ""
    last_name_in_full: bool = True  # the whole surname agrees (not one part of a compound, not a near spelling)
    # The case's surname is some of the words of the page's, which shows more (RIO for the page's DEL RIO): the
    # page contradicts it, so it is no rival to a case whose surname agrees in full.
    part_of_page_surname: bool = False


class MatchResult(BaseModel):
    outcome: MatchOutcome
    case_id: int | None = None
    score: float = 0.0
    reason: str
    candidates: list[ScoredCandidate] = Field(default_factory=list)
    # Set when the reader was unsure of the name and the CRM case's last name was found on the page: the name the
    # document is filed under (as the CRM spells it). Never in a reason or a log line.
    confirmed_last_name: str | None = Field(default=None, repr=False)
    # Set when the page's last 4 found no case and a look-alike of it did, the case's name being on the page
    # (page_confirmation.confirm_lookalike_last4), or a reading of a last 4 OCR garbled did (confirm_guessed_last4):
    # the last 4 the notice is filed with.
    confirmed_ssn_last4: str | None = Field(default=None, repr=False)


def as_confirmed(notice: Notice, match: MatchResult) -> Notice:
    """The notice as the CRM confirmed it: the name or last 4 the page was unsure of, as the matched case has it."""
    if match.outcome is not MatchOutcome.MATCHED:
        return notice
    update = {name: value for name, value in (("taxpayer_last_name", match.confirmed_last_name),
                                              ("ssn_last4", match.confirmed_ssn_last4)) if value}  # fmt: skip
    return notice.model_copy(update=update) if update else notice


def normalize_name(name: str | None) -> str:
    """Upper-case ASCII, apostrophes and periods dropped, other punctuation to spaces, suffixes removed."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").upper()
    text = re.sub(r"['.`]", "", text)
    tokens = re.sub(r"[^A-Z\- ]+", " ", text).split()
    while len(tokens) > 1 and tokens[-1] in _SUFFIXES:
        tokens.pop()
    return " ".join(tokens)


def last_name_score(notice_last: str, case_last: str) -> float:
    a, b = normalize_name(notice_last), normalize_name(case_last)
    if not a or not b:
        return 0.0
    if re.sub(r"[- ]", "", a) == re.sub(r"[- ]", "", b):  # "GARCIA-LOPEZ" keyed as "Garcia Lopez"
        return 100.0
    score = fuzz.ratio(a, b)
    parts_a, parts_b = set(re.split(r"[- ]", a)), set(re.split(r"[- ]", b))
    if (len(parts_a) > 1 or len(parts_b) > 1) and (a in parts_b or b in parts_a):
        score = max(score, HYPHEN_PART_SCORE)
    return float(score)


def surname_key(name: str | None) -> str:
    """A surname with case, accents, punctuation, spaces and suffixes removed: "Van Der Berg" = "VANDERBERG"."""
    return re.sub(r"[- ]", "", normalize_name(name))


def first_name_score(notice_first: str | None, case_first: str | None) -> tuple[float, str]:
    a, b = normalize_name(notice_first), normalize_name(case_first)
    if not a:
        return UNKNOWN_FIRST_SCORE, "unknown first name"
    if not b:
        return 0.0, "case has no first name"
    a, b = a.split()[0], b.split()[0]  # middle names/initials are printed inconsistently
    if a == b:
        return 100.0, "exact"
    if are_nicknames(a, b):
        return NICKNAME_SCORE, "nickname"
    if len(a) >= 3 and len(b) >= 3 and (a.startswith(b) or b.startswith(a)):
        return PREFIX_SCORE, "prefix"
    score = float(fuzz.ratio(a, b))
    return score, "fuzzy" if score >= 70 else "different first name"


def _first_name_may_veto(notice: Notice) -> bool:
    """False when the page's first name stands beside a surname the page did not give (the clerk's file name or a
    cover sheet gave it, replacing a garbled read or filling a lost one): that first name is the first word of a line
    OCR garbled, or of the spouse's line read where the taxpayer's was lost. It may still agree with a case, but a
    disagreement counts as no first name (``UNKNOWN_FIRST_SCORE``), as if the reader had left it out: in all 3 such
    letters of the dev seeds that lost a true match, it was wrong (round 18, tuned)."""
    last, first = notice.fields.get("taxpayer_last_name"), notice.fields.get("taxpayer_first_name")
    borrowed = last is not None and last.source in (FieldSource.FILE_NAME, FieldSource.COVER_SHEET)
    return not (borrowed and first is not None and first.source is FieldSource.OCR)


def _first_name_garbled(notice: Notice) -> bool:
    """The page's first name was OCR'd from an address block with a word OCR was unsure of. Where it still resembles
    the case's first name (``GARBLED_FIRST_RESEMBLES``) and the case holds the page's whole surname and its last 4, a
    disagreement counts as no first name, as if the reader had left the garbled word out (a notice with no first name
    is matched on surname and last 4 alone). A first name read cleanly still vetoes, and so does a garbled one that
    resembles the case's not at all: a surname OCR misread into a near-spelling distractor's comes with a first name
    nothing like that person's. Spent seed 46368 lost 2 true matches this way ("SUANIB" for JUAN, "BEO" for SEO)."""
    first = notice.fields.get("taxpayer_first_name")
    return first is not None and first.source is FieldSource.OCR and first.confidence < UNSURE_OCR_NAME_BELOW


def _people(notice: Notice) -> list[tuple[str, str | None, str]]:
    people = [("taxpayer", notice.taxpayer_first_name, notice.taxpayer_last_name or "")]
    if notice.spouse_last_name:
        people.append(("spouse", notice.spouse_first_name, notice.spouse_last_name))
    return people


def _last4_pairings(notice: Notice, case: CaseCandidate) -> tuple[bool, float] | None:
    """Which case people the notice's taxpayer may be, given whose last 4 matched: (any person?, penalty).

    The last 4 printed on a notice is the taxpayer's. If it is the case primary's (or the CRM does not say), any
    pairing counts; if it is the case spouse's, the notice taxpayer must be the case spouse. A case the CRM returned
    for this last 4 although its primary's differs and it shows no spouse last 4 was matched on the spouse's number
    by the CRM: accepted for the spouse pairing only, with a penalty because we could not check the number ourselves.
    """
    if case.ssn_last4 in (None, notice.ssn_last4):
        return True, 0.0
    if case.spouse_ssn_last4 == notice.ssn_last4:
        return False, 0.0
    if case.spouse_ssn_last4 is None and case.spouse_last_name:
        return False, UNCONFIRMED_SPOUSE_LAST4_PENALTY
    return None


def score_candidate(notice: Notice, case: CaseCandidate) -> ScoredCandidate | None:
    """The best pairing of a person on the notice with the case's primary or spouse (joint filers either way)."""
    allowed = _last4_pairings(notice, case)
    if allowed is None:
        return None
    any_person, penalty = allowed
    case_people = [(case.first_name, case.last_name, "primary")] if any_person else []
    if case.spouse_last_name:
        case_people.append((case.spouse_first_name or "", case.spouse_last_name, "spouse"))
    notice_people = _people(notice) if any_person else _people(notice)[:1]
    soft_first = not _first_name_may_veto(notice)
    garbled_first = _first_name_garbled(notice)
    best: ScoredCandidate | None = None
    for role, notice_first, notice_last in notice_people:
        for case_first, case_last, case_role in case_people:
            last = last_name_score(notice_last, case_last)
            same_surname = surname_key(notice_last) == surname_key(case_last)
            first, basis = first_name_score(notice_first, case_first)
            if role == "taxpayer" and first < UNKNOWN_FIRST_SCORE:
                if soft_first:
                    first, basis = first_name_score(None, case_first)
                elif garbled_first and same_surname and first >= GARBLED_FIRST_RESEMBLES:
                    first, basis = UNKNOWN_FIRST_SCORE, "garbled"
            score = 0.5 * last + 0.5 * first - penalty - (0.0 if case.active else INACTIVE_PENALTY)
            if best is None or score > best.score:
                best = ScoredCandidate(
                    case_id=case.case_id, score=round(score, 1), last_name_score=last, first_name_score=first,
                    active=case.active, matched_as=f"{role}~case {case_role}", basis=basis,
                    name=_case_people(case), status=case.status or ("Active" if case.active else "Closed"),
                    last_name_in_full=same_surname or _whole_surname_on_page(case_last, notice.name_evidence),
                    part_of_page_surname=_surname_words(case_last) < _surname_words(notice_last),
                )  # fmt: skip
    return best


def _whole_surname_on_page(surname: str, lines: list[str]) -> bool:
    """The case's whole compound surname ends a name on the page's name lines, which the reader split otherwise:
    "KENSETH HILL TAYLOR" (its hyphen lost) read as given name, middle name HILL and surname TAYLOR, for the CRM's
    Hill-Taylor (dev seed 3131). The page then shows the whole surname, not a part of it."""
    from mailroom.page_confirmation import name_line_people, surname_tails  # it uses this module's rules

    wanted = surname_key(surname)
    if not wanted or not re.search(r"[- ]", normalize_name(surname)):
        return False
    return any(wanted in surname_tails(tokens) for line in lines for tokens in name_line_people(line))


def _surname_words(name: str | None) -> set[str]:
    return set(re.split(r"[- ]", normalize_name(name))) - {""}


def _case_people(case: CaseCandidate) -> str:
    primary = f"{case.first_name} {case.last_name}".strip()
    spouse = f"{case.spouse_first_name or ''} {case.spouse_last_name or ''}".strip()
    return f"{primary} & {spouse}" if spouse else primary


def _search_names(notice: Notice) -> list[str]:
    """Last names to search under: as printed, hyphen parts, without apostrophes, and the spouse's."""
    names: list[str] = []
    for last in (notice.taxpayer_last_name, notice.spouse_last_name):
        if not last:
            continue
        names.append(last)
        names.extend(part for part in re.split(r"[- ]", last) if len(part) > 1)
        names.append(re.sub(r"['`\u2019]", "", last))
        names.append(last.replace("-", " "))  # a CRM may hold "Garcia Lopez" for "GARCIA-LOPEZ"
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


def find_candidates(notice: Notice, directory: CaseDirectory) -> list[CaseCandidate]:
    assert notice.ssn_last4 is not None
    found: dict[int, CaseCandidate] = {}
    single = getattr(directory, "returns_single_case", False)
    for last in _search_names(notice):
        if single:
            cases = _single_case_searches(notice, directory, last)
        else:
            cases = directory.find_cases(last, notice.ssn_last4)
            if len(cases) > NARROW_WITH_FIRST_NAME_ABOVE and notice.taxpayer_first_name:
                cases = directory.find_cases(last, notice.ssn_last4, first_name=notice.taxpayer_first_name)
        for case in cases:
            found.setdefault(case.case_id, case)  # score_candidate checks the last 4 against the case's people
    return list(found.values())


def _single_case_searches(notice: Notice, directory: CaseDirectory, last: str) -> list[CaseCandidate]:
    """A directory that answers one case per search (Logiqs V3 FindCase) cannot list every case that matches, so
    it is asked more narrowly: open cases only (the answer most likely to be the one), then open cases with each
    first name on the notice (finds the taxpayer when another person shares the last name and last 4, and shows
    a second case of the same person as a second candidate), and only when no open case answers, any case (so a
    closed-only taxpayer is still reported as such). Two open cases that no search tells apart stay invisible:
    docs/logiqs-api.md, "V3: one case per search"."""
    last4 = notice.ssn_last4 or ""
    cases = directory.find_cases(last, last4, active_only=True)
    for first in dict.fromkeys(f for f in (notice.taxpayer_first_name, notice.spouse_first_name) if f):
        cases += directory.find_cases(last, last4, first_name=first, active_only=True)
    return cases or directory.find_cases(last, last4)


def match_notice(
    notice: Notice,
    directory: CaseDirectory,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    margin: float = DEFAULT_MARGIN,
) -> MatchResult:
    from mailroom.pages_vouched import pages_show_the_taxpayer  # it uses this module's result

    result = _match(notice, directory, threshold=threshold, margin=margin)
    if notice.pages_in_doubt and result.outcome is MatchOutcome.MATCHED:
        if pages_show_the_taxpayer(notice, result):
            return result.model_copy(update=dict(reason=(
                f"{result.reason}; its pages were in doubt ({notice.pages_in_doubt}), but each shows this "
                "taxpayer's last 4 or name")))  # fmt: skip
        # A letter whose start the reader missed would put another taxpayer's page (with their full SSN) on this
        # case: the right case is not enough, the pages must be right too.
        return result.model_copy(update=dict(outcome=MatchOutcome.AMBIGUOUS, reason=(
            f"case {result.case_id} matches, but the letter's pages are in doubt ({notice.pages_in_doubt}); "
            "a person must check which pages belong to it before filing")))  # fmt: skip
    return result


def _match(notice: Notice, directory: CaseDirectory, *, threshold: float, margin: float) -> MatchResult:
    from mailroom.page_confirmation import (  # they use this module's rules
        confirm_clerks_name, confirm_guessed_last4, confirm_last4_elsewhere, confirm_lookalike_last4, confirm_on_page,
        confirm_other_letters_last4, confirm_speck_before_surname)

    confirmed = (confirm_on_page(notice, directory) or confirm_guessed_last4(notice, directory)
                 or confirm_other_letters_last4(notice, directory))
    if confirmed is not None:
        return confirmed
    if not notice.ssn_last4 or not notice.taxpayer_last_name:
        wanted = (("SSN last 4", notice.ssn_last4), ("last name", notice.taxpayer_last_name))
        missing = " and ".join(label for label, value in wanted if not value)
        return MatchResult(outcome=MatchOutcome.INSUFFICIENT_DATA, reason=f"notice gives no {missing} to search by")
    ssn = notice.masked_ssn
    scored = sorted(
        (c for c in (score_candidate(notice, case) for case in find_candidates(notice, directory)) if c is not None),
        key=lambda candidate: candidate.score,
        reverse=True,
    )
    if not scored:
        return (confirm_last4_elsewhere(notice, directory) or confirm_lookalike_last4(notice, directory)
                or confirm_clerks_name(notice, directory) or confirm_speck_before_surname(notice, directory)
                or MatchResult(outcome=MatchOutcome.NO_MATCH, reason=f"no case with this last name and SSN {ssn}"))
    plausible = [c for c in scored if c.score >= threshold]
    if not plausible:
        closed = [c for c in scored if not c.active and c.score + INACTIVE_PENALTY >= threshold]
        if closed:
            ids = ", ".join(str(c.case_id) for c in closed)
            return MatchResult(
                outcome=MatchOutcome.NO_MATCH, score=scored[0].score, candidates=scored,
                reason=f"only closed case(s) {ids} match SSN {ssn}; not filed to a closed case",
            )  # fmt: skip
        return confirm_clerks_name(notice, directory) or MatchResult(
            outcome=MatchOutcome.NO_MATCH, score=scored[0].score, candidates=scored,
            reason=f"{len(scored)} case(s) share SSN {ssn} but none scores {threshold:.0f} on names "
            f"(best {scored[0].score:.1f}, case {scored[0].case_id}: {scored[0].basis})",
        )  # fmt: skip
    best = plausible[0]
    # DEL RIO on the page, "Chloe Del Rio" (100) and "Chloe Rio" (95) in the CRM: the page shows the whole surname, so
    # the case holding only part of it is not the page's person and does not make the match ambiguous. The other
    # way round (RIO on the page, DEL RIO in the CRM) it stays a rival: OCR or a stamp may have lost a word.
    rivals = [c for c in plausible[1:] if not (best.last_name_in_full and c.part_of_page_surname)]
    runner_up = rivals[0] if rivals else None
    if runner_up is not None and best.score - runner_up.score < margin:
        close = [best, *(c for c in rivals if best.score - c.score < margin)]
        ids = ", ".join(str(c.case_id) for c in close)
        return MatchResult(
            outcome=MatchOutcome.AMBIGUOUS, score=best.score, candidates=scored,
            reason=f"{len(close)} cases ({ids}) match SSN {ssn} within {margin:.0f} points "
            f"(scores {', '.join(f'{c.score:.1f}' for c in close)}); needs a person to choose",
        )  # fmt: skip
    if not best.last_name_in_full:
        # SMITH-JONES on the notice, SMITH or SMYTH in the CRM: as often another person as a typo, and the right case
        # may simply be absent. A person decides.
        return MatchResult(
            outcome=MatchOutcome.AMBIGUOUS, score=best.score, candidates=scored,
            reason=f"case {best.case_id} matches SSN {ssn} (score {best.score:.1f}) but its last name agrees only "
            f"in part or approximately (last-name score {best.last_name_score:.0f}); needs a person to confirm",
        )  # fmt: skip
    lead = f"{best.score - runner_up.score:.1f} ahead of case {runner_up.case_id}" if runner_up else "only candidate"
    return MatchResult(
        outcome=MatchOutcome.MATCHED, case_id=best.case_id, score=best.score, candidates=scored,
        reason=f"case {best.case_id} matched on last name + SSN {ssn}, first name {best.basis} "
        f"(score {best.score:.1f}, {lead})",
    )  # fmt: skip

