"""Relations: search thousands by name or code, edit opt-ins, contacts, addresses per
e-mail type, and see who would receive what, live."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static

from screens.widgets.form import Field, FieldChanged, RecordForm
from screens.widgets.modals import error_text
from screens.widgets.pane import RecordPane
from screens.widgets.record_list import Page
from store.errors import MailroomError

if TYPE_CHECKING:
    from mailing.config import ConfigSnapshot
    from store.records import Relation

_CONTACT_RE = re.compile(r"^(?P<name>[^<]*?)\s*(?:<(?P<email>[^>]*)>)?\s*(?P<roles>[^<>]*)$")


def doc_type_choices() -> list[tuple[str, str]]:
    from store.records import DOC_TYPES

    try:
        from mailing.catalogue import OBJECT_LABELS
    except ImportError:
        OBJECT_LABELS = {}
    return [(OBJECT_LABELS.get(d, d), d) for d in DOC_TYPES]


def contacts_to_text(contacts: list[dict[str, Any]]) -> str:
    lines = []
    for c in contacts:
        line = c.get("name", "")
        if c.get("email"):
            line += f" <{c['email']}>"
        if c.get("roles"):
            line += " " + ", ".join(c["roles"])
        lines.append(line)
    return "\n".join(lines)


def contacts_from_text(text: str) -> list[dict[str, Any]]:
    """One contact a line: ``Name <email> role, role`` (roles: main, administration, invoice)."""
    out: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _CONTACT_RE.match(line)
        if m is None:
            out.append({"name": line})
            continue
        roles = [r for r in re.split(r"[,\s]+", m.group("roles") or "") if r]
        out.append(
            {"name": m.group("name").strip(), "email": m.group("email") or "", "roles": roles}
        )
    return out


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,;]", text) if p.strip()]


class AddressEditor(Vertical):
    """To, Cc and Bcc per e-mail type; choose the type, edit its three lines."""

    KINDS = ("to", "cc", "bcc")

    def __init__(self) -> None:
        super().__init__()
        self._sets: dict[str, dict[str, list[str]]] = {}
        self._type = "sales_invoice"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("E-mail type")
            yield Select(
                doc_type_choices(),
                value=self._type,
                allow_blank=False,
                compact=True,
                id="address-type",
            )
        for kind in self.KINDS:
            with Horizontal():
                yield Label(f"  {kind.capitalize()}")
                yield Input(
                    placeholder="addresses, comma separated", compact=True, id=f"address-{kind}"
                )

    @property
    def value(self) -> dict[str, dict[str, list[str]]]:
        return {
            t: {k: list(v) for k, v in s.items()}
            for t, s in sorted(self._sets.items())
            if any(s.get(k) for k in self.KINDS)
        }

    @value.setter
    def value(self, sets: dict[str, Any] | None) -> None:
        self._sets = {
            t: {k: list((s or {}).get(k, [])) for k in self.KINDS} for t, s in (sets or {}).items()
        }
        if self.is_mounted:
            self._show(self._type)

    def on_mount(self) -> None:
        for w in self.query(Input):
            w.cursor_blink = False
        self._show(self._type)

    def _show(self, doc_type: str) -> None:
        self._type = doc_type
        current = self._sets.get(doc_type, {})
        for kind in self.KINDS:
            self.query_one(f"#address-{kind}", Input).value = ", ".join(current.get(kind, []))

    @on(Select.Changed, "#address-type")
    def _type_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self._type:
            self._show(event.value)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        kind = (event.input.id or "").removeprefix("address-")
        if kind in self.KINDS:
            current = self._sets.setdefault(self._type, {k: [] for k in self.KINDS})
            current[kind] = _split(event.value)
            self.post_message(FieldChanged())


class RelationsPane(RecordPane):
    title: ClassVar[str] = "Relations"
    record_name: ClassVar[str] = "relation"
    search_placeholder: ClassVar[str] = "name or code"
    page_size: ClassVar[int] = 100
    BINDINGS = [
        Binding(
            "ctrl+t",
            "toggle_receivers",
            "Who gets what",
            id="relation.receivers",
            tooltip="Show, per document type, who would receive it (live, unsaved changes too)",
            priority=True,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None

    # ------------------------------------------------------------ data

    def fetch(self, query: str, offset: int, limit: int) -> Page:
        """Filter the raw rows (no validation of 10,000 records) and cut one page."""
        from store.records import Relation

        needle = query.lower()
        with self.store.view() as tx:
            raw = tx.raw(Relation)
        # One code can be in two administrations: then each row says which one.
        several = len({r.get("administration") for r in raw}) > 1
        rows = []
        for r in raw:
            code, name = str(r.get("code", "")), str(r.get("name", ""))
            admin = str(r.get("administration", ""))
            if needle and needle not in code.lower() and needle not in name.lower():
                continue
            label = f"{admin}  {code}  {name}" if several else f"{code}  {name}"
            rows.append((f"{admin}/{code}", label))
        rows.sort()
        return Page(rows[offset : offset + limit], len(rows))

    def make_form(self) -> RecordForm:
        from mailing.einvoice.fields import RELATION_EINVOICE_FIELDS
        from store.records import Administration

        admins = [(f"{a.code}  {a.name}", a.code) for a in self.store.all(Administration)]
        return RecordForm(
            [
                Field("administration", "Administration", "choice", choices=admins),
                Field("code", "Code"),
                Field(
                    "kind",
                    "Kind",
                    "choice",
                    choices=[("Customer", "customer"), ("Supplier", "supplier")],
                    allow_blank=False,
                ),
                Field("name", "Name"),
                Field("language", "Language code", placeholder="NL"),
                Field("business_email", "E-mail (business)"),
                Field("invoice_debtor", "Invoice debtor", placeholder="code, if another"),
                Field(
                    "opt_in",
                    "Receives by e-mail (space toggles)",
                    "multi",
                    choices=doc_type_choices(),
                ),
                Field(
                    "email_addresses",
                    "Addresses per e-mail type",
                    "custom",
                    factory=AddressEditor,
                ),
                Field(
                    "contacts",
                    "Contacts: Name <e-mail> roles (main, administration, invoice)",
                    "multiline",
                ),
                Field(
                    "e_invoice",
                    "Invoices go as",
                    "choice",
                    choices=[
                        ("As its administration says", ""),
                        ("PDF only", "off"),
                        ("Factur-X (e-invoice inside the PDF)", "factur-x"),
                        ("PDF with Peppol UBL attached", "ubl"),
                        ("PDF with XRechnung UBL attached (Germany)", "xrechnung"),
                    ],
                    allow_blank=False,
                ),
                # Who the customer is on an e-invoice (issue 26): VAT number, legal
                # registration and its scheme, Peppol address (mailing/einvoice/fields.py).
                *(
                    Field(f.name, f.label, placeholder=f.placeholder, help=f.help)
                    for f in RELATION_EINVOICE_FIELDS
                ),
            ],
            id="relation-form",
        )

    def compose_side(self) -> ComposeResult:
        with VerticalScroll(id="receivers"):
            yield Label("Who would receive what", id="receivers-title")
            yield Static("", id="receivers-text", markup=False)

    def blank_values(self) -> dict[str, Any]:
        from store.records import Administration

        admins = self.store.all(Administration)
        return {
            "administration": admins[0].code if admins else None,
            "kind": "customer",
            "language": admins[0].default_language if admins else "NL",
            "e_invoice": "",
        }

    def values_of(self, key: str) -> dict[str, Any]:
        from store.records import Relation

        values = self.store.get(Relation, key).dump()
        values["contacts"] = contacts_to_text(values.get("contacts", []))
        return values

    def build(self, values: dict[str, Any]) -> Any:
        from store.records import Relation

        data = {k: v for k, v in values.items()}
        data["contacts"] = contacts_from_text(values.get("contacts") or "")
        data["invoice_debtor"] = (values.get("invoice_debtor") or "").strip() or None
        data["e_invoice"] = values.get("e_invoice") or ""
        current = self.store.find(Relation, self.current_key) if self.current_key else None
        if current is not None:
            # Fields this form does not show are kept as they are.
            for name in ("address", "country"):
                data[name] = getattr(current, name)
        return Relation.parse(data)

    def save_values(self, values: dict[str, Any]) -> str:
        from mailing.changes import save_record

        record = self.build(values)
        return save_record(self.store, record, self.current_key)

    def delete_key(self, key: str) -> None:
        from mailing.changes import delete_record
        from store.records import Relation

        delete_record(self.store, Relation, key)

    # ------------------------------------------------------------ who receives what

    def action_toggle_receivers(self) -> None:
        box = self.query_one("#receivers")
        shown = not box.has_class("shown")
        box.set_class(shown, "shown")
        self.record_list.display = not shown
        self.update_receivers()

    def after_load(self) -> None:
        self.update_receivers()

    @on(FieldChanged)
    @on(RecordForm.DirtyChanged)
    @on(Input.Changed)
    def _schedule(self) -> None:
        if not self.query_one("#receivers").has_class("shown"):
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self.update_receivers)

    def update_receivers(self) -> None:
        if not self.is_mounted or not self.query_one("#receivers").has_class("shown"):
            return
        self.query_one("#receivers-text", Static).update(self.receivers_text())

    def receivers_text(self) -> str:
        try:
            results = self.resolve_all_types()
        except MailroomError as exc:
            return error_text(exc)
        lines = []
        for doc_type, res in results:
            lines.append(describe_resolution(doc_type, res))
        return "\n".join(lines)

    def resolve_all_types(self) -> list[tuple[str, Any]]:
        """Resolve a throwaway document of each type for the relation as typed now."""
        from mailing.resolve import resolve_document
        from store.records import DOC_TYPES, Document

        relation = self.build(self.form.read())
        cfg = self.snapshot_for(relation)
        out = []
        for doc_type in DOC_TYPES:
            doc = Document(
                administration=relation.administration,
                type=doc_type,
                number="PREVIEW",
                relation=relation.code,
                date=dt.date.today(),
            )
            out.append((doc_type, resolve_document(cfg, doc, self.user)))
        return out

    def snapshot_for(self, relation: Relation) -> ConfigSnapshot:
        """The configuration, with only the relations this one needs (not all 10,000)."""
        from mailing.config import ConfigSnapshot

        return ConfigSnapshot.around(self.store, relation)


def describe_resolution(doc_type: str, res: Any) -> str:
    """One document type's outcome in a few short lines."""
    from mailing import words

    if res.action != "email":
        return words.outcome_print(doc_type, res.reason)
    r = res.recipients
    lines = [
        f"{words.doc_type(doc_type)}: e-mail ({words.trace_rule(r.rule).lower()})",
        f"  to  {', '.join(r.to)}",
    ]
    if r.cc:
        lines.append(f"  cc  {', '.join(r.cc)}")
    if r.bcc:
        lines.append(f"  bcc {', '.join(r.bcc)}")
    lines.append(f"  from {res.sender.address} ({words.level(res.sender.level)})")
    return "\n".join(lines)
