"""What a person sees in the Prefect UI, rendered by Debian's Chromium (driven by Playwright, no browser download):
the flow run page, its Artifacts tab (clicked: `?tab=` does not switch tabs), and a retried task run's page with its
Run Count. The run uses the demo's own fault config, so this also pins the README's promise that the demo shows a
task-level retry. The review form (behind a suspended review run's Resume button) is rendered and checked in
test_review_flow.py, where such a run exists."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.cli import SANDBOX_SETTINGS, demo_faults
from flows.records import summary_of
from tests.flow.test_daily_flow import FULL_SSN, run_flow

pytestmark = [pytest.mark.prefect_server, pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's package (scripts/install.sh installs it)
RENDER_TIMEOUT_MS = 45_000  # the UI's first paint on a loaded 2-core machine; waits end when the text appears


@pytest.fixture(scope="module")
def demo_run(prefect_server, tmp_path_factory):
    from mailroom_sandbox.stack import Sandbox

    workdir = tmp_path_factory.mktemp("browser-run")
    with Sandbox(notices=3, seed=7, faults=demo_faults(0.05, 7)) as sandbox:
        save_sandbox_blocks(SandboxProfile.of(sandbox), name="browsertest", state_dir=str(workdir / "state"),
                            report_dir=str(workdir / "reports"), **SANDBOX_SETTINGS)
        state, runs = run_flow("browsertest")
    assert state.is_completed(), state.message
    return prefect_server, state, summary_of(state), runs  # the summary now: Playwright's loop would make it async


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/install.sh"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield browser.new_page(viewport={"width": 1600, "height": 1100})
        finally:
            browser.close()


def _text_after(page, text: str) -> str:
    page.get_by_text(text, exact=True).first.wait_for(timeout=RENDER_TIMEOUT_MS)
    return page.inner_text("body")


def test_flow_run_artifacts_and_a_retried_task_run_as_rendered(demo_run, page):
    server, state, summary, runs = demo_run
    flow_run_id = state.state_details.flow_run_id

    page.goto(f"{server.ui_url}/runs/flow-run/{flow_run_id}")
    # The Logs tab is open by default; its lines load after the page: wait for them, not for a time.
    page.get_by_text(re.compile("Beginning flow run")).first.wait_for(timeout=RENDER_TIMEOUT_MS)
    shown = _text_after(page, "daily-mailroom")
    assert "Completed" in shown
    assert not FULL_SSN.search(shown)

    page.get_by_text("Artifacts", exact=True).first.click()
    shown = _text_after(page, "mailroom-notices")
    assert f"{summary.total} of {summary.total} notices finished: {summary.total - summary.failed} done" in shown
    assert summary.one_line() in shown  # the summary artifact's description
    assert "mailroom-service-logiqs" in shown and "mailroom-progress" in shown

    retried = [run for run in runs if run.run_count > 1]
    assert retried, "the demo's faults must give at least one task-level retry (README, 'Try it')"
    page.goto(f"{server.ui_url}/runs/task-run/{retried[0].id}")
    shown = _text_after(page, "Run Count")
    assert re.search(rf"Run Count\s+{retried[0].run_count}\b", shown), shown[-1500:]
    assert retried[0].name in shown and "Completed" in shown
    # Its log (loaded after the details) shows why Prefect ran it again.
    page.get_by_text(re.compile(r"Retry 1/\d+ will start")).first.wait_for(timeout=RENDER_TIMEOUT_MS)
