"""Typed configuration and document records.

Every record is validated on the way in; a bad record raises
:class:`store.errors.RecordError` naming the field, the value and the fix,
and is never stored half. Records are plain data: the rules that use them
live in ``mailing/``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from store.errors import RecordError

# The eight document types of SPEC §3, by their identifiers.
DocType = Literal[
    "reminder",
    "sales_invoice",
    "order_confirmation",
    "down_payment",
    "packing_slip",
    "subscription_invoice",
    "purchase_order",
    "counter_invoice",
]
# Objects a template can be for: the document types plus the non-document ones.
ObjectName = Literal[DocType, "report", "backup", "manual"]
DOC_TYPES: tuple[str, ...] = get_args(DocType)
OBJECTS: tuple[str, ...] = (*DOC_TYPES, "report", "backup", "manual")
# Document types that go to suppliers; all others go to customers.
SUPPLIER_DOC_TYPES: frozenset[str] = frozenset({"purchase_order"})
# Document types that come from a sales or purchase order and may carry an
# order override of To/Cc/Bcc (SPEC §6.2).
ORDER_DOC_TYPES: frozenset[str] = frozenset({"order_confirmation", "purchase_order"})

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def check_code(value: str, what: str = "code") -> str:
    if not isinstance(value, str) or not _CODE_RE.match(value):
        raise ValueError(
            f"{what} must be 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


Code = Annotated[str, AfterValidator(check_code)]


def _no_control(value: str | None) -> str | None:
    if value is not None and any(c in value for c in "\r\n\x00"):
        raise ValueError("must not contain line breaks or NUL characters")
    return value


class Record(BaseModel):
    """Base: strict about unknown fields, validates on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    # The TinyDB table the record lives in and the field that is its key.
    table: ClassVar[str] = ""
    key_field: ClassVar[str] = "code"

    @property
    def key(self) -> str:
        return str(getattr(self, self.key_field))

    @classmethod
    def parse(cls: type[R], data: Any, where: str = "") -> R:
        """Validate ``data``; raise RecordError naming field, value and fix."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise RecordError.from_validation(cls.__name__, exc, data, where) from None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=False)


R = TypeVar("R", bound=Record)


class StoredFileRef(BaseModel):
    """A file copied into the data folder under its SHA-256 (``files/<sha256>``)."""

    model_config = ConfigDict(extra="forbid")
    sha256: str
    name: str
    size: int = Field(ge=0)
    content_type: str = "application/octet-stream"

    @field_validator("sha256")
    @classmethod
    def _sha(cls, v: str) -> str:
        if not _SHA_RE.match(v):
            raise ValueError("must be 64 lowercase hex digits")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v or "/" in v or "\\" in v or any(c in v for c in "\r\n\x00"):
            raise ValueError("must be a plain file name without folders or line breaks")
        return v


class AddressSet(BaseModel):
    """To/Cc/Bcc lists; addresses are checked when a message is built."""

    model_config = ConfigDict(extra="forbid")
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    bcc: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- profiles


class Profile(Record):
    """An e-mail profile: one mailbox Mailroom can send from (SPEC §1)."""

    table: ClassVar[str] = "profiles"

    code: Code
    description: str = ""
    system: Literal["smtp", "outbox"] = "smtp"
    server: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    sender: str = ""  # the From address
    sender_name: str = ""
    html: bool = True
    username: str = ""
    auth: Literal["password", "oauth2-office365", "none"] = "password"
    reply_to: str = ""
    bcc: str = ""
    rate_per_minute: int = Field(default=0, ge=0)  # 0: no limit
    max_message_bytes: int = Field(default=0, ge=0)  # 0: no limit
    ca_file: str = ""  # extra CA bundle, besides the system trust store
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    outbox_dir: str = ""  # outbox system: folder, relative to the data folder
    oauth_tenant: str = ""  # Office 365: tenant id or domain
    oauth_client_id: str = ""  # Office 365: application (client) id
    oauth_authority: str = ""  # override of https://login.microsoftonline.com (tests)
    # The profile's mailbox, read for delivery reports (`mailroom bounces fetch`):
    # IMAP over TLS (always verified), the same login; reports are filed in bounce_folder.
    imap_server: str = ""
    imap_port: int = Field(default=993, ge=1, le=65535)
    bounce_folder: str = "Mailroom bounces"

    @field_validator(
        "sender", "sender_name", "reply_to", "bcc", "username", "server", "description"
    )
    @classmethod
    def _single_line(cls, v: str) -> str:
        _no_control(v)
        return v.strip()


# ---------------------------------------------------------------- templates


class Template(Record):
    """An e-mail template (SPEC §2)."""

    table: ClassVar[str] = "templates"

    code: Code
    name: str = ""
    object: ObjectName = "sales_invoice"
    profile: str | None = None
    format: Literal["html", "text"] = "html"
    subject: str = ""
    body: str = ""
    disclaimer: str = ""
    attachments: list[StoredFileRef] = Field(default_factory=list)
    images: list[StoredFileRef] = Field(default_factory=list)  # embedded by Content-ID


# ---------------------------------------------------------------- language codes


class LanguageCode(Record):
    """Per administration: which template goes with which document type (SPEC §2, §3)."""

    table: ClassVar[str] = "language_codes"
    key_field: ClassVar[str] = "id"

    administration: Code
    code: Code  # NL, EN, DE, ...
    description: str = ""
    locale: str = "nl_NL"  # for money and dates
    templates: dict[DocType, str] = Field(default_factory=dict)
    first_background: StoredFileRef | None = None
    second_background: StoredFileRef | None = None

    @property
    def id(self) -> str:
        return f"{self.administration}/{self.code}"


# ---------------------------------------------------------------- administrations


class Administration(Record):
    """One company's books (SPEC §4)."""

    table: ClassVar[str] = "administrations"

    code: Code
    name: str
    profile: str | None = None
    address: list[str] = Field(default_factory=list)
    phone: str = ""
    email: str = ""
    website: str = ""
    vat_number: str = ""
    coc_number: str = ""  # chamber of commerce: the legal registration (EN 16931 BT-30)
    # Issue 26 (e-invoices; labels and help: mailing/einvoice/fields.py): the legal
    # registration's ISO 6523 scheme ("" = the country's usual one, 0106 for a KvK number)
    # and the Peppol electronic address, EAS scheme + identifier ("" = derived).
    coc_scheme: str = ""
    peppol_scheme: str = ""
    peppol_id: str = ""
    iban: str = ""
    bic: str = ""
    country: str = "NL"  # ISO 3166 code; the address window leaves this country out
    payment_days: int = Field(default=30, ge=0, le=365)
    default_language: str = "NL"
    # Which form its invoices take (issue 17): the PDF only, Factur-X, or UBL beside it.
    e_invoice: Literal["off", "factur-x", "ubl", "xrechnung"] = "off"
    # Invoices with an amount due in euros carry an EPC QR code to pay with (issue 27),
    # with an ISO 11649 structured creditor reference ("RF...") when rf_reference.
    epc_qr: bool = False
    rf_reference: bool = False


# ---------------------------------------------------------------- relations


ContactRole = Literal["main", "administration", "invoice"]


class Contact(BaseModel):
    """A contact person of a relation.

    Roles: ``main`` is the company's main contact (*Hoofdcontact*),
    ``administration`` the administration contact (*Administratiecontact*),
    ``invoice`` the contact person for invoices of an invoice debtor
    (*Contactpersoon factuurdebiteur*).
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    email: str = ""
    roles: list[ContactRole] = Field(default_factory=list)


class Relation(Record):
    """A customer (*debiteur*) or supplier (*crediteur*)."""

    table: ClassVar[str] = "relations"
    key_field: ClassVar[str] = "id"

    administration: Code
    code: Code
    kind: Literal["customer", "supplier"] = "customer"
    name: str
    language: str = "NL"
    address: list[str] = Field(default_factory=list)
    country: str = "NL"
    business_email: str = ""  # *E-mail zakelijk*
    opt_in: list[DocType] = Field(default_factory=list)
    email_addresses: dict[DocType, AddressSet] = Field(default_factory=dict)
    contacts: list[Contact] = Field(default_factory=list)
    invoice_debtor: str | None = None  # code of the relation billed, when it differs
    # Which form its invoices take; "" = as its administration says (issue 17).
    e_invoice: Literal["", "off", "factur-x", "ubl", "xrechnung"] = ""
    # Issue 26: who the customer is on an e-invoice (mailing/einvoice/fields.py).
    vat_number: str = ""
    coc_number: str = ""  # legal registration (KvK, KBO, ...)
    coc_scheme: str = ""  # its ISO 6523 scheme; "" = the country's usual one
    peppol_scheme: str = ""  # Peppol electronic address: EAS scheme ...
    peppol_id: str = ""  # ... and identifier; "" = derived from KvK/KBO or VAT number

    @property
    def id(self) -> str:
        return f"{self.administration}/{self.code}"

    def contact_with_role(self, role: str) -> Contact | None:
        for c in self.contacts:
            if role in c.roles:
                return c
        return None


# ---------------------------------------------------------------- users and system


class User(Record):
    """Personal settings of one user (SPEC §4, §5)."""

    table: ClassVar[str] = "users"
    key_field: ClassVar[str] = "name"

    name: Code
    full_name: str = ""
    profile: str | None = None
    signature: str = ""


class SystemSettings(Record):
    """Settings of the installation; exactly one record."""

    table: ClassVar[str] = "system"
    key_field: ClassVar[str] = "id"

    id: Literal["system"] = "system"
    profile: str | None = None
    sending_paused: bool = False
    paused_reason: str = ""
    # Test mode: every message goes to this address (the envelope only), not to
    # the customers; `mailroom sending redirect ADDRESS|off`.
    redirect_to: str | None = None
    # Four eyes: "other-user" lets nobody approve a batch they built (rules: approval_problems).
    approval: str = "same-user"


# ---------------------------------------------------------------- documents


class DocumentLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str
    quantity: Decimal = Decimal("1")
    unit_price: Decimal = Decimal("0")
    vat_rate: Decimal = Decimal("21")  # percent
    article: str = ""
    # Issue 26: the VAT category (UNCL 5305; "" = S above 0 %, Z at 0 %) and the
    # exemption reason as a VATEX code where the category needs one (mailing/einvoice/vat.py).
    vat_category: Literal["", "S", "Z", "E", "AE", "K", "G", "O"] = ""
    vat_exemption: str = ""

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class OpenItem(BaseModel):
    """An open item on a reminder."""

    model_config = ConfigDict(extra="forbid")
    number: Code
    date: dt.date
    due_date: dt.date
    amount: Decimal
    open_amount: Decimal


class Document(Record):
    """A business document to be mailed (SPEC §3)."""

    table: ClassVar[str] = "documents"
    key_field: ClassVar[str] = "id"

    administration: Code
    type: DocType
    number: Code
    relation: Code  # relation code within the administration
    invoice_debtor: str | None = None  # relation billed, when it differs
    date: dt.date
    due_date: dt.date | None = None
    currency: str = "EUR"
    reference: str = ""  # the customer's reference / order number
    description: str = ""
    lines: list[DocumentLine] = Field(default_factory=list)
    open_items: list[OpenItem] = Field(default_factory=list)  # reminders
    order_override: AddressSet | None = None  # SPEC §6.2, order documents only
    attachments: list[StoredFileRef] = Field(default_factory=list)  # SPEC §7
    ubl: StoredFileRef | None = None  # the UBL XML this document was imported from
    # Issue 26: a credit note (UBL CreditNote, CII 381) and the invoice it corrects
    # (BT-25, BT-26). Its lines keep the accounting's sign (negative amounts); the
    # e-invoice states them positive, as the rules require.
    credit_note: bool = False
    corrects: str = ""
    corrects_date: dt.date | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError("must be a three-letter ISO 4217 code such as EUR")
        return v

    @property
    def id(self) -> str:
        return f"{self.administration}/{self.type}/{self.number}"

    @model_validator(mode="after")
    def _override_only_on_orders(self) -> Document:
        if self.order_override is not None and self.type not in ORDER_DOC_TYPES:
            raise ValueError(
                f"order_override is only allowed on {', '.join(sorted(ORDER_DOC_TYPES))}"
            )
        return self

    @property
    def total_excl(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), Decimal("0.00"))

    def vat_summary(self) -> dict[Decimal, tuple[Decimal, Decimal]]:
        """VAT rate -> (base, vat), VAT rounded per rate."""
        out: dict[Decimal, tuple[Decimal, Decimal]] = {}
        for ln in self.lines:
            base, _ = out.get(ln.vat_rate, (Decimal("0.00"), Decimal("0.00")))
            out[ln.vat_rate] = (base + ln.amount, Decimal("0.00"))
        return {
            rate: (base, (base * rate / 100).quantize(Decimal("0.01")))
            for rate, (base, _) in out.items()
        }

    @property
    def total_vat(self) -> Decimal:
        return sum((v for _, v in self.vat_summary().values()), Decimal("0.00"))

    @property
    def total_incl(self) -> Decimal:
        if self.type == "reminder":
            return sum((i.open_amount for i in self.open_items), Decimal("0.00"))
        return self.total_excl + self.total_vat


CONFIG_RECORDS: tuple[type[Record], ...] = (
    SystemSettings,
    Administration,
    Profile,
    User,
    Template,
    LanguageCode,
    Relation,
)
ALL_RECORDS: tuple[type[Record], ...] = (*CONFIG_RECORDS, Document)
RECORD_BY_TABLE: dict[str, type[Record]] = {r.table: r for r in ALL_RECORDS}
