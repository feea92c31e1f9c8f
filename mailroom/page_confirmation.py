"""CRM-guided confirmation: the page gives the SSN last 4 but the reader is unsure of the name (or of the last 4).

OCR debris, a stamp or a pen stroke can leave the address block's name lines readable to a person and still
ambiguous to the parser (where does the surname start? is "TL" a word?). Instead of giving up (INSUFFICIENT_DATA), the
matcher asks Logiqs with the few best surname candidates from those lines (at most ``MAX_SEARCHES`` FindCase calls,
through the same client, so the calls are rate-limited and retried like any other) and accepts a case only when the
case's own first and last name are found on the page: the whole surname as one span at the end of a name, the first
name (or a nickname of it) at the start. One such case is MATCHED; two are AMBIGUOUS; none falls back to the usual
scoring. Reasons name case ids and the masked SSN only.

A letter may also print its last 4 twice (beside its label, and in a response form's scan line): where the two
differ and the one read beside the label finds no case, the other is searched once, on the same terms (round 17).

The other way round: the page's last 4 and surname find no case at all, and the last 4 holds a digit OCR often
reads for another: a 9, 6 or 8 for the letter fonts' 0 (dev seeds 4242 and 5150: each of the 5 last-4 misreads that
cost a true match was a 0 read as 9 or 6; tuned), an 8 for a 5, a 7 or a 2 for a 1 (``DIGIT_MISREADS``, round 17,
tuned). The last 4 with one such digit set back is searched (at most ``MAX_SEARCHES``), and a case is accepted on
the same terms: active, and its own first and last name found on the page.

"On the page" is the page's raw name lines (where no address block was found, its name-like lines: round 22,
``notices/loose_names.py``), or the name the notice was read as (round 20): a parse that cleaned a
garbled line, or the file name a clerk gave a scan whose name block was unreadable. Either way the whole surname and
the first name must agree; a guessed or look-alike last 4 never names a case by itself. And where the page's
unsure surname finds no case, the surname the file's name gives (a clerk's reading of the paper) is searched once
with the page's last 4 (``confirm_clerks_name``), and then the page's one-word surname without its first letter, a
speck read as one (``confirm_speck_before_surname``, round 21).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from mailroom.crm import CaseCandidate, CaseDirectory
from mailroom.matching import MatchOutcome, MatchResult, first_name_score, normalize_name, surname_key
from mailroom.notices.model import FieldSource, Notice

MAX_SEARCHES = 3
CONFIRM_BELOW = 0.9  # a reader's name confidence under this asks the CRM (text-layer and clean OCR names are above)
_PARTICLES = {"DE", "DEL", "DELA", "DI", "DA", "DOS", "DU", "LA", "LE", "VAN", "VON", "DER", "DEN", "ST", "SAN", "MC",
              "MAC", "EL", "AL", "TER", "TEN", "LOS", "LAS"}
_SUFFIXES = {"JR", "SR", "II", "III", "IV", "V"}


def _segments(line: str) -> list[list[str]]:
    """A name line as its people: "JOHN A & MARY SMITH" -> [["JOHN", "A"], ["MARY", "SMITH"]]."""
    people = []
    for part in re.split(r"\s*&\s*|\s+AND\s+", line.upper()):
        tokens = [t for t in part.split() if t not in ("SPOUSE",)]
        while tokens and tokens[-1].replace(".", "") in _SUFFIXES:
            tokens.pop()
        if len(tokens) == 1 and tokens[0].count("-") >= 2:
            # one word of three hyphened parts: the space after the given name read as a hyphen
            # ("CARLOS-WALKER-BUENAVENTURA", seed 44917, round 13)
            tokens = tokens[0].split("-", 1)
        if tokens:
            people.append(tokens)
    return people


def surname_candidates(notice: Notice) -> list[str]:
    """Surnames to search by, best first: the reader's own guess, then each name's tail (one word, or two or three
    when particles lead it: DE LA CRUZ)."""
    found: list[str] = []
    if notice.taxpayer_last_name:
        found.append(notice.taxpayer_last_name)
    for line in notice.name_evidence:
        for tokens in reversed(_segments(line)) if "&" in line else _segments(line):
            if len(tokens) < 2:
                continue
            start = len(tokens) - 1
            while start > 1 and tokens[start - 1] in _PARTICLES:
                start -= 1
            found.append(" ".join(tokens[start:]))
    unique = list(dict.fromkeys(name for name in found if len(surname_key(name)) >= 2))
    return unique[:MAX_SEARCHES]


def name_line_people(line: str) -> list[list[str]]:
    """A name line as its people's words: "JOHN A & MARY SMITH" -> [["JOHN", "A"], ["MARY", "SMITH"]]."""
    return _segments(line)


def surname_tails(tokens: list[str]) -> set[str]:
    """The surnames one person's words may end with (as ``surname_key``s): a surname starts after a given name, never
    after a particle (RIO is not the surname of "CHLOE DEL RIO"), nor after particles OCR joined by a hyphen (WAL is
    not the surname of "MINH VAN-DER WAL", dev seed 3131)."""
    return {surname_key(" ".join(tokens[start:])) for start in range(1, len(tokens))
            if not set(tokens[start - 1].split("-")) <= _PARTICLES}  # fmt: skip


def name_on_page(first: str | None, last: str | None, lines: list[str], *, first_name_at_least: float = 90) -> bool:
    """The person's whole surname ends one of the page's names and their first name starts it (or starts the other
    name of a joint line that shares the surname), scoring ``first_name_at_least`` (``matching.first_name_score``)."""
    wanted = surname_key(last)
    if not wanted or not first:
        return False
    for line in lines:
        people = name_line_people(line)
        for index, tokens in enumerate(people):
            if wanted not in surname_tails(tokens):
                continue
            givens = [tokens[0]] + ([people[index - 1][0]] if index and len(people[index - 1]) <= 2 else [])
            if any(first_name_score(given, first)[0] >= first_name_at_least for given in givens):
                return True
    return False


def same_person(read_first: str | None, read_last: str | None, first: str | None, last: str | None) -> bool:
    """A name as read (or as a clerk gave it) and a case's person agree: the whole surname, and the first name or a
    nickname of it."""
    wanted = surname_key(last)
    if not wanted or not first or not read_first:
        return False
    return surname_key(read_last) == wanted and first_name_score(read_first, first)[0] >= 90


def read_as(first: str | None, last: str | None, notice: Notice) -> bool:
    """The reader's own parse names this person (taxpayer or spouse). A parse may have cleaned what the raw line
    still shows garbled ("BIORN-GOCONNOR IR" read as BJORN O'CONNOR), or come from the file name a clerk gave the
    scan when the page's name block was unreadable."""
    return (same_person(notice.taxpayer_first_name, notice.taxpayer_last_name, first, last)
            or same_person(notice.spouse_first_name, notice.spouse_last_name, first, last))


Confirmation = Callable[[CaseCandidate, Notice], tuple[str, str] | None]  # -> (case's surname, where it was named)


def _case_people(case: CaseCandidate) -> tuple[tuple[str | None, str | None], ...]:
    return (case.first_name, case.last_name), (case.spouse_first_name, case.spouse_last_name)


def _confirmed(case: CaseCandidate, notice: Notice) -> tuple[str, str] | None:
    """The case's confirmed surname and where its name was found, or None."""
    for first, last in _case_people(case):
        if name_on_page(first, last, notice.name_evidence):
            return normalize_name(last), "its name was found on the page"
        if read_as(first, last, notice):
            return normalize_name(last), "its name is the one the notice was read as"
    return None


def _named_by_clerk(case: CaseCandidate, notice: Notice) -> tuple[str, str] | None:
    """The case's surname when its person is the one the file's name gives (the page's first name where it gives
    none), or, where the file name gives no first name, when its first name and whole surname stand on a page line
    (``_in_a_line``); else None."""
    first = notice.clerk_first_name or notice.taxpayer_first_name
    for case_first, last in _case_people(case):
        if same_person(first, notice.clerk_last_name, case_first, last):
            return normalize_name(last), "its name is the file name's"
        if (notice.clerk_first_name is None and surname_key(last) == surname_key(notice.clerk_last_name)
                and _in_a_line(case_first, last, notice.name_evidence)):  # fmt: skip
            return normalize_name(last), "its name is the file name's and is on the page"
    return None


_NEAR = 2  # words a given name may stand before the surname on a line (a middle initial, a speck)


def _in_a_line(first: str | None, last: str | None, lines: list[str]) -> bool:
    """The person's first name, then within ``_NEAR`` words their whole surname, among one line's words, whatever
    debris follows (the reader's parse of "EVA K IM IIT LISA BRN SS" took junk for the surname)."""
    wanted = normalize_name(last).split()
    if not first or not wanted:
        return False
    for line in lines:
        words = normalize_name(line).split()
        for start, word in enumerate(words):
            if first_name_score(word, first)[0] < 90:
                continue
            for at in range(start + 1, min(start + 2 + _NEAR, len(words))):
                if words[at : at + len(wanted)] == wanted:
                    return True
    return False


def _hits(notice: Notice, directory: CaseDirectory, searches: list[tuple[str, str]], *, ssn_on_file: bool = False,
          confirm: Confirmation = _confirmed) -> dict[int, tuple[str, str, str]]:  # fmt: skip
    """Active cases the (surname, last 4) searches find that ``confirm`` names (by default: whose own name is on the
    page, or is the name the notice was read as): id -> (surname, last 4, where the name was found). With
    ``ssn_on_file`` a case must hold the searched last 4 itself (a case without an SSN on file matches any)."""
    hits: dict[int, tuple[str, str, str]] = {}
    for surname, last4 in searches:
        for case in directory.find_cases(surname, last4, active_only=True):
            confirmed = confirm(case, notice) if case.active else None
            unknown = case.ssn_last4 is None and not ssn_on_file
            if confirmed and (unknown or last4 in (case.ssn_last4, case.spouse_ssn_last4)):
                hits[case.case_id] = (confirmed[0], last4, confirmed[1])
    return hits


def _ambiguous(case_ids: Iterable[int], shared: str) -> MatchResult:
    ids = ", ".join(str(case_id) for case_id in sorted(case_ids))
    return MatchResult(outcome=MatchOutcome.AMBIGUOUS,
                       reason=f"cases {ids} {shared} and the notice names each of them; needs a person to choose")


def _verdict(hits: dict[int, tuple[str, str, str]], *, how: str, searches: str, shared: str,
             files_searched_last4: bool = False) -> MatchResult | None:  # fmt: skip
    """One case named is MATCHED (under its surname as the CRM spells it, and with the last 4 it was found under when
    ``files_searched_last4``), more are AMBIGUOUS, none is None. ``how`` tells how the last 4 or the surname searched
    came about; reasons name case ids and the masked SSN only."""
    if len(hits) > 1:
        return _ambiguous(hits, shared)
    if not hits:
        return None
    case_id, (last, last4, where) = next(iter(hits.items()))
    return MatchResult(
        outcome=MatchOutcome.MATCHED, case_id=case_id, score=100.0, confirmed_last_name=last,
        confirmed_ssn_last4=last4 if files_searched_last4 else None,
        reason=f"case {case_id} matched on SSN ***-**-{last4}{how}; {where} ({searches})",
    )  # fmt: skip


def confirm_on_page(notice: Notice, directory: CaseDirectory) -> MatchResult | None:
    """A match confirmed by the page, or None when confirmation does not apply or finds nothing."""
    if not notice.ssn_last4 or not notice.name_evidence:
        return None
    if notice.taxpayer_last_name and notice.confidence("taxpayer_last_name") >= CONFIRM_BELOW:
        return None
    candidates = surname_candidates(notice)
    hits = _hits(notice, directory, [(surname, notice.ssn_last4) for surname in candidates])
    why = "reader unsure of the name" if notice.taxpayer_last_name else "no address block read; the page's name lines"
    return _verdict(hits, how="", searches=f"{why}; {len(candidates)} CRM search(es)",
                    shared=f"share SSN {notice.masked_ssn}")  # fmt: skip


# (read, printed): a last 4's one-digit misreads, most often first, as counted on thirteen seeds' scans (49 of the
# 2948 last 4s read, tuned; round 25): a 0 read as 9 (11) or 6 (10), a 5 as 8 (6), a 1 as 2 (4), an 8 as 9 (3), then
# pairs seen twice (a 1 as 7, a 3 as 4, a 2 as 7, a 6 as 4) and a 0 read as 8 (once). Only the first
# ``MAX_SEARCHES`` variants of a last 4 are searched, so the order decides: the 0 read as 8 that came third (rounds
# 8 and 11) took the search a 5 read as 8 needed ("8683" for 5683, "6879" for 6579).
DIGIT_MISREADS = (("9", "0"), ("6", "0"), ("8", "5"), ("2", "1"), ("9", "8"), ("7", "1"), ("4", "3"), ("7", "2"),
                  ("4", "6"), ("8", "0"))


def _misreads_told() -> str:
    """``DIGIT_MISREADS`` in words, for a reason: "a 0 read as 9, 6 or 8, a 5 as 8, a 1 as 7 or 2"."""
    by_printed: dict[str, list[str]] = {}
    for read, printed in DIGIT_MISREADS:
        by_printed.setdefault(printed, []).append(read)
    told: list[str] = []
    for printed, reads in by_printed.items():
        listed = reads[0] if len(reads) == 1 else f"{', '.join(reads[:-1])} or {reads[-1]}"
        article = "an" if printed == "8" else "a"
        told.append(f"{article} {printed} {'as' if told else 'read as'} {listed}")
    return ", ".join(told)


def lookalike_last4s(last4: str) -> list[str]:
    """The last 4 with one digit read back as the digit it is often misread for (``DIGIT_MISREADS``), at most
    ``MAX_SEARCHES``."""
    variants = [last4[:i] + printed + last4[i + 1 :] for read, printed in DIGIT_MISREADS
                for i, digit in enumerate(last4) if digit == read]  # fmt: skip
    return list(dict.fromkeys(variants))[:MAX_SEARCHES]


def _matched_on_searched_last4(notice: Notice, directory: CaseDirectory, last4s: list[str], *, how: str,
                               shared: str, ssn_on_file: bool = False) -> MatchResult | None:  # fmt: skip
    """The page's surname searched with each of ``last4s``: one case whose own name is on the page is MATCHED and filed
    with the last 4 it was found under (``how`` says where that last 4 came from), more are AMBIGUOUS."""
    surname = notice.taxpayer_last_name or ""
    hits = _hits(notice, directory, [(surname, last4) for last4 in last4s], ssn_on_file=ssn_on_file)
    return _verdict(hits, how=f", {how}", searches=f"{len(last4s)} CRM search(es)", shared=shared,
                    files_searched_last4=True)  # fmt: skip


def confirm_lookalike_last4(notice: Notice, directory: CaseDirectory) -> MatchResult | None:
    """A case found under a look-alike of the page's last 4 whose name is on the page, or None. Only for a last 4
    that OCR read: a text layer's digits are the letter's own, and a search for them is no search for a misread."""
    read = notice.fields.get("ssn_last4")
    if read is None or read.source is not FieldSource.OCR:
        return None
    if not notice.ssn_last4 or not notice.taxpayer_last_name:
        return None
    masked = notice.masked_ssn
    return _matched_on_searched_last4(notice, directory, lookalike_last4s(notice.ssn_last4),
                                      how=f"the page's {masked} with one digit misread ({_misreads_told()})",
                                      shared=f"match look-alikes of SSN {masked}")  # fmt: skip


def confirm_last4_elsewhere(notice: Notice, directory: CaseDirectory) -> MatchResult | None:
    """The page's surname searched with the last 4 another place on the letter printed (a response form's scan line)
    where it differs from the one read and that one found no case: one of the two reads is wrong. Accepted on the
    same terms as a guess (active, its own first and last name on the page, the last 4 on file): one search."""
    if not notice.ssn_last4_elsewhere or not notice.taxpayer_last_name:
        return None
    return _matched_on_searched_last4(notice, directory, [notice.ssn_last4_elsewhere], ssn_on_file=True,
                                      how=f"as the letter printed it elsewhere (read {notice.masked_ssn} beside "
                                      "its label)", shared="match the letter's other printing of its SSN")  # fmt: skip


def confirm_guessed_last4(notice: Notice, directory: CaseDirectory) -> MatchResult | None:
    """No last 4 read, but a surname and guesses at a last 4 OCR garbled ("S086": 5086 or 8086): each guess is
    searched with the surname (at most ``MAX_SEARCHES``), and a case is accepted on the same terms as above (active,
    its own first and last name on the page) and only if it holds the guessed last 4 itself. None when it does not
    apply or finds nothing."""
    if notice.ssn_last4 or not notice.taxpayer_last_name:
        return None
    guesses = notice.ssn_last4_guesses[:MAX_SEARCHES]
    return _matched_on_searched_last4(notice, directory, guesses, ssn_on_file=True,
                                      how=f"one of {len(guesses)} reading(s) of a last 4 OCR garbled",
                                      shared="match readings of a garbled SSN")  # fmt: skip


def confirm_other_letters_last4(notice: Notice, directory: CaseDirectory) -> MatchResult | None:
    """No last 4 read, but another letter in the same file prints one for the same taxpayer (notices/file_letters.py):
    it is searched once with the page's surname, and a case is accepted on the same terms as a guess (active, its own
    first and last name on the page, the last 4 on file). None when it does not apply or finds nothing."""
    if notice.ssn_last4 or not notice.taxpayer_last_name or not notice.ssn_last4_other_letter:
        return None
    return _matched_on_searched_last4(notice, directory, [notice.ssn_last4_other_letter], ssn_on_file=True,
                                      how="as another letter in this file printed it for the same name",
                                      shared="match the SSN another letter of the file prints")  # fmt: skip


def confirm_clerks_name(notice: Notice, directory: CaseDirectory) -> MatchResult | None:
    """The page's unsure surname and its last 4 found no case, and the file's name (a clerk's reading of the paper)
    gives another surname: that surname is searched once with the page's last 4, and a case is taken only if its
    own whole surname is the clerk's and its first name the clerk's (the page's where the file name gives none),
    with that last 4 on file. OCR debris after a name ("KWAME BEAULIEU TIT") had made the page's surname a junk
    word; the clerk's name never outranks a confident page read (round 20, found on spent seeds 16180, 57721, 11235
    and 31415, one or two letters each; tuned)."""
    if not notice.clerk_last_name:
        return None
    return _searched_once(notice, directory, notice.clerk_last_name, _named_by_clerk,
                          how="the surname the file name gives (the page's unsure surname found no case)",
                          under="the file name's surname")


def _searched_once(notice: Notice, directory: CaseDirectory, surname: str, confirm: Confirmation, *, how: str,
                   under: str) -> MatchResult | None:  # fmt: skip
    """One FindCase with another reading of the page's unsure surname and the page's last 4: a case named by
    ``confirm`` that holds that last 4 is MATCHED; never against a surname the page read with 0.9 or more."""
    if not notice.ssn_last4 or notice.confidence("taxpayer_last_name") >= CONFIRM_BELOW:
        return None
    hits = _hits(notice, directory, [(surname, notice.ssn_last4)], ssn_on_file=True, confirm=confirm)
    return _verdict(hits, how=f" under {how}", searches="1 CRM search",
                    shared=f"share SSN {notice.masked_ssn} under {under}")


def _named_without_speck(case: CaseCandidate, notice: Notice) -> tuple[str, str] | None:
    """The case's surname when it is the page's without its first letter and its first name the page's, or None."""
    for case_first, last in _case_people(case):
        if same_person(notice.taxpayer_first_name, (notice.taxpayer_last_name or "")[1:], case_first, last):
            return normalize_name(last), "its name is the page's, a speck before the surname aside"
    return None


# one word of 3 characters or more, an apostrophe inside it ("RO'MALLEY", a speck before O'MALLEY: dev seed 121393)
# but not after its first letter (O'NEIL without its first letter is no surname)
_ONE_WORD = re.compile(r"(?=.{3,}$)[A-Z][A-Z]+(?:'[A-Z]+)?")


def confirm_speck_before_surname(notice: Notice, directory: CaseDirectory) -> MatchResult | None:
    """The page's unsure one-word surname and its last 4 found no case: a speck or pen stroke glued before the name
    reads as a letter ("JIN ENG" for JIN NG, "DAVID ALI" for LI, "EVA NMULLER" for MULLER; spent seeds 65537, 31415,
    16180 and dev seed 5150, one letter each, tuned; "RO'MALLEY" for O'MALLEY, 121393, round 29: an apostrophe inside
    the word keeps it one word). The surname without its first letter is searched once with the page's last 4, and a
    case is taken only if its whole surname is that, its first name the page's, and it holds that last 4. Never for
    a surname read with 0.9 or more, nor a compound one (which must agree in full)."""
    surname = notice.taxpayer_last_name or ""
    if not notice.taxpayer_first_name or not _ONE_WORD.fullmatch(surname):
        return None
    return _searched_once(notice, directory, surname[1:], _named_without_speck,
                          how="the page's surname without its first letter (a speck read as one)",
                          under="the shortened surname")

