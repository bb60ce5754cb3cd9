"""The send engine: approved messages out of the spool, each exactly once.

The rules (DESIGN.md, "Sending"):

- One sender per data folder (:meth:`store.spool.Spool.sender_lock`); a second
  one is told who is sending.
- At start, every message left in ``sending/`` goes to ``unknown/`` and waits
  for an admin (``batch resend`` or ``batch mark-sent``).
- A message is sent only if its bytes still hash to what was approved, and its
  template and letterhead are those it was built with.
- Per profile: one reused connection, a rate limit, temporary errors (4xx,
  network) retried with bounded back-off, permanent ones (5xx) failed at once,
  per recipient; an authentication (or TLS, or configuration) failure pauses
  that profile's remaining messages after the first.
- The claim (approved -> sending) is made durable before the message goes out
  (one fsync per chunk of claims); an ``attempt`` event is written just before a
  message is offered, so the next start can tell the one message that was in
  flight (-> ``unknown``) from those only claimed (-> back to ``approved``), see
  :meth:`store.spool.Batch.recover`. A message is moved to ``sent/`` only after
  the server accepted it. A drop after the message data and before the reply
  puts it in ``unknown/``.
- Every change of state is one :meth:`store.spool.Batch.advance`, checked against
  the spool's table of allowed moves (:data:`store.spool.TRANSITIONS`); the
  durable ones (an outcome that ends an item's try) are fsynced before the next
  message, the claims and the ``sent`` outcomes once per chunk.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.admin_actions import mark_sent as mark_sent
from mailing.admin_actions import resend as resend
from mailing.config import ConfigSnapshot

# resend and mark_sent are an admin's say after a send; imported from here by the doors.
from mailing.delivery import Recipients, delivered_before, refusal_sentence, waiting_sentence
from mailing.fingerprint import changed_since_build
from mailing.transports.dsn import envelope_id
from store.errors import MailroomError
from store.records import Profile
from store.spool import Batch, Spool, State, boot_id, sha256_bytes

if TYPE_CHECKING:
    from mailing.transports import Transport, TransportError
    from store.store import Store

# Seconds to wait before each retry of a temporary failure; the number of
# retries is the length. MAILROOM_SEND_BACKOFF="0.01,0.02" overrides it (tests).
DEFAULT_BACKOFF: tuple[float, ...] = (5.0, 30.0, 120.0)
# After this many messages of one profile in a row were deferred (temporary
# failures that outlasted the back-off), the profile is paused for this run.
MAX_DEFERRED_IN_A_ROW = 3
# Messages claimed (approved -> sending) together, with one fsync for all.
CLAIM_CHUNK = 32

TransportFactory = Callable[[Profile, Path], "Transport"]


class SendingPausedError(MailroomError):
    """Sending is paused for the whole installation."""


def backoff_from_env() -> tuple[float, ...]:
    raw = os.environ.get("MAILROOM_SEND_BACKOFF", "")
    if not raw:
        return DEFAULT_BACKOFF
    try:
        return tuple(float(x) for x in raw.split(",") if x.strip())
    except ValueError:
        raise MailroomError(
            f"MAILROOM_SEND_BACKOFF={raw!r} is not a list of seconds.",
            field="MAILROOM_SEND_BACKOFF",
            value=raw,
            fix="use comma-separated numbers such as 5,30,120, or unset it.",
        ) from None


@dataclass
class Progress:
    batch: str
    done: int
    total: int
    sent: int
    failed: int
    deferred: int


@dataclass
class SendOptions:
    backoff: tuple[float, ...] = field(default_factory=backoff_from_env)
    dry_run: bool = False
    transport_factory: TransportFactory | None = None
    progress: Callable[[Progress], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    archive: bool = True
    # Asked between two messages; True stops the run: the message in flight is
    # finished, the rest stays approved (Stop in the TUI, SIGTERM or SIGHUP on the CLI).
    should_stop: Callable[[], bool] | None = None


@dataclass
class ItemOutcome:
    batch: str
    item: str
    outcome: str  # sent | failed | deferred | unknown | refused | paused | stopped | would-send
    detail: str = ""


@dataclass
class SendReport:
    found_unknown: list[tuple[str, str]] = field(default_factory=list)
    outcomes: list[ItemOutcome] = field(default_factory=list)
    paused_profiles: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    stopped: bool = False
    # Batches left for later: (batch, its "not before" time).
    not_due: list[tuple[str, str]] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    def summary(self) -> dict[str, Any]:
        kinds = (
            "sent",
            "failed",
            "deferred",
            "unknown",
            "refused",
            "paused",
            "stopped",
            "would-send",
        )
        return {
            **{k: self.count(k) for k in kinds},
            "retries": self.retries,
            "found_unknown": [f"{b}/{i}" for b, i in self.found_unknown],
            "paused_profiles": self.paused_profiles,
            "stopped_on_request": self.stopped,
            "not_yet_due": [{"batch": b, "not_before": t} for b, t in self.not_due],
        }


class _ProfileState:
    """One profile's connection, rate limit and pause during a run."""

    def __init__(self, profile: Profile, factory: TransportFactory, home: Path) -> None:
        self.profile = profile
        self._factory = factory
        self._home = home
        self.transport: Transport | None = None
        self.interval = 60.0 / profile.rate_per_minute if profile.rate_per_minute else 0.0
        self.next_at = 0.0
        self.paused: str | None = None
        self.deferred_in_a_row = 0

    def get(self) -> Transport:
        if self.transport is None:
            self.transport = self._factory(self.profile, self._home)
        return self.transport

    def wait_turn(self, sleep: Callable[[float], None]) -> None:
        if self.interval:
            now = time.monotonic()
            if now < self.next_at:
                sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None


def _default_factory(profile: Profile, home: Path) -> Transport:
    from mailing.transports import open_transport

    return open_transport(profile, home)


def not_before(info: dict[str, Any]) -> dt.datetime | None:
    """A batch's "not before" time (`mailroom batch schedule`), if it has one."""
    raw = info.get("not_before")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.astimezone()


def check_not_paused(cfg: ConfigSnapshot) -> None:
    if cfg.system.sending_paused:
        reason = f" ({cfg.system.paused_reason})" if cfg.system.paused_reason else ""
        raise SendingPausedError(
            f"Sending is paused for this installation{reason}.",
            field="sending_paused",
            value=True,
            fix="resume it with `mailroom sending resume` when it is safe to send.",
        )


def send(
    store: Store, user: str, batch_id: str | None = None, options: SendOptions | None = None
) -> SendReport:
    """Send the approved messages of one batch (or of every batch)."""
    opts = options or SendOptions()
    cfg = ConfigSnapshot.load(store)
    spool = Spool(store.home)
    batches = [spool.batch(batch_id)] if batch_id else [b for b in spool.batches() if b.complete]
    report = SendReport()
    now = dt.datetime.now(dt.UTC)
    if batch_id:
        when = not_before(batches[0].info())  # refuses a batch that was not finished building
        if when is not None and when > now:
            raise MailroomError(
                f"Batch {batch_id} may not go out before {when.isoformat()}.",
                field="not_before",
                value=when.isoformat(),
                fix=f"let `mailroom send --due` send it then, or take the time away with "
                f"`mailroom batch schedule {batch_id} off`.",
            )
    else:
        due = []
        for batch in batches:
            when = not_before(batch.info())
            if when is not None and when > now:
                report.not_due.append((batch.id, when.isoformat()))
            else:
                due.append(batch)
        batches = due
    if opts.dry_run:
        for batch in batches:
            _dry_run(batch, cfg, report)
        return report
    check_not_paused(cfg)
    states: dict[str, _ProfileState] = {}
    with spool.sender_lock(user):
        # Anything in flight when an earlier sender died is now unknown: every batch,
        # not only this one, since no other sender can be running.
        for batch in spool.batches():
            for item in batch.recover():
                report.found_unknown.append((batch.id, item))
            batch.close()
        try:
            for batch in batches:
                if report.stopped:
                    break
                try:
                    _send_batch(batch, cfg, store, user, opts, states, report)
                finally:
                    batch.close()
        finally:
            for st in states.values():
                st.close()
    return report


def _dry_run(batch: Batch, cfg: ConfigSnapshot, report: SendReport) -> None:
    hashes = batch.approved_hashes()
    for ref in batch.items("approved"):
        meta = batch.meta(ref.item)
        why = _refusal(batch, ref.item, meta, hashes, cfg)
        if why:
            report.outcomes.append(ItemOutcome(batch.id, ref.item, "refused", why))
        else:
            detail = f"profile {meta.get('profile')} to {', '.join(meta['envelope']['rcpts'])}"
            report.outcomes.append(ItemOutcome(batch.id, ref.item, "would-send", detail))


def _refusal(
    batch: Batch,
    item: str,
    meta: dict[str, Any],
    hashes: dict[str, dict[str, str]],
    cfg: ConfigSnapshot,
    raw: bytes | None = None,
    cache: dict[str, str | None] | None = None,
) -> str | None:
    approved = hashes.get(item)
    if approved is None:
        return "no approval is recorded for this message"
    if raw is None:
        raw = batch.read(item, "email", "approved")
    if sha256_bytes(raw) != approved["sha256"]:
        return (
            "the message file changed after it was approved "
            f"(approved SHA-256 {approved['sha256'][:12]}…, now {sha256_bytes(raw)[:12]}…)"
        )
    if meta.get("profile") not in cfg.profiles:
        return f"profile {meta.get('profile')!r} no longer exists"
    recorded = meta.get("fingerprints", {})
    if cache is None:
        return changed_since_build(recorded, cfg.templates, cfg.language_codes)
    # The messages of a batch share a few templates and letterheads: compare each once.
    key = repr(sorted(recorded.items())) if isinstance(recorded, dict) else repr(recorded)
    if key not in cache:
        cache[key] = changed_since_build(recorded, cfg.templates, cfg.language_codes)
    return cache[key]


def _send_batch(
    batch: Batch,
    cfg: ConfigSnapshot,
    store: Store,
    user: str,
    opts: SendOptions,
    states: dict[str, _ProfileState],
    report: SendReport,
) -> None:
    refs = batch.items("approved")
    if not refs:
        if opts.archive:
            _archive_pending(store, batch)
        return
    hashes = batch.approved_hashes()
    total = len(refs)
    counts = {"sent": 0, "failed": 0, "deferred": 0}
    done = 0
    factory = opts.transport_factory or _default_factory

    def outcome(item: str, what: str, detail: str = "") -> None:
        report.outcomes.append(ItemOutcome(batch.id, item, what, detail))
        if what in counts:
            counts[what] += 1

    boot = boot_id()
    fingerprint_checks: dict[str, str | None] = {}
    # Test mode sends every message to one address (the envelope only); the
    # recipients who took an item in an earlier run are not offered it again.
    route = _Route(cfg.system.redirect_to, delivered_before(batch.events()))
    claimed: list[tuple[str, dict[str, Any], bytes, _ProfileState]] = []

    def flush() -> None:
        """Send the claimed messages, in order."""
        if not claimed:
            return
        # One sync makes the whole chunk's claims durable before a byte goes out:
        # after a power loss these are in sending/, so unknown, never re-sent unasked.
        # The same sync makes the previous chunk's outcomes (sent/, events) durable.
        batch.sync()
        for n, (item, meta, raw, st) in enumerate(claimed):
            if not report.stopped and opts.should_stop is not None and opts.should_stop():
                report.stopped = True
            if report.stopped or st.paused:
                why = (
                    "stopped on request" if report.stopped else f"profile {st.profile.code} paused"
                )
                requeued = {"event": "requeued", "detail": why}
                batch.advance(item, State.SENDING, State.APPROVED, requeued, durable=False)
                if report.stopped:
                    outcome(item, "stopped", "stopped on request; still approved")
                else:
                    outcome(item, "paused", str(st.paused))
                continue
            # Written (not yet fsynced) before the message is offered: a killed
            # sender's next start tells "offered" from "only claimed" by it.
            batch.log({"item": item, "event": "attempt", "state": "sending"})
            if n + 1 < len(claimed) and claimed[n + 1][3] is st:
                # Its envelope may go out with this message's end (SMTP PIPELINING);
                # its content only after its own "attempt" event.
                next_item, next_meta, next_raw, _ = claimed[n + 1]
                env = next_meta["envelope"]
                if not route.delivered.get(next_item):
                    st.get().announce(
                        next_raw,
                        env["mail_from"],
                        route.rcpts(next_item, env),
                        envelope_id(batch.id, next_item),
                    )
            _send_one(batch, item, meta, raw, st, opts, report, outcome, route)
            if opts.progress is not None:
                opts.progress(Progress(batch.id, done, total, **counts))
        claimed.clear()

    for ref in refs:
        if report.stopped:
            break
        item = ref.item
        done += 1
        meta = batch.meta(item)
        code = str(meta.get("profile"))
        st = states.get(code)
        if st is None and code in cfg.profiles:
            st = states[code] = _ProfileState(cfg.profiles[code], factory, store.home)
        if st is not None and st.paused:
            outcome(item, "paused", st.paused)
            continue
        try:
            raw = batch.read(item, "email", "approved")
        except FileNotFoundError:
            continue  # moved meanwhile (held or cancelled by an admin)
        why = _refusal(batch, item, meta, hashes, cfg, raw, fingerprint_checks)
        if why is not None or st is None:
            why = why or f"profile {code!r} no longer exists"
            refused = {"event": "refused", "error": why}
            if batch.advance(item, State.APPROVED, State.FAILED, refused, durable=False):
                outcome(item, "refused", why)
            continue
        # The claim: of two processes renaming the same file, one wins. Made durable
        # for the whole chunk by the one sync in flush(), before a byte goes out.
        claim = {"event": "claimed", "boot_id": boot}
        if not batch.advance(item, State.APPROVED, State.SENDING, claim, durable=False):
            continue
        claimed.append((item, meta, raw, st))
        if len(claimed) >= CLAIM_CHUNK or st.interval:
            flush()
    flush()
    if opts.progress is not None:
        opts.progress(Progress(batch.id, done if report.stopped else total, total, **counts))
    batch.sync()
    if opts.archive:
        _archive_pending(store, batch)


def _send_one(
    batch: Batch,
    item: str,
    meta: dict[str, Any],
    raw: bytes,
    st: _ProfileState,
    opts: SendOptions,
    report: SendReport,
    outcome: Callable[[str, str, str], None],
    route: _Route,
) -> None:
    from mailing.transports import SendResult, TransportError

    env = meta["envelope"]
    mail_from, rcpts = env["mail_from"], route.rcpts(item, env)
    # Each recipient's reply over every attempt; a retry goes to those still waiting.
    who = Recipients.start({} if route.redirect else meta, rcpts, route.delivered.get(item, ()))
    envid = envelope_id(batch.id, item)
    attempt = 0
    last_reply = ""
    while who.pending:
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
                    if attempt <= len(opts.backoff):
                        continue
                return
        who.take(result.accepted, result.refused)
        last_reply = result.reply or last_reply
        replies = {
            "item": item,
            "event": "recipients",
            "state": "sending",
            "attempt": attempt,
            "accepted": result.accepted,
            "refused": {r: list(v) for r, v in result.refused.items()},
        }
        # Who took it is durable before anyone is offered it again.
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
        # "Sent" means every To and Cc recipient took it (mailing/delivery.py).
        why = refusal_sentence(who.customers_refused, who.delivered)
        batch.advance(
            item,
            State.SENDING,
            State.FAILED,
            {"event": "recipients-refused", "error": why, **common},
        )
        outcome(item, "failed", why)
        return
    if verdict == "waiting":
        why = waiting_sentence(who.customers_waiting, who.delivered)
        later = {"event": "recipients-deferred", "error": why, "deferred": True, **common}
        batch.advance(item, State.SENDING, State.APPROVED, later)
        outcome(item, "deferred", why)
        _count_deferral(st, report, why)
        return
    # Only now: the server has taken it for every customer. Durable at the next
    # chunk's sync (before its first byte goes out) or at the end of the batch.
    sent = {"event": "sent", "reply": last_reply, **common}
    batch.advance(item, State.SENDING, State.SENT, sent, durable=False)
    detail = ""
    if who.refused or who.waiting:
        detail = "refused by the server for: " + ", ".join(
            f"{r} ({c} {m})" for r, (c, m) in {**who.refused, **who.waiting}.items()
        )
    if route.redirect:
        detail = f"redirected to {route.redirect} (test mode)" + (f"; {detail}" if detail else "")
    outcome(item, "sent", detail)


def _count_deferral(st: _ProfileState, report: SendReport, why: str) -> None:
    st.deferred_in_a_row += 1
    if st.deferred_in_a_row >= MAX_DEFERRED_IN_A_ROW:
        st.paused = f"{MAX_DEFERRED_IN_A_ROW} messages in a row failed temporarily: {why}"
        report.paused_profiles[st.profile.code] = st.paused


def _transport_failure(
    batch: Batch,
    item: str,
    st: _ProfileState,
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
            batch.advance(item, State.SENDING, State.UNKNOWN, ev)
            outcome(
                item,
                "unknown",
                "the connection dropped after the message data; it may have been delivered",
            )
            return
        if attempt <= len(opts.backoff):
            batch.log({**ev, "state": "sending", "retry_in": opts.backoff[attempt - 1]})
            report.retries += 1
            opts.sleep(opts.backoff[attempt - 1])
            return
        # Outlasted the back-off: back to approved, for a later run.
        batch.advance(item, State.SENDING, State.APPROVED, {**ev, "deferred": True})
        outcome(item, "deferred", str(exc))
        _count_deferral(st, report, str(exc))
        return
    if exc.kind == "permanent":
        batch.advance(item, State.SENDING, State.FAILED, ev)
        outcome(item, "failed", str(exc))
        st.deferred_in_a_row = 0
        return
    # auth, tls, config: nothing was sent, and every message of this
    # profile would fail alike: pause the profile after this first one.
    batch.advance(item, State.SENDING, State.APPROVED, {**ev, "paused_profile": True})
    st.paused = str(exc)
    st.close()
    report.paused_profiles[st.profile.code] = st.paused
    outcome(item, "paused", st.paused)


@dataclass
class _Route:
    """Where a batch's messages go in this run: their own envelope, or (test mode)
    the one redirect address; and who took each item in an earlier attempt."""

    redirect: str | None
    delivered: dict[str, set[str]]

    def rcpts(self, item: str, env: dict[str, Any]) -> list[str]:
        return [self.redirect] if self.redirect else list(env["rcpts"])


def _archive_pending(store: Store, batch: Batch) -> None:
    from mailing.archive import archive_batch

    archive_batch(store, batch)
