"""Shared fixtures. Tests never touch the real home folder or the real keyring."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.keyring_backend import FileKeyring

ROOT = Path(__file__).resolve().parent.parent

# A suite started in the background by a script (`tests/run > log &`) inherits ctrl-c
# (SIGINT) ignored, and so would every program a test starts: the tests that stop one
# with ctrl-c need it back (a handler here gives each child the default action).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolate(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MAILROOM_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("userhome")))
    keyfile = tmp_path_factory.mktemp("keyring") / "keyring.json"
    monkeypatch.setenv("MAILROOM_TEST_KEYRING_FILE", str(keyfile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.FileKeyring")
    previous = keyring.get_keyring()
    # The same file-backed test keyring in this process and in the `mailroom`
    # subprocesses a test starts (a detached sender, a CLI run).
    keyring.set_keyring(FileKeyring())
    # No data folder's secrets file carried over from an earlier test (a Store binds
    # its folder process-wide; a test that opens none must not use another's).
    import store.secrets

    monkeypatch.setattr(store.secrets, "_home", None)
    monkeypatch.setattr(store.secrets, "_unlocker", None)
    yield
    keyring.set_keyring(previous)


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for running `python -m tui` in a subprocess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


PYTHON = sys.executable
