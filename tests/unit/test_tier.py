"""The quick tier stays quick: no test here starts a process, a server or the TUI, or
sleeps (the README's quick loop; issue "The house, part 2"). Such a test belongs in
tests/functional, which runs them in parallel."""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent

# What a quick test may not do, and the words that do it.
NOT_HERE = {
    "starts a process": re.compile(
        r"^\s*(import|from) (subprocess|multiprocessing)\b|os\.fork\(|pty\.fork\(", re.M
    ),
    "starts a server": re.compile(r"\b(SMTPTestServer|DovecotServer|PostfixServer)\b"),
    "runs the TUI": re.compile(r"\.run_test\("),
    "sleeps": re.compile(r"\btime\.sleep\(|asyncio\.sleep\("),
}


def test_no_quick_test_starts_a_process_a_server_or_the_tui_or_sleeps() -> None:
    found = [
        f"{path.name} {what}"
        for path in sorted(HERE.glob("*.py"))
        if path.name != Path(__file__).name
        for what, pattern in NOT_HERE.items()
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "move these to tests/functional: " + ", ".join(found)
