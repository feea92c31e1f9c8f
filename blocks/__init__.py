"""Prefect blocks holding mailroom's credentials and settings (see ``python -m blocks.register``)."""

from blocks.credentials import DriveCredentials, LogiqsCredentials
from blocks.settings import MailroomSettings

BLOCK_TYPES = (LogiqsCredentials, DriveCredentials, MailroomSettings)

__all__ = ["BLOCK_TYPES", "DriveCredentials", "LogiqsCredentials", "MailroomSettings"]
