"""Who is working: the operating system's login, or in a demo folder any name.

Over SSH the login is authenticated, so approvals and the audit log can rely on it.
``--user NAME`` picks another name only in a data folder marked as a demo (the demo
command marks the folder it loads; the README's ``mailroom --home demo-home --user
demo demo`` keeps working); elsewhere it is refused, saying who you are.
"""

from __future__ import annotations

import os
from pathlib import Path

from store.errors import MailroomError
from store.permissions import open_new

DEMO_MARK = "DEMO-FOLDER"


def mark_demo(home: Path) -> None:
    """Mark ``home`` as a demo folder: anyone may name themselves with --user there."""
    path = home / DEMO_MARK
    if not path.exists():
        fd = open_new(path, os.O_WRONLY)
        with os.fdopen(fd, "w") as fh:
            fh.write("This data folder holds the demo: `--user NAME` may name anyone here.\n")


def is_demo(home: Path) -> bool:
    return (home / DEMO_MARK).is_file()


def acting_user(home: Path, requested: str | None, login: str, *, loading_demo: bool) -> str:
    """The user a command acts as: ``login``, or ``requested`` where a demo allows it."""
    if not requested or requested == login:
        return login
    if loading_demo or is_demo(home):
        return requested
    raise MailroomError(
        f"--user {requested} is refused: you are logged in as {login}, and only a demo "
        "data folder lets you work under another name.",
        field="user",
        value=requested,
        fix=f"leave out --user (you work as {login}); each administrator logs in with "
        "their own account (docs/sharing.md).",
    )
