"""`mailroom doctor` checks everything, every time: a changed letterhead, a template with
an unknown field, an edited audit log and a damaged database each get their line, and
the checks after them still run; ``--json`` says the same; exit 1, never a crash."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from mailing.demo import load_demo
from store.records import Template
from store.store import Store
from tests.conftest import PYTHON, cli_env


def _doctor(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), "doctor", "--offline", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_every_check_runs_whatever_an_earlier_one_found(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    store = Store(home, "demo")
    load_demo(store)
    # A letterhead changed on disk, another removed (as a person with a shell would).
    stored = sorted((home / "files").iterdir())
    letterheads = [p for p in stored if p.read_bytes().startswith(b"%PDF")]
    assert len(letterheads) >= 2
    with open(letterheads[0], "ab") as fh:
        fh.write(b"% edited\n")
    letterheads[1].unlink()
    # A template whose body names a field its object lacks (data from before the rule).
    t = store.get(Template, "HOLT-NL-sales_invoice")
    body = t.body.split("\n")
    body.insert(1, "Your order: {{ order_numbr }}")
    store.put(Template.model_validate({**t.dump(), "body": "\n".join(body)}))
    # The audit log edited.
    from mailing.changes import set_sending_paused

    set_sending_paused(store, True, "month end")
    set_sending_paused(store, False, "")
    log = (home / "audit.log").read_bytes().replace(b"month end", b"just so", 1)
    (home / "audit.log").write_bytes(log)

    done = _doctor(home)
    assert done.returncode == 1, done.stdout
    out = done.stdout
    assert "FIX   Template HOLT-NL-sales_invoice:" in out
    assert "line 2" in out and "order_numbr" in out
    assert "was changed on disk after it was stored" in out
    assert "is missing from the data folder" in out
    assert "FIX   Audit log:" in out and "entry 2 does not fit" in out
    # The checks after the failed ones ran, each on its own line.
    for later in ("Fonts:", "Spool folder:", "Archive folder:", "Queue:", "Test mode:"):
        assert later in out, later
    assert "error:" not in done.stderr
    bad = [ln for ln in out.splitlines() if ln.startswith("FIX")]
    assert out.splitlines()[-1] == f"{len(bad)} thing(s) to fix: run each command after '->'."

    as_json = json.loads(_doctor(home, "--json").stdout)
    assert {c["what"] for c in as_json if not c["ok"]} == {
        ln.split(":")[0].removeprefix("FIX   ") for ln in bad
    }
    assert all(c["fix"] for c in as_json if not c["ok"])


def test_a_damaged_database_is_a_line_not_a_crash(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    load_demo(Store(home, "demo"))
    (home / "mailroom.json").write_text('{"profiles": {')
    done = _doctor(home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FIX   System profile:" in done.stdout
    assert "mailroom.json" in done.stdout
    assert "Audit log:" in done.stdout and "Queue:" in done.stdout


def test_the_scheduled_send_set_up_needs_a_passphrase_file(tmp_path: Path) -> None:
    """A profile that logs in with a password and the secrets file as backend: the doctor
    says whether an unattended run (cron, a timer) can unlock it."""
    import os

    home = tmp_path / "office"
    passfile = tmp_path / "passphrase"
    passfile.write_text("staple-orbit-lantern-42\n")
    passfile.chmod(0o600)
    env = {k: v for k, v in cli_env().items() if k != "PYTHON_KEYRING_BACKEND"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-m", "tui", "--home", str(home), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    assert cli("init").returncode == 0
    assert cli("secrets", "init", "--passphrase-file", str(passfile)).returncode == 0
    added = cli(
        "profile", "add", "MAIN", "--server", "smtp.example.com", "--sender", "facturen@example.com"
    )
    assert added.returncode == 0, added.stderr
    without = cli("doctor", "--offline")
    assert without.returncode == 1
    assert "FIX   Scheduled sending: an unattended run cannot unlock the secrets file" in (
        without.stdout
    )
    with_file = cli("--passphrase-file", str(passfile), "doctor", "--offline")
    assert f"OK    Scheduled sending: the passphrase file {passfile} opens" in with_file.stdout
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-passphrase\n")
    os.chmod(wrong, 0o600)
    bad = cli("--passphrase-file", str(wrong), "doctor", "--offline")
    assert "FIX   Scheduled sending: That passphrase does not open the secrets file" in bad.stdout
