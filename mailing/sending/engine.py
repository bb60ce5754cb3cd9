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
- Before a profile's first claim the run connects and logs in (unlocking its
  secret): a failure leaves every message approved, and a server that cannot be
  reached a few times in a row is not tried again for a while
  (:mod:`mailing.sending.send_breaker`). A stop (SIGTERM, Ctrl-C, Stop) is heard within a
  fraction of a second, in a back-off wait too.
- The claim (approved -> sending) is made durable before the message goes out
  (one fsync per chunk of claims); an ``attempt`` event is written just before a
  message is offered, so the next start can tell the one message that was in
  flight (-> ``unknown``) from those only claimed (-> back to ``approved``), see
  :meth:`store.spool.Batch.recover`. A message is moved to ``sent/`` only after
  the server accepted it. A drop after the message data and before the reply
  puts it in ``unknown/``.
- Every change of state is one :meth:`store.spool.Batch.advance`, checked against
  the spool's table of allowed moves (:data:`store.spool.TRANSITIONS`); the
  durable ones (a failure or deferral) are fsynced before the next message, the
  claims once per chunk (before its first byte goes out), the ``sent`` outcomes
  with the log (every ``EVENTS_SYNC_EVERY`` events, and at the end).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.config import ConfigSnapshot
from mailing.sending.archive import Archiver, SentItem, archive_batch
from mailing.sending.delivery import delivered_before
from mailing.sending.fingerprint import changed_since_build
from mailing.sending.send_breaker import interruptible, log_in_first
from mailing.sending.send_item import Route, send_one
from mailing.sending.send_prefetch import Prefetch
from mailing.sending.send_state import (
    ItemOutcome,
    ProfileState,
    Progress,
    SendOptions,
    SendReport,
)
from mailing.transports.dsn import envelope_id
from store.errors import MailroomError
from store.records import Profile
from store.spool import Batch, Spool, State, boot_id, sha256_bytes

if TYPE_CHECKING:
    from mailing.transports import Transport
    from store.store import Store

# In a batch folder: some of its messages went out in test mode (to the test address).
TEST_MODE_MARK = "test-mode"
# Messages claimed (approved -> sending) together, with one sync (3 fsyncs) for all.
CLAIM_CHUNK = 128


class SendingPausedError(MailroomError):
    """Sending is paused for the whole installation."""


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
    opts = dataclasses.replace(opts, sleep=interruptible(opts), respect_cool_down=batch_id is None)
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
    states: dict[str, ProfileState] = {}
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
            to = ", ".join(meta["envelope"]["rcpts"])
            if cfg.system.redirect_to:
                to = f"{cfg.system.redirect_to} only (test mode; not to {to})"
            detail = f"profile {meta.get('profile')} to {to}"
            report.outcomes.append(ItemOutcome(batch.id, ref.item, "would-send", detail))


def _refusal(
    batch: Batch,
    item: str,
    meta: dict[str, Any],
    hashes: dict[str, dict[str, str]],
    cfg: ConfigSnapshot,
    raw: bytes | None = None,
    cache: dict[str, str | None] | None = None,
    digest: str | None = None,
) -> str | None:
    """Why this message may not be sent, or None. ``digest``: the SHA-256 of ``raw``
    when the caller has it (the bytes that will be sent)."""
    approved = hashes.get(item)
    if approved is None:
        return "no approval is recorded for this message"
    if raw is None:
        raw = batch.read(item, "email", "approved")
    if digest is None:
        digest = sha256_bytes(raw)
    if digest != approved["sha256"]:
        return (
            "the message file changed after it was approved "
            f"(approved SHA-256 {approved['sha256'][:12]}…, now {digest[:12]}…)"
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
    states: dict[str, ProfileState],
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

    # The archive is written as each chunk is sent, in this thread (mailing/sending/archive.py).
    archiver = Archiver(store.home, batch, hashes) if opts.archive else None
    just_sent: list[str] = []
    to_archive: list[SentItem] = []

    def outcome(item: str, what: str, detail: str = "") -> None:
        report.outcomes.append(ItemOutcome(batch.id, item, what, detail))
        if what in counts:
            counts[what] += 1
        if what == "sent":
            just_sent.append(item)

    boot = boot_id()
    fingerprint_checks: dict[str, str | None] = {}
    # Test mode sends every message to one address (the envelope only); the
    # recipients who took an item in an earlier run are not offered it again.
    route = Route(cfg.system.redirect_to, delivered_before(batch.events(b'"accepted"')))
    if route.redirect:
        # Said wherever the batch's counts are shown: "sent to the test address".
        (batch.path / TEST_MODE_MARK).touch()
    claimed: list[tuple[str, dict[str, Any], bytes, ProfileState]] = []

    def flush() -> None:
        """Send the claimed messages, in order."""
        if not claimed:
            return
        # One fsync of sending/ makes the whole chunk's claims durable before a byte
        # goes out: after a power loss these are in sending/, so unknown, never re-sent
        # unasked (recovery after a reboot does not trust the events). The outcomes
        # (sent/, the events) are made durable with the log, every EVENTS_SYNC_EVERY
        # events and at the end; one lost to a power loss leaves its item unknown.
        batch.fsync_state(State.SENDING)
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
                if not route.delivered.get(next_item) and not next_meta.get("delivered_before"):
                    st.get().announce(
                        next_raw,
                        env["mail_from"],
                        route.rcpts(next_item, env),
                        envelope_id(batch.id, next_item),
                    )
            send_one(batch, item, meta, raw, st, opts, report, outcome, route)
            if just_sent:
                # Handed to the archive with its side-car and its "sent" event as logged.
                to_archive.append((item, meta, batch.last_event, raw))
                just_sent.clear()
            if opts.progress is not None:
                opts.progress(Progress(batch.id, done, total, **counts))
        claimed.clear()
        if archiver is not None:
            archiver.add(to_archive)
        to_archive.clear()

    # Side-cars, bytes and their SHA-256, read as the sender comes to them (send_prefetch.py).
    ahead = Prefetch(batch, refs)
    try:
        for entry in ahead:
            if report.stopped:
                break
            item = entry.item
            done += 1
            if entry.error is not None:
                raise entry.error
            meta = entry.meta
            code = str(meta.get("profile"))
            st = states.get(code)
            if st is None and code in cfg.profiles:
                st = states[code] = ProfileState(cfg.profiles[code], factory, store.home)
                # Logged in before its first claim: a failure claims nothing.
                log_in_first(st, opts, report, store.home, respect_cool_down=opts.respect_cool_down)  # fmt: skip
                if report.stopped:
                    break
            if st is not None and st.paused:
                outcome(item, "paused", st.paused)
                continue
            raw = entry.raw
            if raw is None:
                continue  # moved meanwhile (held or cancelled by an admin)
            why = _refusal(batch, item, meta, hashes, cfg, raw, fingerprint_checks, entry.sha256)
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
    finally:
        ahead.close()
        if archiver is not None:
            archiver.close()
    batch.sync()
    if opts.archive:
        _archive_pending(store, batch)


def _archive_pending(store: Store, batch: Batch) -> None:
    """What the sender's archive thread left (or an earlier, killed run): none twice."""
    archive_batch(store, batch)
