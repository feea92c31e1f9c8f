"""The mailroom settings block: folder ids, naming, task defaults, thresholds and concurrency.

It inherits every field from ``mailroom.pipeline_settings.PipelineSettings`` so the core and the UI agree on one
definition; ``to_settings()`` hands the core a Prefect-free copy.
"""

from __future__ import annotations

from prefect.blocks.core import Block

from mailroom.pipeline_settings import PipelineSettings


class MailroomSettings(Block, PipelineSettings):
    """Where notices come from and go to, how follow-up tasks look, and how hard mailroom pushes the services."""

    _block_type_name = "Mailroom Settings"
    _block_type_slug = "mailroom-settings"
    _description = (
        "Drive folder ids, folder name patterns, follow-up task defaults, thresholds and concurrency. Blocks named "
        "`sandbox` are written by `python flows/daily.py --sandbox` for its emulators' folders, which vanish when the "
        "demo ends; the next demo rewrites them."
    )

    def to_settings(self) -> PipelineSettings:
        return PipelineSettings.model_validate(self.model_dump(include=set(PipelineSettings.model_fields)))
