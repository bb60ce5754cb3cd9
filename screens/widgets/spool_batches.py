"""The batches of the spool as the screens list them: one line each, with counts.

No Textual here (the Queue and Tools panes call it): the head of ``batch.json`` read
once per batch (``Batch.head``: a small file beside it), the counts from the state
folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailing import words
from store.spool import DAMAGED_FIX, Batch, DamagedBatchError, Spool, SpoolError


@dataclass
class BatchSummary:
    id: str
    type: str
    administration: str
    created_by: str
    created_at: str
    complete: bool
    counts: dict[str, int]
    approved_by: list[str]
    damaged: str = ""  # why batch.json cannot be used; the batch is shown, never used
    test_mode: bool = False  # sent in test mode: "sent" is "sent to the test address"

    def label(self) -> str:
        counts = (
            " ".join(
                f"{words.sent_state(k, self.test_mode)} {v}" for k, v in self.counts.items() if v
            )
            or "empty"
        )
        if self.damaged:
            fix = DAMAGED_FIX.format(batch=self.id)
            return f"{self.id}  damaged: {self.damaged}; {fix}  {counts}"
        what = f"{words.doc_type_lower(self.type) or '?'} {self.administration or 'all'}"
        mark = "" if self.complete else " (unfinished)"
        return f"{self.id}  {what}{mark}  {counts}"


def summarize_batch(batch: Batch) -> BatchSummary:
    info: dict[str, Any] = {}
    damaged = ""
    built = batch.built
    if built:
        try:
            info = batch.head()  # a small file beside batch.json, not its items
        except DamagedBatchError as exc:  # show the batch, its counts and why
            damaged = exc.reason
        except SpoolError:  # removed meanwhile
            built = False
    return BatchSummary(
        id=batch.id,
        type=str(info.get("type") or ""),
        administration=str(info.get("administration") or ""),
        created_by=str(info.get("created_by") or ""),
        created_at=str(info.get("created_at") or ""),
        complete=built and not damaged,
        counts=batch.listed_counts(),
        approved_by=sorted({str(a.get("by", "")) for a in info.get("approvals", [])}),
        damaged=damaged,
        test_mode=(batch.path / "test-mode").exists(),
    )


def list_batches(home: Path) -> list[BatchSummary]:
    """Every batch of the spool, newest first, with its counts per state."""
    return [summarize_batch(b) for b in reversed(Spool(home).batches())]
