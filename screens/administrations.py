"""Administrations: each company whose documents the office sends (SPEC §4).

The form is declared once, in ``ADMIN_FIELDS``: a new field of the record is one line
there (a text field needs nothing else; a list or a number says its kind).
"""

from __future__ import annotations

from typing import Any, ClassVar

from mailing.einvoice.fields import ADMINISTRATION_EINVOICE_FIELDS
from screens.widgets.form import Field, RecordForm
from screens.widgets.pane import RecordPane
from screens.widgets.record_list import Page, page_of

E_INVOICE_CHOICES = [
    ("PDF only", "off"),
    ("Factur-X (the PDF carries the invoice data)", "factur-x"),
    ("UBL (Peppol BIS 3) beside the PDF", "ubl"),
    ("XRechnung UBL beside the PDF (Germany)", "xrechnung"),
]

# Every field of the form, in order: (record field, label, kind, placeholder/help).
# ``profile`` and ``default_language`` take their choices from the data (see make_form).
ADMIN_FIELDS: list[Field] = [
    Field("code", "Code (unique)", placeholder="e.g. HOLT"),
    Field("name", "Name", placeholder="as on its invoices"),
    Field("address", "Address (a line each)", "multiline"),
    Field("phone", "Phone"),
    Field("email", "E-mail", placeholder="info@company.example"),
    Field("website", "Website"),
    Field(
        "country",
        "Country",
        placeholder="NL",
        help="Its ISO code; a customer in this country gets no country line.",
    ),
    # VAT number, legal registration and its scheme, Peppol address (issue 26).
    *[
        Field(f.name, f.label, placeholder=f.placeholder, help=f.help)
        for f in ADMINISTRATION_EINVOICE_FIELDS
    ],
    Field("iban", "IBAN", placeholder="e.g. NL91ABNA0417164300"),
    Field("bic", "BIC", placeholder="e.g. ABNANL2A"),
    Field(
        "epc_qr",
        "Scan-to-pay QR code",
        "bool",
        help="Invoices with an amount due in euros carry an EPC code with the IBAN and BIC.",
    ),
    Field(
        "rf_reference",
        "RF creditor reference",
        "bool",
        help="The payment reference as a structured RF reference (ISO 11649).",
    ),
    Field("payment_days", "Payment days", "int", placeholder="30"),
    Field(
        "default_language",
        "Default language",
        placeholder="NL",
        help="The language code a relation gets when none is set (Languages, F4).",
    ),
    Field("profile", "Profile", "choice", help="The profile its mail goes out with."),
    Field("e_invoice", "E-invoicing", "choice", choices=E_INVOICE_CHOICES, allow_blank=False),
]


def _profile_choices(store: Any) -> list[tuple[str, str]]:
    from store.records import Profile

    return [(f"{p.code}  {p.description or p.sender}", p.code) for p in store.all(Profile)]


class AdministrationsPane(RecordPane):
    title: ClassVar[str] = "Administrations"
    record_name: ClassVar[str] = "administration"
    search_placeholder: ClassVar[str] = "search administrations"

    def fetch(self, query: str, offset: int, limit: int) -> Page:
        from store.records import Administration

        rows = [(a.code, f"{a.code}  {a.name}") for a in self.store.all(Administration)]
        return page_of(sorted(rows), query, offset, limit)

    def make_form(self) -> RecordForm:
        fields = [
            Field(f.name, f.label, f.kind, choices=_profile_choices(self.store), help=f.help)
            if f.name == "profile"
            else f
            for f in ADMIN_FIELDS
        ]
        return RecordForm(fields, id="administration-form")

    def blank_values(self) -> dict[str, Any]:
        return {"payment_days": 30, "default_language": "NL", "e_invoice": "off", "country": "NL"}

    def values_of(self, key: str) -> dict[str, Any]:
        from store.records import Administration

        values = self.store.get(Administration, key).dump()
        values["address"] = "\n".join(values.get("address") or [])
        return values

    def save_values(self, values: dict[str, Any]) -> str:
        from mailing.changes import save_record
        from store.records import Administration

        data = dict(values)
        data["address"] = [line.strip() for line in (values.get("address") or "").splitlines()]
        data["address"] = [line for line in data["address"] if line]
        if data.get("payment_days") in ("", None):
            data["payment_days"] = 30
        data["default_language"] = (values.get("default_language") or "NL").strip().upper()
        if self.current_key is not None:  # fields the form does not show are kept
            from store.records import Administration as A

            old = self.store.get(A, self.current_key).dump()
            data = {**{k: v for k, v in old.items() if k not in data}, **data}
        record = Administration.parse(data)
        return save_record(self.store, record, self.current_key)

    def delete_key(self, key: str) -> None:
        from mailing.changes import delete_record
        from store.records import Administration

        delete_record(self.store, Administration, key)

    def reload_data(self) -> None:
        super().reload_data()
        if self.form_ready:
            self.form.set_choices("profile", _profile_choices(self.store))


def _guide_classes() -> tuple[type, ...]:
    from screens.setup_guide import SetupGuide

    return (SetupGuide,)


EXTRA_BINDING_CLASSES: tuple[type, ...] = _guide_classes()
