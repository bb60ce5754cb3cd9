"""One failure handler: a bug in an action or a worker is a dialog and a crash report,
and Mailroom goes on; when it cannot go on it ends with the sentence and exit code 70."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from store.store import Store
from tests.functional.tui.helpers import SIZE, make_app, seed, wait_for


def _reports(home: Path) -> list[Path]:
    return sorted((home / "crash-reports").glob("crash-*.txt"))


async def _still_works(pilot: object, app: object) -> None:
    """The app takes keys after the failure: another pane opens and shows its records."""
    await pilot.press("f5")  # type: ignore[attr-defined]
    await wait_for(pilot, "Relations: new relation")  # type: ignore[arg-type]
    assert app.is_running  # type: ignore[attr-defined]


async def test_a_failing_action_is_a_dialog_a_crash_report_and_the_app_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from screens.widgets.pane import RecordPane

    def boom(self: RecordPane) -> None:
        raise RuntimeError("injected failure in an action")

    monkeypatch.setattr(RecordPane, "action_new", boom)
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "Profiles: new profile")
        await pilot.press("ctrl+n")
        text = await wait_for(pilot, "That action stopped")
        assert "Mailroom goes on" in text
        [report] = _reports(home)
        assert "injected failure in an action" in report.read_text()
        assert "Traceback" not in text
        await pilot.press("enter")
        await _still_works(pilot, app)
    assert app.return_code in (None, 0)


async def test_a_failing_worker_is_a_dialog_a_crash_report_and_the_app_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mailing.checks.doctor

    def boom(store: object) -> list[object]:
        raise RuntimeError("injected failure in a worker")

    monkeypatch.setattr(mailing.checks.doctor, "run_checks", boom)
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home, first_pane="tools")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "Tools")
        await pilot.press("d")  # the installation check runs in a worker
        text = await wait_for(pilot, "That action stopped")
        assert "Mailroom goes on" in text
        [report] = _reports(home)
        assert "injected failure in a worker" in report.read_text()
        await pilot.press("enter")  # the failure's dialog
        await pilot.press("escape")  # the check's own dialog
        await _still_works(pilot, app)


# A process that cannot go on: every repaint of the pane bar fails, so no dialog can be
# read. The failure is put in by a small launcher; the rest is the real `mailroom`.
_LAUNCHER = """
import sys
from tui import pane_bar
from tui.cli import main

def broken(self):
    raise RuntimeError("injected failure in every repaint")

pane_bar.PaneBar.render = broken
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_an_app_that_cannot_go_on_ends_with_the_sentence_and_exit_code_70(
    tmp_path: Path,
) -> None:
    assert shutil.which("tmux"), "tmux is needed (apt-get install tmux; .ci/run does)"
    home = tmp_path / "home"
    seed(Store(home))
    launcher = tmp_path / "launch.py"
    launcher.write_text(_LAUNCHER)
    name = f"mailroom-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("TMUX", None)
    command = f"{sys.executable} {launcher} --home {home}; echo MAILROOM-EXIT=$?"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24", "sh", "-c", command],
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parents[2],
    )
    subprocess.run(["tmux", "set-option", "-t", name, "remain-on-exit", "on"], check=False)
    try:
        deadline = time.monotonic() + 60
        text = ""
        while "MAILROOM-EXIT=" not in text:
            assert time.monotonic() < deadline, text
            text = subprocess.run(
                ["tmux", "capture-pane", "-p", "-J", "-t", name, "-S", "-200"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            time.sleep(0.1)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False)
    assert "MAILROOM-EXIT=70" in text, text
    flat = " ".join(text.split())
    assert "Mailroom stopped on an unexpected error (injected failure in every repaint)" in flat
    assert "Traceback" not in text
    assert _reports(home), "a crash report is written"
