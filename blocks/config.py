"""Loading the three blocks a run needs, with one clear message naming everything that is missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailroom.errors import ConfigurationError
from mailroom.pipeline_settings import PipelineSettings

from blocks.credentials import DriveCredentials, LogiqsCredentials
from blocks.settings import MailroomSettings


@dataclass(frozen=True)
class RunConfig:
    logiqs: LogiqsCredentials = field(repr=False)
    drive: DriveCredentials = field(repr=False)
    settings: PipelineSettings


def load_run_config(name: str) -> RunConfig:
    """Load the blocks saved under ``name`` (one document of each type), or explain what to create."""
    found: dict[type, object] = {}
    missing: list[str] = []
    for block_type in (LogiqsCredentials, DriveCredentials, MailroomSettings):
        try:
            found[block_type] = block_type.load(name)
        except ValueError:  # Prefect's "Unable to find block document named ..."
            missing.append(f"{block_type.get_block_type_slug()}/{name}")
    if missing:
        raise ConfigurationError(
            "Missing Prefect blocks: "
            + ", ".join(missing)
            + ". Register the types with `python -m blocks.register`, then create these blocks in the UI "
            "(Blocks > +) or run `python flows/daily.py --sandbox` to try mailroom on the built-in sandbox.",
            service="prefect",
            operation="load-blocks",
        )
    settings = found[MailroomSettings].to_settings()  # type: ignore[union-attr]
    # Logiqs tenants refuse a Task/Task without a UserID (docs/logiqs-api.md): a run without an assignee would
    # upload every notice and then fail on its task, so it does not start.
    missing = settings.missing_folders() + (["assignee_user_id"] if settings.assignee_user_id is None else [])
    if missing:
        raise ConfigurationError(
            f"Block mailroom-settings/{name} has no value for: {', '.join(missing)}. "
            "`python -m mailroom doctor` checks every setting against Drive and Logiqs.",
            service="prefect",
            operation="load-blocks",
        )
    return RunConfig(logiqs=found[LogiqsCredentials], drive=found[DriveCredentials], settings=settings)  # type: ignore[arg-type]
