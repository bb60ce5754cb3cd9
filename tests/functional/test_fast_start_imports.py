"""The TUI's start path stays light (issue 16): `mailroom` with no command builds no
parser of the command modules, and nothing heavy (PDF, templates, mail, secrets
back-ends, e-mail validation) is imported before the first pane is on screen.

Each check runs in a fresh interpreter, so what an earlier test imported does not
count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from store.store import Store
from tests.functional.tui.helpers import seed

ROOT = Path(__file__).resolve().parent.parent.parent

HEAVY = (
    "reportlab",
    "jinja2",
    "babel",
    "msal",
    "keyring",
    "cryptography",
    "lxml",
    "facturx",
    "pypdf",
    "email_validator",
    "smtplib",
    "mailing.changes.config",
    "mailing.changes.rules_record",
    "mailing.changes.rules_configuration",
)


def run_python(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_no_command_parses_the_global_options_without_the_command_modules() -> None:
    code = """
import json, sys
from tui.cli import build_parser, names_a_command
argv = ["--home", "/tmp/x", "--user=ann"]
fast = build_parser(commands=names_a_command(argv)).parse_args(argv)
loaded = sorted(m for m in sys.modules if m.startswith("tui.commands_"))
full = build_parser().parse_args(argv)
print(json.dumps({"loaded": loaded, "fast": vars(fast), "full": vars(full)}))
"""
    out = json.loads(run_python(code))
    assert out["loaded"] == []
    assert (
        out["fast"]
        == out["full"]
        == {
            "home": "/tmp/x",
            "user": "ann",
            "passphrase_file": None,
            "command": None,
        }
    )


def test_a_command_or_help_still_gets_the_full_parser() -> None:
    from tui.cli import names_a_command

    assert not names_a_command([])
    assert not names_a_command(["--home", "h", "--passphrase-file", "p"])
    assert names_a_command(["doctor"])
    assert names_a_command(["--home", "h", "send", "B1"])
    assert names_a_command(["--help"])
    assert names_a_command(["--hom", "h"])  # an abbreviation: the full parser judges


def test_the_first_pane_is_on_screen_before_anything_heavy_is_imported(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    code = f"""
import json, sys
from pathlib import Path
from store.store import Store
from tui.app import MailroomApp

app = MailroomApp(Store(Path({str(home)!r}), "tester"), "tester")

async def steps(pilot):
    await app.workers.wait_for_complete()
    await pilot.pause()
    shown = [str(o.prompt) for o in app.query_one("#rows").options]
    heavy = [m for m in {HEAVY!r} if m in sys.modules]
    print(json.dumps({{"shown": shown, "heavy": heavy}}))
    app.exit()

app.run(headless=True, size=(80, 24), auto_pilot=steps)
"""
    out = json.loads(run_python(code))
    assert out["shown"] == ["OUTBOX\n  Try-out folder"]  # code, then name
    assert out["heavy"] == []


def test_the_first_list_is_drawn_before_the_records_are_imported(tmp_path: Path) -> None:
    """The pydantic models (~0.1 s to import) come after the first frame with the list."""
    home = tmp_path / "home"
    seed(Store(home))
    code = f"""
import json, sys
from pathlib import Path
from store.store import Store
from tui.app import MailroomApp

app = MailroomApp(Store(Path({str(home)!r}), "tester"), "tester")
seen = {{}}
display = app._display

def watched(screen, renderable):
    display(screen, renderable)
    rows = app.query("#rows")
    if "first" not in seen and renderable is not None and rows and rows.first().option_count:
        seen["first"] = [m for m in ("pydantic", "store.records") if m in sys.modules]

app._display = watched

async def steps(pilot):
    await app.workers.wait_for_complete()
    await pilot.pause()
    seen["later"] = [m for m in ("pydantic", "store.records") if m in sys.modules]
    print(json.dumps(seen))
    app.exit()

app.run(headless=True, size=(80, 24), auto_pilot=steps)
"""
    out = json.loads(run_python(code))
    assert out["first"] == []  # the first frame with the list: no models yet
    assert out["later"] == ["pydantic", "store.records"]  # then the form needs them


def test_the_profiles_list_reads_the_profiles_table() -> None:
    from screens.profiles import PROFILES_TABLE
    from store.records import Profile

    assert PROFILES_TABLE == Profile.table
