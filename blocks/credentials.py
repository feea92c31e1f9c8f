"""Credentials blocks: what mailroom needs to reach Logiqs and Google Drive.

Secrets are ``SecretStr`` / ``SecretDict`` so the UI, the API and any repr show them masked; the clients are built
here so that flows never handle raw secret values themselves.

prefect-gcp's ``GcpCredentials`` was considered for Drive: it would pull google-cloud-storage and friends into
every install for one ``SecretDict`` field, and it cannot point the Drive client at another endpoint (our sandbox),
so a small block of our own is used instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.blocks.core import Block
from prefect.types import SecretDict
from pydantic import Field, SecretStr

if TYPE_CHECKING:  # imported lazily: building a client needs the core modules, describing the block does not
    from mailroom.drive import DriveClient
    from mailroom.logiqs import LogiqsClient
    from mailroom.resilience import ResiliencePolicy


class LogiqsCredentials(Block):
    """API access to a Logiqs (IRS Logics) tenant: V4 public API with an API key and secret."""

    _block_type_name = "Logiqs Credentials"
    _block_type_slug = "logiqs-credentials"
    _description = (
        "Base URL, API key and secret of a Logiqs tenant (the rate mailroom keeps to is in Mailroom Settings). "
        "Blocks named `sandbox` are written by `python flows/daily.py --sandbox` and point at local emulators that "
        "stop when the demo ends; the next demo rewrites them."
    )

    base_url: str = Field(..., description="e.g. https://<tenant>.logiqs.com/publicapi/V4/")
    api_key: SecretStr = Field(..., description="Logiqs API key (used as the Basic-auth user name)")
    secret: SecretStr = Field(..., description="Logiqs API secret")

    def client(self, policy: "ResiliencePolicy | None" = None) -> "LogiqsClient":
        from mailroom.logiqs import LogiqsClient

        return LogiqsClient(
            self.base_url, self.api_key.get_secret_value(), self.secret.get_secret_value(), policy=policy
        )


class DriveCredentials(Block):
    """A Google service account allowed to read the notice folders and write the output folders."""

    _block_type_name = "Mailroom Drive Credentials"
    _block_type_slug = "mailroom-drive-credentials"
    _description = (
        "Google service-account JSON for Drive v3 (and an optional API endpoint, used by the sandbox). Blocks named "
        "`sandbox` are written by `python flows/daily.py --sandbox` and point at local emulators that stop when the "
        "demo ends; the next demo rewrites them."
    )

    service_account_info: SecretDict = Field(..., description="The service account's JSON key, pasted as JSON")
    api_endpoint: str | None = Field(
        None, description="Leave empty for Google; set only for the sandbox (its emulators stop with the demo)"
    )

    def client(self, policy: "ResiliencePolicy | None" = None) -> "DriveClient":
        from mailroom.drive import DriveClient, build_drive_service

        info: dict[str, Any] = self.service_account_info.get_secret_value()
        service = build_drive_service(info, api_endpoint=self.api_endpoint)
        return DriveClient(service, policy=policy)
