"""`mailroom settings show|set`: every setting of the Settings pane from a script, one
change through the door, refused whole or written whole and logged."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import PYTHON, cli_env


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _show(home: Path) -> dict:
    return json.loads(_cli(home, "settings", "show", "--json").stdout)


def test_the_demo_moves_from_outbox_to_smtp_in_one_change(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    assert _cli(home, "demo", "--no-tui").returncode == 0
    added = _cli(
        home,
        "profile",
        "add",
        "MAIN",
        "--server",
        "smtp.example.com",
        "--sender",
        "facturen@holt.example",
    )
    assert added.returncode == 0, added.stderr
    before = _show(home)
    assert before["users"]["demo"]["profile"] == "PERSONAL-DEMO"

    # One at a time is refused both ways round (personal profiles follow the system's
    # system), and nothing changes.
    alone = _cli(home, "settings", "set", "--system-profile", "MAIN")
    assert alone.returncode == 2 and "nothing was changed" in alone.stderr.lower()
    personal = _cli(home, "settings", "set", "--personal-profile", "MAIN", "--for-user", "demo")
    assert personal.returncode == 2
    assert _show(home) == before

    both = _cli(
        home,
        "settings",
        "set",
        "--system-profile",
        "MAIN",
        "--personal-profile",
        "MAIN",
        "--for-user",
        "demo",
        "--admin-profile",
        "HOLT=none",
        "--approval",
        "other-user",
    )
    assert both.returncode == 0, both.stderr
    after = _show(home)
    assert after["system_profile"] == "MAIN" and after["approval"] == "other-user"
    assert after["users"]["demo"]["profile"] == "MAIN"
    assert after["administrations"]["HOLT"] is None

    log = json.loads(_cli(home, "audit", "--json").stdout)
    changed = {(e["action"], e["what"]) for e in log}
    assert {
        ("save settings", "system settings"),
        ("save user", "user demo"),
        ("save administration", "administration HOLT"),
    } <= changed
    assert "demo's personal profile MAIN" in both.stdout


def test_your_own_personal_settings_and_nothing_given(tmp_path: Path) -> None:
    from store.store import default_user

    home = tmp_path / "demo"
    assert _cli(home, "demo", "--no-tui").returncode == 0
    me = default_user()
    done = _cli(
        home,
        "settings",
        "set",
        "--full-name",
        "Jan Jansen",
        "--signature",
        "Met vriendelijke groet,\\nJan",
    )
    assert done.returncode == 0, done.stderr
    mine = _show(home)["users"][me]
    assert mine["full_name"] == "Jan Jansen"
    assert mine["signature"] == "Met vriendelijke groet,\nJan"
    nothing = _cli(home, "settings", "set")
    assert nothing.returncode == 0 and "Nothing to change" in nothing.stdout
    text = _cli(home, "settings", "show").stdout
    assert "Approval by:     anyone (same-user)" in text
