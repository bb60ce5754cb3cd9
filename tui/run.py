"""Starting the app from the command line, and its exit code when it ends."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.app import MailroomApp
    from tui.context import Context


def build_app(ctx: Context, first_pane: str = "profiles") -> MailroomApp:
    from tui.app import MailroomApp
    from tui.keymap import find_keymap, load_keymap
    from tui.panes import all_binding_ids

    keymap: dict[str, str] = {}
    warnings: list[str] = []
    if find_keymap(ctx.home) is not None:
        keymap, _ = load_keymap(ctx.home, all_binding_ids(), warn=warnings.append)
    app = MailroomApp(ctx.store, ctx.user, keymap=keymap, first_pane=first_pane)
    app.start_warnings = warnings
    return app


def run_app(ctx: Context, first_pane: str = "profiles") -> int:
    """What `mailroom` with no command runs (`mailroom demo` opens on the documents)."""
    from mailing.changes.secrets import set_passphrase_source

    set_passphrase_source(None)  # never a prompt on the terminal: the TUI has its dialog
    # The terminal gone (an SSH connection dropped, a tmux pane killed): the TUI ends,
    # whatever it was started with. Started under `nohup` or from a job that ignores
    # SIGHUP, it would live on with no terminal to draw on; a send it started goes on in
    # a session of its own (screens/queue_send.py).
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    app = build_app(ctx, first_pane=first_pane)
    result = app.run()
    return ended(app, result)


def ended(app: MailroomApp, result: object) -> int:
    """The exit code; when the app had to end on an error, the sentence on the terminal."""
    import sys

    from screens.textual_adapter import ended_on
    from tui.boundary import FATAL_EXIT

    sentence = app.failure_boundary.fatal_sentence
    code = result if isinstance(result, int) else (app.return_code or 0)
    error = ended_on(app)
    if sentence is None and code != 0 and error is not None:  # Textual's own end
        from mailing.crash import crash_sentence, write_crash_report

        sentence = crash_sentence(error, write_crash_report(app.store.home, error, "the TUI"))
    if sentence is not None:
        print(f"error: {sentence}", file=sys.stderr)
        return FATAL_EXIT
    return code
