"""``python -m mailroom doctor``'s checks: what works with the configured Drive and Logiqs, and what to change.

Read-only by construction: Drive is only asked for metadata (``files.get`` with ``capabilities``), Logiqs only for
searches that match nothing and for requests that cannot take effect (a document without a file or CaseID, an empty
task: a tenant refuses them with 400 *after* its permission check, which is what tells a missing scope). Nothing is
uploaded, created or moved. The clients come built (``blocks/doctor.py`` loads the blocks), so the checks run the
same against a real tenant, the sandbox, or a test's emulators.

Every check is one row: area, what was checked, OK / WARN / FAIL, what was found, and what to change. A FAIL
blocks a run (``Diagnosis.blocking``); a WARN works but deserves a look.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from enum import Enum
from typing import Protocol

from pydantic import BaseModel

from mailroom.drive import DriveAccess
from mailroom.errors import AuthError, ConfigurationError, MailroomError, NotFoundError
from mailroom.logiqs import LogiqsClient
from mailroom.logiqs_dialects import CASE_READS, LogiqsDialect
from mailroom.pipeline_settings import PipelineSettings

NO_MATCH = ("mailroom-doctor", "0000")  # a search no case answers: proves the route, the auth and case.read


class Status(str, Enum):
    OK = "ok"
    WARN = "WARN"
    FAIL = "FAIL"


class Check(BaseModel):
    area: str
    name: str
    status: Status
    detail: str
    fix: str = ""


class Diagnosis(BaseModel):
    checks: list[Check]

    @property
    def blocking(self) -> bool:
        return any(c.status is Status.FAIL for c in self.checks)

    def table(self, *, wrap: int = 46) -> str:
        """A plain-text table (the two free-text columns wrapped at ``wrap``) and a one-line verdict."""
        headers = ("Area", "Check", "Status", "Found", "What to change")
        rows = [headers] + [(c.area, c.name, c.status.value, c.detail, c.fix) for c in self.checks]
        cells = [[textwrap.wrap(cell, wrap) or [""] if i >= 3 else [cell] for i, cell in enumerate(r)] for r in rows]
        widths = [max(len(line) for r in cells for line in r[i]) for i in range(len(headers))]
        lines = []
        for index, row in enumerate(cells):
            for parts in itertools.zip_longest(*row, fillvalue=""):
                lines.append("  ".join(part.ljust(width) for part, width in zip(parts, widths)).rstrip())
            if index == 0:
                lines.append("  ".join("-" * width for width in widths))
        verdict = ("BLOCKED: fix the FAIL rows before a run" if self.blocking
                   else "ready: nothing blocks a run" + (" (see the WARN rows)" if self._warned else ""))
        return "\n".join(lines + ["", verdict])

    @property
    def _warned(self) -> bool:
        return any(c.status is Status.WARN for c in self.checks)


class DriveInspector(Protocol):
    def get_capabilities(self, file_id: str) -> DriveAccess: ...


# folder setting -> (what it is, what mailroom must be able to do there)
FOLDERS = {
    "input_root_id": ("input root", "move notices out"),
    "matched_folder_id": ("MATCHED folder", "add files"),
    "unmatched_folder_id": ("UNMATCHED folder", "add files"),
    "reports_folder_id": ("Reports folder", "add files"),
}
_MOVE_OUT = ("canRemoveChildren", "canMoveChildrenWithinDrive", "canMoveChildrenOutOfDrive")


def diagnose(
    settings: PipelineSettings,
    *,
    drive: DriveInspector | None,
    logiqs: Callable[[LogiqsDialect], LogiqsClient] | None,
    dialect: LogiqsDialect,
    service_account: str | None = None,
) -> Diagnosis:
    """Every check. ``logiqs(dialect)`` builds a client in that dialect (the configured one and the others are
    probed); ``None`` for a service whose block is missing (``blocks/doctor.py`` reports that row itself)."""
    checks = drive_checks(drive, settings, service_account) if drive is not None else []
    if logiqs is not None:
        checks += logiqs_checks(logiqs, dialect, settings)
    return Diagnosis(checks=checks)


# ------------------------------------------------------------------------------------------------------- Drive


def drive_checks(drive: DriveInspector, settings: PipelineSettings, service_account: str | None) -> list[Check]:
    who = service_account or "the service account"
    share = f"share the folder with {who}"
    rows: list[Check] = []
    found: dict[str, DriveAccess] = {}
    for setting, (label, need) in FOLDERS.items():
        folder_id = getattr(settings, setting)
        if not folder_id:
            rows.append(Check(area="Drive", name=setting, status=Status.FAIL, detail="not set",
                              fix=f"set the {label}'s Drive folder id in Mailroom Settings"))
            continue
        try:
            access = drive.get_capabilities(folder_id)
        except AuthError as exc:  # the reason only: a token endpoint's refusal carries its own error body
            return [Check(area="Drive", name="auth", status=Status.FAIL,
                          detail=f"Google refused the service account ({_why(exc)})",
                          fix="check the service-account JSON in the Drive credentials block")]
        except NotFoundError:
            rows.append(Check(area="Drive", name=setting, status=Status.FAIL, detail=f"no item {folder_id} visible",
                              fix=f"check the id, or {share}"))
            continue
        except MailroomError as exc:
            rows.append(Check(area="Drive", name=setting, status=Status.FAIL, detail=f"cannot read it ({_why(exc)})",
                              fix="run the doctor again; if it persists check Drive's status"))
            continue
        found[setting] = access
        rows.append(_folder_row(setting, label, need, access, share))
    auth = Check(area="Drive", name="auth", status=Status.OK, detail=f"{who} is accepted")
    return [auth, *rows, *_shared_drive_rows(found)]


def _why(exc: MailroomError) -> str:
    return ", ".join(str(part) for part in (exc.reason, f"HTTP {exc.status}" if exc.status else None) if part) or (
        type(exc).__name__)


def _folder_row(setting: str, label: str, need: str, access: DriveAccess, share: str) -> Check:
    def row(status: Status, detail: str, fix: str = "") -> Check:
        return Check(area="Drive", name=setting, status=status, detail=detail, fix=fix)

    if not access.is_folder:
        return row(Status.FAIL, f"{access.id} is a file ({access.mime_type}), not a folder",
                   f"use the {label}'s folder id")
    if access.trashed:
        return row(Status.FAIL, f"folder {access.id} is in the trash", "restore it or use another folder")
    caps = access.capabilities
    if need == "add files":
        allowed = caps.get("canAddChildren")
    else:  # moving a notice out needs Editor (My Drive) or Content manager (shared drive) on the input folders
        known = [caps[name] for name in _MOVE_OUT if name in caps]
        allowed = any(known) if known else caps.get("canAddChildren", caps.get("canEdit"))
    if allowed is None:
        return row(Status.WARN, f"folder {access.id}; Drive did not say whether mailroom may {need}",
                   f"make sure {share.removeprefix('share the folder with ')} is Editor")
    if not allowed:
        return row(Status.FAIL, f"folder {access.id}: mailroom may not {need} (capabilities)",
                   f"{share} as Editor (Content manager in a shared drive)")
    where = f"shared drive {access.drive_id}" if access.drive_id else "My Drive"
    return row(Status.OK, f"folder {access.id} in {where}; mailroom may {need}")


def _shared_drive_rows(found: dict[str, DriveAccess]) -> list[Check]:
    if not found:
        return []
    drives = {setting: access.drive_id for setting, access in found.items()}
    shared = sorted({d for d in drives.values() if d})
    detail = f"shared drive(s) {', '.join(shared)}" if shared else "every folder is in My Drive"
    rows = [Check(area="Drive", name="shared drives", status=Status.OK,
                  detail=detail + ("; listings and moves pass supportsAllDrives" if shared else ""))]
    source = drives.get("input_root_id", "unknown")
    crossing = [s for s in ("matched_folder_id", "unmatched_folder_id") if s in drives and drives[s] != source]
    if "input_root_id" in drives and crossing:
        rows.append(Check(area="Drive", name="moves across drives", status=Status.WARN,
                          detail=f"the input root and {', '.join(crossing)} are in different drives",
                          fix="keep input and output folders in one drive, or give the service account "
                          "Manager on both shared drives (a move across drives changes the file's owner)"))
    return rows


# ------------------------------------------------------------------------------------------------------ Logiqs


def _attempt(client: LogiqsClient, kind: str) -> MailroomError | None:
    try:
        client.probe(kind)  # type: ignore[arg-type]
    except MailroomError as exc:
        return exc
    return None


def _search_result(client: LogiqsClient) -> tuple[str, MailroomError | None]:
    try:
        client.find_cases(*NO_MATCH)
    except ConfigurationError as exc:
        return "not served (HTTP 404)", exc
    except MailroomError as exc:
        return f"refused: {exc}" if isinstance(exc, AuthError) else f"failed: {exc}", exc
    return "answers", None


def logiqs_checks(make: Callable[[LogiqsDialect], LogiqsClient], dialect: LogiqsDialect,
                  settings: PipelineSettings) -> list[Check]:
    def row(name: str, status: Status, detail: str, fix: str = "") -> Check:
        return Check(area="Logiqs", name=name, status=status, detail=detail, fix=fix)

    configured = make(dialect)
    problems = {kind: _attempt(configured, kind) for kind in ("case_read", "upload", "task")}
    rejected = [p for p in problems.values() if isinstance(p, AuthError) and p.reason == "unauthorized"]
    if rejected:  # a bad key or secret: every other answer would only repeat it
        return [row("auth", Status.FAIL, str(rejected[0]), "check base_url, API key and secret in the Logiqs block")]
    rows = [row("auth", Status.OK, f"key and secret accepted by {configured.base_url}")]
    rows.append(_search_row(make, dialect, row))
    rows.append(_case_read_row(make, dialect, problems["case_read"], row))
    for scope, kind in (("case.write", "upload"), ("task.write", "task")):
        problem = problems[kind]
        if isinstance(problem, AuthError):
            rows.append(row(scope, Status.FAIL, str(problem), f"ask the Logiqs admin to grant '{scope}' to this key"))
        elif problem is not None:
            rows.append(row(scope, Status.FAIL, f"could not check: {problem}"))
        else:
            rows.append(row(scope, Status.OK, "granted (an incomplete request was refused as invalid, not as "
                                              "forbidden)"))
    if settings.assignee_user_id is None:
        rows.append(row("assignee", Status.FAIL, "assignee_user_id is not set; Task/Task requires a UserID",
                        "set assignee_user_id (a Logiqs user id) in Mailroom Settings"))
    else:
        rows.append(row("assignee", Status.OK, f"assignee_user_id = {settings.assignee_user_id} (Logiqs has no "
                                               "read-only users endpoint: its existence cannot be checked here)"))
    return rows


def _search_row(make: Callable[[LogiqsDialect], LogiqsClient], dialect: LogiqsDialect, row: Callable) -> Check:
    result, problem = _search_result(make(dialect))
    if problem is None:
        return row("case search", Status.OK, f"{dialect.search} answers (configured)")
    other = dialect.model_copy(update={"search": dialect.other_search()})
    other_result, other_problem = _search_result(make(other))
    if other_problem is None:
        return row("case search", Status.FAIL, f"configured {dialect.search}: {result}; {other.search} answers",
                   f"set search_dialect = {other.search} in the Logiqs block")
    if dialect.search == "v3-findcase" and isinstance(problem, AuthError):
        swapped = dialect.model_copy(update={"v3_auth": "basic" if dialect.v3_auth == "x-api-key" else "x-api-key"})
        if _search_result(make(swapped))[1] is None:
            return row("case search", Status.FAIL, f"V3 search refuses {dialect.v3_auth}, accepts {swapped.v3_auth}",
                       f"set v3_auth = {swapped.v3_auth} in the Logiqs block")
    return row("case search", Status.FAIL, f"{dialect.search}: {result}; {other.search}: {other_result}",
               "grant 'case.read' to the key, or ask Logiqs support which case search the tenant offers")


def _case_read_row(make: Callable[[LogiqsDialect], LogiqsClient], dialect: LogiqsDialect,
                   problem: MailroomError | None, row: Callable) -> Check:
    if problem is None:
        return row("case read", Status.OK, f"{dialect.case_read} answers (configured)")
    if isinstance(problem, ConfigurationError):
        for read in CASE_READS:
            if read == dialect.case_read:
                continue
            try:
                make(dialect.model_copy(update={"case_read": read})).probe("case_read")
            except MailroomError:
                continue
            return row("case read", Status.FAIL, f"{dialect.case_read} is not served; {read} answers",
                       f"set case_read = {read} in the Logiqs block")
    fix = "ask the Logiqs admin to grant 'case.read' to this key" if isinstance(problem, AuthError) else ""
    return row("case read", Status.FAIL, f"{dialect.case_read}: {problem}", fix)
