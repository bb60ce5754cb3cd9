"""``mailroom profile ...`` and ``mailroom sink``: e-mail profiles (SPEC §1).

    mailroom profile list [--json]
    mailroom profile show CODE [--json]
    mailroom profile add CODE --sender ADDR [--server HOST] [--port N] [--security ...] ...
    mailroom profile set CODE [--server HOST] [--port N] ...
    mailroom profile set-password CODE      (from the terminal, or stdin when piped)
    mailroom profile set-password CODE --password-stdin   (one line on stdin: scripts)
    mailroom profile delete CODE            (its secrets are forgotten, logged)
    mailroom profile system CODE            (make it the system profile)
    mailroom profile login CODE             (Office 365 device-code sign-in)
    mailroom profile test CODE [--to ADDR]
    mailroom sink [--host 127.0.0.1] [--port 2525] [--maildir DIR]

Secrets go to the keyring only; nothing here prints one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.records import Profile
    from tui.context import Context

# (option, field, type, help) for every settable profile field.
_FIELDS: list[tuple[str, str, Any, str]] = [
    ("--description", "description", str, "what the profile is for"),
    ("--system", "system", str, "smtp or outbox"),
    ("--server", "server", str, "SMTP host name"),
    ("--port", "port", int, "SMTP port (default 587 for starttls, 465 for tls, 25 for none)"),
    ("--security", "security", str, "starttls, tls or none (none: unencrypted, warned)"),
    ("--sender", "sender", str, "the From address"),
    ("--sender-name", "sender_name", str, "the From display name"),
    ("--username", "username", str, "the login (default: the sender)"),
    ("--auth", "auth", str, "password, oauth2-office365 or none (none: warned)"),
    ("--reply-to", "reply_to", str, "Reply-To address"),
    ("--bcc", "bcc", str, "Bcc address(es), e.g. the sender itself to keep a copy"),
    ("--rate", "rate_per_minute", int, "at most this many messages a minute (0: no limit)"),
    ("--max-bytes", "max_message_bytes", int, "largest message the server takes (0: no limit)"),
    ("--ca-file", "ca_file", str, "extra CA certificate file (PEM) to trust"),
    ("--timeout", "timeout_seconds", float, "seconds for each network step"),
    ("--outbox-dir", "outbox_dir", str, "outbox system: the folder (relative to the data folder)"),
    ("--oauth-tenant", "oauth_tenant", str, "Office 365: tenant id or domain"),
    ("--oauth-client-id", "oauth_client_id", str, "Office 365: application (client) id"),
    ("--oauth-authority", "oauth_authority", str, "Office 365: sign-in host (tests only)"),
]
_DEFAULT_PORT = {"starttls": 587, "tls": 465, "none": 25}


def register(sub: Any) -> None:
    p = sub.add_parser("profile", help="e-mail profiles: list, add, set, test, sign in")
    psub = p.add_subparsers(dest="profile_command", metavar="ACTION", required=True)

    lst = psub.add_parser("list", help="list the profiles")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=run_list)

    show = psub.add_parser("show", help="show one profile, with its warnings")
    show.add_argument("code", metavar="CODE")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)

    add = psub.add_parser("add", help="add a profile")
    add.add_argument("code", metavar="CODE")
    _field_options(add)
    html = add.add_mutually_exclusive_group()
    html.add_argument("--html", dest="html", action="store_true", default=None)
    html.add_argument("--plain", dest="html", action="store_false", help="send plain text only")
    add.set_defaults(handler=run_add)

    st = psub.add_parser("set", help="change fields of a profile")
    st.add_argument("code", metavar="CODE")
    _field_options(st)
    html = st.add_mutually_exclusive_group()
    html.add_argument("--html", dest="html", action="store_true", default=None)
    html.add_argument("--plain", dest="html", action="store_false", help="send plain text only")
    st.set_defaults(handler=run_set)

    pw = psub.add_parser(
        "set-password",
        help=(
            "store the profile's password (in the system keyring or the encrypted secrets "
            "file; read from the terminal or stdin)"
        ),
    )
    pw.add_argument("code", metavar="CODE")
    pw.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (one line), also on a terminal: for scripts",
    )
    pw.set_defaults(handler=run_set_password)

    rm = psub.add_parser("delete", help="delete a profile nothing uses; its secrets are forgotten")
    rm.add_argument("code", metavar="CODE")
    rm.set_defaults(handler=run_delete)

    system = psub.add_parser("system", help="make this profile the system profile (SPEC §5.4)")
    system.add_argument("code", metavar="CODE")
    system.set_defaults(handler=run_system)

    login = psub.add_parser("login", help="Office 365: sign in with a device code (fits SSH)")
    login.add_argument("code", metavar="CODE")
    login.set_defaults(handler=run_login)

    test = psub.add_parser("test", help="send a test message to yourself, or to --to")
    test.add_argument("code", metavar="CODE")
    test.add_argument("--to", metavar="ADDR", help="send it here instead of to the sender")
    test.set_defaults(handler=run_test)

    sink = sub.add_parser(
        "sink",
        help="run a local SMTP server that stores what it receives in a Maildir",
        description="A capturing SMTP server for trying profiles out (no TLS, no login). "
        "Point a profile at it with --security none --auth none.",
    )
    sink.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    sink.add_argument("--port", type=int, default=2525)
    sink.add_argument("--maildir", help="where to store messages (default: <home>/sink)")
    sink.set_defaults(handler=run_sink)


def _field_options(parser: argparse.ArgumentParser) -> None:
    for option, field, kind, help_text in _FIELDS:
        parser.add_argument(option, dest=f"f_{field}", type=kind, default=None, help=help_text)


def _given(args: argparse.Namespace) -> dict[str, Any]:
    out = {field: getattr(args, f"f_{field}") for _, field, _, _ in _FIELDS}
    out = {k: v for k, v in out.items() if v is not None}
    if getattr(args, "html", None) is not None:
        out["html"] = args.html
    return out


def _get(ctx: Context, code: str) -> Profile:
    from mailing.transports.profiles import stored_profile

    return stored_profile(ctx.store, code)


def _summary(profile: Profile) -> dict[str, Any]:
    from mailing.changes.secrets import has_secret
    from store.errors import MailroomError

    data = profile.dump()
    try:
        if profile.auth == "password":
            data["password_stored"] = has_secret(profile.code, "password")
        elif profile.auth == "oauth2-office365":
            data["signed_in"] = has_secret(profile.code, "oauth-cache")
    except MailroomError as exc:
        data["keyring"] = exc.message
    return data


def _print_warnings(profile: Profile) -> None:
    from mailing.transports.profiles import profile_warnings

    for text in profile_warnings(profile):
        print(f"warning: {text}")


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    from store.records import Profile
    from tui.context import print_json

    profiles = sorted(ctx.store.all(Profile), key=lambda p: p.code)
    if args.json:
        print_json([p.dump() for p in profiles])
        return 0
    if not profiles:
        print("No profiles yet. Add one with `mailroom profile add CODE --sender ADDRESS ...`.")
        return 0
    for p in profiles:
        where = (p.outbox_dir or "outbox/") if p.system == "outbox" else f"{p.server}:{p.port}"
        print(f"{p.code:<12} {p.system:<7} {p.sender:<32} {where} ({p.security}, auth {p.auth})")
    return 0


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.transports.profiles import profile_warnings
    from tui.context import print_json

    profile = _get(ctx, args.code)
    data = _summary(profile)
    if args.json:
        data["warnings"] = profile_warnings(profile)
        print_json(data)
        return 0
    for key, value in data.items():
        print(f"{key:<18} {value}")
    _print_warnings(profile)
    return 0


def run_add(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import add_profile
    from store.records import Profile

    fields = _given(args)
    if "port" not in fields:
        fields["port"] = _DEFAULT_PORT.get(str(fields.get("security", "starttls")), 587)
    profile = Profile.parse({"code": args.code, **fields})
    add_profile(ctx.store, profile)
    print(f"Added profile {profile.code}.")
    _print_warnings(profile)
    if profile.system == "smtp" and profile.auth == "password":
        print(
            f"Next: `mailroom profile set-password {profile.code}`, then "
            f"`mailroom profile test {profile.code}`."
        )
    elif profile.auth == "oauth2-office365":
        print(
            f"Next: `mailroom profile login {profile.code}`, then "
            f"`mailroom profile test {profile.code}`."
        )
    return 0


def run_set(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import update_profile

    fields = _given(args)
    current = _get(ctx, args.code)
    if "security" in fields and "port" not in fields:
        old_default = _DEFAULT_PORT.get(current.security)
        if current.port == old_default:
            fields["port"] = _DEFAULT_PORT[fields["security"]]
    profile = update_profile(ctx.store, args.code, fields)
    print(f"Changed profile {profile.code}: {', '.join(sorted(fields)) or 'nothing'}.")
    _print_warnings(profile)
    return 0


def run_set_password(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.secrets import set_profile_password
    from mailing.errors import ConfigError
    from tui.commands_secrets import read_stdin_line

    profile = _get(ctx, args.code)
    if not args.password_stdin and sys.stdin is not None and sys.stdin.isatty():
        import getpass

        password = getpass.getpass(
            f"Password for profile {profile.code} ({profile.username or profile.sender}): "
        )
    else:
        password = read_stdin_line("password")
    if not password:
        raise ConfigError(
            "No password was given; nothing was stored.",
            field="password",
            value="",
            fix=f"run `mailroom profile set-password {profile.code}` and type the password "
            "(or pipe it in on one line with --password-stdin).",
        )
    set_profile_password(ctx.store, profile.code, password)
    del password
    print(
        f"Password stored for profile {profile.code} "
        "(`mailroom secrets status` says where: the system keyring or the encrypted file)."
    )
    if profile.auth != "password":
        print(
            f"warning: profile {profile.code} uses authentication {profile.auth!r}; the "
            "password is not used until it is set to 'password'."
        )
    return 0


def run_delete(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import delete_profile

    _get(ctx, args.code)
    delete_profile(ctx.store, args.code)
    print(f"Deleted profile {args.code}; its password or sign-in is forgotten.")
    return 0


def run_system(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.config import set_system_profile

    set_system_profile(ctx.store, args.code)
    print(f"Profile {args.code} is the system profile: it sends when nothing else is set.")
    return 0


def run_login(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.transports.office365 import finish_device_login, start_device_login

    profile = _get(ctx, args.code)
    flow = start_device_login(profile, ctx.home)
    print(
        flow.get("message")
        or f"To sign in, open {flow['verification_uri']} and enter the code {flow['user_code']}."
    )
    minutes = int(flow.get("expires_in", 900)) // 60
    print(f"Waiting for the sign-in (the code is valid for {minutes} minutes; Ctrl-C stops)...")
    sys.stdout.flush()
    user = finish_device_login(profile, ctx.home, flow)
    from mailing.changes.secrets import record_sign_in

    record_sign_in(ctx.store, profile.code, str(user))
    print(
        f"Signed in as {user}; the sign-in is kept with the passwords for profile "
        f"{profile.code} (`mailroom secrets status` says where)."
    )
    return 0


def run_test(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.transports.profiles import test_profile

    result = test_profile(ctx.store, args.code, args.to)
    if result.ok:
        print(f"OK: {result.message}")
        return 0
    diag = result.diagnosis
    if diag is None:
        print(f"FAILED: {result.message}")
        return 1
    print(f"FAILED: {diag.title}")
    if diag.explanation and diag.explanation != diag.title:
        print(diag.explanation)
    print(f"Fix: {diag.fix}")
    if diag.raw:
        print(f"Server reply: {diag.raw}")
    return 1


def run_sink(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.transports.sink import run_sink as serve

    maildir = Path(args.maildir).expanduser() if args.maildir else ctx.home / "sink"
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}, not only on this computer.")
    serve(args.host, args.port, maildir, announce=lambda text: print(text, flush=True))
    return 0
