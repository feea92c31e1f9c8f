"""Which Drive a run works on, checked before any notice is touched.

``check_folders`` reads every configured folder once: a missing, unshared or non-folder id is a ``ConfigurationError``
naming the setting to fix, instead of every notice failing at its move later.

``DriveBinding`` is the Drive the ledger's rows belong to: the service account, the input root folder's id and that
folder's creation time. Real Drive ids are never reused, and a folder's creation time never changes, so a ledger
row is read as "done" only by runs on the Drive it was written for; a re-created Drive (a restarted sandbox with the
same seeded ids, a new root folder) gets a fresh start instead of an old ledger's verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from pydantic import BaseModel

from mailroom.drive import DriveFile
from mailroom.errors import AuthError, ConfigurationError, NotFoundError


class DriveReader(Protocol):
    def get(self, file_id: str) -> DriveFile: ...


class DriveBinding(BaseModel, frozen=True):
    account: str  # the service account's e-mail address: an identifier of a robot, not of a taxpayer
    root_id: str
    root_created: str = ""  # RFC 3339 as Drive gives it; "" when Drive did not say

    @property
    def token(self) -> str:
        """What the ledger stores with each row: short, stable, and readable by a person who looks."""
        return f"{self.account}/{self.root_id}@{self.root_created}"

    def __str__(self) -> str:
        return self.token


def check_folders(drive: DriveReader, folders: Mapping[str, str], *, where: Callable[[str], str]
                  ) -> dict[str, DriveFile]:
    """Every ``{setting name: folder id}`` must be a folder this account can open; ``where(setting)`` names it."""
    found: dict[str, DriveFile] = {}
    for setting, folder_id in folders.items():
        try:
            folder = drive.get(folder_id)
        except NotFoundError:
            raise ConfigurationError(f"{where(setting)}: Drive has no folder {folder_id} that the service account "
                                     "can see (wrong id, trashed, or not shared with it)", service="drive",
                                     operation="check-folders", reason="folder_not_found") from None
        except AuthError as exc:
            if exc.status != 403:
                raise  # the key itself was refused: the credentials block is at fault, not this setting
            raise ConfigurationError(f"{where(setting)}: the service account may not open folder {folder_id} "
                                     f"({exc.reason or 'forbidden'}); share it with the account", service="drive",
                                     operation="check-folders", reason="folder_forbidden") from None
        if not folder.is_folder:
            raise ConfigurationError(f"{where(setting)}: {folder_id} is a file, not a folder", service="drive",
                                     operation="check-folders", reason="not_a_folder")
        found[setting] = folder
    return found


def binding_of(account: str, root: DriveFile) -> DriveBinding:
    created = root.created_time.isoformat() if root.created_time is not None else ""
    return DriveBinding(account=account, root_id=root.id, root_created=created)
