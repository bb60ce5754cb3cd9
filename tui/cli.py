"""The ``mailroom`` command line.

Every area of the product registers its commands from its own module (listed in
``COMMAND_MODULES``), each with ``register(subparsers)``; a command's handler is
``handler(args, ctx) -> int``. Errors meant for the user (``MailroomError``) are
printed as a message naming the field, the value and the fix, with exit code 2.
Anything unexpected is one sentence plus the path of a crash report in the data
folder, with exit code 70; never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tui.context import Context

COMMAND_MODULES: tuple[str, ...] = (
    "tui.commands_config",  # config export/import, db, demo, run (the TUI)
    "tui.commands_profile",  # profile ..., sink
    "tui.commands_documents",  # documents import/list, preview
    "tui.commands_templates",  # templates image add/remove/list
    "tui.commands_resolve",  # resolve
    "tui.commands_batch",  # batch ...
    "tui.commands_sending",  # send, sending pause/resume/status/redirect/history, resend
    "tui.commands_bounces",  # bounces fetch/setup
    "tui.commands_backup",  # backup create/send/verify, restore
    "tui.commands_mail",  # report, mail
    "tui.commands_secrets",  # secrets init/unlock/status/change-passphrase
    "tui.commands_audit",  # audit [--since]
    "tui.commands_doctor",  # doctor
    "tui.commands_init",  # init [--group NAME]
    "tui.commands_settings",  # settings show/set (the Settings pane from a script)
)

# The commands each module registers (tests/unit/test_cli_commands.py keeps this true):
# a command line naming one of them builds that module's parser alone, not all fifteen.
COMMANDS_OF: dict[str, tuple[str, ...]] = {
    "tui.commands_config": ("config", "db", "demo", "run"),
    "tui.commands_profile": ("profile", "sink"),
    "tui.commands_documents": ("documents", "preview"),
    "tui.commands_templates": ("templates",),
    "tui.commands_resolve": ("resolve",),
    "tui.commands_batch": ("batch",),
    "tui.commands_sending": ("resend", "send", "sending"),
    "tui.commands_bounces": ("bounces",),
    "tui.commands_backup": ("backup", "restore"),
    "tui.commands_mail": ("mail", "report"),
    "tui.commands_secrets": ("secrets",),
    "tui.commands_audit": ("audit",),
    "tui.commands_doctor": ("doctor",),
    "tui.commands_init": ("init",),
    "tui.commands_settings": ("settings",),
}
MODULE_OF = {command: module for module, names in COMMANDS_OF.items() for command in names}


Handler = Callable[[argparse.Namespace, Context], int]


def build_parser(commands: bool = True, only: str | None = None) -> argparse.ArgumentParser:
    """The parser; without ``commands``, only the global options (the TUI's fast start);
    with ``only`` (a module of ``COMMAND_MODULES``), the commands of that module alone."""
    parser = argparse.ArgumentParser(
        prog="mailroom",
        description="Send business documents by e-mail: set up, preview, approve, send.",
    )
    parser.add_argument("--home", help="data folder (default: $MAILROOM_HOME, else the platform's)")
    parser.add_argument(
        "--user", help="work under another name: only in a demo data folder (default: your login)"
    )
    parser.add_argument(
        "--passphrase-file",
        metavar="PATH",
        help="file holding the secrets file's passphrase, for cron and systemd "
        "(default: $MAILROOM_PASSPHRASE_FILE, else $CREDENTIALS_DIRECTORY/mailroom-passphrase)",
    )
    if not commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES if only is None else (only,):
        importlib.import_module(name).register(sub)
    return parser


GLOBAL_VALUE_OPTIONS = ("--home", "--user", "--passphrase-file")


def names_a_command(argv: Sequence[str]) -> bool:
    """Whether ``argv`` names a command or asks for help: else it opens the TUI, and
    the parser of every command module (~180 ms of imports) is not built."""
    return first_word(argv) is not None


def first_word(argv: Sequence[str]) -> str | None:
    """The first argument that is not a global option or its value: the command, --help,
    or something the full parser should judge; None when there is none."""
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in GLOBAL_VALUE_OPTIONS:
            if args:
                args.pop(0)  # its value
            continue
        if any(arg.startswith(f"{opt}=") for opt in GLOBAL_VALUE_OPTIONS):
            continue
        return arg
    return None


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser ``argv`` needs: the global options alone (the TUI), the one module of the
    command it names (~10-15 ms of imports less for `batch create`), else every command
    (help, a mistyped command: the full list of commands)."""
    word = first_word(argv)
    if word is None:
        return build_parser(commands=False)
    return build_parser(only=MODULE_OF.get(word))


# The commands that may create a data folder; every other one refuses a missing folder
# (a cron line without --home would otherwise send nothing from a new, empty folder).
CREATING_COMMANDS = ("init", "demo")


def make_context(args: argparse.Namespace) -> Context:
    """The data folder, and who is working: the OS account of this process (another name
    only in a demo folder private to it: mailing/identity.py)."""
    from mailing.identity import acting_user, login_user
    from store.store import resolve_home

    command = getattr(args, "command", None)
    home = resolve_home(args.home)
    user = acting_user(home, args.user, login_user(), loading_demo=command == "demo")
    if command not in CREATING_COMMANDS:
        need_existing_folder(home, args.home)
    return Context(home=home, user=user)


def need_existing_folder(home: Path, given: str | None) -> None:
    from store.errors import MailroomError
    from store.store import check_access

    if home.is_dir():
        check_access(home)
        return
    source = "--home" if given else ("MAILROOM_HOME" if os.environ.get("MAILROOM_HOME") else "")
    named = (
        f" (from {source})"
        if source
        else " (the default, as neither --home nor MAILROOM_HOME is set)"
    )
    raise MailroomError(
        f"The data folder {home}{named} does not exist; nothing was done.",
        field="home",
        value=str(home),
        fix=f"give the folder that holds your data with --home, or create a new one with "
        f"`mailroom --home {home} init` (or load the demo: `mailroom --home {home} demo`).",
    )


def refuse_without_terminal() -> None:
    """The TUI draws on a terminal: without one (cron, a pipe) it says so instead."""
    from store.errors import MailroomError

    for stream, name in ((sys.stdin, "input"), (sys.stdout, "output")):
        if stream is None or stream.closed or not stream.isatty():
            raise MailroomError(
                f"`mailroom` without a command opens the screen application, and its {name} "
                "is not a terminal.",
                field="terminal",
                value=name,
                fix="run it in a terminal (over SSH: ssh -t), or give a command, e.g. "
                "`mailroom send --due` or `mailroom --help`.",
            )


def permission_sentence(exc: PermissionError) -> str:
    """Who may not do what to which file, whose it is, and the fix: one sentence."""
    import grp
    import pwd

    from mailing.identity import login_user

    me = login_user()
    path = Path(str(exc.filename)) if exc.filename else None
    if path is None:
        return f"{me} is not allowed to do that ({exc.strerror}). Fix: run `mailroom doctor`."
    owner = group = "?"
    mode = ""
    for probe in (path, *path.parents):  # the first one this account may look at
        try:
            st = os.stat(probe)
        except OSError:
            continue
        path = probe
        with contextlib.suppress(KeyError):
            owner = pwd.getpwuid(st.st_uid).pw_name
        with contextlib.suppress(KeyError):
            group = grp.getgrgid(st.st_gid).gr_name
        mode = f", mode {st.st_mode & 0o7777:o}"
        break
    return (
        f"{me} may not read or change {path} ({exc.strerror}; it belongs to {owner}, "
        f"group {group}{mode}); changes are written whole or not at all. Fix: `mailroom doctor` "
        "names what is wrong; in a shared folder, the folder's owner or root runs "
        "`mailroom init --group GROUP` again."
    )


def main(argv: Sequence[str] | None = None) -> int:
    from store.errors import MailroomError

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = parser_for(argv)
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    ctx: Context | None = None
    try:
        ctx = make_context(args)
        from tui.commands_secrets import install

        install(args.passphrase_file)  # the TUI takes it back: it asks in its own dialog
        if handler is None:
            # No command: open the TUI.
            refuse_without_terminal()
            from tui.run import run_app

            return run_app(ctx)
        return handler(args, ctx)
    except MailroomError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except PermissionError as exc:  # the folder's permissions, not a fault of ours
        print(f"error: {permission_sentence(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # the error boundary: a sentence and a report, never a traceback
        from mailing.crash import crash_sentence, write_crash_report

        report = write_crash_report(ctx.home if ctx else None, exc, f"command {args.command}")
        print(f"error: {crash_sentence(exc, report)}", file=sys.stderr)
        return 70  # EX_SOFTWARE


if __name__ == "__main__":
    raise SystemExit(main())
