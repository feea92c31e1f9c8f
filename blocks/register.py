"""Register mailroom's block types with the Prefect API, and optionally save blocks for a sandbox.

    python -m blocks.register                                  # block types only (then fill them in the UI)
    python -m blocks.register --sandbox-profile profile.json   # also save blocks named "sandbox" from a profile
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from blocks import BLOCK_TYPES, DriveCredentials, LogiqsCredentials, MailroomSettings
from blocks.prefect_server import ensure_server
from mailroom.pipeline_settings import PipelineSettings

SANDBOX_BLOCK_NAME = "sandbox"


class SandboxProfile(BaseModel):
    """What a running sandbox tells us (``Sandbox.write_profile`` writes these keys)."""

    drive_url: str
    logiqs_url: str
    service_account_info: dict[str, Any]
    logiqs_api_key: SecretStr
    logiqs_secret: SecretStr
    folders: dict[str, str]
    today: date | None = None  # the sandbox's date: days left are counted from it (its notices are from 2025)
    logiqs_search_dialect: str = "v4-findcase"  # profiles written before the dialect switch served V4

    @classmethod
    def of(cls, sandbox: Any) -> "SandboxProfile":
        """From a live ``mailroom_sandbox.stack.Sandbox`` (or anything with the same attributes)."""
        folders = sandbox.folders
        if isinstance(folders, BaseModel):
            folders = folders.model_dump()
        return cls(
            drive_url=sandbox.drive_url,
            logiqs_url=sandbox.logiqs_url,
            service_account_info=sandbox.service_account_info,
            logiqs_api_key=sandbox.logiqs_api_key,
            logiqs_secret=sandbox.logiqs_secret,
            folders=dict(folders),
            today=getattr(sandbox, "today", None),
            logiqs_search_dialect=getattr(sandbox, "logiqs_dialect", "v4-findcase"),
        )


def register_block_types() -> None:
    for block_type in BLOCK_TYPES:
        block_type.register_type_and_schema()


def save_sandbox_blocks(
    profile: SandboxProfile, *, name: str = SANDBOX_BLOCK_NAME, **setting_overrides: Any
) -> PipelineSettings:
    """Save the three blocks pointing at a sandbox; returns the settings saved (overrides applied)."""
    register_block_types()
    LogiqsCredentials(
        base_url=profile.logiqs_url, api_key=profile.logiqs_api_key, secret=profile.logiqs_secret,
        search_dialect=profile.logiqs_search_dialect,
    ).save(name, overwrite=True)
    DriveCredentials(service_account_info=profile.service_account_info, api_endpoint=profile.drive_url).save(
        name, overwrite=True
    )
    folders = profile.folders
    values: dict[str, Any] = dict(
        input_root_id=folders["input_root"],
        matched_folder_id=folders["matched"],
        unmatched_folder_id=folders["unmatched"],
        reports_folder_id=folders["reports"],
        assignee_user_id=1,
        report_dir=str(Path("reports").resolve()),
        as_of=profile.today,
    )
    values.update(setting_overrides)
    settings = MailroomSettings(**values)
    settings.save(name, overwrite=True)
    return settings.to_settings()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blocks.register", description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox-profile", type=Path, help="profile JSON written by `python -m mailroom.sandbox up`")
    parser.add_argument("--name", default=SANDBOX_BLOCK_NAME, help="block document name for the sandbox blocks")
    args = parser.parse_args(argv)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = ensure_server(PREFECT_API_URL.value())  # the same server `python flows/daily.py` reports to
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        return _register(args, server.ui_url)


def _register(args: argparse.Namespace, ui_url: str) -> int:
    register_block_types()
    print(f"Registered block types at {ui_url}: " + ", ".join(t.get_block_type_slug() for t in BLOCK_TYPES))
    if args.sandbox_profile:
        profile = SandboxProfile.model_validate(json.loads(args.sandbox_profile.read_text()))
        save_sandbox_blocks(profile, name=args.name)
        print(f"Saved sandbox blocks named {args.name!r}; run with: python flows/daily.py --blocks {args.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
