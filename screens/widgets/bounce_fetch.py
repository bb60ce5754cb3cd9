"""The TUI's "Fetch bounces" action: read a profile's mailbox for delivery reports in
a thread, and say in a notification what was found (or, in words, why not)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

    from store.store import Store


def fetch_sentence(code: str, found: Any) -> str:
    kinds = ", ".join(
        f"{b.document.get('number', b.item)} ({b.kind}: {b.reason})" for b in found.bounces[:3]
    )
    more = f" and {len(found.bounces) - 3} more" if len(found.bounces) > 3 else ""
    head = (
        f"{len(found.bounces)} bounce(s) recorded ({found.reports} delivery report(s) in "
        f"{found.read} message(s) of profile {code})"
    )
    return f"{head}: {kinds}{more}." if found.bounces else f"{head}."


def fetch_in_background(app: App[Any], store: Store, code: str) -> None:
    """Run `bounces fetch --profile CODE` without blocking the screen; the result (or,
    in words, why the mailbox could not be read) is shown in a message."""
    from screens.widgets.modals import MessageModal, error_text

    def show(title: str, text: str, error: bool) -> None:
        app.push_screen(MessageModal(title, text, error=error))

    def work() -> None:
        from mailing.bounces import fetch_bounces
        from store.errors import MailroomError

        try:
            found = fetch_bounces(store, code, http_client=getattr(app, "oauth_http_client", None))
        except MailroomError as exc:
            app.call_from_thread(show, "Bounces not read", error_text(exc), True)
            return
        app.call_from_thread(show, "Bounces", fetch_sentence(code, found), False)

    app.notify(f"Reading the mailbox of profile {code}…", timeout=3)
    # Anything else is a bug: the worker's error goes to the app's one failure handler.
    app.run_worker(work, thread=True, group="bounces")
