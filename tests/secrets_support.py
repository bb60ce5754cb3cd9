"""The real encrypted secrets file in tests: no D-Bus, no named test keyring, no stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store import secrets_file

PASSPHRASE = "staple-orbit-lantern-42"
PASSWORD = "smtp-pw-9f3Kx!q"


@pytest.fixture
def real_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As on a server over SSH: no D-Bus session, no keyring backend named; the data
    folder's encrypted secrets file is what Mailroom must choose. Nothing stays
    unlocked between tests."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("MAILROOM_PASSPHRASE_FILE", raising=False)
    secrets_file._KEYS.clear()
    yield
    secrets_file._KEYS.clear()
    from store.secrets import set_unlocker

    set_unlocker(None)


def forget_unlock() -> None:
    """What a restart does: this process no longer holds the key."""
    secrets_file._KEYS.clear()


def files_containing(folders: list[Path], *needles: str) -> list[str]:
    """Every file under ``folders`` whose bytes contain one of ``needles``."""
    found = []
    for folder in folders:
        for path in [folder, *folder.rglob("*")] if folder.is_dir() else [folder]:
            if path.is_file():
                data = path.read_bytes()
                found += [f"{path}: {n!r}" for n in needles if n.encode() in data]
    return found
