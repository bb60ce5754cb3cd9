"""What a resolution says: the result types and their JSON (docs/resolve-format.md).

A :class:`Resolution` holds the sender, the recipients, the template and the action
of one document, and the *trace* explaining them: an ordered list of
:class:`TraceStep`, each naming the rule, what it looked at, what it found and
whether it decided. The TUI shows it, the CLI prints it (``mailroom resolve``), and
the spool stores it with each queued message (``Resolution.to_json`` /
``Resolution.from_json``).

pydantic writes and reads the JSON: ``to_json`` dumps, ``from_json`` validates. The
field order is the key order of the JSON, so it must not change: the format is
documented and stored in batch side-cars. :class:`SenderChoice` is a pydantic
model. The four types built once per document (:class:`Resolution`,
:class:`Recipients`, :class:`DocumentRef`, :class:`TraceStep`) stay plain
dataclasses, read and written through a pydantic ``TypeAdapter``: validating them
on construction made ``resolve_all`` (benchmarks/resolve.py) 1.5-1.8x slower.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Self, TypeVar, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter

Level = Literal["template", "administration", "personal", "system"]
Rule = Literal[
    "order_override",
    "per_type",
    "invoice_debtor_contact",
    "administration_contact",
    "main_contact",
    "business_email",
    "none",
]
Action = Literal["email", "print"]
Reason = Literal["not_opted_in", "no_address"]
SenderObject = Literal["report", "backup", "manual"]

LEVELS: tuple[str, ...] = ("template", "administration", "personal", "system")
RULES: tuple[str, ...] = (
    "order_override",
    "per_type",
    "invoice_debtor_contact",
    "administration_contact",
    "main_contact",
    "business_email",
    "none",
)


def _one_of(allowed: tuple[str, ...], what: str) -> BeforeValidator:
    """Refuse a value outside ``allowed`` with the sentence the spool reader has always given."""

    def check(value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r}")
        return value

    return BeforeValidator(check)


# ---------------------------------------------------------------- JSON of dataclasses

T = TypeVar("T")
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[T]) -> TypeAdapter[T]:
    """The pydantic adapter of a result dataclass, built on first use (not at import)."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return cast(TypeAdapter[T], adapter)


class _Json:
    """``to_json`` / ``from_json`` of a result dataclass, by pydantic."""

    def to_json(self) -> dict[str, Any]:
        return cast(dict[str, Any], _adapter(type(self)).dump_python(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return _adapter(cls).validate_python(data)


# ---------------------------------------------------------------- the types


@dataclass(frozen=True)
class TraceStep(_Json):
    """One step of a resolution: the rule, what it looked at, what it found, whether it decided."""

    rule: str
    looked_at: str
    found: str
    decided: bool = False


class SenderChoice(BaseModel):
    """The profile a message is sent from, its From address and name, and the level that won."""

    model_config = ConfigDict(frozen=True)

    profile: str
    address: str
    name: str = ""
    level: Annotated[Level, _one_of(LEVELS, "sender level")]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SenderChoice:
        return cls.model_validate(data)


@dataclass
class Recipients(_Json):
    """The checked, de-duplicated addresses of one message and the rule that chose them."""

    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    rule: Annotated[Rule, _one_of(RULES, "recipient rule")] = "none"
    # Address (lower case) -> the name shown with it in To/Cc: the contact's name, or
    # the relation's name for its business e-mail.
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentRef(_Json):
    """Which document a resolution is for."""

    type: str
    number: str
    administration: str
    relation: str


@dataclass(kw_only=True)
class Resolution(_Json):
    """Sender, recipients, template and action of one document, and the trace explaining them.

    ``to_json`` is the format of ``mailroom resolve --json`` (docs/resolve-format.md).
    """

    document: DocumentRef
    action: Annotated[Action, _one_of(("email", "print"), "action")]
    reason: Annotated[Reason, _one_of(("not_opted_in", "no_address"), "reason")] | None = None
    sender: SenderChoice
    recipients: Recipients
    template: str | None = None
    warnings: list[str] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)

    def explain(self) -> str:
        """A plain-text account for people, in words (``--json`` keeps the identifiers):
        the outcome, warnings, then the trace."""
        from mailing import words

        d = self.document
        lines = [
            f"{words.doc_type(d.type)} {d.number} "
            f"(administration {d.administration}, relation {d.relation})"
        ]
        if self.action == "email":
            r = self.recipients
            lines.append(f"  action:   e-mail (recipients: {words.trace_rule(r.rule)})")
            lines.append(f"  to:       {', '.join(r.to)}")
            if r.cc:
                lines.append(f"  cc:       {', '.join(r.cc)}")
            if r.bcc:
                lines.append(f"  bcc:      {', '.join(r.bcc)}")
            if r.reply_to:
                lines.append(f"  reply-to: {', '.join(r.reply_to)}")
        else:
            lines.append(f"  action:   to print ({words.print_reason(self.reason)})")
        s = self.sender
        shown = f"{s.name} <{s.address}>" if s.name else s.address
        lines.append(f"  sender:   {shown} - profile {s.profile} ({words.level(s.level)})")
        lines.append(f"  template: {self.template or '(none)'}")
        for w in self.warnings:
            lines.append(f"  warning:  {words.plain(w)}")
        lines.append("  trace:")
        for i, step in enumerate(self.trace, 1):
            mark = "=>" if step.decided else "  "
            rule = words.trace_rule(step.rule)
            looked, found = words.plain(step.looked_at), words.plain(step.found)
            lines.append(f"   {mark} {i:2}. {rule}: {looked}: {found}")
        return "\n".join(lines)
