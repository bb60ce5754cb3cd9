"""The README's two commands are the ones that are tested: the demo test runs the first,
CI (`.ci/run`) runs the second, and both show their progress while installing."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT
from tests.functional.tui import test_demo_pty
from tests.readme import README, two_commands


def _packages_in_setup() -> list[str]:
    """The Debian packages `tests/setup` checks and installs (its PACKAGES list)."""
    text = (ROOT / "tests" / "setup").read_text()
    listed = text.split("PACKAGES=(", 1)[1].split("\n)", 1)[0]
    return re.findall(r'^\s*"([a-z0-9.+-]+)\|', listed, re.M)


def _commands(script: Path) -> list[str]:
    """The command lines of a shell script: no comments, no blank lines."""
    lines = (line.strip() for line in script.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_the_readme_gives_two_one_line_commands() -> None:
    commands = two_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in c for c in commands), commands


def test_the_demo_test_runs_the_readmes_demo_command() -> None:
    venv, install, demo = two_commands()[0].split(" && ")
    assert venv == "python3 -m venv .venv"
    assert install.startswith(".venv/bin/pip install ") and install.endswith(" -e .")
    # The demo test runs the last step exactly, with the tests' own `mailroom`.
    mailroom = Path(sys.executable).parent / "mailroom"
    assert test_demo_pty.COMMAND == demo.replace(".venv/bin/mailroom", str(mailroom), 1)
    assert test_demo_pty.COMMAND.endswith(" demo")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["mailroom"] == "tui.cli:main"


def test_ci_runs_the_readmes_test_command_after_its_checks() -> None:
    command = two_commands()[1]
    assert command == "tests/run"
    ci = _commands(ROOT / ".ci" / "run")
    assert ci[-1] == command
    # CI's set-up is the same script the test command runs: one list of packages.
    assert "tests/setup" in ci
    assert not any("apt-get" in line or "pip install" in line for line in ci), ci
    run = ROOT / "tests" / "run"
    assert os.access(run, os.X_OK) and os.access(ROOT / "tests" / "setup", os.X_OK)
    assert "tests/setup" in _commands(run)


def test_every_install_shows_its_progress() -> None:
    """No -q: a newcomer sees pip and apt-get work, never a silent minute."""
    quiet = re.compile(r"(^|\s)(-q+|--quiet|-qq)(\s|$)")
    demo_install = two_commands()[0].split(" && ")[1]
    assert not quiet.search(demo_install), demo_install
    setup = _commands(ROOT / "tests" / "setup")
    installs = [line for line in setup if line.startswith(("apt-get ", ".venv/bin/python -m pip"))]
    assert len(installs) == 4 and not [line for line in installs if quiet.search(line)], installs
    assert not any(">/dev/null" in line for line in installs), installs


def test_the_readme_names_every_package_the_test_command_installs() -> None:
    packages = _packages_in_setup()
    assert {"poppler-utils", "qpdf", "dovecot-imapd", "postfix", "tmux"} <= set(packages)
    text = README.read_text()
    assert [p for p in packages if f"`{p}`" not in text] == []
