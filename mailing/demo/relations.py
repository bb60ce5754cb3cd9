"""The demo relations: twenty per administration, between them every recipient rule."""

from __future__ import annotations

from store.records import DOC_TYPES, SUPPLIER_DOC_TYPES, AddressSet, Contact, Relation


def _demo_vat(country: str, n: int) -> str:
    """A VAT number of ``country`` whose check digits hold (python-stdnum says so)."""
    from stdnum.eu import vat

    from mailing.einvoice.identifiers import vat_problem

    for tail in range(100):
        if country == "GB":
            candidate = f"GB{n % 10**7:07d}{tail:02d}"
            if vat_problem(candidate) is None:
                return candidate
        else:
            candidate = f"{country}{n:08d}{tail % 10}"
            if vat.is_valid(candidate):
                return candidate
    raise AssertionError(f"no demo VAT number for {country} {n}")


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
        # Who the customer is on an e-invoice (issue 26): a KvK number for a Dutch one
        # (its Peppol address 0106), a VAT number for the others (9930 DE, 9932 GB).
        n = len(rels) + 1
        if country == "NL":
            kw.setdefault("coc_number", f"{61000000 + 3791 * n + (7 if admin == 'KORN' else 0)}")
        else:
            kw.setdefault("vat_number", _demo_vat(country, 27000000 + 1301 * n))
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
