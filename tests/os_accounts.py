"""Throw-away OS accounts for tests (CI runs as root): a group, its members, an outsider.

``useradd``/``groupadd`` make them, ``setpriv`` runs `mailroom` as each (real uid, gid
and groups; the environment is what the test gives, so ``USER=bob`` can be tried), and
``userdel``/``groupdel`` remove them after. Names carry a random part so parallel runs
do not meet.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PYTHON, ROOT


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: Path  # its own HOME, private

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHON_KEYRING_BACKEND": "tests.keyring_backend.FileKeyring",
            "MAILROOM_TEST_KEYRING_FILE": str(self.home / "keyring.json"),
        }
        env.update(extra)
        return env

    def run(
        self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``python -m tui ARGS`` as this account (setpriv: real uid, gid, its groups)."""
        done = subprocess.run(
            [
                "setpriv",
                f"--reuid={self.uid}",
                f"--regid={self.gid}",
                "--init-groups",
                "--",
                PYTHON,
                "-m",
                "tui",
                *args,
            ],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env if env is not None else self.env(),
            cwd=str(self.home),
            timeout=600,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done


@dataclass(frozen=True)
class Office:
    group: str
    gid: int
    alice: Account
    bob: Account
    eve: Account  # not in the group
    base: Path  # 0755, owned by root; the accounts' folders are in it


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def make_office() -> Iterator[Office]:
    """A group with alice and bob in it, and eve outside; removed afterwards."""
    assert os.geteuid() == 0, "these tests make OS accounts: run them as root (CI does)"
    tag = secrets.token_hex(3)
    group = f"mr{tag}office"
    names = {role: f"mr{tag}{role}" for role in ("alice", "bob", "eve")}
    base = Path(tempfile.mkdtemp(prefix="mailroom-accounts-", dir="/tmp"))
    base.chmod(0o755)
    made: list[str] = []
    try:
        _sh("groupadd", group)
        for role, name in names.items():
            extra = ["-G", group] if role != "eve" else []
            _sh(
                "useradd",
                "-M",
                "-U",
                "-d",
                str(base / name),
                "-s",
                "/usr/sbin/nologin",
                *extra,
                name,
            )
            made.append(name)
        accounts: dict[str, Account] = {}
        for role, name in names.items():
            pw = pwd.getpwnam(name)
            home = base / name
            home.mkdir(mode=0o700)
            os.chown(home, pw.pw_uid, pw.pw_gid)
            accounts[role] = Account(name, pw.pw_uid, pw.pw_gid, home)
        import grp

        yield Office(
            group,
            grp.getgrnam(group).gr_gid,
            accounts["alice"],
            accounts["bob"],
            accounts["eve"],
            base,
        )
    finally:
        for name in made:
            subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)
        for name in names.values():
            subprocess.run(["groupdel", name], capture_output=True)  # if -U left it
        shutil.rmtree(base, ignore_errors=True)
