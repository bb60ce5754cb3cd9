"""Reports, as data and as PDF (SPEC §8): the relations e-mail overview and the batch report.

Each report is first built as plain data (``relations_report``, ``batch_report``),
which the TUI shows and the tests check; ``*_pdf`` draws it on A4 with reportlab:
a title, a summary that names every problem, a table whose header repeats on
every page, and "page N of M" at the foot. ``make_report`` is what the command
line and the TUI call; mailing a report is :func:`mailing.manual.send_report`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from mailing.addresses import check_address, split_addresses
from mailing.config import ConfigSnapshot
from mailing.errors import AddressError, ConfigError
from store.errors import MailroomError
from store.records import SUPPLIER_DOC_TYPES, Document, Profile, Relation, SystemSettings

if TYPE_CHECKING:
    from store.spool import Batch
    from store.store import Store

REPORTS: dict[str, str] = {
    "relations": "Relations e-mail overview: opt-ins, recipients per document type, problems",
    "batch": "Batch report: what was sent to whom, what was printed and why",
}

PRINT_REASONS: dict[str, str] = {
    "not_opted_in": "the relation has not opted in to receive this document by e-mail",
    "no_address": "no usable e-mail address was found for the relation",
}


class ReportError(MailroomError):
    """A report cannot be made as asked."""


# ---------------------------------------------------------------- relations overview


@dataclass
class RecipientLine:
    """Who would receive one document type of a relation, or why it would be printed."""

    doc_type: str
    action: str  # "email", "print", or "error" (the sender cannot be chosen)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    rule: str = "none"
    sender: str = ""
    template: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.action == "error":
            return f"{self.doc_type}: ERROR ({self.reason})"
        if self.action != "email":
            return f"{self.doc_type}: PRINT ({PRINT_REASONS.get(self.reason or '', self.reason)})"
        parts = [f"To {', '.join(self.to)}"]
        if self.cc:
            parts.append(f"Cc {', '.join(self.cc)}")
        if self.bcc:
            parts.append(f"Bcc {', '.join(self.bcc)}")
        return f"{self.doc_type}: {'; '.join(parts)} [{self.rule}]"


@dataclass
class RelationEntry:
    administration: str
    code: str
    name: str
    kind: str
    language: str
    opt_in: list[str]
    lines: list[RecipientLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class RelationsReport:
    generated: str
    administration: str | None
    entries: list[RelationEntry]
    problems: list[str] = field(default_factory=list)  # of the installation, not one relation

    @property
    def with_problems(self) -> list[RelationEntry]:
        return [e for e in self.entries if e.problems]

    def to_json(self) -> dict[str, Any]:
        return {
            "report": "relations",
            "generated": self.generated,
            "administration": self.administration,
            "relations": len(self.entries),
            "relations_with_problems": len(self.with_problems),
            "problems": list(self.problems),
            "entries": [e.to_json() for e in self.entries],
        }


_PLACEHOLDER = "REPORT-PLACEHOLDER"


def _resolver_config(cfg: ConfigSnapshot, problems: list[str]) -> ConfigSnapshot:
    """``cfg``, or a copy with a stand-in system profile when it has none.

    Without a system profile nothing can be sent, which the report says; the
    recipients can still be shown.
    """
    from mailing.resolve import Resolver

    try:
        Resolver(cfg)
        return cfg
    except ConfigError as exc:
        problems.append(exc.message + " Nothing can be sent until it is set.")
    stand_in = Profile(code=_PLACEHOLDER, system="outbox", sender="nobody@example.com")
    return dataclasses.replace(
        cfg,
        system=SystemSettings(profile=_PLACEHOLDER),
        profiles={**cfg.profiles, _PLACEHOLDER: stand_in},
    )


def _address_problems(relation: Relation) -> list[str]:
    """Every invalid address anywhere on the relation, naming its field."""
    found: list[tuple[str, str]] = []
    for doc_type, aset in relation.email_addresses.items():
        for name, values in (("To", aset.to), ("Cc", aset.cc), ("Bcc", aset.bcc)):
            for raw in values:
                found += [(f"{name} for {doc_type}", a) for a in split_addresses(raw)]
    for c in relation.contacts:
        found += [(f"e-mail of contact {c.name}", a) for a in split_addresses(c.email)]
    found += [("business e-mail", a) for a in split_addresses(relation.business_email)]
    out = []
    for where, addr in found:
        try:
            check_address(addr, where)
        except AddressError:
            out.append(f"invalid address {addr!r} in {where}")
    return out


def relations_report(
    cfg: ConfigSnapshot, user: str, administration: str | None = None
) -> RelationsReport:
    """Per relation: opt-ins, who receives each opted-in document type, and problems."""
    from mailing.resolve import Resolver

    problems: list[str] = []
    if administration is not None and administration not in cfg.administrations:
        raise ReportError(
            f"Administration {administration!r} does not exist.",
            field="administration",
            value=administration,
            fix="give an existing administration code, or leave it out for all.",
        )
    resolver = Resolver(_resolver_config(cfg, problems))
    today = dt.date.today()
    entries: list[RelationEntry] = []
    for (admin, code), rel in sorted(cfg.relations.items()):
        if administration is not None and admin != administration:
            continue
        entry = RelationEntry(admin, code, rel.name, rel.kind, rel.language, list(rel.opt_in))
        own: list[str] = []
        printed: list[str] = []
        lc = cfg.language_codes.get((admin, rel.language))
        if lc is None:
            own.append(
                f"language code {rel.language!r} does not exist in administration {admin}, "
                "so no template goes with its documents"
            )
        if admin not in cfg.administrations:
            own.append(f"administration {admin} does not exist")
        if rel.invoice_debtor and (admin, rel.invoice_debtor) not in cfg.relations:
            own.append(f"invoice debtor {rel.invoice_debtor!r} does not exist")
        for doc_type in rel.opt_in:
            if rel.kind == "customer" and doc_type in SUPPLIER_DOC_TYPES:
                own.append(f"a customer opted in to {doc_type}, which goes to suppliers")
            elif rel.kind == "supplier" and doc_type not in SUPPLIER_DOC_TYPES:
                own.append(f"a supplier opted in to {doc_type}, which goes to customers")
            doc = Document(
                administration=admin,
                type=doc_type,
                number="CHECK",
                relation=code,
                date=today,
            )
            try:
                res = resolver.resolve(doc, user)
            except ConfigError as exc:  # e.g. a profile on the way has an invalid sender
                entry.lines.append(RecipientLine(doc_type, "error", reason=exc.message))
                own.append(f"{doc_type} cannot be mailed: {exc.message}")
                continue
            line = RecipientLine(
                doc_type=doc_type,
                action=res.action,
                to=list(res.recipients.to),
                cc=list(res.recipients.cc),
                bcc=list(res.recipients.bcc),
                rule=res.recipients.rule,
                sender=f"{res.sender.profile} ({res.sender.level})",
                template=res.template,
                reason=res.reason,
            )
            entry.lines.append(line)
            if res.action == "print":
                printed.append(doc_type)
            if lc is not None:
                tcode = lc.templates.get(doc_type)
                if not tcode:
                    own.append(
                        f"language code {lc.code} assigns no template to {doc_type}: "
                        "it cannot be mailed until one is assigned"
                    )
                elif tcode not in cfg.templates:
                    own.append(f"template {tcode!r} for {doc_type} does not exist")
        if printed:
            own.insert(
                0,
                f"opted in to {', '.join(printed)} but has no usable e-mail address: "
                f"{'these go' if len(printed) > 1 else 'it goes'} to print",
            )
        own += _address_problems(rel)
        entry.problems = list(dict.fromkeys(own))
        entries.append(entry)
    return RelationsReport(
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        administration=administration,
        entries=entries,
        problems=problems,
    )


# ---------------------------------------------------------------- batch report


@dataclass
class BatchRow:
    """One item of a batch: what became of it."""

    item: str
    doc_type: str
    number: str
    administration: str
    relation: str
    kind: str  # email, print or error
    state: str
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    sender: str = ""
    subject: str = ""
    why: str = ""  # why printed, why failed, what the server said

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class BatchReport:
    batch: str
    generated: str
    rows: list[BatchRow]
    info: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.state] = out.get(r.state, 0) + 1
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "report": "batch",
            "batch": self.batch,
            "generated": self.generated,
            "counts": self.counts(),
            "rows": [r.to_json() for r in self.rows],
        }


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
        elif ref.state == "sent":
            why = f"server: {ev['reply']}" if ev.get("reply") else ""
            refused = ev.get("refused") or {}
            if refused:
                why += "; refused: " + ", ".join(
                    f"{a} ({' '.join(str(x) for x in v)})" for a, v in refused.items()
                )
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


# ---------------------------------------------------------------- PDF


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
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import SimpleDocTemplate

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont("Helvetica", 8)
                self.drawRightString(
                    A4[0] - 15 * mm, 10 * mm, f"{title} - page {self._pageNumber} of {total}"
                )
                super().showPage()
            super().save()

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
    doc.build(story, canvasmaker=NumberedCanvas)
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


# ---------------------------------------------------------------- one entry point


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
