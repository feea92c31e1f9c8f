"""Loading the three blocks a run needs, and building what they describe, with one clear message per problem.

Every problem a run can meet before its first notice ends as a ``ConfigurationError`` whose message names the block
document and the field to fix (``block mailroom-drive-credentials/default, field service_account_info: ...``); the
flow prefixes it with ``Cannot start:``. Messages never quote a field's value: it may be a secret.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from mailroom.errors import AuthError, ConfigurationError, MailroomError
from mailroom.pipeline_settings import PipelineSettings

from blocks.credentials import DriveCredentials, LogiqsCredentials
from blocks.settings import MailroomSettings

if TYPE_CHECKING:
    from mailroom.drive import DriveClient
    from mailroom.logiqs import LogiqsClient
    from mailroom.resilience import ResiliencePolicy

# The fields google-auth needs from a service-account key (the rest of the JSON is informational).
SERVICE_ACCOUNT_FIELDS = ("client_email", "private_key", "token_uri")


def _where(block_type: type, name: str, fields: str) -> str:
    return f"block {block_type.get_block_type_slug()}/{name}, field {fields}"


def _invalid_block(block_type: type, name: str, exc: ValidationError) -> ConfigurationError:
    """A stored block that no longer fits its type: name the fields, never their values."""
    problems = "; ".join(f"{'.'.join(str(p) for p in error['loc']) or '(block)'}: {error['msg']}"
                         for error in exc.errors(include_input=False, include_url=False))
    return ConfigurationError(
        f"block {block_type.get_block_type_slug()}/{name} cannot be read: {problems}. Fix it in the UI (Blocks).",
        service="prefect", operation="load-blocks", reason="invalid_block",
    )


@dataclass(frozen=True)
class RunConfig:
    logiqs: LogiqsCredentials = field(repr=False)
    drive: DriveCredentials = field(repr=False)
    settings: PipelineSettings
    name: str = "default"  # the block documents' name

    def drive_client(self, policy: "ResiliencePolicy") -> "DriveClient":
        """The Drive client, or a ConfigurationError naming the key's field when the key cannot be used."""
        info: Any = self.drive.service_account_info.get_secret_value()
        where = _where(DriveCredentials, self.name, "service_account_info")
        missing = [key for key in SERVICE_ACCOUNT_FIELDS if not (isinstance(info, dict) and info.get(key))]
        if missing:
            raise ConfigurationError(f"{where}: the service-account key has no {', '.join(missing)}",
                                     service="drive", operation="build-client", reason="bad_key")
        try:
            return self.drive.client(policy)
        except (ValueError, TypeError, KeyError, IndexError) as exc:  # google-auth / cryptography parsing the key
            # The exception's text is not shown: parsers may quote part of the key.
            raise ConfigurationError(
                f"{where}: private_key is not a readable PEM private key ({type(exc).__name__}); paste the JSON key "
                "file exactly as Google Cloud downloaded it", service="drive", operation="build-client",
                reason="bad_key",
            ) from None

    def drive_account(self) -> str:
        """The service account's e-mail address (which Drive the run works on, with the input root)."""
        info: Any = self.drive.service_account_info.get_secret_value()
        return str(info.get("client_email", "")) if isinstance(info, dict) else ""

    def logiqs_client(self, policy: "ResiliencePolicy") -> "LogiqsClient":
        try:
            return self.logiqs.client(policy)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"{_where(LogiqsCredentials, self.name, 'base_url')}: not a usable URL "
                                     f"({type(exc).__name__})", service="logiqs", operation="build-client") from None

    def settings_field(self, name: str) -> str:
        return _where(MailroomSettings, self.name, name)

    def explain(self, exc: MailroomError) -> str:
        """What failed at start-up, with the block and field to look at (a ConfigurationError names them already)."""
        if isinstance(exc, ConfigurationError):
            return str(exc)
        if exc.service == "logiqs":
            fields = "api_key / secret" if isinstance(exc, AuthError) else "base_url"
            return f"{_where(LogiqsCredentials, self.name, fields)}: {exc}"
        if exc.service == "drive":
            fields = "service_account_info" if isinstance(exc, AuthError) else "api_endpoint"
            return f"{_where(DriveCredentials, self.name, fields)}: {exc}"
        if exc.service == "ledger":
            return f"{self.settings_field('state_dir / ledger_url')}: {exc}"
        return str(exc)


def load_run_config(name: str) -> RunConfig:
    """Load the blocks saved under ``name`` (one document of each type), or explain what to create or fix."""
    found: dict[type, object] = {}
    missing: list[str] = []
    for block_type in (LogiqsCredentials, DriveCredentials, MailroomSettings):
        try:
            found[block_type] = block_type.load(name)
        except ValidationError as exc:  # a ValueError too: must come before Prefect's "not found" below
            raise _invalid_block(block_type, name, exc) from None
        except ValueError:  # Prefect's "Unable to find block document named ..."
            missing.append(f"{block_type.get_block_type_slug()}/{name}")
        except RuntimeError as exc:  # Prefect 3: "Unable to load ... due to failed validation", from the pydantic error
            if not isinstance(exc.__cause__, ValidationError):
                raise
            raise _invalid_block(block_type, name, exc.__cause__) from None
    if missing:
        raise ConfigurationError(
            "Missing Prefect blocks: "
            + ", ".join(missing)
            + ". Register the types with `python -m blocks.register`, then create these blocks in the UI "
            "(Blocks > +) or run `python flows/daily.py --sandbox` to try mailroom on the built-in sandbox.",
            service="prefect",
            operation="load-blocks",
        )
    try:
        settings = found[MailroomSettings].to_settings()  # type: ignore[union-attr]
    except ValidationError as exc:
        raise _invalid_block(MailroomSettings, name, exc) from None
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
    config = RunConfig(logiqs=found[LogiqsCredentials], drive=found[DriveCredentials],  # type: ignore[arg-type]
                       settings=settings, name=name)
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
