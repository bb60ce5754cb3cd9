"""The built-in demo installation: realistic, deterministic, and covering every rule.

Two administrations, NL/EN/DE language codes with templates for every document
type, a letterhead, outbox profiles that deliver into ``<home>/outbox/`` (no mail
server needed), personal settings for the user ``demo``, forty relations that
between them exercise every sender level (SPEC §5) and recipient rule (SPEC §6),
and a month of documents. Loading is idempotent: running it twice gives the
same data.

Which level and rule each part exercises:

- sender ``template``: reminder templates of HOLT carry the profile DEBITEUREN;
- sender ``administration``: administration HOLT has profile HOLT;
- sender ``personal``: administration KORN has no profile; user ``demo`` has the
  personal profile PERSONAL-DEMO (run with ``--user demo``);
- sender ``system``: the same KORN documents for any other user (SYSTEM);
- recipient rules: see the ``# rule:`` comments in :func:`_relations`.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal

from store.records import (
    DOC_TYPES,
    SUPPLIER_DOC_TYPES,
    AddressSet,
    Administration,
    Contact,
    Document,
    DocumentLine,
    LanguageCode,
    OpenItem,
    Profile,
    Record,
    Relation,
    StoredFileRef,
    SystemSettings,
    User,
)
from store.store import Store

DEMO_USER = "demo"
MONTH_START = dt.date(2026, 11, 1)

ADMINISTRATIONS = (
    Administration(
        code="HOLT",
        name="Holtkamp Installatietechniek B.V.",
        profile="HOLT",
        address=["Industrieweg 12", "7556 BD Hengelo"],
        phone="+31 74 123 45 67",
        email="info@holtkamp.example",
        website="www.holtkamp.example",
        vat_number="NL859123456B01",
        coc_number="06012345",
        iban="NL91 ABNA 0417 1643 00",
        bic="ABNANL2A",
        payment_days=30,
    ),
    Administration(
        code="KORN",
        name="Bakkerij De Korenschoof B.V.",
        profile=None,
        address=["Marktstraat 3", "3811 CK Amersfoort"],
        phone="+31 33 765 43 21",
        email="administratie@korenschoof.example",
        website="www.korenschoof.example",
        vat_number="NL812345678B01",
        coc_number="32098765",
        iban="NL20 INGB 0001 2345 67",
        bic="INGBNL2A",
        payment_days=14,
    ),
)

LANGUAGES = (("NL", "Nederlands", "nl_NL"), ("EN", "English", "en_GB"), ("DE", "Deutsch", "de_DE"))


def _profiles() -> list[Profile]:
    def outbox(code: str, desc: str, sender: str, name: str, **kw: object) -> Profile:
        return Profile(
            code=code,
            description=desc,
            system="outbox",
            sender=sender,
            sender_name=name,
            html=True,
            auth="none",
            security="none",
            outbox_dir="outbox",
            **kw,
        )

    return [
        outbox("SYSTEM", "System profile (demo outbox)", "mailroom@office.example", "Mailroom"),
        outbox(
            "HOLT",
            "Holtkamp invoicing",
            "facturen@holtkamp.example",
            "Holtkamp Installatietechniek",
            reply_to="administratie@holtkamp.example",
            bcc="archief@holtkamp.example",
        ),
        outbox(
            "DEBITEUREN",
            "Holtkamp credit control (reminders)",
            "debiteuren@holtkamp.example",
            "Holtkamp Debiteurenbeheer",
        ),
        outbox(
            "PERSONAL-DEMO", "Personal profile of user demo", "demo@office.example", "Dana Demo"
        ),
    ]


def letterhead_pdf(admin: Administration, *, follow_on: bool = False) -> bytes:
    """An A4 letterhead: a cover sheet, or with ``follow_on`` a continuation sheet."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    w, h = A4
    accent = HexColor("#1F4E79") if admin.code == "HOLT" else HexColor("#8A5A00")
    c.setFillColor(accent)
    if follow_on:
        c.rect(0, h - 12 * mm, w, 12 * mm, stroke=0, fill=1)
        c.setFillColor(HexColor("#FFFFFF"))
        c.setFont("Helvetica-Bold", 9)
        c.drawString(20 * mm, h - 8 * mm, admin.name)
    else:
        c.rect(0, h - 30 * mm, w, 30 * mm, stroke=0, fill=1)
        c.setFillColor(HexColor("#FFFFFF"))
        c.setFont("Helvetica-Bold", 18)
        c.drawString(20 * mm, h - 18 * mm, admin.name)
        c.setFont("Helvetica", 9)
        c.drawString(20 * mm, h - 25 * mm, "  ·  ".join([*admin.address, admin.website]))
    c.setFillColor(accent)
    c.setFont("Helvetica", 7.5)
    footer = (
        f"{admin.name}  ·  KvK {admin.coc_number}  ·  BTW {admin.vat_number}  ·  "
        f"IBAN {admin.iban}  ·  {admin.phone}  ·  {admin.email}"
    )
    c.drawCentredString(w / 2, 10 * mm, footer)
    c.showPage()
    c.save()
    return buf.getvalue()


def _relations(admin: str, lang_codes: set[str]) -> list[Relation]:
    """Twenty relations per administration; forty in all."""
    p = admin.lower()
    rels: list[Relation] = []
    # Sales invoices first: it is what an admin looks for first in an overview.
    customer_types = ["sales_invoice"] + [
        t for t in DOC_TYPES if t not in SUPPLIER_DOC_TYPES and t != "sales_invoice"
    ]

    def cust(code: str, name: str, lang: str = "NL", **kw: object) -> None:
        city = {"NL": "Utrecht", "EN": "London", "DE": "Köln"}[lang]
        country = {"NL": "NL", "EN": "GB", "DE": "DE"}[lang]
        kw.setdefault("opt_in", customer_types)
        rels.append(
            Relation(
                administration=admin,
                code=code,
                kind="customer",
                name=name,
                language=lang if lang in lang_codes else "NL",
                address=[f"{name.split()[0]}straat {len(rels) + 1}", f"1234 AB {city}"],
                country=country,
                **kw,
            )
        )

    # rule: per_type — To, Cc and Bcc per e-mail type.
    cust(
        "D1001",
        "Bouwbedrijf Jansen B.V.",
        email_addresses={
            "sales_invoice": AddressSet(
                to=[f"facturen@jansen-{p}.example"],
                cc=[f"controller@jansen-{p}.example"],
                bcc=[f"archief@jansen-{p}.example"],
            ),
            "reminder": AddressSet(to=[f"crediteuren@jansen-{p}.example"]),
        },
        business_email=f"info@jansen-{p}.example",
    )
    cust(
        "D1002",
        "Müller Haustechnik GmbH",
        "DE",
        email_addresses={"sales_invoice": AddressSet(to=[f"rechnungen@mueller-{p}.example"])},
        contacts=[
            Contact(name="Klaus Müller", email=f"k.mueller@mueller-{p}.example", roles=["main"])
        ],
    )
    cust(
        "D1003",
        "Thornbury Facilities Ltd",
        "EN",
        email_addresses={
            "sales_invoice": AddressSet(
                to=[f"accounts.payable@thornbury-{p}.example"],
                cc=[f"Accounts.Payable@thornbury-{p}.example"],  # duplicate: removed
            )
        },
    )
    # rule: invoice_debtor_contact — billed to the head office, whose invoice contact gets it.
    cust(
        "D1004",
        "Hoofdkantoor Vermeulen Groep",
        contacts=[
            Contact(
                name="Ingrid de Wit", email=f"crediteuren@vermeulen-{p}.example", roles=["invoice"]
            ),
            Contact(name="Piet Vermeulen", email=f"piet@vermeulen-{p}.example", roles=["main"]),
        ],
    )
    cust(
        "D1005",
        "Vermeulen Filiaal Zwolle",
        invoice_debtor="D1004",
        business_email=f"zwolle@vermeulen-{p}.example",
    )
    cust(
        "D1006",
        "Vermeulen Filiaal Deventer",
        invoice_debtor="D1004",
        contacts=[
            Contact(name="Ans Bos", email=f"ans@vermeulen-{p}.example", roles=["administration"])
        ],
    )
    # rule: administration_contact
    cust(
        "D1007",
        "Installatiebedrijf De Vries",
        contacts=[
            Contact(
                name="Marja de Vries",
                email=f"administratie@devries-{p}.example",
                roles=["administration"],
            ),
            Contact(name="Henk de Vries", email=f"henk@devries-{p}.example", roles=["main"]),
        ],
        business_email=f"info@devries-{p}.example",
    )
    cust(
        "D1008",
        "Schneider & Söhne KG",
        "DE",
        contacts=[
            Contact(
                name="Eva Schneider",
                email=f"buchhaltung@schneider-{p}.example",
                roles=["administration"],
            )
        ],
    )
    # rule: main_contact
    cust(
        "D1009",
        "Café Het Hoekje",
        contacts=[
            Contact(name="Fatima el Amrani", email=f"fatima@hethoekje-{p}.example", roles=["main"])
        ],
    )
    cust(
        "D1010",
        "Greenway Logistics Ltd",
        "EN",
        contacts=[
            Contact(name="Oliver Hughes", email=f"oliver@greenway-{p}.example", roles=["main"])
        ],
    )
    # rule: business_email
    cust("D1011", "Kapsalon Knip & Go", business_email=f"info@knipengo-{p}.example")
    cust("D1012", "Autobedrijf Smit", business_email=f"info@autosmit-{p}.example")
    cust("D1013", "Brauerei Eichbaum", "DE", business_email=f"info@eichbaum-{p}.example")
    cust("D1014", "Sportschool FitFabriek", business_email=f"administratie@fitfabriek-{p}.example")
    # print: not_opted_in — addresses known, but the relation wants paper.
    cust("D1015", "Notariskantoor Van Dam", opt_in=[], business_email=f"info@vandam-{p}.example")
    cust(
        "D1016",
        "Stichting Dorpshuis",
        opt_in=["order_confirmation"],
        business_email=f"secretaris@dorpshuis-{p}.example",
    )
    # print: no_address — opted in, nothing to send to.
    cust("D1017", "Timmerbedrijf Kok")
    # per-type Cc only: no To of its own, so the Cc is the recipient (warned about).
    # (An invalid address cannot be stored: the one door refuses it at every entry.)
    cust(
        "D1018",
        "Drukkerij Peters",
        email_addresses={"sales_invoice": AddressSet(cc=[f"boekhouding@peters-{p}.example"])},
        business_email=f"info@peters-{p}.example",
    )
    # suppliers: purchase orders
    rels.append(
        Relation(
            administration=admin,
            code="C2001",
            kind="supplier",
            name="Technische Groothandel Rexel",
            language="NL",
            address=["Groothandelsweg 1", "3800 AA Amersfoort"],
            opt_in=["purchase_order"],
            email_addresses={"purchase_order": AddressSet(to=[f"orders@rexel-{p}.example"])},
        )
    )
    rels.append(
        Relation(
            administration=admin,
            code="C2002",
            kind="supplier",
            name="Großhandel Weber GmbH",
            language="DE" if "DE" in lang_codes else "NL",
            address=["Lagerstraße 9", "47533 Kleve"],
            country="DE",
            opt_in=["purchase_order"],
            business_email=f"bestellung@weber-{p}.example",
        )
    )
    return rels


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


def demo_records(store: Store) -> tuple[list[Record], list[Document]]:
    """Build every demo record (stores the letterhead files as a side effect)."""
    from mailing.demo_templates import demo_templates

    config: list[Record] = [SystemSettings(profile="SYSTEM"), *_profiles()]
    config.append(
        User(
            name=DEMO_USER,
            full_name="Dana Demo",
            profile="PERSONAL-DEMO",
            signature="Met vriendelijke groet,\nDana Demo\nFinanciële administratie",
        )
    )
    documents: list[Document] = []
    rng = random.Random(2026)
    for admin in ADMINISTRATIONS:
        config.append(admin)
        templates = demo_templates(admin.code)
        for t in templates:
            if admin.code == "HOLT" and t.object == "reminder":
                t.profile = "DEBITEUREN"  # sender level: template
        config.extend(templates)
        first: StoredFileRef = store.files.add_bytes(
            f"letterhead-{admin.code.lower()}-first.pdf", letterhead_pdf(admin)
        )
        second: StoredFileRef = store.files.add_bytes(
            f"letterhead-{admin.code.lower()}-second.pdf", letterhead_pdf(admin, follow_on=True)
        )
        codes = {t.code for t in templates}
        langs = set()
        for lang, desc, locale in LANGUAGES:
            mapping = {}
            for t in templates:
                if t.code.startswith(f"{admin.code}-{lang}-") and t.object in DOC_TYPES:
                    mapping[t.object] = t.code
            if not mapping:
                continue
            assert all(code in codes for code in mapping.values())
            langs.add(lang)
            config.append(
                LanguageCode(
                    administration=admin.code,
                    code=lang,
                    description=desc,
                    locale=locale,
                    templates=mapping,
                    first_background=first,
                    second_background=second,
                )
            )
        rels = _relations(admin.code, langs)
        config.extend(rels)
        documents.extend(_documents(admin, rels, rng))
    return config, documents


def load_demo(store: Store) -> tuple[int, int]:
    """Load the demo installation (idempotent); returns (config records, documents)."""
    config, documents = demo_records(store)
    with store.transaction() as tx:
        n_config = tx.put_many(config)
    with store.transaction(Document) as tx:
        n_docs = tx.put_many(documents)
    return n_config, n_docs
