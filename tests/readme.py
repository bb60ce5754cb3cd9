"""The README's two commands, read from the README itself: the demo test runs the first,
`.ci/run` runs the second, and tests/unit/test_readme_commands.py checks they stay so."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

README = ROOT / "README.md"


def two_commands() -> list[str]:
    """The shell blocks under the README's heading "The two commands", in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def demo_command(mailroom: Path) -> str:
    """The README's demo command's last step (the one that opens the demo), run with the
    given `mailroom` program instead of `.venv/bin/mailroom`."""
    last = two_commands()[0].split(" && ")[-1]
    assert last.startswith(".venv/bin/mailroom "), last
    return str(mailroom) + last.removeprefix(".venv/bin/mailroom")
