"""The doors for secrets: a profile's password and sign-in, through the keyring only."""

from __future__ import annotations

import contextlib


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
