"""Plain words for the identifiers of the data, as the screens and the CLI show them.

The identifiers (``sales_invoice``, ``not_opted_in``, ``sender.template``, state
folder names) stay in ``--json`` output and in the configuration format; a person
reads these words instead. One place, so a screen and a command say the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mailing.catalogue import OBJECT_LABELS

if TYPE_CHECKING:
    from store.records import Profile

# Why a document goes to print instead of by e-mail.
PRINT_REASONS: dict[str, str] = {
    "not_opted_in": "not opted in to e-mail",
    "no_address": "no e-mail address found",
}

# The state of a message in a batch (the spool's folder names).
ITEM_STATES: dict[str, str] = {
    "all": "all",
    "draft": "draft",
    "approved": "approved",
    "held": "held",
    "sending": "sending",
    "sent": "sent",
    "failed": "failed",
    "unknown": "unknown",
    "print": "to print",
    "cancelled": "cancelled",
}

# The rules of the trace (SPEC §5 who sends, §6 who receives).
TRACE_RULES: dict[str, str] = {
    "sender.template": "Sender from the template",
    "sender.administration": "Sender from the administration",
    "sender.personal": "Sender from your personal profile",
    "sender.system": "Sender from the system profile",
    "recipients.relation": "The relation",
    "recipients.opt_in": "Opted in to e-mail",
    "recipients.none": "No address",
    "recipients.duplicates": "Addresses given twice",
    "recipients.order_override": "Addresses of the order",
    "recipients.per_type": "Addresses for this document type",
    "recipients.invoice_debtor_contact": "Contact of the invoice debtor",
    "recipients.profile": "Addresses of the profile",
    "recipients.business": "Business e-mail address",
    "recipients.administration_contact": "The relation's administration contact",
    "recipients.main_contact": "The relation's main contact",
    "recipients.business_email": "The relation's business e-mail address",
    "administration_contact": "the relation's administration contact",
    "main_contact": "the relation's main contact",
    "business_email": "the relation's business e-mail address",
    "invoice_debtor_contact": "the invoice contact of the debtor",
    "order_override": "the addresses of the order",
    "per_type": "the addresses for this document type",
    "profile": "the profile's addresses",
    "warning": "Warning",
}

LEVELS: dict[str, str] = {
    "template": "the template's profile",
    "administration": "the administration's profile",
    "personal": "your personal profile",
    "system": "the system profile",
    "given": "the profile asked for",
}


def _fallback(identifier: str) -> str:
    words = identifier.replace("_", " ").replace(".", ": ").strip()
    return words[:1].upper() + words[1:]


def doc_type(identifier: str | None) -> str:
    """``sales_invoice`` -> ``Sales invoice``."""
    if not identifier:
        return ""
    return OBJECT_LABELS.get(identifier, _fallback(identifier))


def doc_type_lower(identifier: str | None) -> str:
    """``sales_invoice`` -> ``sales invoice``, for inside a sentence."""
    return doc_type(identifier).lower()


def print_reason(identifier: str | None) -> str:
    if not identifier:
        return "cannot be mailed"
    return PRINT_REASONS.get(identifier, identifier.replace("_", " "))


def item_state(identifier: str) -> str:
    return ITEM_STATES.get(identifier, identifier.replace("_", " "))


def sent_state(identifier: str, test_mode: bool) -> str:
    """A state's word; ``sent`` of a batch sent in test mode went to the test address."""
    if identifier == "sent" and test_mode:
        return "sent to the test address"
    return item_state(identifier)


def trace_rule(identifier: str) -> str:
    """``sender.template`` -> ``Sender from the template``."""
    return TRACE_RULES.get(identifier, _fallback(identifier))


def level(identifier: str) -> str:
    return LEVELS.get(identifier, identifier)


def outcome_print(doc: str | None, reason: str | None) -> str:
    """``order_confirmation: PRINT`` for people: ``Order confirmation: to print (...)``."""
    return f"{doc_type(doc)}: to print ({print_reason(reason)})"


def profile_destination(profile: Profile | None, home: Path, code: str = "") -> str:
    """Where a profile's mail goes: ``OUTBOX (folder /data/outbox)``, ``SMTP (host:587)``."""
    if profile is None:
        return f"{code} (no such profile)"
    if profile.system == "outbox":
        from mailing.transports.outbox import outbox_folder

        return f"{profile.code} (folder {outbox_folder(profile, home)})"
    return f"{profile.code} ({profile.server}:{profile.port})"


def destinations(counts: dict[str, int], profiles: dict[str, Profile], home: Path) -> str:
    """``to 92 via OUTBOX (folder ...)``, one part per profile used, most used first."""
    if not counts:
        return "nothing to mail"
    parts = [
        f"{n:,} via {profile_destination(profiles.get(code), home, code)}"
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return "; ".join(parts)


def plain(text: str) -> str:
    """A sentence of the trace with the identifiers in it in words (codes left alone)."""
    import re

    names = {**{k: doc_type_lower(k) for k in OBJECT_LABELS}, **PRINT_REASONS}
    pattern = re.compile(r"(?<![\w\-.])(" + "|".join(map(re.escape, names)) + r")(?![\w\-])")
    return pattern.sub(lambda m: names[m.group(1)], text)


def count(n: int, noun: str, plural: str = "") -> str:
    """``1 message``, ``2 messages``, ``1,200 documents``: a number and its noun, the
    plural right (``plural`` for an irregular one)."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
