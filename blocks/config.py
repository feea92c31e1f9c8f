"""Loading the three blocks a run needs, with one clear message naming everything that is missing."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

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
    config = RunConfig(logiqs=found[LogiqsCredentials], drive=found[DriveCredentials], settings=settings)  # type: ignore[arg-type]
    _local_endpoints_answer(config, name)
    return config


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _local_endpoints_answer(config: RunConfig, name: str) -> None:
    """Blocks that point at a sandbox on this machine whose emulators have stopped: say so at once.

    ``python flows/daily.py --sandbox`` saves blocks named ``sandbox`` for emulators that live only as long as the
    demo. Without this check a later run with them spends its retries on refused connections before it gives up.
    """
    dead = [url for url in (config.drive.api_endpoint, config.logiqs.base_url) if url and not _answers(url)]
    if dead:
        raise ConfigurationError(
            f"The blocks named {name!r} point at a sandbox that is not running ({', '.join(dead)} does not answer): "
            "sandbox emulators stop with the demo that started them. Run `python flows/daily.py --sandbox` again "
            "(it saves fresh blocks), or start one with `python -m mailroom.sandbox up --profile p.json` and "
            "`python -m blocks.register --sandbox-profile p.json`.",
            service="prefect", operation="load-blocks",
        )


def _answers(url: str, timeout: float = 2.0) -> bool:
    """A loopback endpoint accepts a connection (remote endpoints are not probed here: their clients retry)."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK_HOSTS:
        return True
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False
