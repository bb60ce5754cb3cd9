"""``mailroom secrets ...``: the encrypted secrets file, and where a command gets its passphrase.

    mailroom secrets init                create the file (passphrase asked twice, or one line on stdin)
    mailroom secrets unlock              check the passphrase opens the file; nothing is kept
    mailroom secrets status [--json]     backend, file, locked or not, how many secrets
    mailroom secrets change-passphrase   new passphrase; the secrets are re-encrypted

A command line has no daemon to keep a file unlocked, so every command that needs a
secret unlocks the file for itself, once: from ``--passphrase-file PATH``, else
``$MAILROOM_PASSPHRASE_FILE``, else ``$CREDENTIALS_DIRECTORY/mailroom-passphrase``
(systemd's ``LoadCredential=``), else by asking on the terminal. With no terminal and
no credentials file it stops with a message and exit code 2; it never hangs.
``unlock`` therefore only checks a passphrase (e.g. the credentials file a cron job
will use). The passphrase is never read from the command line or the environment.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# The credentials file's rules live with the secrets doors (the doctor reads them too).
from mailing.changes.secrets import (
    CREDENTIAL_NAME,
    FILE_ENV,
    NoPassphrase,
    credentials_file,
    read_credentials_file,
)
from store.errors import MailroomError
from tui.context import Context, print_json

__all__ = [
    "CREDENTIAL_NAME",
    "FILE_ENV",
    "NoPassphrase",
    "credentials_file",
    "read_credentials_file",
]


def register(sub: Any) -> None:
    p = sub.add_parser("secrets", help="the encrypted secrets file: init, unlock, status")
    ssub = p.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    init = ssub.add_parser("init", help="create the encrypted secrets file in the data folder")
    source = init.add_mutually_exclusive_group()
    source.add_argument(
        "--passphrase-file",
        dest="init_passphrase_file",
        metavar="PATH",
        help="take the new passphrase from this file (one line, mode 0600): for scripts",
    )
    source.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the new passphrase from stdin (one line), also on a terminal",
    )
    init.set_defaults(handler=run_init)
    unlock = ssub.add_parser(
        "unlock", help="check that the passphrase (terminal or credentials file) opens the file"
    )
    unlock.set_defaults(handler=run_unlock)
    status = ssub.add_parser("status", help="which backend keeps the secrets, locked or not")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=run_status)
    change = ssub.add_parser("change-passphrase", help="choose a new passphrase")
    change.set_defaults(handler=run_change)


# ---------------------------------------------------------------- the passphrase source


def _tty() -> bool:
    return sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty()


def ask(prompt: str) -> str:
    import getpass

    return getpass.getpass(prompt)


def passphrase_source(option: str | None) -> Any:
    """The unlocker a command registers: credentials file, else the terminal, else stop."""

    def source(path: Path) -> str | None:
        found = credentials_file(option)
        if found is not None:
            return read_credentials_file(found)
        if _tty():
            return ask(f"Passphrase of the secrets file {path}: ")
        raise NoPassphrase(
            f"The secrets file {path} is locked, and there is no terminal to ask for its "
            "passphrase.",
            field="passphrase",
            value=str(path),
            fix="give --passphrase-file PATH (a file only you can read), set "
            f"{FILE_ENV}=PATH, or under systemd LoadCredential={CREDENTIAL_NAME}:PATH.",
        )

    return source


def install(option: str | None) -> None:
    from mailing.changes.secrets import set_passphrase_source

    set_passphrase_source(passphrase_source(option))


# ---------------------------------------------------------------- commands


def read_stdin_line(field: str) -> str:
    """One line of stdin as UTF-8 (a secret piped in); a sentence when it is not UTF-8."""
    stream = sys.stdin
    if stream is None or stream.closed:
        return ""
    raw = stream.buffer.readline() if hasattr(stream, "buffer") else stream.readline()
    if isinstance(raw, str):
        return raw.rstrip("\r\n")
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise MailroomError(
            f"The {field} given on stdin is not UTF-8 text; nothing was stored.",
            field=field,
            value="(not shown)",
            fix=f"give the {field} as UTF-8 text on one line.",
        ) from None


def _new_passphrase(what: str, file_option: str | None = None, stdin: bool = False) -> str:
    found = Path(file_option).expanduser() if file_option else None
    if found is not None:
        return read_credentials_file(found)
    if stdin:
        return read_stdin_line("passphrase")
    if _tty():
        first = ask(f"{what}: ")
        if ask("The same again: ") != first:
            raise MailroomError(
                "The two passphrases differ; nothing was changed.",
                field="passphrase",
                fix="run the command again and type the same passphrase twice.",
            )
        return first
    return read_stdin_line("passphrase")


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.secrets import create_secrets_file, secrets_backend

    ctx.open_data_folder()  # the secrets file goes there
    kind, name, _ = secrets_backend()
    if kind == "os":
        print(f"note: a system keyring ({name}) is usable; the secrets file replaces it here.")
    # The global --passphrase-file (before the command) is the file cron will use: it
    # may give the new passphrase too, so a script sets both up at once.
    file_option = args.init_passphrase_file or getattr(args, "passphrase_file", None)
    path = create_secrets_file(
        _new_passphrase("New passphrase for the secrets file", file_option, args.passphrase_stdin)
    )
    print(f"Created the encrypted secrets file {path}.")
    print("Keep the passphrase safe: without it the passwords in the file are lost.")
    print("Next: `mailroom profile set-password CODE`, then `mailroom doctor`.")
    return 0


def run_unlock(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.secrets import secrets_count, secrets_file_state, unlock_now

    ctx.open_data_folder()
    if secrets_file_state() == "absent":
        raise MailroomError(
            "The data folder has no secrets file.",
            field="secrets",
            value=str(ctx.home),
            fix="create one with `mailroom secrets init`.",
        )
    unlock_now()
    print(
        f"The passphrase opens the secrets file ({secrets_count()} secret(s)). "
        "Each command unlocks it for itself: nothing stays unlocked after this one."
    )
    return 0


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.secrets import secrets_backend, secrets_file_state

    ctx.open_data_folder()
    kind, name, why = secrets_backend()
    state = secrets_file_state()
    source = credentials_file(getattr(args, "passphrase_file", None))
    data = {
        "backend": kind,
        "name": name,
        "why": why,
        "secrets_file": state,
        "credentials_file": str(source) if source else None,
    }
    if args.json:
        print_json(data)
        return 0
    print(f"Secrets are kept in: {name} ({why}).")
    if kind == "file":
        words = {
            "absent": "not created yet: `mailroom secrets init`",
            "locked": "exists, locked (each command unlocks it with the passphrase)",
            "unlocked": "exists, unlocked",
        }
        print(f"Secrets file: {words[state]}.")
        print(
            f"Passphrase for unattended runs: {source}."
            if source
            else "Passphrase for unattended runs: none (the terminal is asked)."
        )
    return 0


def run_change(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.secrets import change_secrets_passphrase, secrets_file_state

    ctx.open_data_folder()
    if secrets_file_state() == "absent":
        raise MailroomError(
            "The data folder has no secrets file.",
            field="secrets",
            value=str(ctx.home),
            fix="create one with `mailroom secrets init`.",
        )
    if _tty():
        old = ask("Current passphrase: ")
    else:
        found = credentials_file(getattr(args, "passphrase_file", None))
        old = read_credentials_file(found) if found else _new_passphrase("")
    new = _new_passphrase("New passphrase")
    change_secrets_passphrase(old, new)
    print("The passphrase is changed; the secrets are encrypted with the new one.")
    print("Update the passphrase file of your cron job or systemd unit, if any.")
    return 0
