"""The audit log is a hash chain: an edited, removed or cut entry is named.

Real runs of the command line in subprocesses (the encrypted secrets file, passwords
piped in); the log's own bytes are edited as a person with a text editor would.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, cli_env
from tests.secrets_support import PASSPHRASE, PASSWORD, files_containing, real_secrets

__all__ = ["real_secrets"]


def _cli(
    home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=600,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _office(tmp_path: Path) -> Path:
    """The demo, then a few logged changes: settings, a pause and resume."""
    home = tmp_path / "office"
    assert _cli(home, "demo", "--no-tui").returncode == 0
    assert _cli(home, "settings", "set", "--approval", "other-user").returncode == 0
    assert _cli(home, "sending", "pause", "--reason", "month end").returncode == 0
    assert _cli(home, "sending", "resume").returncode == 0
    assert _cli(home, "sending", "redirect", "test@office.example").returncode == 0
    return home


def _lines(home: Path) -> list[bytes]:
    return (home / "audit.log").read_bytes().splitlines(keepends=True)


def test_a_whole_log_fits_and_every_entry_links_to_the_one_before(tmp_path: Path) -> None:
    home = _office(tmp_path)
    done = _cli(home, "audit", "verify")
    assert done.returncode == 0, done.stdout
    assert "OK: the audit log's 4 entries fit together" in done.stdout
    entries = [json.loads(line) for line in _lines(home)]
    assert entries[0]["prev"] == "start"
    assert all(len(e["prev"]) == 64 for e in entries[1:])
    report = json.loads(_cli(home, "audit", "verify", "--json").stdout)
    assert report["ok"] is True and report["entries"] == 4


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        ("change the second entry's user", "entry 3 does not fit (an entry before it was changed"),
        ("remove the second entry", "entry 2 does not fit (an entry before it was changed"),
        ("remove the first entry", "entry 1 does not fit (entries before it were removed)"),
        ("remove the last entry", "it has 3 entries, but 4 were written"),
        ("change the last entry", "entry 4 does not fit (it was changed after it was written"),
        ("add a line by hand", "entry 5 does not fit (it carries no link"),
        ("cut the last line", "entry 4 does not fit (the line is cut off)"),
    ],
)
def test_an_edit_is_named_by_verify_and_by_the_doctor(
    tmp_path: Path, edit: str, named: str
) -> None:
    home = _office(tmp_path)
    lines = _lines(home)
    if edit == "change the second entry's user":
        lines[1] = lines[1].replace(b'"user": "', b'"user": "x', 1)
    elif edit == "remove the second entry":
        del lines[1]
    elif edit == "remove the first entry":
        del lines[0]
    elif edit == "remove the last entry":
        del lines[-1]
    elif edit == "change the last entry":
        lines[-1] = lines[-1].replace(b"test@office.example", b"me@elsewhere.example")
    elif edit == "add a line by hand":
        entry = {"at": "2026-01-01T00:00:00+00:00", "user": "x", "action": "a", "what": "w"}
        lines.append(json.dumps(entry).encode() + b"\n")
    elif edit == "cut the last line":
        lines[-1] = lines[-1][:40]
    (home / "audit.log").write_bytes(b"".join(lines))

    done = _cli(home, "audit", "verify")
    assert done.returncode == 1, done.stdout
    assert named in done.stdout, done.stdout
    assert "Fix:" in done.stdout

    doctor = _cli(home, "doctor", "--offline")
    assert doctor.returncode == 1
    assert "FIX   Audit log:" in doctor.stdout and named in doctor.stdout
    assert "Everything is ready" not in doctor.stdout
    # The checks after it ran too.
    assert "Templates:" in doctor.stdout and "Test mode:" in doctor.stdout


@pytest.mark.usefixtures("real_secrets")
def test_every_secret_stored_changed_or_forgotten_is_logged_never_its_value(
    tmp_path: Path,
) -> None:
    home = tmp_path / "office"
    assert _cli(home, "init").returncode == 0
    pass_file = tmp_path / "passphrase"
    pass_file.write_text(PASSPHRASE + "\n")
    pass_file.chmod(0o600)
    made = _cli(home, "secrets", "init", "--passphrase-file", str(pass_file))
    assert made.returncode == 0, made.stderr
    pf = ["--passphrase-file", str(pass_file)]
    added = _cli(
        home,
        "profile",
        "add",
        "MAIN",
        "--server",
        "smtp.example.com",
        "--sender",
        "facturen@example.com",
    )
    assert added.returncode == 0, added.stderr
    first = _cli(
        home, *pf, "profile", "set-password", "MAIN", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert first.returncode == 0, first.stderr
    again = _cli(
        home,
        *pf,
        "profile",
        "set-password",
        "MAIN",
        "--password-stdin",
        stdin="another-" + PASSWORD + "\n",
    )
    assert again.returncode == 0, again.stderr
    new_pass = tmp_path / "new-passphrase"
    new_pass.write_text("a-new-" + PASSPHRASE + "\n")
    new_pass.chmod(0o600)
    changed = _cli(home, *pf, "secrets", "change-passphrase", stdin="a-new-" + PASSPHRASE + "\n")
    assert changed.returncode == 0, changed.stderr
    gone = _cli(home, "--passphrase-file", str(new_pass), "profile", "delete", "MAIN")
    assert gone.returncode == 0, gone.stderr
    log = [json.loads(line) for line in _lines(home)]
    acts = [(e["action"], e["what"]) for e in log]
    assert ("create secrets file", "secrets file") in acts
    assert ("store password", "profile MAIN") in acts
    assert ("change password", "profile MAIN") in acts
    assert ("change passphrase", "secrets file") in acts
    assert ("forget secrets", "profile MAIN") in acts
    assert files_containing([home], PASSWORD, PASSPHRASE) == []
    assert _cli(home, "audit", "verify").returncode == 0


def test_a_backup_carries_the_log_and_bounce_positions_and_restore_checks_the_chain(
    tmp_path: Path,
) -> None:
    home = _office(tmp_path)
    bounces = home / "bounces"
    bounces.mkdir(mode=0o700)
    (bounces / "HOLT.json").write_text('{"uidvalidity": 7, "last_uid": 42}')
    archive = tmp_path / "b.tar.gz"
    assert _cli(home, "backup", "create", str(archive)).returncode == 0
    import tarfile

    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"audit.log", "audit.head", "bounces/HOLT.json"} <= names

    # Restored into a new folder: the log and the read positions come back, whole.
    fresh = tmp_path / "new-server"
    assert _cli(fresh, "init").returncode == 0
    restored = _cli(fresh, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert json.loads((fresh / "bounces" / "HOLT.json").read_text())["last_uid"] == 42
    verified = _cli(fresh, "audit", "verify")
    assert verified.returncode == 0, verified.stdout
    assert "5 entries fit" in verified.stdout  # the four, then the restore

    # Restored over the office itself: its own log goes on.
    before = len(_lines(home))
    assert _cli(home, "restore", str(archive)).returncode == 0
    assert len(_lines(home)) == before + 1
    assert _cli(home, "audit", "verify").returncode == 0

    # A backup whose log was edited is refused, and nothing changes.
    edited = tmp_path / "edited"
    edited.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(edited, filter="data")
    log = (edited / "audit.log").read_bytes().replace(b"other-user", b"same-user", 1)
    (edited / "audit.log").write_bytes(log)
    manifest = json.loads((edited / "MANIFEST.json").read_text())
    import hashlib

    manifest["members"]["audit.log"] = {"sha256": hashlib.sha256(log).hexdigest(), "size": len(log)}
    (edited / "MANIFEST.json").write_text(json.dumps(manifest))
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(forged, "w:gz") as tar:
        for name in [n for n in sorted(manifest["members"])] + ["MANIFEST.json"]:
            tar.add(edited / name, arcname=name)
    mtime = os.stat(home / "mailroom.json").st_mtime_ns
    refused = _cli(home, "restore", str(forged))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "The audit log in the backup" in refused.stderr
    assert "does not fit" in refused.stderr and "Nothing was restored" in refused.stderr
    assert os.stat(home / "mailroom.json").st_mtime_ns == mtime


def test_an_older_log_is_counted_and_the_chain_goes_on_from_it(tmp_path: Path) -> None:
    home = tmp_path / "office"
    assert _cli(home, "init").returncode == 0
    older = [
        {
            "at": f"2026-01-0{n}T08:00:00+00:00",
            "user": "jan",
            "action": "approve",
            "what": f"batch {n}",
            "before": None,
            "after": None,
        }
        for n in (1, 2)
    ]
    (home / "audit.log").write_text("".join(json.dumps(e) + "\n" for e in older))
    assert _cli(home, "sending", "pause").returncode == 0
    done = _cli(home, "audit", "verify")
    assert done.returncode == 0, done.stdout
    assert "3 entries fit together (2 older one(s) from before the chain began" in done.stdout
    # The first chained entry links to the last older one: editing that one shows.
    lines = _lines(home)
    lines[1] = lines[1].replace(b"jan", b"piet")
    (home / "audit.log").write_bytes(b"".join(lines))
    assert "entry 3 does not fit" in _cli(home, "audit", "verify").stdout


def test_processes_appending_at_once_keep_one_whole_chain(tmp_path: Path) -> None:
    """Four processes, fifty entries each, at the same time: 200 entries, all chained."""
    home = tmp_path / "office"
    assert _cli(home, "init").returncode == 0
    code = (
        "import sys; from pathlib import Path; from mailing.changes.audit import append\n"
        "for n in range(50): append(Path(sys.argv[1]), sys.argv[2], 'note', f'entry {n}')\n"
    )
    procs = [
        subprocess.Popen([PYTHON, "-c", code, str(home), f"writer{w}"], env=cli_env())
        for w in range(4)
    ]
    assert [p.wait(timeout=600) for p in procs] == [0, 0, 0, 0]
    done = _cli(home, "audit", "verify")
    assert done.returncode == 0, done.stdout
    assert "200 entries fit together" in done.stdout
