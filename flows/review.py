"""The review flow: a person decides about the notices the daily run was unsure of, in a form in the Prefect UI.

    deployment review-mailroom/review-mailroom (prefect.yaml); started by the daily run, one run per review batch

1. Read each notice of the batch again (download, read, search Logiqs: the form needs names and candidates, and
   nothing holding them was stored), most urgent first.
2. Suspend with the form (``flows/review_form.py``): the run stops, no worker waits. A reviewer opens the run in the
   UI, clicks **Resume**, fills the form and submits (or an API client calls ``resume_flow_run(id, run_input=...)``).
3. Resumed, the run starts again from the top: it finds the submitted answers instead of asking again, and files
   each decision through ``mailroom.intake`` (same exactly-once effects as the daily run): *file on the chosen
   case*, *reject* (UNMATCHED), *search again* with corrected names (a clear match is filed; otherwise the notice is
   asked about again in a next round of the same run), *undecided* (left for the next review run).
4. Report: a table artifact and the xlsx/csv report (MATCHED by review, with who and when), then the form and the
   answers are deleted from Prefect (they hold names).

Parameters carry identifiers only: the review batch id, the Drive file ids (for the UI), the blocks name.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import suspend_flow_run
from prefect.logging import get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from blocks.config import load_run_config
from flows.daily import SCRUBBED_LOGGERS, build_services, run_workdir
from flows.review_form import Submitted, forget_inputs, review_form, submitted
from flows.review_round import ReviewRound, drive_file
from mailroom.errors import MailroomError
from mailroom.intake import Reading
from mailroom.ledger import NoticeRecord
from mailroom.notices import Notice
from mailroom.pii import install_scrubber
from mailroom.report import ReportRow, RunSummary, by_urgency
from mailroom.review import NoticeAnswer, ReviewEntry, form_markdown
from tasks.context import Services, services, use_services
from tasks.report import publish_report
from tasks.steps import PrefectSteps
from flows.artifacts import publish_review_artifacts

DEPLOYMENT_NAME = "review-mailroom"
MAX_ROUNDS = 5  # "search again" asks again in the same run; a reviewer who keeps searching continues next review


@task(name="read-for-review", task_run_name="read-{record.key.file_id}", retries=0, cache_policy=NO_CACHE,
      persist_result=False)
def read_for_review(record: NoticeRecord) -> tuple[ReviewEntry, Notice | None]:
    """Download, read and search Logiqs again, without claiming the notice: the form's entry, and the notice."""
    current, steps = services(), PrefectSteps(services().tasks)
    file = drive_file(record)
    reading = current.intake.read(file, steps, dry_run=True, log=get_run_logger())
    assert isinstance(reading, Reading)  # a dry read claims nothing, so nothing is skipped
    try:
        if reading.failed_step is None:
            current.intake.complete(reading, steps)
    except MailroomError as exc:  # the reviewer sees why (log-safe message); the notice can still be rejected
        reading.failure = f"could not be read again: {exc}"
    finally:
        reading.discard(steps)
    notice = reading.extraction.notice if reading.extraction else None
    link = f"https://drive.google.com/file/d/{file.id}/view" if current.drive_web_links else None
    problem = reading.failure or ("" if notice else f"unreadable ({getattr(reading.extraction, 'failure', '')})")
    entry = ReviewEntry.of(record.key, file.name, notice, reading.match, today=current.settings.today(),
                           why=record.reason, link=link, problem=problem)
    return entry, notice


@flow(name="review-mailroom", persist_result=False, log_prints=False)
def review_mailroom(review_id: str, notice_ids: list[str] | None = None, blocks: str = "default") -> State:
    """Ask a reviewer about the notices of one review batch, then file the decisions.

    Args:
        review_id: the review batch (the daily run that started this run put the notices in it).
        notice_ids: the batch's Drive file ids, shown for reference (the ledger is what counts).
        blocks: name of the block documents to use (LogiqsCredentials, DriveCredentials, MailroomSettings).
    """
    install_scrubber(*SCRUBBED_LOGGERS)
    logger = get_run_logger()
    try:
        config = load_run_config(blocks)
    except MailroomError as exc:
        logger.error("%s", exc)
        return Failed(message=str(exc))
    run_id = flow_run.id
    started = datetime.now(timezone.utc)
    owner = f"review-{run_id or 'local'}"
    with ExitStack() as stack:
        try:
            current = build_services(config, run_workdir(stack, config, owner), owner=owner)
        except MailroomError as exc:  # a ledger or state dir that cannot be used: say which setting
            logger.error("%s", exc)
            return Failed(message=f"Cannot start: {exc}")
        intake = replace(current.intake, review=None, review_id=review_id)  # decisions are final: no re-routing
        with use_services(replace(current, intake=intake)), current.ledger:  # connections end with the run
            return _review(current.ledger.in_review(review_id), review_id, blocks, started, run_id)


def _review(records: list[NoticeRecord], review_id: str, blocks: str, started: datetime, run_id) -> State:
    logger, current = get_run_logger(), services()
    if not records:
        return Completed(message="Nothing to review: every notice of this batch was decided or moved to a newer "
                                 "review run")
    if run_id is not None:
        current.ledger.set_review_run(review_id, str(run_id))
    review = ReviewRound(current, records, read_for_review)
    rounds: list[str] = []
    while review.waiting and len(rounds) < MAX_ROUNDS:
        round_key = f"round-{len(rounds) + 1}"
        rounds.append(round_key)
        answers = submitted(run_id, round_key) if run_id is not None else None
        if answers is None:
            answers = _ask(review.entries(), round_key, current)  # suspends: the run ends here until resumed
        review.apply(answers)
    review.give_up(len(rounds))
    left = current.ledger.release_review(review_id)
    rows = review.rows
    report = publish_report(rows, started, f"review-{flow_run.name or 'local'}", False)
    summary = RunSummary.of(rows, in_review=left, report=report)
    publish_review_artifacts(by_urgency(rows), summary, left)
    if run_id is not None:
        forget_inputs(run_id, rounds)
    message = review.one_line(left)
    logger.info("%s", message)
    failed = [row for row in rows if row.outcome.value == "FAILED"]
    return Failed(message=message, data=summary) if failed else Completed(message=message, data=summary)


def _ask(entries: list[ReviewEntry], round_key: str, current: Services) -> Submitted:
    """Suspend with the form; Prefect ends this process. The resumed run reads the answers back in the loop."""
    hours = current.settings.review_deadline_hours
    note = (f"Undecided notices stay pending. This review closes {hours:g} hours after it was opened (at the next "
            "daily run after that); its undecided notices then go to a fresh review run.")
    form = review_form(entries, description=form_markdown(entries, deadline_note=note))
    get_run_logger().info("waiting for a reviewer: %d notice(s); open this run in the Prefect UI and click Resume",
                          len(entries))
    answers = suspend_flow_run(wait_for_input=form, key=round_key, timeout=None)
    # Only reached if Prefect already holds answers that submitted() could not read back: use Prefect's copy.
    return Submitted(reviewer=answers.reviewer, at=datetime.now(timezone.utc), answers={
        name: NoticeAnswer.model_validate(value.model_dump()) for name, value in answers if name.startswith("notice_")
    })


def main(argv: list[str] | None = None) -> int:
    """``python flows/review.py --serve``: serve the review deployment from this process (no work pool needed)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python flows/review.py", description=main.__doc__)
    parser.add_argument("--serve", action="store_true",
                        help=f"create the {review_mailroom.name}/{DEPLOYMENT_NAME} deployment and run its flow runs "
                        "here until Ctrl-C (instead of `prefect deploy --all` and a worker)")
    args = parser.parse_args(argv)
    if not args.serve:
        parser.print_help()
        return 2
    review_mailroom.serve(name=DEPLOYMENT_NAME, tags=["mailroom", "review"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
