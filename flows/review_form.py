"""The reviewer's form: a Prefect ``RunInput`` with one section per notice, shown when the review run is resumed.

    Form = review_form(entries, description=form_markdown(entries))
    answers = suspend_flow_run(wait_for_input=Form, key="round-1")      # the run stops here until someone submits

The form is the schema of a pydantic model built for the notices in hand: each section's title says the letter
type, the response date and days left and the file name; its description the masked SSN, the names read and the
candidate cases; its fields the decision, the case (a select of the candidates), another case id, the names and SSN
last 4 to search with, and the response date. Fields are keyed by Drive file id, so answers are read back by file
id whatever the order, and an answer for a notice that has meanwhile left the batch is ignored.

What Prefect keeps: the schema (with its defaults and descriptions: the names read, the candidates' names, SSN
last 4) and the submitted answers are stored by the Prefect server as the flow run's inputs. They hold names and
last 4 only (never a full SSN: the models cannot carry one), and the review run deletes them once it has filed the
decisions (``forget_inputs``), so they live as long as the review is open.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Literal
from uuid import UUID

import pydantic
from pydantic import ConfigDict, Field
from prefect.client.orchestration import get_client
from prefect.input import RunInput

from mailroom.ledger import NoticeKey
from mailroom.review import NoticeAnswer, ReviewEntry

NONE_OF_THESE = "(none of these: type the case id in Other case id)"


class ReviewAnswers(RunInput):
    """The form's fixed part: who decides (Prefect records no user for a resume)."""

    model_config = ConfigDict(extra="ignore")

    reviewer: str = Field(..., min_length=1, title="Your name",
                          description="Recorded with every decision in the report (who filed or rejected it)")


def field_name(key: NoticeKey) -> str:
    return "notice_" + re.sub(r"[^0-9A-Za-z_]", "_", key.file_id)


def review_form(entries: list[ReviewEntry], *, description: str) -> type[ReviewAnswers]:
    """The RunInput model for these notices (most urgent first), with ``description`` shown above the form."""
    fields: dict[str, Any] = {}
    for number, entry in enumerate(entries, 1):
        section = _section_model(number, entry)
        fields[field_name(entry.key)] = (section, Field(default=section(), title=entry.headline(number),
                                                        description=entry.details()))
    model = pydantic.create_model("ReviewDecisions", __base__=ReviewAnswers, **fields)
    model._description = description  # what Prefect shows above the form (RunInput.with_initial_data does the same)
    return model


def _section_model(number: int, entry: ReviewEntry) -> type[NoticeAnswer]:
    labels = (*entry.choice_labels(), NONE_OF_THESE)
    case: Any = (Literal[labels], Field(labels[0], title="Case", description="Used by 'file on the chosen case'"))
    if not entry.candidates:  # a one-value select renders as a constant: a text box says more
        case = (str, Field("", title="Case", description="No candidate case found: type the case id here or in "
                                                          "Other case id"))
    return pydantic.create_model(  # type: ignore[call-overload]
        f"Notice{number}",
        __base__=NoticeAnswer,
        case=case,
        other_case_id=(int, Field(0, ge=0, title="Other case id",
                                  description="A Logiqs case not listed above (0: use the chosen case)")),
        first_name=(str, Field(entry.first_name, title="First name", description="For 'search again'")),
        last_name=(str, Field(entry.last_name, title="Last name", description="For 'search again'")),
        ssn_last4=(str, Field(entry.ssn_last4, title="SSN last 4", description="For 'search again' (4 digits)")),
        response_due_date=(date | None, Field(entry.response_due_date, title="Response due date",
                                              description="As read; correct it, or give it when none was read")),
    )


class Submitted(pydantic.BaseModel):
    """A round's answers as submitted: who, when (the server's time of the submission), and per notice."""

    reviewer: str
    at: datetime
    answers: dict[str, NoticeAnswer]  # by field_name(key)

    def answer_for(self, key: NoticeKey) -> NoticeAnswer:
        return self.answers.get(field_name(key), NoticeAnswer())


def keyset(round_key: str) -> dict[str, str]:
    """Where Prefect stores a suspension's form, description and answers (``suspend_flow_run``'s naming)."""
    base = f"suspended-{round_key}"
    return {"schema": f"{base}-schema", "description": f"{base}-description", "response": f"{base}-response"}


def submitted(flow_run_id: UUID, round_key: str) -> Submitted | None:
    """The answers of a round already submitted (this run is being resumed), else None (ask the reviewer)."""
    with get_client(sync_client=True) as client:
        found = client.filter_flow_run_input(flow_run_id=flow_run_id, key_prefix=keyset(round_key)["response"],
                                             limit=1, exclude_keys=set())
    if not found:
        return None
    value = found[0].decoded_value or {}
    answers: dict[str, NoticeAnswer] = {}
    for name, answer in value.items():
        if name.startswith("notice_") and isinstance(answer, dict):
            try:
                answers[name] = NoticeAnswer.model_validate(answer)
            except pydantic.ValidationError:  # a hand-made API answer: treat as undecided rather than guess
                continue
    at = found[0].created or datetime.now(timezone.utc)
    return Submitted(reviewer=str(value.get("reviewer") or "unknown reviewer"), at=at, answers=answers)


def forget_inputs(flow_run_id: UUID, round_keys: list[str]) -> None:
    """Delete the forms and answers (names, last 4) from Prefect once the decisions are filed."""
    with get_client(sync_client=True) as client:
        for round_key in round_keys:
            for key in keyset(round_key).values():
                try:
                    client.delete_flow_run_input(flow_run_id=flow_run_id, key=key)
                except Exception:  # noqa: BLE001 - already gone (a replayed run deleted it): nothing to forget
                    continue
