"""Realistic demo templates: Dutch, English and German mail for every document type,
plus one each for reports, backups and hand-written mail (in Dutch).

Codes are ``<ADMIN>-<LANG>-<object>``, e.g. ``HOLT-DE-sales_invoice``. Every
template only uses the names of its object (:mod:`mailing.catalogue`) and passes
:func:`mailing.render.validate_template` (tested).
"""

from __future__ import annotations

from store.records import DOC_TYPES, Template

LANGS: tuple[str, ...] = ("NL", "EN", "DE")

# Per language: the words that differ. {x} are placeholders filled in below,
# before Jinja sees the text.
_WORDS: dict[str, dict[str, str]] = {
    "NL": {
        "dear": "Geachte {{ contact_name or relation_name }},",
        "regards": "Met vriendelijke groet,",
        "number": "Nummer",
        "date": "Datum",
        "due": "Vervaldatum",
        "amount": "Bedrag",
        "total": "Totaal",
        "excl": "Totaal excl. btw",
        "vat": "Btw",
        "reference": "Uw referentie",
        "disclaimer": (
            "Dit bericht is uitsluitend bestemd voor de geadresseerde. Heeft u het per "
            "vergissing ontvangen, laat het ons dan weten en verwijder het. "
            "{{ administration_name }} · KvK {{ coc_number }} · btw {{ vat_number }}"
        ),
    },
    "EN": {
        "dear": "Dear {{ contact_name or relation_name }},",
        "regards": "Kind regards,",
        "number": "Number",
        "date": "Date",
        "due": "Due date",
        "amount": "Amount",
        "total": "Total",
        "excl": "Total excl. VAT",
        "vat": "VAT",
        "reference": "Your reference",
        "disclaimer": (
            "This message is intended for the addressee only. If you received it by "
            "mistake, please let us know and delete it. "
            "{{ administration_name }} · Chamber of Commerce {{ coc_number }} · VAT {{ vat_number }}"
        ),
    },
    "DE": {
        "dear": "Sehr geehrte Damen und Herren,",
        "regards": "Mit freundlichen Grüßen",
        "number": "Nummer",
        "date": "Datum",
        "due": "Fällig am",
        "amount": "Betrag",
        "total": "Gesamt",
        "excl": "Summe netto",
        "vat": "MwSt.",
        "reference": "Ihre Referenz",
        "disclaimer": (
            "Diese Nachricht ist ausschließlich für den Empfänger bestimmt. Sollten Sie sie "
            "irrtümlich erhalten haben, informieren Sie uns bitte und löschen Sie sie. "
            "{{ administration_name }} · HRN {{ coc_number }} · USt-IdNr. {{ vat_number }}"
        ),
    },
}

# (subject, opening paragraph) per language and document type.
_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "NL": {
        "sales_invoice": (
            "Factuur {{ number }} van {{ administration_name }}",
            "Hierbij ontvangt u factuur {{ number }} van {{ date|date }}. Wij verzoeken u het "
            "bedrag van {{ total|money }} vóór {{ due_date|date }} over te maken op "
            "{{ iban }}, onder vermelding van het factuurnummer.",
        ),
        "reminder": (
            "Herinnering: openstaande facturen bij {{ administration_name }}",
            "Volgens onze administratie staan de onderstaande facturen nog open, samen "
            "{{ open_total|money }}. Wilt u dit bedrag binnen {{ payment_days }} dagen "
            "overmaken op {{ iban }}? Heeft u al betaald, dan kunt u deze herinnering als "
            "niet verzonden beschouwen.",
        ),
        "order_confirmation": (
            "Orderbevestiging {{ number }}",
            "Hartelijk dank voor uw bestelling{% if reference %} {{ reference }}{% endif %}. "
            "In de bijlage vindt u onze orderbevestiging {{ number }} van {{ date|date }}, "
            "totaal {{ total|money }}.",
        ),
        "down_payment": (
            "Verzoek om aanbetaling {{ number }}",
            "Zoals afgesproken vragen wij een aanbetaling van {{ total|money }}. Wilt u dit "
            "bedrag vóór {{ due_date|date }} overmaken op {{ iban }} onder vermelding van "
            "{{ number }}?",
        ),
        "packing_slip": (
            "Pakbon {{ number }} – uw levering is onderweg",
            "Uw bestelling{% if reference %} {{ reference }}{% endif %} is verzonden. In de "
            "bijlage vindt u pakbon {{ number }} van {{ date|date }}.",
        ),
        "subscription_invoice": (
            "Abonnementsfactuur {{ number }}",
            "Hierbij ontvangt u de factuur {{ number }} voor uw abonnement, "
            "{{ total|money }}, te voldoen vóór {{ due_date|date }}.",
        ),
        "purchase_order": (
            "Bestelling {{ number }} van {{ administration_name }}",
            "In de bijlage vindt u onze bestelling {{ number }} van {{ date|date }}. Wij "
            "ontvangen de goederen graag uiterlijk {{ delivery_date|date }}. Wilt u de "
            "bestelling bevestigen?",
        ),
        "counter_invoice": (
            "Uw kassabon {{ number }}",
            "Bedankt voor uw aankoop. In de bijlage vindt u factuur {{ number }} van "
            "{{ date|date }}, totaal {{ total|money }}.",
        ),
    },
    "EN": {
        "sales_invoice": (
            "Invoice {{ number }} from {{ administration_name }}",
            "Please find attached invoice {{ number }} dated {{ date|date }}. We kindly ask "
            "you to pay {{ total|money }} before {{ due_date|date }} to {{ iban }}, quoting "
            "the invoice number.",
        ),
        "reminder": (
            "Reminder: open invoices with {{ administration_name }}",
            "According to our records the invoices below, together {{ open_total|money }}, "
            "are still open. Please pay this amount within {{ payment_days }} days to "
            "{{ iban }}. If you have already paid, please disregard this reminder.",
        ),
        "order_confirmation": (
            "Order confirmation {{ number }}",
            "Thank you for your order{% if reference %} {{ reference }}{% endif %}. Attached "
            "is our order confirmation {{ number }} dated {{ date|date }}, total "
            "{{ total|money }}.",
        ),
        "down_payment": (
            "Down-payment request {{ number }}",
            "As agreed we ask for a down payment of {{ total|money }}. Please pay before "
            "{{ due_date|date }} to {{ iban }}, quoting {{ number }}.",
        ),
        "packing_slip": (
            "Packing slip {{ number }} – your delivery is on its way",
            "Your order{% if reference %} {{ reference }}{% endif %} has been shipped. "
            "Attached is packing slip {{ number }} dated {{ date|date }}.",
        ),
        "subscription_invoice": (
            "Subscription invoice {{ number }}",
            "Please find attached invoice {{ number }} for your subscription, "
            "{{ total|money }}, due {{ due_date|date }}.",
        ),
        "purchase_order": (
            "Purchase order {{ number }} from {{ administration_name }}",
            "Attached is our purchase order {{ number }} dated {{ date|date }}. We would like "
            "to receive the goods by {{ delivery_date|date }}. Please confirm the order.",
        ),
        "counter_invoice": (
            "Your receipt {{ number }}",
            "Thank you for your purchase. Attached is invoice {{ number }} dated "
            "{{ date|date }}, total {{ total|money }}.",
        ),
    },
    "DE": {
        "sales_invoice": (
            "Rechnung {{ number }} von {{ administration_name }}",
            "anbei erhalten Sie unsere Rechnung {{ number }} vom {{ date|date }}. Bitte "
            "überweisen Sie {{ total|money }} bis zum {{ due_date|date }} auf das Konto "
            "{{ iban }} unter Angabe der Rechnungsnummer.",
        ),
        "reminder": (
            "Zahlungserinnerung: offene Rechnungen bei {{ administration_name }}",
            "laut unserer Buchhaltung sind die folgenden Rechnungen über zusammen "
            "{{ open_total|money }} noch offen. Bitte überweisen Sie den Betrag innerhalb von "
            "{{ payment_days }} Tagen auf das Konto {{ iban }}. Sollten Sie bereits bezahlt "
            "haben, betrachten Sie dieses Schreiben bitte als gegenstandslos.",
        ),
        "order_confirmation": (
            "Auftragsbestätigung {{ number }}",
            "vielen Dank für Ihre Bestellung{% if reference %} {{ reference }}{% endif %}. "
            "Anbei erhalten Sie unsere Auftragsbestätigung {{ number }} vom {{ date|date }} "
            "über {{ total|money }}.",
        ),
        "down_payment": (
            "Anzahlungsrechnung {{ number }}",
            "wie vereinbart bitten wir um eine Anzahlung von {{ total|money }} bis zum "
            "{{ due_date|date }} auf das Konto {{ iban }} unter Angabe von {{ number }}.",
        ),
        "packing_slip": (
            "Lieferschein {{ number }} – Ihre Lieferung ist unterwegs",
            "Ihre Bestellung{% if reference %} {{ reference }}{% endif %} wurde versandt. "
            "Anbei erhalten Sie den Lieferschein {{ number }} vom {{ date|date }}.",
        ),
        "subscription_invoice": (
            "Abonnementrechnung {{ number }}",
            "anbei erhalten Sie die Rechnung {{ number }} für Ihr Abonnement über "
            "{{ total|money }}, fällig am {{ due_date|date }}.",
        ),
        "purchase_order": (
            "Bestellung {{ number }} von {{ administration_name }}",
            "anbei erhalten Sie unsere Bestellung {{ number }} vom {{ date|date }}. Wir "
            "bitten um Lieferung bis zum {{ delivery_date|date }} und um eine "
            "Auftragsbestätigung.",
        ),
        "counter_invoice": (
            "Ihr Kassenbeleg {{ number }}",
            "vielen Dank für Ihren Einkauf. Anbei erhalten Sie die Rechnung {{ number }} vom "
            "{{ date|date }} über {{ total|money }}.",
        ),
    },
}

_TABLE_STYLE = 'style="border-collapse:collapse;margin:1em 0"'
_CELL = 'style="padding:2px 12px 2px 0;text-align:left"'
_NUM = 'style="padding:2px 0 2px 12px;text-align:right"'


def _summary_table(lang: str, doc_type: str) -> str:
    w = _WORDS[lang]
    if doc_type == "reminder":
        return (
            f"<table {_TABLE_STYLE}>\n"
            f"<tr><th {_CELL}>{w['number']}</th><th {_CELL}>{w['date']}</th>"
            f"<th {_CELL}>{w['due']}</th><th {_NUM}>{w['amount']}</th></tr>\n"
            "{% for item in open_items %}"
            f"<tr><td {_CELL}>{{{{ item.number }}}}</td><td {_CELL}>{{{{ item.date|date }}}}</td>"
            f"<td {_CELL}>{{{{ item.due_date|date }}}}</td>"
            f"<td {_NUM}>{{{{ item.open_amount|money }}}}</td></tr>\n"
            "{% endfor %}"
            f'<tr><th {_CELL} colspan="3">{w["total"]}</th>'
            f"<th {_NUM}>{{{{ open_total|money }}}}</th></tr>\n</table>"
        )
    if doc_type == "packing_slip":
        return (
            f"<table {_TABLE_STYLE}>\n"
            "{% for line in lines %}"
            f"<tr><td {_NUM}>{{{{ line.quantity|number }}}}</td>"
            f"<td {_CELL}>{{{{ line.description }}}}</td></tr>\n"
            "{% endfor %}</table>"
        )
    rows = [
        (w["number"], "{{ number }}"),
        (w["date"], "{{ date|date }}"),
    ]
    if doc_type in ("sales_invoice", "down_payment", "subscription_invoice", "counter_invoice"):
        rows.append((w["due"], "{{ due_date|date }}"))
    out = [f"<table {_TABLE_STYLE}>"]
    for label, value in rows:
        out.append(f"<tr><th {_CELL}>{label}</th><td {_NUM}>{value}</td></tr>")
    out.append("{% if reference %}")
    out.append(f"<tr><th {_CELL}>{w['reference']}</th><td {_NUM}>{{{{ reference }}}}</td></tr>")
    out.append("{% endif %}")
    out.append(f"<tr><th {_CELL}>{w['excl']}</th><td {_NUM}>{{{{ total_excl|money }}}}</td></tr>")
    out.append(f"<tr><th {_CELL}>{w['vat']}</th><td {_NUM}>{{{{ total_vat|money }}}}</td></tr>")
    out.append(
        f"<tr><th {_CELL}>{w['total']}</th><td {_NUM}><strong>{{{{ total|money }}}}</strong></td></tr>"
    )
    out.append("</table>")
    return "\n".join(out)


def _document_template(admin: str, lang: str, doc_type: str) -> Template:
    w = _WORDS[lang]
    subject, opening = _TEXTS[lang][doc_type]
    dear = w["dear"]
    body = (
        f"<p>{dear}</p>\n"
        f"<p>{opening}</p>\n"
        f"{_summary_table(lang, doc_type)}\n"
        f"<p>{w['regards']}<br>\n{{{{ sender_name }}}}<br>\n{{{{ administration_name }}}}</p>\n"
    )
    return Template(
        code=f"{admin}-{lang}-{doc_type}",
        name=f"{doc_type.replace('_', ' ').capitalize()} ({lang})",
        object=doc_type,
        format="html",
        subject=subject,
        body=body,
        disclaimer=f"<p>{w['disclaimer']}</p>",
    )


def _other_templates(admin: str) -> list[Template]:
    w = _WORDS["NL"]
    return [
        Template(
            code=f"{admin}-NL-report",
            name="Rapport (NL)",
            object="report",
            subject="Rapport: {{ report_name }}{% if period %} ({{ period }}){% endif %}",
            body=(
                "<p>Beste {{ recipient_name or 'relatie' }},</p>\n"
                "<p>In de bijlage vindt u het rapport <em>{{ report_name }}</em>"
                "{% if period %} over {{ period }}{% endif %} ({{ file_name }}).</p>\n"
                f"<p>{w['regards']}<br>\n{{{{ sender_name }}}}<br>\n{{{{ administration_name }}}}</p>\n"
            ),
            disclaimer=f"<p>{w['disclaimer']}</p>",
        ),
        Template(
            code=f"{admin}-NL-backup",
            name="Back-up (NL)",
            object="backup",
            format="text",
            subject="Mailroom back-up {{ created|date }} van {{ installation }}",
            body=(
                "In de bijlage staat de back-up {{ file_name }} ({{ size }}), gemaakt op "
                "{{ created|date('long') }} op {{ installation }}.\n\n"
                "Bewaar dit bericht: met `mailroom restore` zet u de back-up terug.\n"
            ),
            disclaimer="Dit bericht is automatisch verstuurd door Mailroom.",
        ),
        Template(
            code=f"{admin}-NL-manual",
            name="Vrije e-mail (NL)",
            object="manual",
            subject="Bericht van {{ administration_name }}",
            body=(
                "<p>Beste {{ recipient_name or relation_name or 'relatie' }},</p>\n<p></p>\n"
                f"<p>{w['regards']}<br>\n{{{{ sender_name }}}}<br>\n{{{{ administration_name }}}}</p>\n"
            ),
            disclaimer=f"<p>{w['disclaimer']}</p>",
        ),
    ]


def demo_templates(administration_code: str) -> list[Template]:
    """NL, EN and DE templates for every document type, plus report, backup and manual."""
    out = [
        _document_template(administration_code, lang, doc_type)
        for lang in LANGS
        for doc_type in DOC_TYPES
    ]
    out.extend(_other_templates(administration_code))
    return out
