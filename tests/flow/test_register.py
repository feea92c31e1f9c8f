"""`python -m blocks.register --sandbox-profile` turns a sandbox profile into working blocks on the server."""

from __future__ import annotations

import pytest

from blocks.config import load_run_config
from blocks.register import main as register_main

pytestmark = [pytest.mark.prefect_server]


def test_register_saves_blocks_a_run_can_load(prefect_server, tmp_path, capsys):
    from mailroom_sandbox.stack import Sandbox

    with Sandbox(notices=2, seed=9) as sandbox:
        profile = sandbox.write_profile(tmp_path / "profile.json")
        assert register_main(["--sandbox-profile", str(profile), "--name", "regtest"]) == 0
        config = load_run_config("regtest")
        assert config.settings.input_root_id == sandbox.folders.input_root
        assert config.settings.unmatched_folder_id == sandbox.folders.unmatched
        assert config.logiqs.secret.get_secret_value() == sandbox.logiqs_secret
        assert config.drive.api_endpoint == sandbox.drive_url
        config.logiqs.client().check_access()  # the saved credentials really open the door
        assert [f.id for f in config.drive.client().find_folders(sandbox.folders.input_root)]
    out = capsys.readouterr().out
    assert "logiqs-credentials" in out and prefect_server.ui_url in out
    assert sandbox.logiqs_secret not in out


def test_the_profile_carries_the_logiqs_dialect_and_a_run_needs_an_assignee(prefect_server, tmp_path):
    import json

    from blocks.register import SandboxProfile, save_sandbox_blocks
    from mailroom.errors import ConfigurationError
    from mailroom_sandbox.stack import Sandbox

    with Sandbox(notices=2, seed=9, logiqs_dialect="v3-findcase") as sandbox:
        written = json.loads(sandbox.write_profile(tmp_path / "profile.json").read_text())
        profile = SandboxProfile.model_validate(written)
        assert profile.logiqs_search_dialect == "v3-findcase"
        save_sandbox_blocks(profile, name="regtest-v3")
        config = load_run_config("regtest-v3")
        assert config.logiqs.search_dialect == "v3-findcase" and config.logiqs.client().returns_single_case
        config.logiqs.client().check_access()  # V3 search with X-Api-Key, V4 probes with Basic
        save_sandbox_blocks(profile, name="regtest-no-assignee", assignee_user_id=None)
        with pytest.raises(ConfigurationError, match="assignee_user_id"):
            load_run_config("regtest-no-assignee")
