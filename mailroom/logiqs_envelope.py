"""Reading a Logiqs answer body, whatever variant the tenant sends (sources in docs/logiqs-api.md).

* the V4 envelope ``{Success, data, message, StatusCode}``, also as ``success`` / ``Data`` / ``Message`` /
  ``statusCode`` (integrators read ``data ?? Data`` and ``Message || message``);
* ``data`` as a JSON-encoded string (``"data": "{\\"TaskID\\": 1}"``: an integrator's smoke script parses it);
* the V3 case search answer ``{"matchFound": bool, "caseData": {"data": {...}}}`` (the firm's production code),
  ``caseData``/``data`` again in either casing, possibly string-encoded, one case or a list.

Nothing here logs: bodies can hold names and SSNs, so callers see only parsed, typed values.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator


def decode_data(value: Any) -> Any:
    """A string that holds a JSON object, array or null becomes that value; anything else is left alone."""
    if isinstance(value, (str, bytes)):
        text = value.strip() if isinstance(value, str) else value.strip().decode("utf-8", "replace")
        if text[:1] in ("{", "[") or text == "null":
            try:
                return json.loads(text)
            except ValueError:
                return value
    return value


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    success: bool = Field(validation_alias=AliasChoices("Success", "success", "IsSuccess"))
    data: Any = Field(None, validation_alias=AliasChoices("data", "Data"))
    message: str | None = Field(None, validation_alias=AliasChoices("message", "Message"))
    status_code: int | None = Field(None, validation_alias=AliasChoices("StatusCode", "statusCode"))

    @field_validator("data", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> Any:
        return decode_data(value)


class V3SearchAnswer(BaseModel):
    """``{"matchFound": true, "caseData": {"data": {"CaseID": ...}}}`` or ``{"matchFound": false}``."""

    model_config = ConfigDict(extra="ignore")

    match_found: bool = Field(validation_alias=AliasChoices("matchFound", "MatchFound"))
    case_data: Any = Field(None, validation_alias=AliasChoices("caseData", "CaseData"))

    def rows(self) -> list[Any]:
        """The case rows inside ``caseData`` (usually one); raises ValueError for a shape we cannot read."""
        if not self.match_found:
            return []
        inner = decode_data(self.case_data)
        if isinstance(inner, dict) and not ("CaseID" in inner or "caseID" in inner):
            for key in ("data", "Data"):
                if key in inner:
                    inner = decode_data(inner[key])
                    break
        if isinstance(inner, dict):
            return [inner]
        if isinstance(inner, list) and inner:
            return inner
        raise ValueError("matchFound is true but caseData holds no case")


def read_envelope(content: bytes) -> Envelope:
    """The V4 envelope of ``content``; a body that is itself a JSON string holding the envelope is decoded too.

    Raises ValueError when the body is not an envelope."""
    try:
        body = decode_data(json.loads(content or b"null"))
        return Envelope.model_validate(body)
    except (ValueError, ValidationError) as exc:
        raise ValueError("not a Logiqs envelope") from exc


def read_v3_search(content: bytes) -> V3SearchAnswer:
    """The V3 search answer; also found inside a V4-style envelope's ``data``. Raises ValueError otherwise."""
    try:
        body = decode_data(json.loads(content or b"null"))
    except ValueError as exc:
        raise ValueError("not JSON") from exc
    for candidate in (body, decode_data(body.get("data", body.get("Data"))) if isinstance(body, dict) else None):
        if isinstance(candidate, dict) and ("matchFound" in candidate or "MatchFound" in candidate):
            try:
                return V3SearchAnswer.model_validate(candidate)
            except ValidationError as exc:
                raise ValueError("malformed V3 search answer") from exc
    raise ValueError("not a V3 search answer")
