"""Sending: approved messages out of the spool, each exactly once, and what is kept.

The send path: :func:`send` (``engine``) takes the sender lock, recovers what a
killed run left in ``sending/`` and, per due batch, claims the approved messages,
checks each against what was approved (``fingerprint``: the template and letterhead
it was built with), reads each in the sender's thread (``send_prefetch``), and tries each
(``send_item``) through the profile's transport (``mailing.transports``), deciding
what "sent" means (``delivery``: every To and Cc accepted). What was sent is archived
beside the send (``archive``). An admin's say afterwards (``admin_actions``):
:func:`resend` and :func:`mark_sent` for a message whose outcome is unknown.

One idea a module:

* ``engine`` - :func:`send`, :func:`check_not_paused`, :class:`SendingPausedError`;
* ``send_state`` - a run's options, report and progress, per-profile state, back-off;
* ``send_item`` - one message's try: its waiting recipients, back-off, the outcome;
* ``send_prefetch`` - the next side-car and message, read by descriptor in the sender's thread;
* ``send_breaker`` - log in before the first claim; a profile left alone after failures;
* ``delivery`` - what "sent" means, each recipient's reply kept;
* ``fingerprint`` - the configuration a message was built from, and whether it changed;
* ``archive`` - ``archive/``: the .eml as sent and the server's replies;
* ``archive_files`` - an archived send's attachments and copy document, taken out when asked;
* ``admin_actions`` - :func:`resend`, :func:`mark_sent`.

The batch build (:mod:`mailing.batches`) may use ``fingerprint`` to record what the
send will check; nothing here imports the build (an import-linter contract).
Outside this package, import the names below from ``mailing.sending``; they are
loaded lazily (PEP 562), so one of them does not import the whole engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailing.sending.admin_actions import mark_sent, resend
    from mailing.sending.archive import archive_batch, archive_folder, archived_items, sent_events
    from mailing.sending.engine import SendingPausedError, check_not_paused, send
    from mailing.sending.fingerprint import (
        changed_since_build,
        letterhead_fingerprint,
        template_fingerprint,
    )
    from mailing.sending.send_state import (
        DEFAULT_BACKOFF,
        MAX_DEFERRED_IN_A_ROW,
        ItemOutcome,
        Progress,
        SendOptions,
        SendReport,
        backoff_from_env,
    )

_EXPORTS: dict[str, str] = {
    "DEFAULT_BACKOFF": "mailing.sending.send_state",
    "ItemOutcome": "mailing.sending.send_state",
    "MAX_DEFERRED_IN_A_ROW": "mailing.sending.send_state",
    "Progress": "mailing.sending.send_state",
    "SendOptions": "mailing.sending.send_state",
    "SendReport": "mailing.sending.send_state",
    "SendingPausedError": "mailing.sending.engine",
    "archive_batch": "mailing.sending.archive",
    "archive_folder": "mailing.sending.archive",
    "archived_items": "mailing.sending.archive",
    "backoff_from_env": "mailing.sending.send_state",
    "changed_since_build": "mailing.sending.fingerprint",
    "check_not_paused": "mailing.sending.engine",
    "letterhead_fingerprint": "mailing.sending.fingerprint",
    "mark_sent": "mailing.sending.admin_actions",
    "resend": "mailing.sending.admin_actions",
    "send": "mailing.sending.engine",
    "sent_events": "mailing.sending.archive",
    "template_fingerprint": "mailing.sending.fingerprint",
}

__all__ = [
    "DEFAULT_BACKOFF",
    "ItemOutcome",
    "MAX_DEFERRED_IN_A_ROW",
    "Progress",
    "SendOptions",
    "SendReport",
    "SendingPausedError",
    "archive_batch",
    "archive_folder",
    "archived_items",
    "backoff_from_env",
    "changed_since_build",
    "check_not_paused",
    "letterhead_fingerprint",
    "mark_sent",
    "resend",
    "send",
    "sent_events",
    "template_fingerprint",
]


def __getattr__(name: str) -> Any:
    """A name of ``__all__``: imported from its module on first use, then kept."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
