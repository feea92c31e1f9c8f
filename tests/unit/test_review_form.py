"""The reviewer's form as Prefect stores and shows it: a RunInput schema with one section per notice."""

from __future__ import annotations

from prefect._internal.pydantic.v2_schema import create_v2_schema

from flows.review_form import NONE_OF_THESE, field_name, review_form
from mailroom.review import Decision, NoticeAnswer, form_markdown
from tests.unit.test_review import KEY, _entry


def _schema(model) -> dict:
    return create_v2_schema(model.__name__, model_base=model)  # what RunInput.save() sends to the server


def test_one_section_per_notice_most_urgent_first_with_its_cases_to_choose_from():
    urgent = _entry(key=KEY.model_copy(update={"file_id": "urgent-1"}), letter_type="CP504", days_left=5)
    later = _entry()
    form = review_form([urgent, later], description=form_markdown([urgent, later]))
    schema = _schema(form)

    assert list(schema["properties"]) == ["reviewer", "notice_urgent_1", field_name(later.key)]
    assert schema["required"] == ["reviewer"]  # who decided: Prefect records no user for a resume
    section = schema["properties"]["notice_urgent_1"]
    assert section["title"].startswith("1. CP504 · respond by") and "(5 days)" in section["title"]
    assert "candidate cases: 1001 Mary Smith (Active) score 97.0" in section["description"]
    definition = schema["$defs"][section["$ref"].rsplit("/", 1)[-1]]
    assert definition["properties"]["case"]["enum"] == [*urgent.choice_labels(), NONE_OF_THESE]
    assert definition["properties"]["case"]["default"] == urgent.choice_labels()[0]
    assert section["default"]["decision"] == Decision.UNDECIDED.value and section["default"]["last_name"] == "SMITH"
    assert form._description.startswith("# 2 notice(s) wait for your decision")


def test_a_notice_without_candidates_asks_for_a_case_id():
    entry = _entry(candidates=[])
    schema = _schema(review_form([entry], description=""))
    definition = next(iter(d for name, d in schema["$defs"].items() if name.startswith("Notice")))
    assert definition["properties"]["case"]["type"] == "string" and "enum" not in definition["properties"]["case"]
    assert "type the case id" in definition["properties"]["case"]["description"]


def test_the_submitted_json_reads_back_as_answers_and_holds_no_full_ssn():
    entry = _entry()
    form = review_form([entry], description="")
    submitted = {"reviewer": "Alice", field_name(entry.key): {
        "decision": Decision.FILE.value, "case": entry.choice_labels()[1], "other_case_id": 0,
        "first_name": "MARY", "last_name": "SMITH", "ssn_last4": "6789", "response_due_date": "2025-11-13"}}
    answers = form.model_validate(submitted)
    answer = NoticeAnswer.model_validate(getattr(answers, field_name(entry.key)).model_dump())
    assert answer.decision is Decision.FILE and answer.case.startswith("1002 ")
    text = str(_schema(form)) + form_markdown([entry])
    assert "***-**-6789" in text and "123-45-6789" not in text
