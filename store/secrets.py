"""Secrets (SMTP passwords, OAuth token caches) in the OS keyring, keyed by profile code.

Never in the data file, a log, a trace or an error message. When no usable
keyring backend exists (the usual case on a headless server over SSH) the error
says what to install or configure; a plain-text backend is never chosen silently.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from store.errors import MailroomError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "mailroom"
KINDS = ("password", "oauth-cache")

HELP = (
    "No usable keyring backend was found, so Mailroom cannot keep passwords safely. "
    "On a headless server, install an encrypted file keyring: "
    "`pip install keyrings.cryptfile`, then set "
    "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring and "
    "KEYRING_CRYPTFILE_PASSWORD in the environment of the user (or cron job) that runs "
    "Mailroom. See docs/secrets.md."
)

# Backends that store secrets readable by anyone who reads the file.
_PLAINTEXT = ("keyrings.alt.file.PlaintextKeyring", "keyring.backends.fail.Keyring")


class SecretStoreError(MailroomError):
    """The keyring cannot be used."""


def _backend() -> KeyringBackend:
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


def _user(profile: str, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown secret kind {kind!r}")
    return f"{kind}:{profile}"


def set_secret(profile: str, kind: str, value: str) -> None:
    try:
        _backend().set_password(SERVICE, _user(profile, kind), value)
    except SecretStoreError:
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
    except SecretStoreError:
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
