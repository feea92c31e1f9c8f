"""Credentials blocks: what mailroom needs to reach Logiqs and Google Drive.

Secrets are ``SecretStr`` / ``SecretDict`` so the UI, the API and any repr show them masked; the clients are built
here so that flows never handle raw secret values themselves.

prefect-gcp's ``GcpCredentials`` was considered for Drive: it would pull google-cloud-storage and friends into
every install for one ``SecretDict`` field, and it cannot point the Drive client at another endpoint (our sandbox),
so a small block of our own is used instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from prefect.blocks.core import Block
from prefect.types import SecretDict
from pydantic import Field, SecretStr

if TYPE_CHECKING:  # imported lazily: building a client needs the core modules, describing the block does not
    from mailroom.drive import DriveClient
    from mailroom.logiqs import LogiqsClient
    from mailroom.logiqs_dialects import LogiqsDialect
    from mailroom.resilience import ResiliencePolicy


class LogiqsCredentials(Block):
    """API access to a Logiqs (IRS Logics) tenant: an API key and secret, and the dialect the tenant speaks.

    Tenants differ in how a case is searched and read (docs/logiqs-api.md); ``python -m mailroom doctor`` probes
    the tenant read-only and says which values to set here.
    """

    _block_type_name = "Logiqs Credentials"
    _block_type_slug = "logiqs-credentials"
    _description = (
        "Base URL, API key and secret of a Logiqs tenant, and its API dialect (check it with "
        "`python -m mailroom doctor`; the rate mailroom keeps to is in Mailroom Settings). "
        "Blocks named `sandbox` are written by `python flows/daily.py --sandbox` and point at local emulators that "
        "stop when the demo ends; the next demo rewrites them."
    )

    base_url: str = Field(..., description="e.g. https://<tenant>.logiqs.com (or .../publicapi/V4/)")
    api_key: SecretStr = Field(..., description="Logiqs API key (Basic-auth user name on V4; X-Api-Key on V3)")
    secret: SecretStr = Field(..., description="Logiqs API secret")
    # Literal values spelled out here (not imported): Prefect builds the block's form from these annotations.
    search_dialect: Literal["v3-findcase", "v4-findcase"] = Field(
        "v3-findcase", description="Case search: v3-findcase (POST V3 Case/FindCase with X-Api-Key, one case per "
        "answer: what the firm's production code uses) or v4-findcase (POST V4 Case/FindCase, Basic auth, a list)")
    case_read: Literal["Case/Case", "Case/CaseInfo"] = Field(
        "Case/Case", description="V4 route that reads one case")
    v3_auth: Literal["x-api-key", "basic"] = Field(
        "x-api-key", description="How the V3 case search authenticates: X-Api-Key header, or Basic like V4")
    file_category_id: int | None = Field(
        None, description="Logiqs document category (FileCategoryID) for uploaded notices; empty: tenant default")

    def dialect(self) -> "LogiqsDialect":
        from mailroom.logiqs_dialects import LogiqsDialect

        return LogiqsDialect(search=self.search_dialect, case_read=self.case_read, v3_auth=self.v3_auth,
                             file_category_id=self.file_category_id)

    def client(self, policy: "ResiliencePolicy | None" = None, *, dialect: "LogiqsDialect | None" = None
               ) -> "LogiqsClient":
        """A client in this block's dialect (or in ``dialect``: the doctor probes the other one too)."""
        from mailroom.logiqs import LogiqsClient

        return LogiqsClient(self.base_url, self.api_key.get_secret_value(), self.secret.get_secret_value(),
                            policy=policy, dialect=dialect or self.dialect())


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
