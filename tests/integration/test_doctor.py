"""mailroom.doctor against the sandbox over HTTP: all green on a correct configuration (either Logiqs dialect),
each broken setting named with what to change, and never a write (the emulators' stats)."""

from __future__ import annotations

from typing import Any

import pytest

from mailroom.doctor import Status, diagnose
from mailroom.drive import DriveClient, build_drive_service
from mailroom.logiqs import LogiqsClient
from mailroom.logiqs_dialects import LogiqsDialect
from mailroom.pipeline_settings import PipelineSettings
from mailroom.resilience import ResiliencePolicy

# Drive and Logiqs endpoints that change something; a doctor may reach Logiqs' write routes only with requests
# that cannot take effect (answered 4xx), and Drive's never.
DRIVE_WRITES = ("files.create", "files.update", "files.upload", "files.upload_chunk", "files.generateIds")
LOGIQS_WRITES = ("Documents/CaseDocument", "Task/Task", "CaseActivity/Activity")


def policy(service: str) -> ResiliencePolicy:
    return ResiliencePolicy(service, max_retries=0, use_breaker=False, use_budget=False)


def run(sandbox, *, dialect: LogiqsDialect | None = None, key: tuple[str, str] | None = None,
        account: dict[str, str] | None = None, **setting_overrides: Any):
    folders = sandbox.folders
    settings = PipelineSettings(input_root_id=folders.input_root, matched_folder_id=folders.matched,
                                unmatched_folder_id=folders.unmatched, reports_folder_id=folders.reports,
                                assignee_user_id=1).model_copy(update=setting_overrides)
    account = account or sandbox.service_account_info
    drive = DriveClient(build_drive_service(account, api_endpoint=sandbox.drive_url, timeout=5), policy=policy("drive"))
    api_key, secret = key or (sandbox.logiqs_api_key, sandbox.logiqs_secret)

    def logiqs(variant: LogiqsDialect) -> LogiqsClient:
        return LogiqsClient(sandbox.logiqs_url, api_key, secret, policy=policy("logiqs"), timeout=(2, 5),
                            dialect=variant)

    dialect = dialect or LogiqsDialect(search=sandbox.logiqs_dialect)
    return diagnose(settings, drive=drive, logiqs=logiqs, dialect=dialect, service_account=account["client_email"])


def rows(diagnosis) -> dict[str, Any]:
    return {check.name: check for check in diagnosis.checks}


def assert_nothing_written(sandbox) -> None:
    drive, logiqs = sandbox.stats()["drive"], sandbox.stats()["logiqs"]
    assert not [e for e in DRIVE_WRITES if e in drive["calls"]], drive["calls"]
    for endpoint in LOGIQS_WRITES:
        statuses = logiqs["calls"].get(endpoint, {})
        assert all(400 <= int(status) < 500 for status in statuses), (endpoint, statuses)
    assert (logiqs["documents_total"], logiqs["tasks_total"], logiqs["activities_posted"]) == (0, 0, 0)


@pytest.mark.parametrize("search", ["v4-findcase", "v3-findcase"])
def test_a_correct_configuration_is_all_green_and_nothing_is_written(sandbox_factory, search):
    sandbox = sandbox_factory(notices=2, logiqs_dialect=search)
    diagnosis = run(sandbox)
    assert [c for c in diagnosis.checks if c.status is not Status.OK] == [], diagnosis.table()
    assert not diagnosis.blocking
    names = set(rows(diagnosis))
    assert {"auth", "input_root_id", "matched_folder_id", "unmatched_folder_id", "reports_folder_id",
            "shared drives", "case search", "case read", "case.write", "task.write", "assignee"} <= names
    assert f"{search} answers" in rows(diagnosis)["case search"].detail
    table = diagnosis.table()
    assert "ready: nothing blocks a run" in table
    assert sandbox.logiqs_secret not in table and sandbox.logiqs_api_key not in table
    assert sandbox.service_account_info["private_key"] not in table
    assert_nothing_written(sandbox)


def test_a_wrong_folder_a_key_without_task_write_and_the_other_dialect_are_each_named(sandbox_factory):
    sandbox = sandbox_factory(notices=2)  # serves V4 FindCase
    a_file = sandbox.drive_id(sandbox.corpus.files[0])
    diagnosis = run(sandbox, dialect=LogiqsDialect(search="v3-findcase"), key=sandbox.limited_api_key,
                    matched_folder_id="no-such-folder", reports_folder_id=a_file)
    found = rows(diagnosis)
    assert diagnosis.blocking
    assert found["matched_folder_id"].status is Status.FAIL and "no-such-folder" in found["matched_folder_id"].detail
    assert "share the folder with" in found["matched_folder_id"].fix
    assert found["reports_folder_id"].status is Status.FAIL and "not a folder" in found["reports_folder_id"].detail
    assert found["task.write"].status is Status.FAIL and "'task.write'" in found["task.write"].fix
    assert found["case.write"].status is Status.OK
    assert found["case search"].status is Status.FAIL
    assert found["case search"].fix == "set search_dialect = v4-findcase in the Logiqs block"
    assert found["unmatched_folder_id"].status is Status.OK and found["input_root_id"].status is Status.OK
    table = diagnosis.table()
    for text in ("matched_folder_id", "task.write", "search_dialect = v4-findcase", "BLOCKED"):
        assert text in table
    assert_nothing_written(sandbox)


def test_a_folder_mailroom_may_not_write_to_and_a_missing_assignee(sandbox_factory):
    sandbox = sandbox_factory(notices=2)
    sandbox.drive.set_read_only(sandbox.folders.unmatched)
    found = rows(run(sandbox, assignee_user_id=None))
    assert found["unmatched_folder_id"].status is Status.FAIL
    assert "Editor" in found["unmatched_folder_id"].fix and "may not add files" in found["unmatched_folder_id"].detail
    assert found["assignee"].status is Status.FAIL and "assignee_user_id" in found["assignee"].fix
    assert_nothing_written(sandbox)


def test_a_case_read_the_tenant_does_not_serve_and_a_bad_secret(sandbox_factory):
    sandbox = sandbox_factory(notices=2, logiqs_options={"case_reads": ("Case/CaseInfo",)})
    found = rows(run(sandbox))
    assert found["case read"].status is Status.FAIL
    assert found["case read"].fix == "set case_read = Case/CaseInfo in the Logiqs block"
    assert found["case search"].status is Status.OK
    rejected = run(sandbox, key=(sandbox.logiqs_api_key, "not-the-secret"))
    logiqs_rows = [c for c in rejected.checks if c.area == "Logiqs"]
    assert [(c.name, c.status) for c in logiqs_rows] == [("auth", Status.FAIL)]
    assert "not-the-secret" not in rejected.table()
    assert_nothing_written(sandbox)


def test_a_service_account_drive_refuses_is_one_row_without_the_token_answer(sandbox_factory):
    sandbox = sandbox_factory(notices=2)
    stranger = dict(sandbox.service_account_info, client_email="stranger@elsewhere.iam.gserviceaccount.com")
    diagnosis = run(sandbox, account=stranger)
    drive_rows = [c for c in diagnosis.checks if c.area == "Drive"]
    assert [(c.name, c.status) for c in drive_rows] == [("auth", Status.FAIL)]
    assert "authError" in drive_rows[0].detail and "Invalid JWT" not in diagnosis.table()
    assert rows(diagnosis)["case search"].status is Status.OK  # Logiqs is checked all the same
