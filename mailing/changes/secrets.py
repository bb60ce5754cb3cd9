"""The doors for secrets: a profile's password and sign-in, through the keyring only."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from store.errors import MailroomError
from store.secrets_file import SecretsLocked, WrongPassphrase

if TYPE_CHECKING:
    from store.store import Store

__all__ = ["SecretsLocked", "WrongPassphrase"]


def store_password(profile: str, password: str) -> None:
    """Only the keyring; the callers log it (``set_profile_password``, ``save_profile``)."""
    from store.secrets import set_secret

    set_secret(profile, "password", password)


def set_profile_password(store: Store, code: str, password: str) -> str:
    """``mailroom profile set-password``: store it and log "store password" or "change
    password" (never the value). Returns the action logged."""
    from mailing.changes.audit import append

    had = had_password(code)
    store_password(code, password)
    action = "change password" if had else "store password"
    append(store.home, store.user, action, f"profile {code}")
    return action


def had_password(code: str) -> bool:
    """Whether a password is stored already (to log "change" or "store"); False when the
    keyring cannot tell (storing will then say why)."""
    from store.errors import MailroomError

    try:
        return has_secret(code, "password")
    except MailroomError:
        return False


def record_sign_in(store: Store, code: str, account: str) -> None:
    """An Office 365 sign-in kept for the profile (``mailroom profile login``): logged.
    The token refreshes while sending are not: they change no one's access."""
    from mailing.changes.audit import append

    append(store.home, store.user, "sign in", f"profile {code}", None, {"account": account})


def _log_file_event(action: str) -> None:
    """The secrets file created or its passphrase changed: logged in its data folder."""
    from mailing.changes.audit import append
    from store.secrets import secrets_path
    from store.store import default_user

    path = secrets_path()
    if path is not None and path.parent.is_dir():
        append(path.parent, default_user(), action, "secrets file")


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

    path = str(init_file(passphrase))
    _log_file_event("create secrets file")
    return path


def unlock_secrets(passphrase: str) -> None:
    """WrongPassphrase (a MailroomError) when it does not open the file."""
    from store.secrets import unlock_file

    unlock_file(passphrase)


def change_secrets_passphrase(old: str, new: str) -> None:
    from store.secrets import change_file_passphrase

    change_file_passphrase(old, new)
    _log_file_event("change passphrase")


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


# ---------------------------------------------------------------- the passphrase file
# Where an unattended command (cron, a systemd timer) finds the passphrase: read by the
# command line's passphrase source and checked by the doctor. Never an env var's value.

CREDENTIAL_NAME = "mailroom-passphrase"
FILE_ENV = "MAILROOM_PASSPHRASE_FILE"


class NoPassphrase(MailroomError):
    """The secrets file is locked and nothing here can give its passphrase."""


def credentials_file(option: str | None) -> Path | None:
    """The credentials file to read, in order: the option, the setting, systemd's."""
    if option:
        return Path(option).expanduser()
    if os.environ.get(FILE_ENV):
        return Path(os.environ[FILE_ENV]).expanduser()
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if directory and (Path(directory) / CREDENTIAL_NAME).is_file():
        return Path(directory) / CREDENTIAL_NAME
    return None


def read_credentials_file(path: Path) -> str:
    try:
        st = path.stat()
        systemd = os.environ.get("CREDENTIALS_DIRECTORY")
        if st.st_mode & 0o077 and not (systemd and path.parent == Path(systemd)):
            raise NoPassphrase(
                f"The passphrase file {path} can be read by others "
                f"(mode {st.st_mode & 0o777:o}); it was not used.",
                field="passphrase-file",
                value=str(path),
                fix=f"chmod 600 {path}",
            )
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise NoPassphrase(
            f"The passphrase file {path} is not UTF-8 text.",
            field="passphrase-file",
            value=str(path),
            fix="write the passphrase into it again as UTF-8 text (one line), e.g. with "
            "printf '%s\\n' \"$P\" > FILE on a UTF-8 terminal.",
        ) from None
    except OSError as exc:
        raise NoPassphrase(
            f"The passphrase file {path} cannot be read ({exc.strerror}).",
            field="passphrase-file",
            value=str(path),
            fix="give the path of a file holding only the passphrase, readable by you.",
        ) from None
    passphrase = text.rstrip("\r\n")
    if not passphrase:
        raise NoPassphrase(
            f"The passphrase file {path} is empty.",
            field="passphrase-file",
            value=str(path),
            fix="write the passphrase into it (one line).",
        )
    return passphrase


def try_passphrase_file(path: Path) -> str | None:
    """None when the file's passphrase opens the data folder's secrets file; else why not."""
    from store.secrets import secrets_path
    from store.secrets_file import unlock

    try:
        passphrase = read_credentials_file(path)
        target = secrets_path()
        if target is not None:
            unlock(target, passphrase)
    except MailroomError as exc:
        return exc.message
    return None
