"""The checks of the documents read: administration, relation, dates, lines, totals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mailing.addresses import check_address
from mailing.errors import AddressError
from mailing.importer.candidate import MAX_LINES, _Candidate
from mailing.importer.numbers import MAX_AMOUNT, MAX_QUANTITY, _sane
from mailing.importer.problems import _clip, _Problems, _short
from store.errors import RecordError
from store.records import SUPPLIER_DOC_TYPES, Administration, Document, Relation
from store.store import Store

TOTAL_TOLERANCE = Decimal("0.02")  # rounding differences per document, in currency units


def _check(
    store: Store,
    candidates: list[_Candidate],
    administration: str | None,
    replace: bool,
    problems: _Problems,
) -> list[tuple[_Candidate, Document]]:
    with store.view() as tx:
        forms = {a["code"]: a.get("e_invoice", "off") for a in tx.raw(Administration)}
        relations = {(r["administration"], r["code"]): r for r in tx.raw(Relation)}
    admins = set(forms)
    # A snapshot needing no lock or cleanup: each key asked about reads one shard of keys.
    with store.view(Document) as stored:
        pass
    if administration is not None and administration not in admins:
        problems.add(
            "--admin",
            f"administration {_short(administration)} does not exist"
            + (f" (known: {', '.join(sorted(admins))})" if admins else ""),
        )
    seen: dict[str, str] = {}
    out: list[tuple[_Candidate, Document]] = []
    for cand in candidates:
        data = dict(cand.data)
        given = data.get("administration")
        at_admin = cand.locate.get("administration", cand.where)
        if given is not None and not isinstance(given, str):
            problems.add(at_admin, f"administration {_short(given)} must be a code (text)")
            continue
        if administration is not None:
            if given not in (None, "", administration):
                problems.add(
                    at_admin,
                    f"administration {_short(given)} differs from --admin "
                    f"{_short(administration)}; leave it empty or make them the same",
                )
                continue
            data["administration"] = administration
        elif not given:
            problems.add(
                at_admin, "no administration: give --admin CODE or fill in the administration"
            )
            continue
        elif given not in admins:
            problems.add(
                at_admin,
                f"administration {_short(given)} does not exist"
                + (f" (known: {', '.join(sorted(admins))})" if admins else ""),
            )
            continue
        crowded = [
            (key, len(data[key]))
            for key in ("lines", "open_items")
            if isinstance(data.get(key), list) and len(data[key]) > MAX_LINES
        ]
        if crowded:
            key, n = crowded[0]
            problems.add(
                cand.locate.get(key, cand.where),
                f"the document has {n:,} {key.replace('_', ' ')}; at most {MAX_LINES:,} "
                "fit in one document: split it into several documents",
            )
            continue
        if cand.party is not None:
            code = _match_party(cand, data["administration"], relations, problems)
            if code is None:
                continue
            data["relation"] = code
        try:
            doc = Document.parse(data)
        except RecordError as exc:
            for loc, value, msg in exc.problems:
                place, label = _locate(cand, loc)
                shown = "" if isinstance(value, dict) else f" (value: {_short(value)})"
                problems.add(place, f"{label} {_plain(msg)}{shown}")
            continue
        before = problems.count
        _check_document(doc, cand, relations, problems)
        _check_e_invoice(doc, cand, relations, forms, problems)
        if doc.id in seen:
            problems.add(
                cand.where,
                f"{doc.type} {doc.number} appears twice in the file (also at {seen[doc.id]})",
            )
        else:
            seen[doc.id] = cand.where
        if not replace and stored.has(doc.id):
            problems.add(
                cand.locate.get("number", cand.where),
                f"{doc.type} {doc.number} already exists in administration "
                f"{doc.administration}; use --replace to replace it",
            )
        if problems.count == before:
            out.append((cand, doc))
    return out


def _check_document(
    doc: Document,
    cand: _Candidate,
    relations: dict[tuple[str, str], dict[str, Any]],
    problems: _Problems,
) -> None:
    at = cand.locate.get
    before = problems.count
    rel = relations.get((doc.administration, doc.relation))
    if rel is None:
        problems.add(
            at("relation", cand.where),
            f"relation {_short(doc.relation)} does not exist in administration "
            f"{doc.administration}; add the relation first or correct the code",
        )
    else:
        want = "supplier" if doc.type in SUPPLIER_DOC_TYPES else "customer"
        kind = rel.get("kind", "customer")
        if kind != want:
            problems.add(
                at("relation", cand.where),
                f"relation {_short(doc.relation)} is a {kind}; a {doc.type} goes to a {want}",
            )
    if doc.invoice_debtor and (doc.administration, doc.invoice_debtor) not in relations:
        problems.add(
            at("invoice_debtor", cand.where),
            f"invoice debtor {_short(doc.invoice_debtor)} does not exist in administration "
            f"{doc.administration}; add the relation first or correct the code",
        )
    if not (1990 <= doc.date.year <= 2100):
        problems.add(at("date", cand.where), f"date {doc.date} is not plausible")
    if doc.due_date is not None and doc.due_date < doc.date:
        problems.add(
            at("due_date", cand.where), f"due date {doc.due_date} is before the date {doc.date}"
        )
    # A number refused while reading was replaced by 0: its sums would only mislead.
    sums = not cand.flawed
    if doc.type == "reminder":
        if not doc.open_items:
            problems.add(cand.where, "a reminder needs at least one open item")
        for i, item in enumerate(doc.open_items):
            where = at(f"open_items.{i}", f"{cand.where}.open_items[{i}]")
            amounts = (item.amount, item.open_amount)
            if not all(_sane(v, MAX_AMOUNT) for v in amounts):
                problems.add(where, "amount is not a number or too large")
                continue
            if sums and item.amount >= 0 and not (0 <= item.open_amount <= item.amount):
                problems.add(
                    where,
                    f"open amount {item.open_amount} must lie between 0 and the amount {item.amount}",
                )
            if item.due_date < item.date:
                problems.add(where, f"due date {item.due_date} is before the date {item.date}")
    elif not doc.lines and sums:  # (a UBL line with a refused number is left out)
        problems.add(cand.where, f"a {doc.type} needs at least one line")
    for i, ln in enumerate(doc.lines):
        where = at(f"lines.{i}", f"{cand.where}.lines[{i}]")
        ok = True
        for name, bound in (
            ("quantity", MAX_QUANTITY),
            ("unit_price", MAX_AMOUNT),
            ("vat_rate", MAX_AMOUNT),
        ):
            value: Decimal = getattr(ln, name)
            if not _sane(value, bound):
                problems.add(where, f"{name} {_short(str(value))} is not a number or too large")
                ok = False
        if not ln.description.strip():
            problems.add(where, "description is empty")
        if ok and not (0 <= ln.vat_rate <= 100):
            problems.add(where, f"VAT rate {ln.vat_rate} must be between 0 and 100")
        if ok and abs(ln.quantity * ln.unit_price) >= MAX_AMOUNT:
            problems.add(
                where,
                f"line amount {ln.quantity} × {ln.unit_price} is too large; it must be "
                f"less than {MAX_AMOUNT:,.0f}",
            )
    if doc.order_override is not None:
        for kind in ("to", "cc", "bcc"):
            for addr in getattr(doc.order_override, kind):
                try:
                    check_address(addr, f"order_override.{kind}")
                except AddressError as exc:
                    problems.add(
                        at("order_override", cand.where),
                        f"{kind} address {_short(addr)} is not a valid e-mail address; {exc.fix}",
                    )
    # Totals the file states must agree with the lines.
    if problems.count > before or not sums:
        return
    stated = cand.totals
    computed = {
        "total_excl": doc.total_excl,
        "total_vat": doc.total_vat,
        "total_incl": doc.total_incl,
    }
    for key, value in stated.items():
        if value is None:
            continue
        if abs(value - computed[key]) > TOTAL_TOLERANCE:
            problems.add(
                at(key, cand.where),
                f"{key} is {value} in the file but the lines add up to {computed[key]}",
            )


def _check_e_invoice(
    doc: Document,
    cand: _Candidate,
    relations: dict[tuple[str, str], dict[str, Any]],
    forms: dict[str, str],
    problems: _Problems,
) -> None:
    """Issue 26: what the official e-invoice rules would refuse is refused here, before
    the document is stored (the VAT category rules for every invoice; a negative price
    or a credit note without its invoice when the customer takes e-invoices)."""
    from mailing.einvoice.data import EINVOICE_TYPES, buyer_address, rule_problems

    if doc.type not in EINVOICE_TYPES:
        return
    rel = relations.get((doc.administration, doc.invoice_debtor or doc.relation)) or {}
    form = rel.get("e_invoice") or forms.get(doc.administration, "off")
    if form in ("ubl", "xrechnung") and rel and buyer_address(Relation.parse(rel)) is None:
        problems.add(
            cand.locate.get("relation", cand.where),
            f"relation {rel.get('code')} takes Peppol UBL invoices, which need its electronic "
            "address (PEPPOL-EN16931-R010), and it has no Peppol address, KvK/KBO number or "
            "VAT number; enter one of them for the relation first",
        )
    for where, what, fix in rule_problems(doc, e_invoice=form != "off"):
        if where.startswith("line "):
            n = int(where.split()[1]) - 1
            place = cand.locate.get(f"lines.{n}", f"{cand.where}.lines[{n}]")
        else:
            place = cand.locate.get(where, cand.where)
        problems.add(place, f"{what}; {fix}")


def _match_party(
    cand: _Candidate,
    administration: str,
    relations: dict[tuple[str, str], dict[str, Any]],
    problems: _Problems,
) -> str | None:
    """The relation code of a UBL customer: by PartyIdentification/ID, else by name."""
    assert cand.party is not None
    ids, names = cand.party
    where = cand.locate.get("relation", cand.where)
    for pid in ids:
        if (administration, pid) in relations:
            return pid
    wanted = {n.casefold() for n in names}
    found = [
        code
        for (adm, code), rel in relations.items()
        if adm == administration and str(rel.get("name", "")).casefold() in wanted
    ]
    if len(found) == 1:
        return found[0]
    shown = (
        ", ".join([*(f"id {_short(i)}" for i in ids[:5]), *(f"name {_short(n)}" for n in names)])
        or "nothing"
    )
    if found:
        problems.add(
            where,
            f"the customer ({shown}) matches several relations: {', '.join(sorted(found))}; "
            "put the relation code in cac:PartyIdentification/cbc:ID",
        )
    else:
        problems.add(
            where,
            f"no relation in administration {administration} matches the customer ({shown}); "
            "the relation code goes in cac:PartyIdentification/cbc:ID",
        )
    return None


def _locate(cand: _Candidate, loc: str) -> tuple[str, str]:
    """Where a validation problem at ``loc`` (``lines.0.unit_price``) is in the file,
    and the field's name to put in the message (``unit_price``)."""
    parts = loc.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in cand.locate:
            rest = parts[n:] or parts[-1:]
            return cand.locate[key], _field_name(rest)
    return cand.where, _field_name(parts)


def _field_name(parts: list[str]) -> str:
    out = ""
    for p in map(_clip, parts):
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "the document"


# Pydantic's wording, in words for an office administrator.
_PLAIN = (
    ("Input should be a valid decimal", "is not a number; write digits like 1234.50"),
    ("Decimal input should be", "is not a number; write digits like 1234.50"),
    ("Input should be a finite number", "is not a usable number; write digits like 1234.50"),
    ("Input should be a valid number", "is not a number; write digits like 1234.50"),
    ("Input should be a valid date", "is not a real date; write it as YYYY-MM-DD, e.g. 2025-03-31"),
    ("Datetimes provided to dates", "must be a date without a time, e.g. 2025-03-31"),
    ("Input should be a valid string", "must be text"),
    ("Input should be a valid list", "must be a list [...]"),
    ("Input should be a valid dictionary", "must be an object {...}"),
    ("Input should be an object", "must be an object {...}"),
    ("Input should be a valid integer", "must be a whole number"),
    ("Input should be", "should be"),
)


def _plain(msg: str) -> str:
    for prefix, plain in _PLAIN:
        if msg.startswith(prefix):
            return plain if prefix != "Input should be" else plain + msg[len(prefix) :]
    return msg
