"""The doors for secrets: a profile's password and sign-in, through the keyring only."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from store.secrets_file import SecretsLocked, WrongPassphrase

__all__ = ["SecretsLocked", "WrongPassphrase"]


def store_password(profile: str, password: str) -> None:
    from store.secrets import set_secret

    set_secret(profile, "password", password)


def move_password(old: str, new: str) -> None:
    """A renamed profile keeps its password."""
    from store.secrets import get_secret, set_secret

    moved = get_secret(old, "password")
    if moved:
        set_secret(new, "password", moved)


def forget_secrets(profile: str) -> None:
    """Remove what the keyring holds for a deleted profile (nothing there is fine)."""
    from store.secrets import KINDS, delete_secret

    for kind in KINDS:
        with contextlib.suppress(Exception):  # no keyring: nothing was stored there
            delete_secret(profile, kind)


def has_password(profile: str) -> bool:
    return has_secret(profile, "password")


def has_secret(profile: str, kind: str) -> bool:
    """Whether the keyring holds a secret of ``kind`` for the profile (never the secret)."""
    from store.secrets import get_secret

    return bool(get_secret(profile, kind))


# ---------------------------------------------------------------- the secrets file
# The encrypted secrets file of the data folder (docs/secrets.md): its state, and the
# passphrase doors the TUI's dialog and `mailroom secrets` use. Nothing here prompts.


def secrets_backend() -> tuple[str, str, str]:
    """(kind, name in words, why): "file", "named" (PYTHON_KEYRING_BACKEND) or "os"."""
    from store.secrets import backend_choice

    choice = backend_choice()
    return choice.kind, choice.name, choice.why


def secrets_file_state() -> str:
    """ "absent", "locked" or "unlocked"."""
    from store.secrets import file_state

    return file_state()


def create_secrets_file(passphrase: str) -> str:
    """A new encrypted secrets file (`mailroom secrets init`, the TUI's dialog)."""
    from store.secrets import init_file

    return str(init_file(passphrase))


def unlock_secrets(passphrase: str) -> None:
    """WrongPassphrase (a MailroomError) when it does not open the file."""
    from store.secrets import unlock_file

    unlock_file(passphrase)


def change_secrets_passphrase(old: str, new: str) -> None:
    from store.secrets import change_file_passphrase

    change_file_passphrase(old, new)


def secrets_count() -> int:
    from store.secrets import file_secret_count

    return file_secret_count()


def hand_down_secrets() -> tuple[dict[str, str], tuple[int, ...], Callable[[], None]]:
    """For a child `mailroom` process: the unlocked key through a pipe (see store.secrets)."""
    from store.secrets import hand_down_key

    return hand_down_key()


def set_passphrase_source(source: Callable[[Path], str | None] | None) -> None:
    """The command line's way to get the passphrase when a secret is needed."""
    from store.secrets import set_unlocker

    set_unlocker(source)


def unlock_now() -> None:
    """Unlock the secrets file, if it is the backend, through the passphrase source."""
    from store.secrets import unlock_file_if_needed

    if secrets_backend()[0] == "file":
        unlock_file_if_needed()
