"""One message's try: offered to its waiting recipients, retried with back-off,
and settled (sent, failed, deferred, unknown, paused) by one change of state.

"Sent" means every To and Cc recipient took it (:mod:`mailing.sending.delivery`); a 4xx for
some recipients is retried for those only, with the same bytes; who took it is
logged before anyone is offered it again, so nobody gets it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mailing.sending.delivery import Recipients, refusal_sentence, waiting_sentence
from mailing.sending.send_breaker import network_failure, stop_asked
from mailing.sending.send_state import MAX_DEFERRED_IN_A_ROW, ProfileState, SendOptions, SendReport
from mailing.transports.dsn import envelope_id
from store.spool import Batch, State

if TYPE_CHECKING:
    from mailing.transports import TransportError


def send_one(
    batch: Batch,
    item: str,
    meta: dict[str, Any],
    raw: bytes,
    st: ProfileState,
    opts: SendOptions,
    report: SendReport,
    outcome: Callable[[str, str, str], None],
    route: Route,
) -> None:
    from mailing.transports import SendResult, TransportError

    env = meta["envelope"]
    mail_from, rcpts = env["mail_from"], route.rcpts(item, env)
    # Each recipient's reply over every attempt; a retry goes to those still waiting.
    # Who got an earlier message of the document (a failed or bounced one) is not
    # offered it again (meta "delivered_before", unless resent to everyone).
    took = set(route.delivered.get(item, ()))
    if not route.redirect:
        took |= set(meta.get("delivered_before") or ())
    who = Recipients.start({} if route.redirect else meta, rcpts, took)
    if not route.redirect and who.customers and who.customers <= set(who.delivered):
        doc = meta.get("document") or {}
        why = (
            f"every recipient got this document before ({', '.join(sorted(who.customers))}); "
            f"to send it to everyone again: `mailroom resend {doc.get('type', 'TYPE')} "
            f"{doc.get('number', 'NUMBER')} --everyone`"
        )
        _settle(batch, item, State.FAILED, {"event": "refused", "error": why})
        outcome(item, "refused", why)
        return
    envid = envelope_id(batch.id, item)
    attempt = 0
    last_reply = ""
    while who.pending:
        if attempt and stop_asked(opts):
            # Stopped in a back-off wait: back to approved (whoever took it is logged,
            # and not offered it again).
            requeued = {"event": "requeued", "detail": "stopped on request"}
            _settle(batch, item, State.APPROVED, requeued)
            report.stopped = True
            outcome(item, "stopped", "stopped on request; still approved")
            return
        attempt += 1
        st.wait_turn(opts.sleep)
        try:
            result = st.get().send(raw, mail_from, list(who.pending), envid)
        except TransportError as exc:
            if exc.stage == "rcpt" and exc.refused and not exc.maybe_sent:
                # Nobody took it; each refused recipient's reply is what counts (those
                # not answered, after a 421, wait like the 4xx ones).
                unanswered = {r: (exc.code or 421, exc.reply) for r in who.pending}
                result = SendResult([], {**unanswered, **exc.refused}, exc.reply)
            else:
                _transport_failure(batch, item, st, opts, report, outcome, attempt, exc, who)
                if exc.kind in ("temporary", "network") and not exc.maybe_sent:
                    if attempt <= len(opts.backoff) and not st.paused:
                        continue
                return
        st.network_failures = 0
        who.take(result.accepted, result.refused)
        last_reply = result.reply or last_reply
        if result.refused or attempt > 1:
            # Each recipient's reply, when not all took it at once (else the "sent"
            # event says it); who took it is durable before anyone is offered it again.
            replies = {
                "item": item,
                "event": "recipients",
                "state": "sending",
                "attempt": attempt,
                "accepted": result.accepted,
                "refused": {r: list(v) for r, v in result.refused.items()},
            }
            batch.log(replies, sync=bool(result.accepted and who.pending))
        if who.pending and attempt <= len(opts.backoff):
            report.retries += 1
            wait = opts.backoff[attempt - 1]
            batch.log({"item": item, "event": "retry", "state": "sending", "retry_in": wait})
            opts.sleep(wait)
            continue
        break
    st.deferred_in_a_row = 0
    verdict = who.verdict()
    common = {
        "attempt": attempt,
        "profile": st.profile.code,
        "envid": envid,
        "message_id": meta.get("message_id"),
        "accepted": who.delivered,
        "refused": {r: list(v) for r, v in {**who.refused, **who.waiting}.items()},
    }
    if route.redirect:
        common["redirected_to"] = route.redirect
    if verdict == "failed":
        # "Sent" means every To and Cc recipient took it (mailing/sending/delivery.py).
        why = refusal_sentence(who.customers_refused, who.delivered)
        _settle(batch, item, State.FAILED, {"event": "recipients-refused", "error": why, **common})
        outcome(item, "failed", why)
        return
    if verdict == "waiting":
        why = waiting_sentence(who.customers_waiting, who.delivered)
        later = {"event": "recipients-deferred", "error": why, "deferred": True, **common}
        _settle(batch, item, State.APPROVED, later)
        outcome(item, "deferred", why)
        _count_deferral(st, report, why)
        return
    # Only now: the server has taken it for every customer. Durable at the next
    # chunk's sync (before its first byte goes out) or at the end of the batch.
    sent = {"event": "sent", "reply": last_reply, **common}
    _settle(batch, item, State.SENT, sent, durable=False)
    detail = ""
    if who.refused or who.waiting:
        detail = "refused by the server for: " + ", ".join(
            f"{r} ({c} {m})" for r, (c, m) in {**who.refused, **who.waiting}.items()
        )
    if route.redirect:
        detail = f"redirected to {route.redirect} (test mode)" + (f"; {detail}" if detail else "")
    outcome(item, "sent", detail)


def _settle(
    batch: Batch, item: str, to: State, event: dict[str, Any], *, durable: bool = True
) -> None:
    """The end of an item's try: its outcome (the server's reply, who took it, why
    not) written to the log first, then the rename out of ``sending/``; a kill
    between the two is completed by the next start's recovery, so every item that
    reached ``sent/`` has its reply in the log."""
    batch.advance(item, State.SENDING, to, event, durable=durable, event_first=True)


def _count_deferral(st: ProfileState, report: SendReport, why: str) -> None:
    st.deferred_in_a_row += 1
    if st.deferred_in_a_row >= MAX_DEFERRED_IN_A_ROW:
        st.paused = f"{MAX_DEFERRED_IN_A_ROW} messages in a row failed temporarily: {why}"
        report.paused_profiles[st.profile.code] = st.paused


def _transport_failure(
    batch: Batch,
    item: str,
    st: ProfileState,
    opts: SendOptions,
    report: SendReport,
    outcome: Callable[[str, str, str], None],
    attempt: int,
    exc: TransportError,
    who: Recipients,
) -> None:
    """A failure of the whole message (connection, MAIL, DATA, login): retried while
    the back-off lasts (the caller loops), else settled here."""
    ev: dict[str, Any] = {
        "item": item,
        "event": "attempt-failed",
        "attempt": attempt,
        "profile": st.profile.code,
        "kind": exc.kind,
        "code": exc.code,
        "reply": exc.reply,
        "stage": exc.stage,
        "error": exc.diagnosis.title,
    }
    if exc.refused:
        ev["refused"] = {r: list(v) for r, v in exc.refused.items()}
    if who.delivered:
        ev["accepted"] = who.delivered
    if exc.kind in ("temporary", "network"):
        if exc.maybe_sent:
            _settle(batch, item, State.UNKNOWN, ev)
            outcome(
                item,
                "unknown",
                "the connection dropped after the message data; it may have been delivered",
            )
            return
        if exc.kind == "network" and network_failure(st.home, st, report, exc):
            # The server could not be reached a few times in a row: stop trying it.
            _settle(batch, item, State.APPROVED, {**ev, "deferred": True, "paused_profile": True})
            outcome(item, "paused", str(st.paused))
            return
        if attempt <= len(opts.backoff):
            batch.log({**ev, "state": "sending", "retry_in": opts.backoff[attempt - 1]})
            report.retries += 1
            opts.sleep(opts.backoff[attempt - 1])
            return
        # Outlasted the back-off: back to approved, for a later run.
        _settle(batch, item, State.APPROVED, {**ev, "deferred": True})
        outcome(item, "deferred", str(exc))
        _count_deferral(st, report, str(exc))
        return
    if exc.kind == "permanent":
        _settle(batch, item, State.FAILED, ev)
        outcome(item, "failed", str(exc))
        st.deferred_in_a_row = 0
        return
    # auth, tls, config: nothing was sent, and every message of this
    # profile would fail alike: pause the profile after this first one.
    _settle(batch, item, State.APPROVED, {**ev, "paused_profile": True})
    st.paused = str(exc)
    st.close()
    report.paused_profiles[st.profile.code] = st.paused
    outcome(item, "paused", st.paused)


@dataclass
class Route:
    """Where a batch's messages go in this run: their own envelope, or (test mode)
    the one redirect address; and who took each item in an earlier attempt."""

    redirect: str | None
    delivered: dict[str, set[str]]

    def rcpts(self, item: str, env: dict[str, Any]) -> list[str]:
        return [self.redirect] if self.redirect else list(env["rcpts"])
