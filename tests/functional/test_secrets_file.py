"""The encrypted secrets file with the real backend: the door, the CLI as cron runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mailing.changes import ChangeRefused, save_profile
from mailing.changes.secrets import (
    SecretsLocked,
    WrongPassphrase,
    change_secrets_passphrase,
    create_secrets_file,
    secrets_backend,
    secrets_file_state,
    unlock_secrets,
)
from store.records import Profile
from store.secrets import SecretStoreError, get_secret
from store.store import Store
from tests.conftest import PYTHON, cli_env
from tests.secrets_support import (
    PASSPHRASE,
    PASSWORD,
    files_containing,
    forget_unlock,
    real_secrets,
)
from tests.smtp_server import SMTPTestServer

__all__ = ["real_secrets"]
pytestmark = pytest.mark.usefixtures("real_secrets")
LOGIN = "office@holt.example"


def _profile(server: SMTPTestServer, folder: Path, code: str = "HOLT") -> Profile:
    return Profile.parse(
        {"code": code, "sender": LOGIN, "username": LOGIN, **server.profile_fields(folder)}
    )


def test_no_keyring_and_no_file_saves_nothing_of_the_profile(tmp_path: Path) -> None:
    """The issue's half-saved profile: the secret is refused, so is the whole save."""
    store = Store(tmp_path / "home")
    assert secrets_backend()[0] == "file" and secrets_file_state() == "absent"
    profile = Profile.parse({"code": "HOLT", "sender": LOGIN, "server": "smtp.holt.example"})
    with pytest.raises(SecretStoreError) as refused:
        save_profile(store, profile, None, PASSWORD)
    assert "mailroom secrets init" in str(refused.value)
    assert store.find(Profile, "HOLT") is None
    save_profile(store, profile, None, "")  # the next save is a new profile, not "exists"
    assert store.get(Profile, "HOLT").server == "smtp.holt.example"


def test_a_locked_file_saves_nothing_and_unlocking_saves_all(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    create_secrets_file(PASSPHRASE)
    forget_unlock()
    profile = Profile.parse({"code": "HOLT", "sender": LOGIN, "server": "smtp.holt.example"})
    with pytest.raises(SecretsLocked):
        save_profile(store, profile, None, PASSWORD)
    assert store.find(Profile, "HOLT") is None
    with pytest.raises(WrongPassphrase) as wrong:
        unlock_secrets("not the passphrase")
    assert "does not open the secrets file" in str(wrong.value)
    unlock_secrets(PASSPHRASE)
    save_profile(store, profile, None, PASSWORD)
    assert get_secret("HOLT", "password") == PASSWORD
    # A refused profile stores no secret either.
    bad = Profile.parse({"code": "BAD", "sender": "not an address", "server": "x"})
    with pytest.raises(ChangeRefused):
        save_profile(store, bad, None, "other-secret")
    assert get_secret("BAD", "password") is None
    assert files_containing([store.home], PASSWORD, PASSPHRASE) == []
    assert (store.home / "secrets.enc").stat().st_mode & 0o777 == 0o600


def test_change_passphrase_keeps_the_secrets(tmp_path: Path) -> None:
    Store(tmp_path / "home")
    create_secrets_file(PASSPHRASE)
    from mailing.changes import store_password

    store_password("HOLT", PASSWORD)
    with pytest.raises(WrongPassphrase):
        change_secrets_passphrase("wrong-passphrase", "new-passphrase-1")
    change_secrets_passphrase(PASSPHRASE, "new-passphrase-1")
    forget_unlock()
    with pytest.raises(WrongPassphrase):
        unlock_secrets(PASSPHRASE)
    unlock_secrets("new-passphrase-1")
    assert get_secret("HOLT", "password") == PASSWORD


def _mailroom(
    home: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), *args],
        input=stdin.decode() if stdin is not None else None,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=120,
    )


def test_cli_as_cron_with_a_credentials_file_and_stdin_closed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    creds = tmp_path / "credentials"
    creds.mkdir()
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        store = Store(home)
        save_profile(store, _profile(server, tmp_path), None, "")
        # Set-up over SSH: init and the password come in on stdin (no terminal here).
        done = _mailroom(home, "secrets", "init", stdin=f"{PASSPHRASE}\n".encode())
        assert done.returncode == 0, done.stderr
        (creds / "mailroom-passphrase").write_text(PASSPHRASE + "\n")
        (creds / "mailroom-passphrase").chmod(0o400)
        systemd = {"CREDENTIALS_DIRECTORY": str(creds)}
        done = _mailroom(
            home, "profile", "set-password", "HOLT", env=systemd, stdin=f"{PASSWORD}\n".encode()
        )
        assert done.returncode == 0, done.stderr

        # Cron: stdin closed, no terminal, no credentials: a clear message, exit 2, no hang.
        done = _mailroom(home, "profile", "test", "HOLT")
        told = done.stdout + done.stderr
        assert done.returncode == 1, told  # the test's own "FAILED" exit code
        assert "locked, and there is no terminal" in told
        assert "--passphrase-file" in told and "Traceback" not in told
        done = _mailroom(home, "secrets", "unlock")
        assert done.returncode == 2 and "no terminal" in done.stderr
        assert server.messages == []

        # systemd's LoadCredential= directory: unlocks, logs in, sends.
        done = _mailroom(home, "profile", "test", "HOLT", env=systemd)
        assert done.returncode == 0, done.stdout + done.stderr
        # A passphrase file named by the option, readable only by its owner.
        own = tmp_path / "pass"
        own.write_text(PASSPHRASE)
        own.chmod(0o644)
        done = _mailroom(home, "--passphrase-file", str(own), "profile", "test", "HOLT")
        assert done.returncode == 1 and f"chmod 600 {own}" in done.stdout
        own.chmod(0o600)
        done = _mailroom(home, "--passphrase-file", str(own), "profile", "test", "HOLT")
        assert done.returncode == 0, done.stdout + done.stderr
        # A wrong passphrase is told as such.
        own.write_text("the wrong passphrase")
        done = _mailroom(home, "--passphrase-file", str(own), "secrets", "unlock")
        assert done.returncode == 2
        assert "That passphrase does not open the secrets file" in done.stderr
        done = _mailroom(home, "secrets", "status", env=systemd)
        assert "exists, locked" in done.stdout and "mailroom-passphrase" in done.stdout

    assert len(server.messages) == 2
    assert [m.login for m in server.messages] == [LOGIN, LOGIN]
    leaks = files_containing([home, tmp_path / "home"], PASSWORD, PASSPHRASE)
    assert leaks == []
    assert os.environ.get("DBUS_SESSION_BUS_ADDRESS") is None
