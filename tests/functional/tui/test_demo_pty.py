"""The README's demo command (read from the README) in a real terminal (tmux, 80x24),
driven to a sent month with keys only; any traceback on the terminal fails the test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.readme import demo_command

pytestmark = pytest.mark.slow

MAILROOM = Path(sys.executable).parent / "mailroom"
# The README's demo command, in a fresh folder: `--home demo-home` lands in it.
COMMAND = demo_command(MAILROOM)


class Terminal:
    """A tmux session of 80x24 running one command; the screen read as text."""

    def __init__(self, command: str, cwd: Path) -> None:
        self.name = f"mailroom-test-{uuid.uuid4().hex[:8]}"
        # A tmux server of its own (-L): no other tmux of this user, another test run
        # beside this one included, can end or share it.
        self.socket = self.name
        self.screens: list[str] = []
        env = {**os.environ, "TERM": "xterm-256color"}
        env.pop("TMUX", None)
        subprocess.run(
            ["tmux", "-L", self.socket, "new-session", "-d", "-s", self.name]
            + ["-x", "80", "-y", "24", "-c", str(cwd)]
            + ["sh", "-c", command],
            check=True,
            env=env,
        )
        # Keep the pane when the program ends, so its last words can be read.
        self._tmux("set-option", "-t", self.name, "remain-on-exit", "on")

    def _tmux(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        return out.stdout

    def screen(self) -> str:
        text = self._tmux("capture-pane", "-p", "-t", self.name, "-S", "-200")
        self.screens.append(text)
        assert "Traceback" not in text and "Something went wrong" not in text, text
        return text

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def wait_for(self, what: str, within: float = 120.0) -> str:
        """Wait until ``what`` is on the terminal; given up only when the screen has not
        changed for ``within`` seconds (progress, not a clock a busy machine can pass), or
        after ten times that in all (a screen that changes forever: a hang all the same)."""
        seen, changed = "", time.monotonic()
        end = changed + 10 * within
        while True:
            text = self.screen()
            if what in text:
                return text
            if text != seen:
                seen, changed = text, time.monotonic()
            if time.monotonic() - changed > within or time.monotonic() > end:
                raise AssertionError(f"{what!r} never appeared:\n{text}")
            time.sleep(0.1)

    def ended(self) -> bool:
        return self._tmux("display-message", "-p", "-t", self.name, "#{pane_dead}").strip() == "1"

    def close(self) -> None:
        self._tmux("kill-server")


def test_readme_demo_month_goes_out_with_keys_only(tmp_path: Path) -> None:
    assert shutil.which("tmux"), "tmux is needed (tests/run installs it)"
    home = tmp_path / "demo-home"
    term = Terminal(f"{COMMAND}; echo MAILROOM-EXIT=$?", tmp_path)
    try:
        term.wait_for("110 shown")
        term.keys("b")
        term.wait_for("Build a batch of 110 sales invoice")
        term.keys("y")
        text = term.wait_for("Open it in the queue")
        assert "92 draft" in text
        term.keys("y")
        text = term.wait_for("Mail goes: 92 via")
        term.keys("a")
        text = term.wait_for("Approve every draft message?")
        assert "Goes out: 92 via" in text and "outbox" in text
        term.keys("y")
        term.wait_for("approved 92")
        term.keys("s")
        text = term.wait_for("Send the 92 approved messages")
        term.keys("y")
        text = term.wait_for("Sending done")
        assert "92 sent, 0 failed" in text
        term.keys("Enter")
        term.wait_for("sent 92")
        term.keys("C-q")
        text = term.wait_for("MAILROOM-EXIT=")
        assert "MAILROOM-EXIT=0" in text
    finally:
        term.close()
    assert len(list((home / "outbox").rglob("*.eml"))) == 92
    assert not any("Traceback" in s for s in term.screens)
