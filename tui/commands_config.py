"""Commands: config export/import, db check/restore-copy, demo, and `run` (the TUI)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from store.errors import MailroomError
from tui.context import Context


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = sub.add_parser("config", help="export or import the whole configuration (no secrets)")
    csub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    exp = csub.add_parser("export", help="print the configuration as JSON, or write it to FILE")
    exp.add_argument("file", nargs="?", help="file to write (default: standard output)")
    exp.set_defaults(handler=config_export)
    imp = csub.add_parser("import", help="replace the configuration with FILE; all or nothing")
    imp.add_argument("file", help="a file made by `mailroom config export` ('-' for stdin)")
    imp.set_defaults(handler=config_import)

    db = sub.add_parser("db", help="check the database files, or restore a good copy")
    dsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    chk = dsub.add_parser("check", help="open every database file and report")
    chk.set_defaults(handler=db_check)
    rc = dsub.add_parser("restore-copy", help="replace a damaged database with its last good copy")
    rc.add_argument("--documents", action="store_true", help="the documents database")
    rc.set_defaults(handler=db_restore_copy)

    demo = sub.add_parser("demo", help="load the demo installation, then open the TUI")
    demo.add_argument("--no-tui", action="store_true", help="only load the demo data")
    demo.set_defaults(handler=demo_cmd)

    run = sub.add_parser("run", help="open the TUI (the same as no command)")
    run.set_defaults(handler=run_cmd)


def config_export(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.files import export_config_json

    text = export_config_json(ctx.store)
    if args.file:
        from mailing.changes.files import write_user_file

        write_user_file(Path(args.file), text.encode())
        print(f"configuration written to {args.file}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def config_import(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import import_config
    from mailing.changes.safejson import MAX_JSON_BYTES, load_json

    source = "standard input" if args.file == "-" else args.file
    fix = "check the path; it should be a file made by `mailroom config export`."
    try:
        if args.file == "-":
            raw = sys.stdin.buffer.read(MAX_JSON_BYTES + 1)
        else:
            with open(args.file, "rb") as fh:
                raw = fh.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise MailroomError(
            f"The file {source} cannot be read ({exc.strerror}).",
            field="file",
            value=source,
            fix=fix,
        ) from None
    data = load_json(raw, source, fix="use a file made by `mailroom config export`.")
    n = import_config(ctx.store, data, source)
    print(f"imported {n} configuration records from {source}")
    return 0


def db_check(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store
    db = store.config_db
    data = db.load(fresh=True)
    counts = ", ".join(f"{t}: {len(v)}" for t, v in sorted(data.items())) or "empty"
    print(f"{db.path}: ok ({counts}); good copies: {len(db.good_copies())}")
    docs = store.documents
    with docs.view() as tx:  # every month's file is read: a damaged one is named
        n, months = tx.count(), len(tx.periods())
    print(
        f"{docs.path}: ok (documents: {n} in {months} month(s)); "
        f"good copies: {len(docs.good_copies())}"
    )
    return 0


def db_restore_copy(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.files import restore_database_copy

    path, chosen = restore_database_copy(ctx.home, args.documents)
    print(f"{path} restored from {chosen}; the damaged file was kept as {path.name}.damaged")
    return 0


def demo_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.demo import DEMO_USER, load_demo

    n_config, n_docs = load_demo(ctx.store)
    print(
        f"demo loaded into {ctx.home}: {n_config} configuration records, {n_docs} documents; "
        f"outbox profiles deliver into {ctx.home / 'outbox'}"
    )
    print(f"tip: `mailroom --home {ctx.home} --user {DEMO_USER}` works as the demo user")
    if args.no_tui:
        return 0
    from tui.cli import refuse_without_terminal
    from tui.run import run_app

    refuse_without_terminal()
    return run_app(ctx, first_pane="documents")


def run_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from tui.cli import refuse_without_terminal
    from tui.run import run_app

    refuse_without_terminal()
    return run_app(ctx)
