"""Resolving 10,000 documents against 10,000 relations, against merely loading them.

    python benchmarks/resolve.py [--documents N] [--relations N] [--repeat K]

Builds a data folder in a temporary directory (relations with every kind of
address: per-type, contacts, invoice debtors, business e-mail, some invalid), then
in one run measures (best of K):

  load     ConfigSnapshot.load + load_documents (what every batch pays anyway)
  resolve  resolve_all over every document

and prints resolve/load. Target: under 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailing.config import ConfigSnapshot, load_documents
from mailing.resolve import resolve_all
from store.records import (
    DOC_TYPES,
    Administration,
    Document,
    LanguageCode,
    Profile,
    Record,
    Relation,
    SystemSettings,
    Template,
    User,
)
from store.store import Store


def build(home: Path, n_docs: int, n_rel: int) -> None:
    records: list[Record] = [
        SystemSettings(profile="SYS"),
        Profile(code="SYS", sender="system@office.example"),
        Profile(code="ADM", sender="admin@acme.example", bcc="archive@acme.example"),
        Profile(code="TPL", sender="invoices@acme.example", reply_to="ar@acme.example"),
        Administration(code="A1", name="Acme", profile="ADM"),
        User(name="bench", profile=None),
    ]
    for lang in ("NL", "EN", "DE"):
        templates = {}
        for doctype in DOC_TYPES:
            code = f"{lang}_{doctype}"
            templates[doctype] = code
            records.append(
                Template.parse(
                    {
                        "code": code,
                        "object": doctype,
                        "profile": "TPL" if doctype == "sales_invoice" else None,
                    }
                )
            )
        records.append(
            LanguageCode.parse({"administration": "A1", "code": lang, "templates": templates})
        )
    for i in range(n_rel):
        code = f"C{i:05d}"
        kind = i % 7
        data: dict[str, object] = {
            "administration": "A1",
            "code": code,
            "name": f"Customer {i}",
            "language": ("NL", "EN", "DE")[i % 3],
            "business_email": f"info@c{i}.example" if kind != 6 else "",
            "opt_in": [] if kind == 5 else ["sales_invoice", "reminder", "order_confirmation"],
            "contacts": [],
        }
        if kind == 0:
            data["email_addresses"] = {
                "sales_invoice": {"to": [f"ap@c{i}.example"], "cc": [f"cfo@c{i}.example"]}
            }
        elif kind == 1:
            data["contacts"] = [
                {"name": "Ann", "email": f"ann@c{i}.example", "roles": ["administration"]}
            ]
        elif kind == 2:
            data["contacts"] = [{"name": "Bo", "email": f"bo@c{i}.example", "roles": ["main"]}]
        elif kind == 3:
            data["invoice_debtor"] = f"C{(i + 7) % n_rel:05d}"
            data["contacts"] = [{"name": "Cy", "email": f"cy@c{i}.example", "roles": ["invoice"]}]
        elif kind == 4:
            data["contacts"] = [{"name": "Di", "email": "di at broken", "roles": ["main"]}]
        records.append(Relation.parse(data))
    for j in range(n_docs):
        records.append(
            Document.parse(
                {
                    "administration": "A1",
                    "type": ("sales_invoice", "sales_invoice", "reminder")[j % 3],
                    "number": f"F{j:06d}",
                    "relation": f"C{j % n_rel:05d}",
                    "date": dt.date(2025, 1, 1),
                }
            )
        )
    Store(home, "bench").put_many(records)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--relations", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        build(home, args.documents, args.relations)
        print(
            f"built {args.documents} documents, {args.relations} relations "
            f"in {time.perf_counter() - t0:.2f} s"
        )
        store = Store(home, "bench")
        load_times: list[float] = []
        resolve_times: list[float] = []
        results = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            cfg = ConfigSnapshot.load(store)
            docs = load_documents(store)
            t1 = time.perf_counter()
            results = resolve_all(cfg, docs, "bench")
            t2 = time.perf_counter()
            load_times.append(t1 - t0)
            resolve_times.append(t2 - t1)
        load, resolve = min(load_times), min(resolve_times)
        print(f"load     {load * 1000:8.1f} ms  (best of {args.repeat})")
        print(
            f"resolve  {resolve * 1000:8.1f} ms  ({resolve / len(results) * 1e6:.1f} µs/document)"
        )
        print(f"ratio resolve/load: {resolve / load:.2f}  (target < 2)")
        print(
            "actions: "
            + ", ".join(f"{k} {v}" for k, v in Counter(r.action for r in results).items())
        )
        print(
            "levels:  "
            + ", ".join(f"{k} {v}" for k, v in Counter(r.sender.level for r in results).items())
        )
        print(
            "rules:   "
            + ", ".join(f"{k} {v}" for k, v in Counter(r.recipients.rule for r in results).items())
        )
        return 0 if resolve / load < 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
