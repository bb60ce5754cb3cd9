"""Who receives: the recipient rules of SPEC §6, with their trace steps.

Opt-in; the order override (order documents); the relation's per-type To/Cc/Bcc;
then the fall-backs (invoice debtor's invoice contact for sales invoices,
administration contact, main contact, business e-mail). No opt-in or no usable
address: the action is ``print`` with a reason, never a silent drop. The profile's
Bcc and Reply-To are added, duplicates removed case-insensitively, and an address
in To is not repeated in Cc or Bcc (nor one in Cc in Bcc).

:class:`RecipientResolver` checks each distinct address once and each profile's
Bcc and Reply-To once, for one configuration snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable

from mailing.addresses import check_address, split_addresses
from mailing.config import ConfigSnapshot
from mailing.errors import AddressError
from mailing.resolve.results import Action, Reason, Recipients, Rule, TraceStep
from store.records import ORDER_DOC_TYPES, Document, Profile, Relation

# What the recipient rules decide: e-mail or print, why print, and to whom.
RecipientOutcome = tuple[Action, Reason | None, Recipients]


class RecipientResolver:
    """The recipients of documents, with the address checks cached."""

    def __init__(self, cfg: ConfigSnapshot) -> None:
        self.cfg = cfg
        # value -> normalised address, or None when invalid
        self._valid: dict[str, str | None] = {}
        self._profile_extra: dict[str, tuple[list[tuple[str, str]], list[str], list[str]]] = {}

    def recipients(
        self,
        doc: Document,
        relation: Relation | None,
        profile: Profile,
        steps: list[TraceStep],
        warnings: list[str],
    ) -> RecipientOutcome:
        """Action, reason and recipients of ``doc`` sent from ``profile``; appends to the trace."""

        def to_print(reason: Reason, rule: Rule = "none") -> RecipientOutcome:
            return "print", reason, Recipients(rule=rule)

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
        rule, to, cc, bcc, names = found
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

        extra_bcc, reply_to, extra_warnings = self._profile_additions(profile)
        warnings.extend(extra_warnings)
        if extra_bcc or reply_to:
            steps.append(
                TraceStep(
                    "recipients.profile",
                    f"Bcc and Reply-To of profile {profile.code}",
                    f"Bcc {', '.join(a for a, _ in extra_bcc) or '-'}; "
                    f"Reply-To {', '.join(reply_to) or '-'}",
                )
            )
        bcc = bcc + [a for a, _ in extra_bcc]
        to, cc, bcc, removed = dedupe(to, cc, bcc)
        if removed:
            steps.append(TraceStep("recipients.duplicates", "To, Cc and Bcc", "; ".join(removed)))
        shown = {a.lower(): n for a, n in names.items() if a in (*to, *cc)}
        return "email", None, Recipients(to, cc, bcc, list(reply_to), rule, shown)

    # ------------------------------------------------------------ the rules

    def _find_recipients(
        self, doc: Document, relation: Relation, steps: list[TraceStep], warnings: list[str]
    ) -> tuple[Rule, list[str], list[str], list[str], dict[str, str]] | None:
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
                    TraceStep("recipients.order_override", looked, describe(to, cc, bcc, bad), True)
                )
                return "order_override", to, cc, bcc, {}
        # 3. Per document type.
        looked = f"{rel} per-type addresses for {doc.type}"
        ps = relation.email_addresses.get(doc.type)
        if ps is None or not any(a.strip() for a in (*ps.to, *ps.cc, *ps.bcc)):
            steps.append(TraceStep("recipients.per_type", looked, "none"))
        else:
            to, cc, bcc, bad = self._address_set(
                ps.to, ps.cc, ps.bcc, f"{rel} per-type", warnings, f" for {doc.type}"
            )
            steps.append(TraceStep("recipients.per_type", looked, describe(to, cc, bcc, bad), True))
            return "per_type", to, cc, bcc, {}
        # 4. Fall-backs, one address each; an invalid one is skipped with a warning.
        # rule, looked at, raw, field, the name shown with the address
        candidates: list[tuple[Rule, str, str, str, str]] = []
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
                    contact(debtor, "invoice", "invoice_debtor_contact", looked + itself)
                )
        candidates.append(contact(relation, "administration", "administration_contact"))
        candidates.append(contact(relation, "main", "main_contact"))
        candidates.append(
            (
                "business_email",
                f"business e-mail of {rel}",
                relation.business_email,
                f"business e-mail of {rel}",
                relation.name,
            )
        )
        for rule, looked, raw, where, name in candidates:
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
            return rule, to, [], [], ({a: name for a in to} if name.strip() else {})
        return None

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

    # ------------------------------------------------------------ addresses

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


def contact(
    relation: Relation, role: str, rule: Rule, looked: str = ""
) -> tuple[Rule, str, str, str, str]:
    """The first contact with ``role`` that has an e-mail address (and its name)."""
    looked = looked or f"{role} contact of relation {relation.code}"
    with_role = [c for c in relation.contacts if role in c.roles]
    for c in with_role:
        if c.email.strip():
            where = f"contact {c.name!r} ({role} contact) of relation {relation.code}"
            return rule, f"{looked} ({c.name})", c.email, where, c.name
    return rule, looked, "", "", ""


def describe(to: list[str], cc: list[str], bcc: list[str], invalid: list[str]) -> str:
    """What a source of addresses held, for the trace."""
    parts = [f"To {', '.join(to) or '-'}"]
    if cc:
        parts.append(f"Cc {', '.join(cc)}")
    if bcc:
        parts.append(f"Bcc {', '.join(bcc)}")
    if invalid:
        parts.append(f"invalid, skipped: {', '.join(invalid)}")
    return "; ".join(parts)


def dedupe(
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
