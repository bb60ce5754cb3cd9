"""Secrets (SMTP passwords, OAuth token caches) through the ``keyring`` API, keyed by profile.

Never in the data file, a log, a trace or an error message. The backend is chosen
explicitly, never by luck (:func:`backend_choice`):

1. the encrypted secrets file in the data folder (``store.secrets_file``) once it
   exists (``mailroom secrets init``, or the TUI's first password);
2. a backend named in ``PYTHON_KEYRING_BACKEND`` (a plain-text one only when named);
3. the OS keyring when one is usable: macOS Keychain, or the Secret Service when a
   D-Bus session exists;
4. otherwise the encrypted secrets file, still to be created.

Nothing here prompts. A locked secrets file raises ``SecretsLocked`` unless the
program registered an unlocker (:func:`set_unlocker`: the CLI reads a credentials
file or asks on the terminal; the TUI asks in its own dialog instead).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from store import secrets_file
from store.errors import MailroomError
from store.secrets_file import SecretsLocked, WrongPassphrase

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "mailroom"
KINDS = ("password", "oauth-cache")
# The environment variable naming a pipe a parent process hands the unlocked key
# down through (the TUI's detached sender); the number only, never the key.
KEY_FD_ENV = "MAILROOM_SECRETS_KEY_FD"

HELP = (
    "No usable keyring was found and the data folder has no secrets file yet. "
    "Create one with `mailroom secrets init` (an encrypted file unlocked by a "
    "passphrase). See docs/secrets.md."
)

# Backends that store secrets readable by anyone who reads the file.
_PLAINTEXT = ("keyrings.alt.file.PlaintextKeyring", "keyring.backends.fail.Keyring")

__all__ = ["SecretStoreError", "SecretsLocked", "WrongPassphrase"]


class SecretStoreError(MailroomError):
    """The keyring cannot be used."""


_home: Path | None = None
_unlocker: Callable[[Path], str | None] | None = None


def bind_data_folder(home: Path) -> None:
    """The data folder whose secrets file is used (``Store`` calls this)."""
    global _home
    _home = home


def set_unlocker(unlocker: Callable[[Path], str | None] | None) -> None:
    """What to call for the passphrase when the secrets file is locked (CLI only)."""
    global _unlocker
    _unlocker = unlocker


def secrets_path() -> Path | None:
    return secrets_file.path_in(_home) if _home is not None else None


@dataclass(frozen=True)
class Choice:
    """Which backend holds the secrets, and why."""

    kind: str  # "file" | "named" | "os"
    name: str  # in words
    why: str


def _os_keyring() -> KeyringBackend | None:
    if sys.platform == "darwin":
        from keyring.backends import macOS

        return macOS.Keyring()
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        try:
            from keyring.backends import SecretService

            SecretService.Keyring.priority  # noqa: B018  (raises when not usable)
            return SecretService.Keyring()  # type: ignore[no-untyped-call]
        except Exception:
            return None
    return None


def backend_choice() -> Choice:
    path = secrets_path()
    if path is not None and path.exists():
        return Choice("file", f"encrypted secrets file {path}", "the data folder has one")
    named = os.environ.get("PYTHON_KEYRING_BACKEND")
    if named:
        return Choice("named", named, "named in PYTHON_KEYRING_BACKEND")
    os_ring = _os_keyring()
    if os_ring is not None:
        return Choice("os", type(os_ring).__module__, "the system keyring is usable")
    where = str(path) if path is not None else "the data folder"
    return Choice("file", f"encrypted secrets file {where}", "no system keyring is usable")


def _unlock_file(path: Path) -> None:
    """Unlock through a key handed down, or the registered unlocker; else SecretsLocked."""
    if secrets_file.is_unlocked(path):
        return
    fd = os.environ.pop(KEY_FD_ENV, "")
    if fd.isdigit():
        with os.fdopen(int(fd), "rb") as pipe:
            key = pipe.read(64)
        secrets_file.unlock_with_key(path, key)
        return
    if _unlocker is not None:
        passphrase = _unlocker(path)
        if passphrase:
            secrets_file.unlock(path, passphrase)
            return
    secrets_file.need_key(path)  # raises SecretsLocked with the fix


def _backend(*, writing: bool = False) -> KeyringBackend:
    choice = backend_choice()
    if choice.kind == "file":
        path = secrets_path()
        if path is None or not path.exists():
            if writing:
                raise SecretStoreError(HELP, field="secrets", value=str(path or ""), fix="")
            return secrets_file.keyring_backend(path or Path(os.devnull))
        _unlock_file(path)
        return secrets_file.keyring_backend(path)
    if choice.kind == "os":
        found = _os_keyring()
        assert found is not None
        return found
    import keyring
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends
    ):
        raise SecretStoreError(HELP, field="keyring", value=name, fix="")
    if name in _PLAINTEXT and os.environ.get("PYTHON_KEYRING_BACKEND") != name:
        raise SecretStoreError(
            f"The keyring backend {name} keeps secrets in plain text and was not chosen "
            "explicitly. " + HELP,
            field="keyring",
            value=name,
        )
    return backend


def hand_down_key() -> tuple[dict[str, str], tuple[int, ...], Callable[[], None]]:
    """For a child ``mailroom`` process: (environment, fds to pass, after-start).

    When this process holds the unlocked secrets file, the key goes through a pipe
    (never the command line, the environment or a file); ``after-start`` closes our
    ends. Nothing to hand down: ({}, (), a no-op).
    """
    path = secrets_path()
    key = secrets_file.key_of_unlocked(path) if path is not None else None
    if key is None:
        return {}, (), lambda: None
    read_end, write_end = os.pipe()
    os.write(write_end, key)
    os.close(write_end)

    def after_start() -> None:
        os.close(read_end)

    return {KEY_FD_ENV: str(read_end)}, (read_end,), after_start


# ---------------------------------------------------------------- the secrets file


def _file_path() -> Path:
    path = secrets_path()
    if path is None:
        raise SecretStoreError("No data folder is open.", field="home")
    return path


def file_state() -> str:
    """ "absent", "locked" or "unlocked" (the encrypted secrets file of the data folder)."""
    path = _file_path()
    if not path.exists():
        return "absent"
    return "unlocked" if secrets_file.is_unlocked(path) else "locked"


def init_file(passphrase: str) -> Path:
    path = _file_path()
    secrets_file.create(path, passphrase)
    return path


def unlock_file(passphrase: str) -> None:
    secrets_file.unlock(_file_path(), passphrase)


def unlock_file_if_needed() -> None:
    """Unlock through the key handed down or the unlocker (CLI), if the file is used."""
    path = _file_path()
    if path.exists():
        _unlock_file(path)


def change_file_passphrase(old: str, new: str) -> None:
    secrets_file.change_passphrase(_file_path(), old, new)


def file_secret_count() -> int:
    return secrets_file.count(_file_path())


def _user(profile: str, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown secret kind {kind!r}")
    return f"{kind}:{profile}"


def set_secret(profile: str, kind: str, value: str) -> None:
    try:
        _backend(writing=True).set_password(SERVICE, _user(profile, kind), value)
    except MailroomError:
        raise
    except Exception as exc:  # keyring backends raise their own error types
        raise SecretStoreError(
            f"The keyring refused to store the {kind} of profile {profile!r} "
            f"({type(exc).__name__}).",
            field="keyring",
            value=profile,
            fix="unlock the keyring or check its configuration (docs/secrets.md).",
        ) from None


def get_secret(profile: str, kind: str) -> str | None:
    try:
        return _backend().get_password(SERVICE, _user(profile, kind))
    except MailroomError:
        raise
    except Exception as exc:
        raise SecretStoreError(
            f"The keyring could not be read for the {kind} of profile {profile!r} "
            f"({type(exc).__name__}).",
            field="keyring",
            value=profile,
            fix="unlock the keyring or check its configuration (docs/secrets.md).",
        ) from None


def delete_secret(profile: str, kind: str) -> None:
    import keyring.errors

    try:
        _backend().delete_password(SERVICE, _user(profile, kind))
    except keyring.errors.PasswordDeleteError:
        pass
