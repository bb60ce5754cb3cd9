"""A data folder shared by a group (`mailroom init --group NAME`) and a private one.

Real runs of the command line: the demo, a batch built, approved and sent into the
outbox, a backup, the audit log, a crash report and the encrypted secrets file. In a
shared folder every file is 0660 and every folder 2770 (setgid), all in the group; in a
private one every file is 0600 and every folder 0700. The doctor checks it.
"""

from __future__ import annotations

import grp
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailing.changes.secrets import create_secrets_file
from mailing.crash import write_crash_report
from store.store import Store
from tests.conftest import PYTHON, cli_env
from tests.secrets_support import PASSPHRASE, real_secrets

__all__ = ["real_secrets"]
pytestmark = pytest.mark.usefixtures("real_secrets")


def _a_group() -> grp.struct_group:
    """Another group than root's when running as root (as CI does); else our own."""
    if os.geteuid() == 0:
        for name in ("users", "staff", "daemon", "nogroup"):
            try:
                return grp.getgrnam(name)
            except KeyError:
                continue
    return grp.getgrgid(os.getegid())


@pytest.fixture(autouse=True)
def _keep_umask() -> Iterator[None]:
    """Opening a shared folder in this process sets its umask: give it back."""
    previous = os.umask(0o077)
    os.umask(previous)
    yield
    os.umask(previous)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=600,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _office_day(home: Path) -> None:
    """Demo, a batch built, approved and sent to the outbox, a backup, a crash report,
    the secrets file: everything that writes into the data folder."""
    assert _cli(home, "demo", "--no-tui").returncode == 0
    made = _cli(home, "batch", "create", "--type", "sales_invoice")
    assert made.returncode == 0, made.stderr
    batch = made.stdout.split()[0]
    assert _cli(home, "batch", "approve", batch).returncode == 0
    sent = _cli(home, "send", batch)
    assert sent.returncode == 0, sent.stderr
    assert " sent, 0 failed" in sent.stdout
    backup = _cli(home, "backup", "create", str(home / "exports" / "today.tar.gz"))
    assert backup.returncode == 0, backup.stderr
    Store(home, "demo")
    create_secrets_file(PASSPHRASE)
    assert write_crash_report(home, RuntimeError("a test crash"), "test") is not None


def _everything(home: Path) -> list[Path]:
    return [home, *home.rglob("*")]


def _must_have(home: Path) -> None:
    names = {p.relative_to(home).parts[0] for p in _everything(home) if p != home}
    for part in ("outbox", "spool", "exports", "crash-reports", "audit.log", "mailroom.json"):
        assert part in names, f"{part} was not written: {sorted(names)}"
    assert (home / "secrets.enc").is_file()
    assert list((home / "outbox").rglob("*.eml")), "nothing was delivered into the outbox"


def test_a_folder_shared_with_a_group_stays_shared(tmp_path: Path) -> None:
    group = _a_group()
    home = tmp_path / "office"
    done = _cli(home, "init", "--group", group.gr_name)
    assert done.returncode == 0, done.stderr
    assert f"shared with the group {group.gr_name}" in done.stdout

    _office_day(home)
    _must_have(home)
    for path in _everything(home):
        st = path.lstat()
        where = f"{path} ({stat.filemode(st.st_mode)}, gid {st.st_gid})"
        assert st.st_gid == group.gr_gid, where
        if path.is_dir():
            assert stat.S_IMODE(st.st_mode) == 0o2770, where
        else:
            assert stat.S_IMODE(st.st_mode) == 0o660, where

    doctor = _cli(home, "doctor", "--offline")  # the secrets file is locked: that line is FIX
    assert f"OK    Data folder: {home}, shared with the group {group.gr_name}" in doctor.stdout

    # A file someone copied in by hand, owner-only: the doctor names it and the fix.
    stray = home / "exports" / "copied-by-hand.pdf"
    stray.write_bytes(b"%PDF-1.4")
    stray.chmod(0o600)
    doctor = _cli(home, "doctor", "--offline")
    assert doctor.returncode == 1
    line = next(ln for ln in doctor.stdout.splitlines() if ln.startswith("FIX   Data folder"))
    assert "exports/copied-by-hand.pdf (mode 600, not 660)" in line
    assert f"init --group {group.gr_name}" in doctor.stdout


def test_a_private_folder_stays_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "private"
    _office_day(home)
    _must_have(home)
    for path in _everything(home):
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {mode:o}"
    doctor = _cli(home, "doctor", "--offline")
    assert f"OK    Data folder: {home}, mode 700" in doctor.stdout


def test_init_with_a_group_that_does_not_exist(tmp_path: Path) -> None:
    home = tmp_path / "office"
    done = _cli(home, "init", "--group", "no-such-group-xq")
    assert done.returncode == 2
    assert "no group of that name exists" in done.stderr
    assert "'no-such-group-xq'" in done.stderr
    assert "sudo groupadd no-such-group-xq" in done.stderr
    assert not (home / "SHARED-GROUP").exists()
