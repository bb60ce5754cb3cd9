"""The error boundary's record: what went wrong unexpectedly, written for a developer.

The user reads one sentence and the path of this report; the report holds the
traceback (no local variables, so no secret held in one), the command and the
version. It lives in the data folder, private like everything there.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import secrets
import sys
import traceback
from pathlib import Path

from store.permissions import make_dirs, open_new

CRASH_DIR = "crash-reports"


def write_crash_report(home: Path | None, exc: BaseException, where: str) -> Path | None:
    """Write the report; return its path, or None when it could not be written."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    lines = [
        f"Mailroom crash report, {dt.datetime.now().isoformat(timespec='seconds')}",
        f"where: {where}",
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        "",
        *traceback.format_exception(type(exc), exc, exc.__traceback__),
    ]
    for folder in ([home / CRASH_DIR] if home else []) + [Path.home() / ".cache" / "mailroom"]:
        try:
            make_dirs(folder)
            path = folder / f"crash-{stamp}-{secrets.token_hex(2)}.txt"
            fd = open_new(path, os.O_WRONLY | os.O_EXCL)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("\n".join(line.rstrip("\n") for line in lines) + "\n")
            return path
        except OSError:
            continue
    return None


def crash_sentence(exc: BaseException, report: Path | None, *, goes_on: bool = False) -> str:
    """What the user reads: one sentence, what to do, where the details are.

    ``goes_on``: the TUI keeps running after the action that failed; the command line
    stops.
    """
    what = str(exc).splitlines()[0][:200] if str(exc) else "no details"
    stopped = "That action stopped" if goes_on else "Mailroom stopped"
    text = (
        f"{stopped} on an unexpected error ({what}). Changes are written whole or "
        "not at all, so nothing was half written."
    )
    if report is not None:
        text += f" The details are in {report}; please send that file to support."
    return text
