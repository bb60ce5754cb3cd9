"""The demo's firms and how they send: administrations, languages, profiles, the demo user."""

from __future__ import annotations

from store.records import Administration, Profile

DEMO_USER = "demo"

ADMINISTRATIONS = (
    Administration(
        code="HOLT",
        name="Holtkamp Installatietechniek B.V.",
        profile="HOLT",
        address=["Industrieweg 12", "7556 BD Hengelo"],
        phone="+31 74 123 45 67",
        email="info@holtkamp.example",
        website="www.holtkamp.example",
        vat_number="NL859123455B01",
        coc_number="06012345",
        iban="NL91 ABNA 0417 1643 00",
        bic="ABNANL2A",
        payment_days=30,
        epc_qr=True,  # "scan to pay" on its invoices, with an RF creditor reference
        rf_reference=True,
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
