"""The batch report as data: what became of every item of a batch, read from the spool."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from mailing.reports.terms import PRINT_REASONS, ReportError
from store.errors import MailroomError

if TYPE_CHECKING:
    from store.spool import Batch
    from store.store import Store


class BatchRow(BaseModel):
    """One item of a batch: what became of it."""

    model_config = ConfigDict(extra="forbid")

    item: str
    doc_type: str
    number: str
    administration: str
    relation: str
    kind: str  # email, print or error
    state: str
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    bcc: list[str] = Field(default_factory=list)
    sender: str = ""
    subject: str = ""
    why: str = ""  # why printed, why failed, what the server said

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class BatchReport(BaseModel):
    """The batch report: ``report``, ``batch``, ``generated``, ``counts``, ``rows`` in its JSON."""

    model_config = ConfigDict(extra="forbid")

    report: Literal["batch"] = "batch"
    batch: str
    generated: str
    rows: list[BatchRow]
    info: dict[str, Any] = Field(default_factory=dict, exclude=True)  # not in the JSON

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.state] = out.get(r.state, 0) + 1
        return dict(sorted(out.items()))

    @model_serializer(mode="wrap")
    def _with_counts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The counts per state go between ``generated`` and ``rows``."""
        data: dict[str, Any] = handler(self)
        out = {k: v for k, v in data.items() if k != "rows"}
        out["counts"] = self.counts()
        if "rows" in data:
            out["rows"] = data["rows"]
        return out

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _reason_text(meta: dict[str, Any]) -> str:
    reason = meta.get("reason")
    text = PRINT_REASONS.get(str(reason), str(reason or ""))
    warnings = [str(w) for w in meta.get("warnings", [])]
    return "; ".join([text, *warnings]) if warnings else text


def batch_rows(batch: Batch) -> list[BatchRow]:
    """Read each item's side-car, state and last event from the spool."""
    last = batch.last_events()
    rows: list[BatchRow] = []
    for item in batch.all_items():
        meta = batch.meta(item)
        ref = batch.locate(item)
        doc = meta.get("document", {})
        rcpt = meta.get("recipients") or {}
        sender = meta.get("sender") or {}
        ev = last.get(item, {})
        why = ""
        if ref.kind == "print":
            why = _reason_text(meta)
        elif ref.kind == "error":
            why = str(meta.get("error", ""))
        elif ref.state in ("failed", "unknown", "approved", "held", "draft"):
            why = str(meta.get("error") or ev.get("error") or ev.get("detail") or "")
            if ev.get("reply"):
                why = f"{why} (server: {ev['reply']})".strip()
        elif ref.state == "bounced":
            why = str(ev.get("error") or "a delivery report came back")
        elif ref.state == "sent":
            why = f"server: {ev['reply']}" if ev.get("reply") else ""
            if ev.get("redirected_to"):
                why = f"test mode: to {ev['redirected_to']} only; {why}"
            refused = ev.get("refused") or {}
            if refused:
                why += "; refused: " + ", ".join(
                    f"{a} ({' '.join(str(x) for x in v)})" for a, v in refused.items()
                )
        cut = [str(w) for w in meta.get("page_warnings", [])]
        if cut:  # the document went out with a text cut to fit its place: say so
            why = "; ".join([why, *cut]) if why else "; ".join(cut)
        rows.append(
            BatchRow(
                item=item,
                doc_type=str(doc.get("type", "")),
                number=str(doc.get("number", "")),
                administration=str(doc.get("administration", "")),
                relation=str(doc.get("relation", "")),
                kind=ref.kind,
                state=ref.state,
                to=[str(a) for a in rcpt.get("to", [])],
                cc=[str(a) for a in rcpt.get("cc", [])],
                bcc=[str(a) for a in rcpt.get("bcc", [])],
                sender=str(sender.get("address", "")),
                subject=str(meta.get("subject", "")),
                why=why.strip("; "),
            )
        )
    return rows


def batch_report(store: Store, batch_id: str) -> BatchReport:
    from store.spool import Spool

    batch = Spool(store.home).batch(batch_id)
    try:
        info = batch.info()
    except MailroomError:
        info = {}
    return BatchReport(
        batch=batch_id,
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        rows=batch_rows(batch),
        info=info,
    )


def latest_batch(store: Store) -> str:
    from store.spool import Spool

    batches = Spool(store.home).batches()
    if not batches:
        raise ReportError(
            "There is no batch to report on.",
            field="batch",
            value=None,
            fix="build one with `mailroom batch create`.",
        )
    return batches[-1].id
