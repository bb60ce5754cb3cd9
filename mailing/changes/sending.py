"""The doors for sending: test mode, which sends every message to one address
(`mailroom sending redirect ADDRESS|off`), and the time before which a batch may not
go (`mailroom batch schedule`)."""

from __future__ import annotations

from mailing.changes.problems import ChangeRefused, Problem
from mailing.changes.rules_record import redirect_address_problems
from store.store import Store


def set_redirect(store: Store, user: str, address: str | None) -> str | None:
    """Turn test mode on (every message goes to ``address``, in the envelope only) or
    off (``None``); returns the address now in force. A bad address is refused. The
    change is written to the audit log under ``user``."""
    from mailing.changes.audit import append

    clean = None
    if address is not None:
        problems = redirect_address_problems(address)
        if problems:
            raise ChangeRefused("Test mode was not turned on", problems)
        clean = address.strip()
    with store.transaction() as tx:
        system = tx.system()
        before = system.redirect_to
        system.redirect_to = clean
        tx.put(system)
    if before != clean:
        append(store.home, user, "test mode", "sending redirect", before, clean)
    return clean


FIRST_YEAR, LAST_YEAR = 1970, 2999  # a time a batch can wait for


def not_before_stamp(batch_id: str, not_before: str) -> str:
    """A typed "not before" time (ISO 8601; without a zone, local time) as the stamp kept,
    or ChangeRefused naming the value and the fix. Checked before anything changes (an
    approval with --not-before refuses a bad time before it approves)."""
    import datetime as dt

    def refused(why: str) -> ChangeRefused:
        return ChangeRefused(
            f"Batch {batch_id} was not scheduled",
            [
                Problem(
                    "not before",
                    why,
                    not_before,
                    "write it like 2026-12-02T07:00 (local time) or 2026-12-02T06:00+00:00, "
                    f"between the years {FIRST_YEAR} and {LAST_YEAR}.",
                )
            ],
        )

    try:
        when = dt.datetime.fromisoformat(not_before.strip())
    except ValueError:
        raise refused("is not a date and time") from None
    try:
        if when.tzinfo is None:
            when = when.astimezone()  # local time, as the office reads a clock
        utc = when.astimezone(dt.UTC)
        when.astimezone()  # shown in local time later: it must exist there too
    except (OverflowError, ValueError):
        raise refused(f"lies outside the years {FIRST_YEAR} to {LAST_YEAR}") from None
    if not FIRST_YEAR <= utc.year <= LAST_YEAR or not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise refused(f"lies outside the years {FIRST_YEAR} to {LAST_YEAR}")
    return when.isoformat(timespec="minutes")


def schedule_batch(store: Store, user: str, batch_id: str, not_before: str | None) -> str | None:
    """Let an approved batch go out only from ``not_before`` (ISO 8601; a time without
    a zone is local time) with `mailroom send --due`; ``None`` takes the time away.
    Returns the time stored (with its zone)."""

    from store.spool import Spool

    stamp = None if not_before is None else not_before_stamp(batch_id, not_before)
    batch = Spool(store.home).batch(batch_id)
    info = dict(batch.info(fresh=True))
    info["not_before"] = stamp
    info.setdefault("schedule", []).append({"by": user, "not_before": stamp})
    batch.write_info(info)
    batch.log({"event": "scheduled", "by": user, "not_before": stamp}, sync=True)
    batch.close()
    from mailing.changes.audit import append

    append(store.home, user, "schedule", f"batch {batch_id}", None, {"not_before": stamp})
    return stamp
