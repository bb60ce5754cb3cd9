"""The one entry point: build a named report (see REPORTS) as data and PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailing.config import ConfigSnapshot
from mailing.reports.batch import BatchReport, batch_report, latest_batch
from mailing.reports.pdf import batch_pdf, relations_pdf
from mailing.reports.relations import RelationsReport, relations_report
from mailing.reports.terms import ReportError

if TYPE_CHECKING:
    from store.store import Store

REPORTS: dict[str, str] = {
    "relations": "Relations e-mail overview: opt-ins, recipients per document type, problems",
    "batch": "Batch report: what was sent to whom, what was printed and why",
}


@dataclass
class MadeReport:
    name: str
    title: str
    file_name: str
    pdf: bytes
    data: RelationsReport | BatchReport
    summary: str


def make_report(
    store: Store,
    user: str,
    name: str,
    *,
    batch: str | None = None,
    administration: str | None = None,
) -> MadeReport:
    """Build report ``name`` (see REPORTS) as data and PDF."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    if name == "relations":
        rel = relations_report(ConfigSnapshot.load(store), user, administration)
        return MadeReport(
            name,
            "Relations e-mail overview",
            f"relations-overview-{stamp}.pdf",
            relations_pdf(rel),
            rel,
            f"{len(rel.entries)} relations, {len(rel.with_problems)} with problems",
        )
    if name == "batch":
        batch_id = batch or latest_batch(store)
        rep = batch_report(store, batch_id)
        counts = ", ".join(f"{n} {s}" for s, n in rep.counts().items()) or "no items"
        return MadeReport(
            name, f"Batch report {batch_id}", f"batch-{batch_id}.pdf", batch_pdf(rep), rep, counts
        )
    raise ReportError(
        f"There is no report {name!r}.",
        field="report",
        value=name,
        fix=f"choose one of: {', '.join(REPORTS)}.",
    )
