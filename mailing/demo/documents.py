"""The demo documents: a month of invoices, reminders, orders and more per administration."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from store.records import AddressSet, Administration, Document, DocumentLine, OpenItem, Relation

MONTH_START = dt.date(2026, 11, 1)

_ITEMS = [
    ("Service visit, hourly rate", Decimal("68.50"), Decimal("21")),
    ("Thermostat Honeywell T6", Decimal("149.00"), Decimal("21")),
    ("Copper pipe 15 mm, per metre", Decimal("6.35"), Decimal("21")),
    ("Call-out charge", Decimal("45.00"), Decimal("21")),
    ("Maintenance contract, monthly", Decimal("24.95"), Decimal("21")),
    ("Bread and pastry delivery", Decimal("312.40"), Decimal("9")),
    ("Technical manual (printed)", Decimal("29.50"), Decimal("9")),
    ("Radiator valve", Decimal("18.75"), Decimal("21")),
]


def _documents(admin: Administration, rels: list[Relation], rng: random.Random) -> list[Document]:
    customers = [r for r in rels if r.kind == "customer"]
    suppliers = [r for r in rels if r.kind == "supplier"]
    docs: list[Document] = []
    counts = {
        "sales_invoice": 110,
        "reminder": 10,
        "order_confirmation": 8,
        "down_payment": 4,
        "packing_slip": 6,
        "subscription_invoice": 6,
        "counter_invoice": 4,
    }
    year = MONTH_START.year
    for doctype, n in counts.items():
        prefix = {
            "sales_invoice": "F",
            "reminder": "H",
            "order_confirmation": "O",
            "down_payment": "A",
            "packing_slip": "P",
            "subscription_invoice": "S",
            "counter_invoice": "B",
        }[doctype]
        for i in range(n):
            rel = customers[i % len(customers)]
            date = MONTH_START + dt.timedelta(days=rng.randrange(0, 29))
            lines = []
            nlines = 1 + rng.randrange(5)
            if doctype == "sales_invoice" and i == 0:
                nlines = 60  # one long invoice: several pages
            for _ in range(nlines):
                desc, price, vat = rng.choice(_ITEMS)
                lines.append(
                    DocumentLine(
                        description=desc,
                        quantity=Decimal(rng.randrange(1, 12)),
                        unit_price=price,
                        vat_rate=vat,
                    )
                )
            open_items: list[OpenItem] = []
            if doctype == "reminder":
                lines = []
                for k in range(1 + rng.randrange(3)):
                    d = date - dt.timedelta(days=45 + 30 * k)
                    amt = Decimal(rng.randrange(5000, 250000)) / 100
                    open_items.append(
                        OpenItem(
                            number=f"F{year - (1 if d.year < year else 0)}{k:03d}{i:02d}",
                            date=d,
                            due_date=d + dt.timedelta(days=admin.payment_days),
                            amount=amt,
                            open_amount=amt,
                        )
                    )
            override = None
            if doctype == "order_confirmation" and i == 0:
                # rule: order_override — this order carries its own addresses.
                override = AddressSet(
                    to=[f"inkoop@project-{admin.code.lower()}.example"],
                    cc=[f"projectleider@project-{admin.code.lower()}.example"],
                )
            docs.append(
                Document(
                    administration=admin.code,
                    type=doctype,
                    number=f"{prefix}{year}{i + 1:04d}",
                    relation=rel.code,
                    date=date,
                    due_date=date + dt.timedelta(days=admin.payment_days),
                    reference=f"PO-{rng.randrange(1000, 9999)}",
                    description="Werkzaamheden november"
                    if rel.language == "NL"
                    else "November work",
                    lines=lines,
                    open_items=open_items,
                    order_override=override,
                )
            )
    for i in range(5):
        rel = suppliers[i % len(suppliers)]
        date = MONTH_START + dt.timedelta(days=rng.randrange(0, 29))
        docs.append(
            Document(
                administration=admin.code,
                type="purchase_order",
                number=f"I{year}{i + 1:04d}",
                relation=rel.code,
                date=date,
                due_date=date + dt.timedelta(days=14),
                lines=[
                    DocumentLine(
                        description=rng.choice(_ITEMS)[0],
                        quantity=Decimal(rng.randrange(5, 50)),
                        unit_price=rng.choice(_ITEMS)[1],
                    )
                ],
                order_override=(
                    AddressSet(to=[f"spoed@rexel-{admin.code.lower()}.example"]) if i == 0 else None
                ),
            )
        )
    return docs
