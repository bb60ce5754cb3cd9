"""Who sends and who receives: the resolution engine (SPEC §5 and §6).

One function decides the sender and the recipients of every message, and each
decision explains itself in a *trace*: an ordered list of steps naming the rule,
what it looked at, what it found and whether it decided. The TUI shows the trace,
the CLI prints it (``mailroom resolve``), and the spool stores it with each queued
message (``Resolution.to_json`` / ``Resolution.from_json``).

Sender (SPEC §5), for a document: the profile of the template the relation's
language code assigns to the document type, else the administration's profile,
else the sending user's personal profile, else the system profile. For reports,
backups and hand-written mail: personal, administration, system. A missing system
profile is a :class:`ConfigError`; any other dangling reference is a warning in the
trace and that level is skipped.

Recipients (SPEC §6): opt-in; the order override (order documents); the relation's
per-type To/Cc/Bcc; then the fall-backs (invoice debtor's invoice contact for sales
invoices, administration contact, main contact, business e-mail). No opt-in or no
usable address: the action is ``print`` with a reason, never a silent drop. The
profile's Bcc and Reply-To are added, duplicates removed case-insensitively, and
an address in To is not repeated in Cc or Bcc (nor one in Cc in Bcc).

``resolve_all`` resolves many documents with caches per (administration, language
code, document type, user) for the sender and per address for validation, so a
batch of 10,000 costs about as much as loading it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mailing.addresses import check_address, split_addresses
from mailing.config import ConfigSnapshot
from mailing.errors import AddressError, ConfigError
from store.records import ORDER_DOC_TYPES, Document, Profile, Relation

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


# ---------------------------------------------------------------- result types


@dataclass(frozen=True)
class TraceStep:
    """One step of a resolution: the rule, what it looked at, what it found, whether it decided."""

    rule: str
    looked_at: str
    found: str
    decided: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TraceStep:
        return cls(
            rule=str(data["rule"]),
            looked_at=str(data["looked_at"]),
            found=str(data["found"]),
            decided=bool(data["decided"]),
        )


@dataclass(frozen=True)
class SenderChoice:
    """The profile a message is sent from, its From address and name, and the level that won."""

    profile: str
    address: str
    name: str
    level: Level

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "address": self.address,
            "name": self.name,
            "level": self.level,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SenderChoice:
        level = str(data["level"])
        if level not in LEVELS:
            raise ValueError(f"unknown sender level {level!r}")
        return cls(
            profile=str(data["profile"]),
            address=str(data["address"]),
            name=str(data.get("name", "")),
            level=level,  # type: ignore[arg-type]
        )


@dataclass
class Recipients:
    """The checked, de-duplicated addresses of one message and the rule that chose them."""

    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    rule: Rule = "none"

    def to_json(self) -> dict[str, Any]:
        return {
            "to": list(self.to),
            "cc": list(self.cc),
            "bcc": list(self.bcc),
            "reply_to": list(self.reply_to),
            "rule": self.rule,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recipients:
        rule = str(data.get("rule", "none"))
        if rule not in RULES:
            raise ValueError(f"unknown recipient rule {rule!r}")
        return cls(
            to=[str(a) for a in data.get("to", [])],
            cc=[str(a) for a in data.get("cc", [])],
            bcc=[str(a) for a in data.get("bcc", [])],
            reply_to=[str(a) for a in data.get("reply_to", [])],
            rule=rule,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class DocumentRef:
    """Which document a resolution is for."""

    type: str
    number: str
    administration: str
    relation: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentRef:
        return cls(
            type=str(data["type"]),
            number=str(data["number"]),
            administration=str(data["administration"]),
            relation=str(data["relation"]),
        )


@dataclass
class Resolution:
    """Sender, recipients, template and action of one document, and the trace explaining them."""

    document: DocumentRef
    action: Action
    reason: Reason | None
    sender: SenderChoice
    recipients: Recipients
    template: str | None
    warnings: list[str] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The format of ``mailroom resolve --json`` (docs/resolve-format.md)."""
        return {
            "document": self.document.to_json(),
            "action": self.action,
            "reason": self.reason,
            "sender": self.sender.to_json(),
            "recipients": self.recipients.to_json(),
            "template": self.template,
            "warnings": list(self.warnings),
            "trace": [s.to_json() for s in self.trace],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Resolution:
        action = str(data["action"])
        if action not in ("email", "print"):
            raise ValueError(f"unknown action {action!r}")
        reason = data.get("reason")
        if reason is not None and reason not in ("not_opted_in", "no_address"):
            raise ValueError(f"unknown reason {reason!r}")
        template = data.get("template")
        return cls(
            document=DocumentRef.from_json(data["document"]),
            action=action,  # type: ignore[arg-type]
            reason=reason,
            sender=SenderChoice.from_json(data["sender"]),
            recipients=Recipients.from_json(data["recipients"]),
            template=None if template is None else str(template),
            warnings=[str(w) for w in data.get("warnings", [])],
            trace=[TraceStep.from_json(s) for s in data.get("trace", [])],
        )

    def explain(self) -> str:
        """A plain-text account for people: the outcome, warnings, then the trace."""
        d = self.document
        lines = [f"{d.type} {d.number} (administration {d.administration}, relation {d.relation})"]
        if self.action == "email":
            r = self.recipients
            lines.append(f"  action:   email (recipients by rule {r.rule})")
            lines.append(f"  to:       {', '.join(r.to)}")
            if r.cc:
                lines.append(f"  cc:       {', '.join(r.cc)}")
            if r.bcc:
                lines.append(f"  bcc:      {', '.join(r.bcc)}")
            if r.reply_to:
                lines.append(f"  reply-to: {', '.join(r.reply_to)}")
        else:
            lines.append(f"  action:   PRINT ({self.reason})")
        s = self.sender
        shown = f"{s.name} <{s.address}>" if s.name else s.address
        lines.append(f"  sender:   {shown} - profile {s.profile}, {s.level} level")
        lines.append(f"  template: {self.template or '(none)'}")
        for w in self.warnings:
            lines.append(f"  warning:  {w}")
        lines.append("  trace:")
        for i, step in enumerate(self.trace, 1):
            mark = "=>" if step.decided else "  "
            lines.append(f"   {mark} {i:2}. [{step.rule}] {step.looked_at}: {step.found}")
        return "\n".join(lines)


# ---------------------------------------------------------------- the resolver


@dataclass
class _SenderOutcome:
    choice: SenderChoice
    steps: list[TraceStep]
    warnings: list[str]
    template: str | None
    profile: Profile


class Resolver:
    """Resolves documents against one configuration snapshot, caching what repeats.

    Create one per batch (``resolve_all`` does); it raises :class:`ConfigError` at
    once when the system profile is missing.
    """

    def __init__(self, cfg: ConfigSnapshot) -> None:
        self.cfg = cfg
        self.system_profile = _system_profile(cfg)
        self._senders: dict[tuple[str, str | None, str, str], _SenderOutcome] = {}
        self._object_senders: dict[tuple[str, str, str | None], _SenderOutcome] = {}
        self._from: dict[str, str] = {}
        # value -> normalised address, or None when invalid
        self._valid: dict[str, str | None] = {}
        self._profile_extra: dict[str, tuple[list[tuple[str, str]], list[str], list[str]]] = {}

    # ------------------------------------------------------------ addresses

    def _check(self, value: str, where: str, warnings: list[str]) -> str | None:
        """The normalised address, or None with a warning naming the field and value."""
        try:
            normal = self._valid[value]
        except KeyError:
            try:
                normal = check_address(value, where)
            except AddressError:
                normal = None
            self._valid[value] = normal
        if normal is None:
            try:
                check_address(value, where)
            except AddressError as exc:
                warnings.append(f"{exc.message} The address was skipped.")
        return normal

    def _sender_address(self, profile: Profile) -> str:
        try:
            return self._from[profile.code]
        except KeyError:
            pass
        where = f"sender (From) of profile {profile.code}"
        if not profile.sender.strip():
            raise ConfigError(
                f"Profile {profile.code} has no sender (From) address, so nothing can be "
                "sent from it.",
                field=where,
                value=profile.sender,
                fix=f"fill in the sender address of profile {profile.code}.",
            )
        try:
            addr = check_address(profile.sender, where)
        except AddressError as exc:
            raise ConfigError(exc.message, field=where, value=exc.value, fix=exc.fix) from None
        self._from[profile.code] = addr
        return addr

    # ------------------------------------------------------------ sender

    def _choice(
        self,
        profile: Profile,
        level: Level,
        steps: list[TraceStep],
        warnings: list[str],
        template: str | None,
    ) -> _SenderOutcome:
        choice = SenderChoice(
            profile=profile.code,
            address=self._sender_address(profile),
            name=profile.sender_name,
            level=level,
        )
        return _SenderOutcome(choice, steps, warnings, template, profile)

    def document_sender(
        self, admin: str, relation: Relation | None, doctype: str, user: str
    ) -> _SenderOutcome:
        language = relation.language if relation is not None else None
        key = (admin, language, doctype, user)
        cached = self._senders.get(key)
        if cached is None:
            cached = self._document_sender(admin, relation, doctype, user)
            self._senders[key] = cached
        return cached

    def _document_sender(
        self, admin: str, relation: Relation | None, doctype: str, user: str
    ) -> _SenderOutcome:
        steps: list[TraceStep] = []
        warnings: list[str] = []
        template_code: str | None = None
        profile: Profile | None = None
        rule = "sender.template"
        looked = f"template for {doctype}"
        if relation is None:
            steps.append(TraceStep(rule, looked, "no relation, so no language code"))
        else:
            lc = self.cfg.language_codes.get((admin, relation.language))
            looked = (
                f"template for {doctype} in language code {relation.language} "
                f"of administration {admin}"
            )
            if lc is None:
                msg = (
                    f"Relation {relation.code} has language code {relation.language!r}, which "
                    f"does not exist in administration {admin}: there is no template for "
                    f"{doctype}, and the sender falls through to the administration."
                )
                warnings.append(msg)
                steps.append(TraceStep(rule, looked, "language code does not exist"))
            else:
                tcode = lc.templates.get(doctype)  # type: ignore[call-overload]
                template = self.cfg.templates.get(tcode) if tcode else None
                if not tcode:
                    warnings.append(
                        f"Language code {lc.code} of administration {admin} assigns no template "
                        f"to {doctype}: the message cannot be rendered until one is assigned, "
                        "and the sender falls through to the administration."
                    )
                    steps.append(TraceStep(rule, looked, "no template assigned"))
                elif template is None:
                    warnings.append(
                        f"Language code {lc.code} of administration {admin} assigns template "
                        f"{tcode!r} to {doctype}, which does not exist: the sender falls "
                        "through to the administration."
                    )
                    steps.append(TraceStep(rule, looked, f"template {tcode} does not exist"))
                else:
                    template_code = template.code
                    if template.object != doctype:
                        warnings.append(
                            f"Template {template.code} is for {template.object}, but language "
                            f"code {lc.code} of administration {admin} assigns it to {doctype}."
                        )
                    profile, found = self._referenced(
                        template.profile, f"template {template.code}", warnings
                    )
                    steps.append(TraceStep(rule, looked, found, profile is not None))
                    if profile is not None:
                        return self._choice(profile, "template", steps, warnings, template_code)
        rest = self._fallback_levels(("administration", "personal"), admin, user, steps, warnings)
        return self._choice(rest[0], rest[1], steps, warnings, template_code)

    def object_sender(self, obj: str, user: str, admin: str | None) -> _SenderOutcome:
        key = (obj, user, admin)
        cached = self._object_senders.get(key)
        if cached is None:
            steps: list[TraceStep] = [
                TraceStep(
                    "sender.template",
                    f"template for {obj}",
                    "not used: reports and hand-written mail start at the personal level",
                )
            ]
            warnings: list[str] = []
            profile, level = self._fallback_levels(
                ("personal", "administration"), admin, user, steps, warnings
            )
            cached = self._choice(profile, level, steps, warnings, None)
            self._object_senders[key] = cached
        return cached

    def _fallback_levels(
        self,
        order: Sequence[str],
        admin: str | None,
        user: str,
        steps: list[TraceStep],
        warnings: list[str],
    ) -> tuple[Profile, Level]:
        for level in order:
            if level == "administration":
                profile = self._administration_level(admin, steps, warnings)
                if profile is not None:
                    return profile, "administration"
            else:
                profile = self._personal_level(user, steps, warnings)
                if profile is not None:
                    return profile, "personal"
        sp = self.system_profile
        steps.append(
            TraceStep(
                "sender.system",
                "system profile",
                f"profile {sp.code} ({sp.system}, {sp.sender or 'no sender'})",
                True,
            )
        )
        return sp, "system"

    def _administration_level(
        self, admin: str | None, steps: list[TraceStep], warnings: list[str]
    ) -> Profile | None:
        rule = "sender.administration"
        if admin is None:
            steps.append(TraceStep(rule, "administration profile", "no administration given"))
            return None
        record = self.cfg.administrations.get(admin)
        looked = f"profile of administration {admin}"
        if record is None:
            warnings.append(f"Administration {admin} does not exist; its level was skipped.")
            steps.append(TraceStep(rule, looked, "administration does not exist"))
            return None
        profile, found = self._referenced(record.profile, f"administration {admin}", warnings)
        steps.append(TraceStep(rule, looked, found, profile is not None))
        return profile

    def _personal_level(
        self, user: str, steps: list[TraceStep], warnings: list[str]
    ) -> Profile | None:
        rule = "sender.personal"
        looked = f"personal settings of user {user}"
        record = self.cfg.users.get(user)
        if record is None:
            steps.append(TraceStep(rule, looked, "user has no personal settings"))
            return None
        profile, found = self._referenced(record.profile, f"user {user}", warnings)
        if profile is not None and profile.system != self.system_profile.system:
            warnings.append(
                f"The personal profile {profile.code} of user {user} sends by "
                f"{profile.system}, but the system profile {self.system_profile.code} by "
                f"{self.system_profile.system}; personal settings must be of the same system, "
                "so the personal level was skipped."
            )
            steps.append(
                TraceStep(
                    rule,
                    looked,
                    f"profile {profile.code} is {profile.system}, system is "
                    f"{self.system_profile.system}: skipped",
                )
            )
            return None
        steps.append(TraceStep(rule, looked, found, profile is not None))
        return profile

    def _referenced(
        self, code: str | None, owner: str, warnings: list[str]
    ) -> tuple[Profile | None, str]:
        """The profile ``owner`` refers to, and what the trace should say about it."""
        if not code:
            return None, "no profile"
        profile = self.cfg.profiles.get(code)
        if profile is None:
            warnings.append(
                f"The profile {code!r} of {owner} does not exist; that level was skipped."
            )
            return None, f"profile {code} does not exist: skipped"
        return profile, f"profile {profile.code} ({profile.sender or 'no sender'})"

    # ------------------------------------------------------------ recipients

    def _profile_additions(
        self, profile: Profile
    ) -> tuple[list[tuple[str, str]], list[str], list[str]]:
        """(bcc as (address, field)), reply-to addresses and warnings of a profile, once each."""
        cached = self._profile_extra.get(profile.code)
        if cached is None:
            warnings: list[str] = []
            bcc: list[tuple[str, str]] = []
            for raw in split_addresses(profile.bcc):
                where = f"Bcc of profile {profile.code}"
                addr = self._check(raw, where, warnings)
                if addr is not None:
                    bcc.append((addr, where))
            reply: list[str] = []
            for raw in split_addresses(profile.reply_to):
                addr = self._check(raw, f"Reply-To of profile {profile.code}", warnings)
                if addr is not None and addr.lower() not in {r.lower() for r in reply}:
                    reply.append(addr)
            cached = (bcc, reply, warnings)
            self._profile_extra[profile.code] = cached
        return cached

    def resolve(self, doc: Document, user: str) -> Resolution:
        cfg = self.cfg
        relation = cfg.relations.get((doc.administration, doc.relation))
        sender = self.document_sender(doc.administration, relation, doc.type, user)
        steps = list(sender.steps)
        warnings = list(sender.warnings)
        ref = DocumentRef(doc.type, doc.number, doc.administration, doc.relation)

        def to_print(reason: Reason, rule: Rule = "none") -> Resolution:
            return Resolution(
                ref,
                "print",
                reason,
                sender.choice,
                Recipients(rule=rule),
                sender.template,
                warnings,
                steps,
            )

        if relation is None:
            warnings.append(
                f"Relation {doc.relation} of {doc.type} {doc.number} does not exist in "
                f"administration {doc.administration}: there is no address, so the document "
                "goes to print."
            )
            steps.append(
                TraceStep(
                    "recipients.relation",
                    f"relation {doc.relation} in administration {doc.administration}",
                    "does not exist: print",
                    True,
                )
            )
            return to_print("no_address")

        rel = f"relation {relation.code}"
        if doc.type not in relation.opt_in:
            warnings.append(
                f"Relation {relation.code} has not opted in to receive {doc.type} by e-mail: "
                "the document goes to print."
            )
            steps.append(
                TraceStep(
                    "recipients.opt_in",
                    f"opt-in of {rel} for {doc.type}",
                    "not opted in: print",
                    True,
                )
            )
            return to_print("not_opted_in")
        steps.append(TraceStep("recipients.opt_in", f"opt-in of {rel} for {doc.type}", "opted in"))

        found = self._find_recipients(doc, relation, steps, warnings)
        if found is None:
            warnings.append(
                f"No usable e-mail address was found for {doc.type} {doc.number} of {rel}: "
                "the document goes to print. Fill in the relation's addresses for this "
                "document type, a contact, or its business e-mail."
            )
            steps.append(TraceStep("recipients.none", f"addresses of {rel}", "none: print", True))
            return to_print("no_address")
        rule, to, cc, bcc = found
        if not to:
            source = "order override" if rule == "order_override" else "per-type"
            if not cc:
                warnings.append(
                    f"The {source} addresses of {doc.type} {doc.number} hold no valid To or "
                    "Cc address (a Bcc is never used alone): the document goes to print."
                )
                steps.append(
                    TraceStep("recipients.none", f"To of rule {rule}", "no valid To: print", True)
                )
                return to_print("no_address", rule)
            # The admin meant these people to receive it: rather than print, the Cc
            # becomes the To, and the warning says so.
            warnings.append(
                f"The {source} addresses of {doc.type} {doc.number} hold no valid To "
                f"address; the Cc ({', '.join(cc)}) is used as To."
            )
            steps.append(
                TraceStep(f"recipients.{rule}", "no valid To", f"Cc used as To: {', '.join(cc)}")
            )
            to, cc = cc, []

        extra_bcc, reply_to, extra_warnings = self._profile_additions(sender.profile)
        warnings.extend(extra_warnings)
        if extra_bcc or reply_to:
            steps.append(
                TraceStep(
                    "recipients.profile",
                    f"Bcc and Reply-To of profile {sender.profile.code}",
                    f"Bcc {', '.join(a for a, _ in extra_bcc) or '-'}; "
                    f"Reply-To {', '.join(reply_to) or '-'}",
                )
            )
        bcc = bcc + [a for a, _ in extra_bcc]
        to, cc, bcc, removed = _dedupe(to, cc, bcc)
        if removed:
            steps.append(TraceStep("recipients.duplicates", "To, Cc and Bcc", "; ".join(removed)))
        return Resolution(
            ref,
            "email",
            None,
            sender.choice,
            Recipients(to, cc, bcc, list(reply_to), rule),
            sender.template,
            warnings,
            steps,
        )

    def _address_set(
        self,
        to: Iterable[str],
        cc: Iterable[str],
        bcc: Iterable[str],
        where: str,
        warnings: list[str],
        suffix: str = "",
    ) -> tuple[list[str], list[str], list[str], list[str]]:
        """Checked To, Cc, Bcc, and the invalid entries as 'field value' for the trace."""
        out: list[list[str]] = []
        invalid: list[str] = []
        for name, values in (("To", to), ("Cc", cc), ("Bcc", bcc)):
            checked: list[str] = []
            for raw in values:
                for part in split_addresses(raw):
                    addr = self._check(part, f"{where} {name}{suffix}", warnings)
                    if addr is not None:
                        checked.append(addr)
                    else:
                        invalid.append(f"{name} {part!r}")
            out.append(checked)
        return out[0], out[1], out[2], invalid

    def _find_recipients(
        self, doc: Document, relation: Relation, steps: list[TraceStep], warnings: list[str]
    ) -> tuple[Rule, list[str], list[str], list[str]] | None:
        rel = f"relation {relation.code}"
        # 2. Order override: replaces everything else.
        if doc.type in ORDER_DOC_TYPES:
            looked = f"order override of {doc.type} {doc.number}"
            ov = doc.order_override
            if ov is None or not any(a.strip() for a in (*ov.to, *ov.cc, *ov.bcc)):
                steps.append(TraceStep("recipients.order_override", looked, "none"))
            else:
                to, cc, bcc, bad = self._address_set(
                    ov.to, ov.cc, ov.bcc, f"order override of {doc.type} {doc.number}", warnings
                )
                steps.append(
                    TraceStep(
                        "recipients.order_override", looked, _describe(to, cc, bcc, bad), True
                    )
                )
                return "order_override", to, cc, bcc
        # 3. Per document type.
        looked = f"{rel} per-type addresses for {doc.type}"
        ps = relation.email_addresses.get(doc.type)
        if ps is None or not any(a.strip() for a in (*ps.to, *ps.cc, *ps.bcc)):
            steps.append(TraceStep("recipients.per_type", looked, "none"))
        else:
            to, cc, bcc, bad = self._address_set(
                ps.to, ps.cc, ps.bcc, f"{rel} per-type", warnings, f" for {doc.type}"
            )
            steps.append(
                TraceStep("recipients.per_type", looked, _describe(to, cc, bcc, bad), True)
            )
            return "per_type", to, cc, bcc
        # 4. Fall-backs, one address each; an invalid one is skipped with a warning.
        candidates: list[tuple[Rule, str, str, str]] = []  # rule, looked at, raw, field
        if doc.type == "sales_invoice":
            debtor_code = doc.invoice_debtor or relation.invoice_debtor or relation.code
            debtor = (
                relation
                if debtor_code == relation.code
                else self.cfg.relations.get((doc.administration, debtor_code))
            )
            looked = f"invoice contact of invoice debtor {debtor_code}"
            if debtor is None:
                warnings.append(
                    f"The invoice debtor {debtor_code} of {doc.type} {doc.number} does not "
                    f"exist in administration {doc.administration}; its contact was skipped."
                )
                steps.append(
                    TraceStep("recipients.invoice_debtor_contact", looked, "debtor does not exist")
                )
            else:
                itself = " (the relation itself)" if debtor is relation else ""
                candidates.append(
                    self._contact(debtor, "invoice", "invoice_debtor_contact", looked + itself)
                )
        candidates.append(self._contact(relation, "administration", "administration_contact"))
        candidates.append(self._contact(relation, "main", "main_contact"))
        candidates.append(
            (
                "business_email",
                f"business e-mail of {rel}",
                relation.business_email,
                f"business e-mail of {rel}",
            )
        )
        for rule, looked, raw, where in candidates:
            parts = split_addresses(raw)
            if not parts:
                steps.append(TraceStep(f"recipients.{rule}", looked, "none"))
                continue
            to = []
            for part in parts:
                addr = self._check(part, where, warnings)
                if addr is not None:
                    to.append(addr)
            if not to:
                steps.append(
                    TraceStep(f"recipients.{rule}", looked, f"{raw!r} is not valid: skipped")
                )
                continue
            steps.append(TraceStep(f"recipients.{rule}", looked, ", ".join(to), True))
            return rule, to, [], []
        return None

    @staticmethod
    def _contact(
        relation: Relation, role: str, rule: Rule, looked: str = ""
    ) -> tuple[Rule, str, str, str]:
        """The first contact with ``role`` that has an e-mail address."""
        looked = looked or f"{role} contact of relation {relation.code}"
        with_role = [c for c in relation.contacts if role in c.roles]
        for c in with_role:
            if c.email.strip():
                where = f"contact {c.name!r} ({role} contact) of relation {relation.code}"
                return rule, f"{looked} ({c.name})", c.email, where
        return rule, looked, "", ""


def _describe(to: list[str], cc: list[str], bcc: list[str], invalid: list[str]) -> str:
    parts = [f"To {', '.join(to) or '-'}"]
    if cc:
        parts.append(f"Cc {', '.join(cc)}")
    if bcc:
        parts.append(f"Bcc {', '.join(bcc)}")
    if invalid:
        parts.append(f"invalid, skipped: {', '.join(invalid)}")
    return "; ".join(parts)


def _dedupe(
    to: list[str], cc: list[str], bcc: list[str]
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Drop repeats case-insensitively: To wins over Cc, Cc over Bcc."""
    seen: set[str] = set()
    removed: list[str] = []
    out: list[list[str]] = []
    for name, values in (("To", to), ("Cc", cc), ("Bcc", bcc)):
        kept: list[str] = []
        for addr in values:
            key = addr.lower()
            if key in seen:
                removed.append(f"{addr} dropped from {name} (already a recipient)")
                continue
            seen.add(key)
            kept.append(addr)
        out.append(kept)
    return out[0], out[1], out[2], removed


def _system_profile(cfg: ConfigSnapshot) -> Profile:
    code = cfg.system.profile
    if not code:
        raise ConfigError(
            "No system profile is set. The system profile must always exist, so that "
            "every message has a sender.",
            field="system profile",
            value=None,
            fix="create an e-mail profile and choose it as the system profile in the "
            "system settings.",
        )
    profile = cfg.profiles.get(code)
    if profile is None:
        raise ConfigError(
            f"The system profile {code!r} does not exist. The system profile must always "
            "exist, so that every message has a sender.",
            field="system profile",
            value=code,
            fix="create that profile, or choose an existing one as the system profile.",
        )
    return profile


# ---------------------------------------------------------------- public functions


def resolve_document(cfg: ConfigSnapshot, doc: Document, user: str) -> Resolution:
    """Sender, recipients and action of one document; ConfigError without a system profile."""
    return Resolver(cfg).resolve(doc, user)


def resolve_all(cfg: ConfigSnapshot, docs: Iterable[Document], user: str) -> list[Resolution]:
    """Resolve many documents with shared caches (a batch, a dry run)."""
    resolver = Resolver(cfg)
    return [resolver.resolve(doc, user) for doc in docs]


def resolve_sender_for_object(
    cfg: ConfigSnapshot, obj: str, user: str, administration: str | None = None
) -> tuple[SenderChoice, list[TraceStep]]:
    """Sender of a report, backup or hand-written mail: personal, administration, system.

    Warnings (a dangling profile, a personal profile of another system) are in the
    trace as skipped steps.
    """
    if obj not in ("report", "backup", "manual"):
        raise ConfigError(
            f"{obj!r} is not an object without a document.",
            field="object",
            value=obj,
            fix="use report, backup or manual; documents are resolved with resolve_document.",
        )
    outcome = Resolver(cfg).object_sender(obj, user, administration)
    trace = list(outcome.steps)
    trace.extend(TraceStep("warning", "configuration", w) for w in outcome.warnings)
    return outcome.choice, trace
