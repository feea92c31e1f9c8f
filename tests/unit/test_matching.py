"""Matching against a real in-memory CaseDirectory (a list of cases searched like Logiqs FindCase)."""

from __future__ import annotations

from mailroom.crm import CaseCandidate
from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices.model import FieldProvenance, FieldSource, Notice
from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory


class ListDirectory:
    """CaseDirectory over a list: FindCase semantics = case-insensitive exact last name (primary or spouse) + last 4."""

    def __init__(self, cases: list[CaseCandidate]) -> None:
        self.cases = cases
        self.queries: list[tuple[str, str, str | None]] = []

    def find_cases(self, last_name, ssn_last4, *, first_name=None, active_only=False):
        self.queries.append((last_name, ssn_last4, first_name))
        wanted = last_name.strip().lower()
        hits = []
        for case in self.cases:
            lasts = {case.last_name.lower(), (case.spouse_last_name or "").lower()}
            if wanted in lasts and case.ssn_last4 == ssn_last4 and (case.active or not active_only):
                if first_name is None or case.first_name.lower() == first_name.lower():
                    hits.append(case)
        return hits

    def get_case(self, case_id):
        return next(case for case in self.cases if case.case_id == case_id)


def case(case_id, first, last, last4="1234", *, active=True, spouse=None):
    spouse_first, spouse_last = spouse or (None, None)
    return CaseCandidate(case_id=case_id, first_name=first, last_name=last, ssn_last4=last4, active=active,
                         status="Active" if active else "Closed", spouse_first_name=spouse_first,
                         spouse_last_name=spouse_last)  # fmt: skip


def notice(first="WILLIAM", last="SMITH", last4="1234", spouse=None):
    spouse_first, spouse_last = spouse or (None, None)
    return Notice(taxpayer_first_name=first, taxpayer_last_name=last, ssn_last4=last4,
                  spouse_first_name=spouse_first, spouse_last_name=spouse_last)  # fmt: skip


def test_exact_single_case_is_matched_with_a_report_safe_reason():
    result = match_notice(notice(), ListDirectory([case(1, "William", "Smith"), case(2, "William", "Smith", "9999")]))
    assert (result.outcome, result.case_id, result.score) == (MatchOutcome.MATCHED, 1, 100.0)
    assert "***-**-1234" in result.reason and "William" not in result.reason and "SMITH" not in result.reason


def test_nickname_typo_suffix_and_hyphen_variants_match():
    assert match_notice(notice(), ListDirectory([case(7, "Bill", "Smith")])).case_id == 7
    assert match_notice(notice("JENNIFER"), ListDirectory([case(8, "Jenifer", "Smith")])).case_id == 8
    assert match_notice(notice(last="SMITH JR"), ListDirectory([case(9, "William", "Smith")])).case_id == 9
    assert match_notice(notice(last="O'BRIEN"), ListDirectory([case(11, "William", "OBrien")])).case_id == 11
    spaced = ListDirectory([case(12, "William", "Garcia Lopez")])
    assert match_notice(notice(last="GARCIA-LOPEZ"), spaced).score == 100.0  # hyphen keyed as a space
    # Logiqs-like search matches name parts, so a CRM-side suffix is found and scores as the plain name
    assert match_notice(notice(), InMemoryCaseDirectory([case(13, "William", "Smith Jr.")])).score == 100.0


def test_a_compound_surname_must_agree_in_full_or_a_person_decides():
    """SMITH-JONES on the notice, SMITH or SMYTH in the CRM: as often another person as a typo (the right case may be
    absent), so it is never MATCHED: AMBIGUOUS, with the reason, for a person to confirm."""
    for crm_last in ("Smith", "Jones"):
        directory = ListDirectory([case(10, "William", crm_last)])
        result = match_notice(notice(last="SMITH-JONES"), directory)
        assert (result.outcome, result.case_id) == (MatchOutcome.AMBIGUOUS, None), crm_last
        assert "only in part or approximately" in result.reason and "SMITH" not in result.reason
    near = match_notice(notice(last="SMITH-JONES"), InMemoryCaseDirectory([case(10, "William", "Smyth")]))
    assert near.outcome is not MatchOutcome.MATCHED
    # a near spelling of a plain surname with the same first name and last 4 is not filed either
    assert match_notice(notice(last="SMITH"), ListDirectory([case(11, "William", "Smyth")])).outcome in (
        MatchOutcome.AMBIGUOUS, MatchOutcome.NO_MATCH)
    # the whole compound, however the CRM punctuates it, is MATCHED
    for crm_last in ("Smith-Jones", "Smith Jones", "SMITHJONES"):
        result = match_notice(notice(last="SMITH-JONES"), InMemoryCaseDirectory([case(12, "William", crm_last)]))
        assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 12), crm_last


def test_same_person_entered_twice_is_ambiguous():
    result = match_notice(notice(), ListDirectory([case(1, "William", "Smith"), case(2, "Bill", "Smith")]))
    assert result.outcome is MatchOutcome.AMBIGUOUS and result.case_id is None
    assert "1" in result.reason and "2" in result.reason


def test_other_person_with_same_last_name_and_last4_does_not_block_or_steal_the_match():
    result = match_notice(notice(), ListDirectory([case(1, "Margaret", "Smith"), case(2, "William", "Smith")]))
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 2)
    only_other = match_notice(notice(), ListDirectory([case(1, "Margaret", "Smith")]))
    assert only_other.outcome is MatchOutcome.NO_MATCH


def test_closed_case_is_never_matched_and_does_not_make_an_open_one_ambiguous():
    closed_only = match_notice(notice(), ListDirectory([case(1, "William", "Smith", active=False)]))
    assert closed_only.outcome is MatchOutcome.NO_MATCH and "closed" in closed_only.reason
    both = match_notice(notice(), ListDirectory([case(1, "William", "Smith", active=False), case(2, "William", "Smith")]))
    assert (both.outcome, both.case_id) == (MatchOutcome.MATCHED, 2)


def test_joint_filers_are_searched_under_both_names():
    directory = ListDirectory([case(5, "Mary", "Jones", spouse=("William", "Smith"))])
    result = match_notice(notice(spouse=("MARY", "JONES")), directory)
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 5)
    assert {q[0] for q in directory.queries} >= {"SMITH", "JONES"}


def test_missing_last4_or_name_is_insufficient_data_without_querying():
    directory = ListDirectory([case(1, "William", "Smith")])
    assert match_notice(notice(last4=None), directory).outcome is MatchOutcome.INSUFFICIENT_DATA
    assert match_notice(notice(last=None), directory).outcome is MatchOutcome.INSUFFICIENT_DATA
    assert directory.queries == []


def test_no_candidates_is_no_match():
    assert match_notice(notice(), ListDirectory([])).outcome is MatchOutcome.NO_MATCH


def test_unknown_first_name_matches_a_single_case_but_two_are_ambiguous():
    assert match_notice(notice(first=None), ListDirectory([case(1, "William", "Smith")])).case_id == 1
    two = ListDirectory([case(1, "William", "Smith"), case(2, "Margaret", "Smith")])
    assert match_notice(notice(first=None), two).outcome is MatchOutcome.AMBIGUOUS


def test_broad_searches_are_narrowed_by_first_name():
    crowd = [case(100 + i, "Margaret", "Smith") for i in range(30)] + [case(1, "William", "Smith")]
    directory = ListDirectory(crowd)
    result = match_notice(notice(), directory)
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 1)
    assert ("SMITH", "1234", "WILLIAM") in directory.queries


def test_joint_case_filed_under_the_spouse_is_found_by_the_spouse_last4():
    joint = CaseCandidate(case_id=30, first_name="Mary", last_name="Jones", ssn_last4="5555", spouse_first_name="William",
                          spouse_last_name="Smith", spouse_ssn_last4="1234")  # fmt: skip
    result = match_notice(notice(), InMemoryCaseDirectory([joint]))
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 30)
    assert result.candidates[0].matched_as == "taxpayer~case spouse"


def test_spouse_last4_only_pairs_the_notice_taxpayer_with_the_case_spouse():
    from mailroom.matching import score_candidate

    # the CRM returned this case for last 4 1234 but shows only the primary's (5555): the spouse must be our taxpayer
    unconfirmed = CaseCandidate(case_id=31, first_name="William", last_name="Smith", ssn_last4="5555",
                                spouse_first_name="Mary", spouse_last_name="Smith")  # fmt: skip
    scored = score_candidate(notice(), unconfirmed)
    assert scored.matched_as == "taxpayer~case spouse" and scored.score < 85
    stranger = CaseCandidate(case_id=32, first_name="William", last_name="Smith", ssn_last4="5555")
    assert score_candidate(notice(), stranger) is None  # a last 4 that belongs to nobody on the case never counts


def _uncertain(evidence, last=None, last4="1234"):
    fields = {"taxpayer_last_name": FieldProvenance(confidence=0.67, source=FieldSource.OCR)} if last else {}
    return Notice(taxpayer_last_name=last, ssn_last4=last4, name_evidence=evidence, fields=fields)


def test_an_uncertain_name_is_confirmed_by_the_crm_only_when_the_case_name_is_on_the_page():
    directory = ListDirectory([case(1, "Hyun", "McCarthy"), case(2, "Ann", "Tran")])
    result = match_notice(_uncertain(["HYUN TL MCCARTHY"]), directory)  # debris "TL" hid the name from the parser
    assert (result.outcome, result.case_id, result.confirmed_last_name) == (MatchOutcome.MATCHED, 1, "MCCARTHY")
    assert "MCCARTHY" not in result.reason.upper() and len(directory.queries) <= 3
    # the right case absent: a near spelling or a part of a compound surname is never confirmed
    for crm_first, crm_last in (("Hyun", "McCarty"), ("Maria", "Smith"), ("Maria", "Jones")):
        other = ListDirectory([case(3, crm_first, crm_last)])
        page = ["HYUN MCCARTHY"] if crm_last == "McCarty" else ["MARIA SMITH-JONES"]
        assert match_notice(_uncertain(page), other).outcome is not MatchOutcome.MATCHED, crm_last
    # never more than three FindCase calls, however many names the block shows
    many = ListDirectory([])
    match_notice(_uncertain(["ANA B CRUZ & LUIS DE LA ROSA", "MARY O'NEIL", "JOHN VAN DYKE"]), many)
    assert len(many.queries) <= 3
    # a confident reader name skips the confirmation (no extra calls for clean pages)
    confident = Notice(taxpayer_first_name="HYUN", taxpayer_last_name="MCCARTHY", ssn_last4="1234",
                       name_evidence=["HYUN MCCARTHY"],
                       fields={"taxpayer_last_name": FieldProvenance(confidence=0.93, source=FieldSource.OCR)})
    counted = ListDirectory([case(1, "Hyun", "McCarthy")])
    assert match_notice(confident, counted).case_id == 1 and counted.queries == [("MCCARTHY", "1234", None)]


def test_two_cases_confirmed_on_one_page_are_ambiguous():
    directory = ListDirectory([case(1, "John", "Smith"), case(2, "Mary", "Smith")])
    result = match_notice(_uncertain(["JOHN & MARY SMITH"]), directory)
    assert result.outcome is MatchOutcome.AMBIGUOUS and "1" in result.reason and "2" in result.reason


class SingleCaseDirectory(ListDirectory):
    """Logiqs V3 FindCase: the same search, but one case per answer (the lowest CaseID) and never the list."""

    returns_single_case = True

    def find_cases(self, last_name, ssn_last4, *, first_name=None, active_only=False):
        hits = sorted(super().find_cases(last_name, ssn_last4, first_name=first_name, active_only=active_only),
                      key=lambda c: c.case_id)
        return hits[:1]


def test_one_case_per_search_still_finds_the_taxpayer_behind_another_person_with_the_same_last_4():
    directory = SingleCaseDirectory([case(1, "Zed", "Smith"), case(2, "William", "Smith")])
    result = match_notice(notice(), directory)
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 2)
    assert ("SMITH", "1234", "WILLIAM") in directory.queries  # found by the narrower search with the first name


def test_one_case_per_search_prefers_the_open_case_and_still_names_a_closed_only_taxpayer():
    open_and_closed = SingleCaseDirectory([case(1, "William", "Smith", active=False), case(2, "William", "Smith")])
    assert match_notice(notice(), open_and_closed).case_id == 2
    assert match_notice(notice(first=None), open_and_closed).case_id == 2  # no first name to narrow by
    closed_only = match_notice(notice(), SingleCaseDirectory([case(1, "William", "Smith", active=False)]))
    assert closed_only.outcome is MatchOutcome.NO_MATCH and "closed" in closed_only.reason


def test_one_case_per_search_sees_a_second_case_the_first_name_tells_apart():
    directory = SingleCaseDirectory([case(1, "Bill", "Smith"), case(2, "William", "Smith")])
    assert match_notice(notice(), directory).outcome is MatchOutcome.AMBIGUOUS


def test_one_case_per_search_cannot_see_two_identical_cases_documented_limitation():
    # Two open cases of the same person under the same first name: no V3 search can tell they are two, so the one
    # V3 names is MATCHED. Pinned so that a change here is noticed (docs/logiqs-api.md, "one case per search").
    directory = SingleCaseDirectory([case(1, "William", "Smith"), case(2, "William", "Smith")])
    assert match_notice(notice(), directory).case_id == 1
    assert match_notice(notice(), ListDirectory(directory.cases)).outcome is MatchOutcome.AMBIGUOUS


def test_a_case_holding_only_part_of_the_pages_surname_is_no_rival_the_reverse_is():
    """Issue 10, round 5: DEL RIO on the page, "Chloe Del Rio" (100) and "Chloe Rio" (95, same last 4) in the CRM:
    the page shows the whole surname, so "Rio" is another person and the match is not ambiguous (9 of 169 typed true
    matches of held-out seed 81818 went to review this way). RIO on the page with the same two cases stays
    ambiguous: a stamp or OCR may have lost a word of the page's surname."""
    book = [case(1, "Chloe", "Del Rio"), case(2, "Chloe", "Rio")]
    whole = match_notice(notice("CHLOE", "DEL RIO"), InMemoryCaseDirectory(book))
    assert (whole.outcome, whole.case_id) == (MatchOutcome.MATCHED, 1)
    part = match_notice(notice("CHLOE", "RIO"), InMemoryCaseDirectory(book))
    assert part.outcome is MatchOutcome.AMBIGUOUS and "1" in part.reason and "2" in part.reason
    # an uncertain name (the reader's guess lost the particle) confirmed on the page: RIO after the particle DEL is no
    # surname of its own, so "Chloe Rio" is not found on the page
    confirmed = match_notice(_uncertain(["CHLOE DEL RIO"], last="RIO"), InMemoryCaseDirectory(book))
    assert (confirmed.outcome, confirmed.case_id) == (MatchOutcome.MATCHED, 1)
