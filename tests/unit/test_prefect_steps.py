"""A step whose task run the Prefect server failed to start (5xx, connection lost) is started again; after the last
attempt the notice fails with a TRANSIENT, specific reason; a 4xx is a bug and shows as one. No real sleeping."""

from __future__ import annotations

import httpx
import pytest
from prefect.exceptions import PrefectHTTPStatusError

from tasks import starting
from mailroom.errors import TransientError


def _prefect_error(status: int) -> PrefectHTTPStatusError:
    request = httpx.Request("POST", "http://prefect/api/v2/concurrency_limits/increment-with-lease")
    return PrefectHTTPStatusError(f"{status}", request=request, response=httpx.Response(status, request=request))


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(starting.time, "sleep", lambda _s: None)


def test_a_task_run_the_server_could_not_start_is_started_again():
    answers = [_prefect_error(503), httpx.ConnectError("refused"), "moved"]

    def task(*_args):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert starting.run_step("move-notice", task, "key") == "moved"
    assert answers == []


def test_after_the_last_attempt_the_step_fails_transient_with_its_name():
    calls = []

    def task(*_args):
        calls.append(1)
        raise _prefect_error(503)

    with pytest.raises(TransientError, match="could not start the download-notice task run") as raised:
        starting.run_step("download-notice", task)
    assert raised.value.reason == "prefect_api_unavailable" and len(calls) == starting.PREFECT_API_ATTEMPTS


def test_a_client_error_from_the_server_is_not_retried():
    calls = []

    def task(*_args):
        calls.append(1)
        raise _prefect_error(422)

    with pytest.raises(PrefectHTTPStatusError):
        starting.run_step("match-notice", task)
    assert len(calls) == 1
