"""Every problem met before the first notice ends as "Cannot start: block <slug>/<name>, field <field>: ...": an
unparsable key (through the CLI, as a person runs it: exit code 1, no traceback), a key missing its fields, a stored
block that no longer fits its type, a folder id Drive does not know. Nothing is touched in Drive or Logiqs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import BlockDocumentUpdate

from blocks.register import SandboxProfile, save_sandbox_blocks
from blocks.settings import MailroomSettings
from tests.flow.test_daily_flow import run_flow

pytestmark = [pytest.mark.prefect_server]

ROOT = Path(__file__).resolve().parents[2]
BROKEN_PEM = "-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lCQVFD\n" \
             "this line is not base64 at all\n-----END PRIVATE KEY-----\n"


@pytest.fixture(scope="module")
def small_sandbox(prefect_server):
    from mailroom_sandbox.stack import Sandbox

    with Sandbox(notices=3, seed=5) as sandbox:
        yield sandbox


def _save(sandbox, name: str, tmp_path: Path, **changes) -> SandboxProfile:
    profile = SandboxProfile.of(sandbox).model_copy(update=changes.pop("profile", {}))
    save_sandbox_blocks(profile, name=name, state_dir=str(tmp_path / "state"), report_dir=str(tmp_path / "reports"),
                        **changes)
    return profile


def _untouched(sandbox) -> dict[str, list[str]]:
    return {fid: list(sandbox.drive.store.get(fid).parents) for fid in sandbox.file_ids.values()}


def test_a_malformed_private_key_stops_the_cli_naming_the_drive_block(prefect_server, small_sandbox, tmp_path):
    info = {**small_sandbox.service_account_info, "private_key": BROKEN_PEM}
    _save(small_sandbox, "badpem", tmp_path, profile={"service_account_info": info})
    env = {**os.environ, "PREFECT_API_URL": prefect_server.api_url, "PREFECT_HOME": str(tmp_path / "home")}

    done = subprocess.run([sys.executable, str(ROOT / "flows" / "daily.py"), "--blocks", "badpem"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "Cannot start: block mailroom-drive-credentials/badpem, field service_account_info: private_key is " \
           "not a readable PEM private key" in done.stdout, output[-3000:]
    assert "Traceback" not in output
    assert "not base64" not in output and "TUlJRXZR" not in output  # no part of the key is echoed


def test_a_key_without_its_fields_names_them(small_sandbox, tmp_path):
    _save(small_sandbox, "nokey", tmp_path, profile={"service_account_info": {"type": "service_account"}})
    state, runs = run_flow("nokey")
    assert state.is_failed() and runs == []
    assert state.message == ("Cannot start: block mailroom-drive-credentials/nokey, field service_account_info: "
                             "the service-account key has no client_email, private_key, token_uri")


def test_a_stored_block_that_no_longer_fits_its_type_is_named_with_its_field(small_sandbox, tmp_path):
    _save(small_sandbox, "corrupt", tmp_path)
    with get_client(sync_client=True) as client:
        document = client.read_block_document_by_name("corrupt", MailroomSettings.get_block_type_slug())
        data = {**document.data, "concurrency": "lots", "lease_seconds": -5}
        client.update_block_document(document.id, BlockDocumentUpdate(data=data, merge_existing_data=False))

    state, runs = run_flow("corrupt")

    assert state.is_failed() and runs == []
    assert state.message.startswith("Cannot start: block mailroom-settings/corrupt cannot be read: "), state.message
    assert "concurrency:" in state.message and "lease_seconds:" in state.message
    assert "lots" not in state.message  # the field is named, its value is not quoted


def test_a_folder_drive_does_not_know_names_the_setting_and_touches_nothing(small_sandbox, tmp_path):
    _save(small_sandbox, "nofolder", tmp_path, matched_folder_id="no-such-folder")
    before = _untouched(small_sandbox)

    state, runs = run_flow("nofolder")

    assert state.is_failed()
    assert state.message.startswith("Cannot start: block mailroom-settings/nofolder, field matched_folder_id: Drive "
                                    "has no folder no-such-folder"), state.message
    assert {run.task_key.rsplit("-", 1)[0] for run in runs} == {"check_logiqs_access", "check_folders"}
    assert _untouched(small_sandbox) == before
    assert not list((tmp_path / "state" / "work").iterdir())  # the run's work dir went with it
