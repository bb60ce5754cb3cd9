"""Layout texts per language (NL, EN, DE): titles, labels, number and date formats."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

_TITLES: dict[str, dict[str, str]] = {
    "NL": {
        "reminder": "Betalingsherinnering",
        "sales_invoice": "Factuur",
        "order_confirmation": "Orderbevestiging",
        "down_payment": "Aanbetalingsverzoek",
        "packing_slip": "Pakbon",
        "subscription_invoice": "Abonnementsfactuur",
        "purchase_order": "Bestelbon",
        "counter_invoice": "Baliefactuur",
    },
    "EN": {
        "reminder": "Payment reminder",
        "sales_invoice": "Invoice",
        "order_confirmation": "Order confirmation",
        "down_payment": "Down-payment request",
        "packing_slip": "Packing slip",
        "subscription_invoice": "Subscription invoice",
        "purchase_order": "Purchase order",
        "counter_invoice": "Counter sale invoice",
    },
    "DE": {
        "reminder": "Zahlungserinnerung",
        "sales_invoice": "Rechnung",
        "order_confirmation": "Auftragsbestätigung",
        "down_payment": "Anzahlungsrechnung",
        "packing_slip": "Lieferschein",
        "subscription_invoice": "Abonnementrechnung",
        "purchase_order": "Bestellung",
        "counter_invoice": "Barverkaufsrechnung",
    },
}

_LABELS: dict[str, dict[str, str]] = {
    "NL": {
        "number": "Nummer",
        "date": "Datum",
        "due_date": "Vervaldatum",
        "reference": "Uw referentie",
        "customer": "Klantnummer",
        "supplier": "Leveranciersnummer",
        "article": "Artikel",
        "description": "Omschrijving",
        "quantity": "Aantal",
        "unit_price": "Prijs",
        "vat": "Btw %",
        "amount": "Bedrag",
        "invoice": "Factuur",
        "invoice_date": "Factuurdatum",
        "days": "Dagen over",
        "open": "Openstaand",
        "subtotal": "Subtotaal",
        "vat_over": "Btw {rate}% over {base}",
        "total": "Totaal",
        "total_open": "Totaal openstaand",
        "page": "Pagina {n} van {total}",
        "pay": (
            "Wij verzoeken u het bedrag van {amount} vóór {due} over te maken op "
            "IBAN {iban}{bic} t.n.v. {name}, onder vermelding van {number}."
        ),
        "pay_reminder": (
            "Volgens onze administratie staan de volgende posten nog open. Wij verzoeken u "
            "het totaal van {amount} vóór {due} over te maken op IBAN {iban}{bic} t.n.v. "
            "{name}. Heeft u inmiddels betaald, dan kunt u deze herinnering als niet "
            "verzonden beschouwen."
        ),
        "order": "Wij danken u voor uw opdracht.",
        "purchase": "Wij verzoeken u deze bestelling te leveren onder vermelding van {number}.",
        "packing": "Aantal regels: {lines}",
        "vat_no": "Btw-nummer",
        "coc": "KvK",
    },
    "EN": {
        "number": "Number",
        "date": "Date",
        "due_date": "Due date",
        "reference": "Your reference",
        "customer": "Customer no.",
        "supplier": "Supplier no.",
        "article": "Article",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Price",
        "vat": "VAT %",
        "amount": "Amount",
        "invoice": "Invoice",
        "invoice_date": "Invoice date",
        "days": "Days overdue",
        "open": "Open",
        "subtotal": "Subtotal",
        "vat_over": "VAT {rate}% on {base}",
        "total": "Total",
        "total_open": "Total open",
        "page": "Page {n} of {total}",
        "pay": (
            "Please pay {amount} before {due} to IBAN {iban}{bic} in the name of {name}, "
            "quoting {number}."
        ),
        "pay_reminder": (
            "According to our records the following items are still open. Please pay the "
            "total of {amount} before {due} to IBAN {iban}{bic} in the name of {name}. If you "
            "have paid in the meantime, please disregard this reminder."
        ),
        "order": "Thank you for your order.",
        "purchase": "Please deliver this order quoting {number}.",
        "packing": "Number of lines: {lines}",
        "vat_no": "VAT no.",
        "coc": "CoC",
    },
    "DE": {
        "number": "Nummer",
        "date": "Datum",
        "due_date": "Fällig am",
        "reference": "Ihre Referenz",
        "customer": "Kundennummer",
        "supplier": "Lieferantennummer",
        "article": "Artikel",
        "description": "Beschreibung",
        "quantity": "Menge",
        "unit_price": "Preis",
        "vat": "MwSt. %",
        "amount": "Betrag",
        "invoice": "Rechnung",
        "invoice_date": "Rechnungsdatum",
        "days": "Tage überfällig",
        "open": "Offen",
        "subtotal": "Zwischensumme",
        "vat_over": "MwSt. {rate}% auf {base}",
        "total": "Gesamtbetrag",
        "total_open": "Offener Betrag",
        "page": "Seite {n} von {total}",
        "pay": (
            "Bitte überweisen Sie {amount} bis zum {due} auf IBAN {iban}{bic}, "
            "Empfänger {name}, unter Angabe von {number}."
        ),
        "pay_reminder": (
            "Laut unserer Buchhaltung sind die folgenden Posten noch offen. Bitte überweisen "
            "Sie den Gesamtbetrag von {amount} bis zum {due} auf IBAN {iban}{bic}, Empfänger "
            "{name}. Sollten Sie bereits bezahlt haben, betrachten Sie dieses Schreiben bitte "
            "als gegenstandslos."
        ),
        "order": "Vielen Dank für Ihren Auftrag.",
        "purchase": "Bitte liefern Sie diese Bestellung unter Angabe von {number}.",
        "packing": "Anzahl Positionen: {lines}",
        "vat_no": "USt-IdNr.",
        "coc": "HRB",
    },
}

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def layout_language(language: str) -> str:
    """NL, EN or DE for a relation's language code (others get English)."""
    code = (language or "").upper()[:2]
    return code if code in _LABELS else "EN"


@dataclass(frozen=True)
class Formats:
    lang: str

    def money(self, value: Decimal) -> str:
        text = f"{value:,.2f}"
        if self.lang in ("NL", "DE"):
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return text

    def number(self, value: Decimal) -> str:
        if value == value.to_integral_value():
            text = f"{value:,.0f}"
        else:
            text = f"{value.normalize():,f}"
        if self.lang in ("NL", "DE"):
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return text

    def date(self, value: dt.date | None) -> str:
        if value is None:
            return ""
        if self.lang == "NL":
            return f"{value.day:02d}-{value.month:02d}-{value.year}"
        if self.lang == "DE":
            return f"{value.day:02d}.{value.month:02d}.{value.year}"
        return f"{value.day} {_EN_MONTHS[value.month - 1]} {value.year}"


def document_title(doc_type: str, language: str) -> str:
    """The document type's word in the language: 'Factuur', 'Rechnung', 'Invoice'."""
    return _TITLES[layout_language(language)][doc_type]


def attachment_name(doc_type: str, number: str, language: str) -> str:
    """The PDF's file name in the customer's language: 'Factuur F20260025.pdf'."""
    from mailing.names import safe_file_name

    stem = safe_file_name(f"{document_title(doc_type, language)} {number}", default="document")
    return f"{stem}.pdf"
