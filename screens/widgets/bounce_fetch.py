"""The TUI's "Fetch bounces" action: read a profile's mailbox for delivery reports in
a thread, and say in a notification what was found (or, in words, why not)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

    from store.store import Store


def _n(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def fetch_sentence(code: str, found: Any) -> str:
    kinds = ", ".join(
        f"{b.document.get('number', b.item)} ({b.recipient}: {b.reason})" for b in found.bounces[:3]
    )
    more = f" and {len(found.bounces) - 3} more" if len(found.bounces) > 3 else ""
    head = (
        f"{_n(len(found.bounces), 'bounce')} recorded ({_n(found.reports, 'delivery report')} "
        f"in {_n(found.read, 'message')} of profile {code})"
    )
    text = f"{head}: {kinds}{more}." if found.bounces else f"{head}."
    if found.delays:
        text += f" {_n(len(found.delays), 'delay')} noted: still sent, the server keeps trying."
    if found.unmatched:
        text += (
            f" {_n(found.unmatched, 'report')} proved nothing and changed nothing: "
            "see 'Unmatched delivery reports' in the command palette."
        )
    if found.unreadable:
        text += (
            f" {_n(len(found.unreadable), 'message')} could not be read and "
            "went to the folder 'Mailroom unreadable'."
        )
    return text


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


def unmatched_text(entries: list[dict[str, Any]], limit: int = 20) -> str:
    """The unmatched reports, newest first, each with why it changed nothing."""
    if not entries:
        return "No unmatched delivery reports: every report read so far proved what it said."
    lines = [
        f"{len(entries)} {'report' if len(entries) == 1 else 'reports'} changed nothing "
        "(they stay in the inbox):"
    ]
    for e in list(reversed(entries))[:limit]:
        when = str(e.get("at", ""))[:16].replace("T", " ")
        lines.append(
            f"{when} {e.get('profile', '')}: {e.get('subject') or '(no subject)'} "
            f"from {e.get('from') or '(no sender)'} - {e.get('reason', '')}"
        )
    if len(entries) > limit:
        lines.append(f"... and {len(entries) - limit} older: `mailroom bounces list --unmatched`.")
    return "\n".join(lines)


def show_unmatched(app: App[Any], store: Store) -> None:
    """The command palette's "Unmatched delivery reports"."""
    from mailing.bounces import UNMATCHED_FILE, listed
    from screens.widgets.modals import MessageModal

    text = unmatched_text(listed(store.home, UNMATCHED_FILE))
    app.push_screen(MessageModal("Unmatched delivery reports", text, error=False))
