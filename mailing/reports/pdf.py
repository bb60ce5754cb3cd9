"""Reports drawn on A4 with reportlab: title, summary, repeating table header, page N of M."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from mailing.reports.batch import BatchReport
from mailing.reports.relations import RelationsReport


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    return {
        "title": base["Title"],
        "h2": base["Heading2"],
        "body": base["BodyText"],
        "cell": ParagraphStyle("cell", parent=base["BodyText"], fontSize=8, leading=10),
        "head": ParagraphStyle(
            "head", parent=base["BodyText"], fontSize=8, leading=10, fontName="Helvetica-Bold"
        ),
        "problem": ParagraphStyle(
            "problem", parent=base["BodyText"], fontSize=8, leading=10, textColor="#b00020"
        ),
    }


def _p(text: str, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _pdf(title: str, story: list[Any]) -> bytes:
    """Draw ``story`` on A4 with margins and "page N of M" on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    from mailing.pdf.reportlab_adapter import page_numbering_canvas

    def footer(c: Any, page: int, pages: int) -> None:
        c.setFont("Helvetica", 8)
        c.drawRightString(A4[0] - 15 * mm, 10 * mm, f"{title} - page {page} of {pages}")

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="Mailroom",
    )
    doc.build(story, canvasmaker=page_numbering_canvas(footer))
    return buf.getvalue()


def _table(header: list[str], rows: Iterable[list[Any]], widths: list[float]) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import LongTable, TableStyle

    st = _styles()
    data = [[_p(h, st["head"]) for h in header], *rows]
    table = LongTable(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde3ea")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7f9")]),
            ]
        )
    )
    return table


def relations_pdf(report: RelationsReport) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    st = _styles()
    title = "Relations e-mail overview"
    scope = (
        f"administration {report.administration}"
        if report.administration
        else "all administrations"
    )
    bad = report.with_problems
    story: list[Any] = [
        _p(title, st["title"]),
        _p(
            f"{scope}; made {report.generated}. {len(report.entries)} relations, "
            f"{len(bad)} with problems.",
            st["body"],
        ),
    ]
    for problem in report.problems:
        story.append(_p(f"Problem of the installation: {problem}", st["problem"]))
    if bad:
        story.append(_p("Relations with problems", st["h2"]))
        for e in bad:
            story.append(
                _p(
                    f"{e.administration}/{e.code} {e.name}: " + "; ".join(e.problems) + ".",
                    st["problem"],
                )
            )
    else:
        story.append(_p("No relation has a problem.", st["body"]))
    story += [Spacer(1, 4 * mm), _p("All relations", st["h2"])]
    rows = []
    for e in report.entries:
        rows.append(
            [
                _p(f"{e.administration}/{e.code}\n{e.name}\n{e.kind}, {e.language}", st["cell"]),
                _p(", ".join(e.opt_in) or "(none: everything to print)", st["cell"]),
                _p("\n".join(line.describe() for line in e.lines) or "-", st["cell"]),
                _p("\n".join(e.problems) or "none", st["problem"] if e.problems else st["cell"]),
            ]
        )
    story.append(
        _table(
            ["Relation", "Opted in to", "Recipients per document type", "Problems"],
            rows,
            [38 * mm, 34 * mm, 70 * mm, 38 * mm],
        )
    )
    return _pdf(title, story)


def batch_pdf(report: BatchReport) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    st = _styles()
    title = f"Batch report {report.batch}"
    info = report.info
    what = ", ".join(
        f"{k} {info[k]}"
        for k in ("type", "administration", "created_by", "created_at")
        if info.get(k)
    )
    counts = ", ".join(f"{n} {state}" for state, n in report.counts().items()) or "no items"
    story: list[Any] = [
        _p(title, st["title"]),
        _p(f"{what + '. ' if what else ''}Made {report.generated}. {counts}.", st["body"]),
    ]
    printed = [r for r in report.rows if r.kind == "print"]
    if printed:
        story.append(_p("Printed instead of mailed, and why", st["h2"]))
        for r in printed:
            story.append(_p(f"{r.doc_type} {r.number} ({r.relation}): {r.why}", st["body"]))
    story += [Spacer(1, 4 * mm), _p("Every item", st["h2"])]
    rows = []
    for r in report.rows:
        rcpt = []
        if r.to:
            rcpt.append("To " + ", ".join(r.to))
        if r.cc:
            rcpt.append("Cc " + ", ".join(r.cc))
        if r.bcc:
            rcpt.append("Bcc " + ", ".join(r.bcc))
        rows.append(
            [
                _p(f"{r.doc_type}\n{r.number}\n{r.administration}/{r.relation}", st["cell"]),
                _p(f"{r.kind}: {r.state}", st["cell"]),
                _p("\n".join(rcpt) or "-", st["cell"]),
                _p(r.why or "-", st["cell"]),
            ]
        )
    story.append(
        _table(
            ["Document", "Outcome", "Recipients", "Why / server reply"],
            rows,
            [36 * mm, 24 * mm, 62 * mm, 58 * mm],
        )
    )
    return _pdf(title, story)
