"""One document, one send, unless asked: the selection of a new batch leaves out
the documents already sent (a batch over a date range must not send an invoice twice
by accident), those on an earlier print list, and those waiting in an open batch, and
says how many. ``--include-sent`` puts the sent and printed ones back in, each sent
one marked "sent before on …".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from mailing.batches.history import SentRecord, delivered_to, document_history
from mailing.batches.history_index import DocKey
from store.errors import MailroomError
from store.spool import Batch


class Keyed(Protocol):
    """A document, or what a batch keeps of one (``mailing.batches.build.DocRef``)."""

    @property
    def administration(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def number(self) -> str: ...


D = TypeVar("D", bound=Keyed)


@dataclass
class Selection(Generic[D]):
    documents: list[D]
    sent: list[D] = field(default_factory=list)  # left out: sent before
    waiting: list[tuple[D, str]] = field(default_factory=list)  # left out: (doc, batch)
    printed: list[D] = field(default_factory=list)  # left out: on a print list
    sent_before: dict[DocKey, SentRecord] = field(default_factory=dict)  # put in anyway
    # Recipients who got an earlier message of a document (a failed or bounced one,
    # or, for a resend, a sent one): the new message does not go to them again.
    delivered_before: dict[DocKey, list[str]] = field(default_factory=dict)

    def left_out(self) -> dict[str, int]:
        out = {
            "sent": len(self.sent),
            "in_open_batch": len(self.waiting),
            "printed": len(self.printed),
        }
        return {k: v for k, v in out.items() if v}

    def nothing_left(self, doc_type: str) -> MailroomError:
        parts = []
        if self.sent:
            parts.append(f"{len(self.sent)} sent before")
        if self.printed:
            parts.append(f"{len(self.printed)} on an earlier print list")
        if self.waiting:
            batches = sorted({b for _, b in self.waiting})
            parts.append(f"{len(self.waiting)} waiting in an open batch ({', '.join(batches)})")
        return MailroomError(
            f"Every {doc_type} document that matches is left out: {'; '.join(parts)}. "
            "Nothing was built.",
            field="documents",
            value=", ".join(
                d.number for d in [*self.sent, *self.printed, *(d for d, _ in self.waiting)][:10]
            ),
            fix="to send them again on purpose, add --include-sent (or `mailroom resend "
            "TYPE NUMBER` for one); a document in an open batch is sent from there, or "
            "cancelled there first.",
        )


def key_of(doc: Keyed) -> DocKey:
    return (doc.administration, doc.type, doc.number)


def damaged_refusal(batch_ids: list[str]) -> MailroomError:
    which = ", ".join(f"spool/{b}" for b in batch_ids)
    one = len(batch_ids) == 1
    return MailroomError(
        f"No batch was built: the batch in {which} is damaged (its batch.json cannot be "
        "read), so which documents it sent cannot be told, and building now could send "
        "a document a second time. Put its batch.json back from a backup, or, if you are "
        "sure none of its messages went out, move the folder out of the spool "
        "(`mailroom batch list` shows the damage); --include-sent builds anyway, sent "
        "documents included."
        if one
        else f"No batch was built: the batches in {which} are damaged (their batch.json "
        "cannot be read), so which documents they sent cannot be told, and building now "
        "could send a document a second time. Put each batch.json back from a backup, or, "
        "if you are sure none of their messages went out, move those folders out of the "
        "spool (`mailroom batch list` shows the damage); --include-sent builds anyway, "
        "sent documents included."
    )


def choose_unsent(
    home: Path, docs: list[D], *, include_sent: bool, resend: bool = False, everyone: bool = False
) -> Selection[D]:
    """The documents to build: without those sent before (unless ``include_sent``) and
    without those waiting in an open batch. Who got an earlier message of a document
    (a failed or bounced one; for a ``resend`` also a sent one) is noted in
    ``delivered_before``, so that it goes to the others only — unless ``everyone``."""
    history = document_history(home, keys=(key_of(d) for d in docs))
    if history.damaged and not include_sent:
        # Which documents a damaged batch sent cannot be told: building now could send
        # an invoice a second time. Refused, saying which batch and what to do.
        raise damaged_refusal(history.damaged)
    chosen: Selection[D] = Selection(documents=[])
    for doc in docs:
        key = key_of(doc)
        if key in history.open:
            chosen.waiting.append((doc, history.open[key][0]))
            continue
        last = history.last_sent(key)
        if last is None and key in history.printed and not include_sent:
            chosen.printed.append(doc)
            continue
        if last is not None and not include_sent:
            chosen.sent.append(doc)
            continue
        if last is not None:
            chosen.sent_before[key] = last
        chosen.documents.append(doc)
        if not everyone:
            took: set[str] = set()
            for batch_id, item in (*history.failed.get(key, ()), *history.bounced.get(key, ())):
                took |= delivered_to(home, batch_id, item)
            if resend:
                for record in history.sent.get(key, ()):
                    took |= set(record.to)
            if took:
                chosen.delivered_before[key] = sorted(took)
    return chosen


def mark_one(
    batch: Batch,
    summary: dict[str, Any],
    doc_type: str,
    sent_before: dict[DocKey, SentRecord],
    delivered: dict[DocKey, list[str]] | None = None,
) -> None:
    """Mark one item, if its document was sent before (as the build goes), and note who
    got an earlier message of it (``delivered_before``: not offered it again)."""
    if not sent_before and not delivered:
        return
    s = summary
    key = (str(s.get("administration")), doc_type, str(s.get("number")))
    record = sent_before.get(key)
    took = (delivered or {}).get(key)
    if record is None and not took:
        return
    meta = batch.meta(s["item"])
    if record is not None:
        mark = record.to_json()
        s["sent_before"] = mark
        meta["sent_before"] = mark
    if took and s.get("kind") == "email":
        s["delivered_before"] = took
        meta["delivered_before"] = took
    batch.write_meta(s["item"], meta)  # its own file, synced: wins over the build's pack
