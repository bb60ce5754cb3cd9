"""The resolver: sender and recipients of a document, together, as one Resolution.

:class:`Resolver` ties the sender hierarchy (:mod:`mailing.resolve.sender`) and
the recipient rules (:mod:`mailing.resolve.recipients`) for one configuration
snapshot, sharing their caches across documents. ``resolve_all`` resolves many
documents with caches per (administration, language code, document type, user) for
the sender and per address for validation, so a batch of 10,000 costs about as
much as loading it.
"""

from __future__ import annotations

from collections.abc import Iterable

from mailing.config import ConfigSnapshot
from mailing.errors import ConfigError
from mailing.resolve.recipients import RecipientResolver
from mailing.resolve.results import DocumentRef, Resolution, SenderChoice, TraceStep
from mailing.resolve.sender import SenderOutcome, SenderResolver
from store.records import Document, Relation


class Resolver:
    """Resolves documents against one configuration snapshot, caching what repeats.

    Create one per batch (``resolve_all`` does); it raises :class:`ConfigError` at
    once when the system profile is missing.
    """

    def __init__(self, cfg: ConfigSnapshot) -> None:
        self.cfg = cfg
        self.senders = SenderResolver(cfg)
        self.system_profile = self.senders.system_profile
        self.recipients = RecipientResolver(cfg)

    def document_sender(
        self, admin: str, relation: Relation | None, doctype: str, user: str
    ) -> SenderOutcome:
        return self.senders.document_sender(admin, relation, doctype, user)

    def object_sender(self, obj: str, user: str, admin: str | None) -> SenderOutcome:
        return self.senders.object_sender(obj, user, admin)

    def resolve(self, doc: Document, user: str) -> Resolution:
        relation = self.cfg.relations.get((doc.administration, doc.relation))
        sender = self.senders.document_sender(doc.administration, relation, doc.type, user)
        steps = list(sender.steps)
        warnings = list(sender.warnings)
        action, reason, recipients = self.recipients.recipients(
            doc, relation, sender.profile, steps, warnings
        )
        return Resolution(
            document=DocumentRef(doc.type, doc.number, doc.administration, doc.relation),
            action=action,
            reason=reason,
            sender=sender.choice,
            recipients=recipients,
            template=sender.template,
            warnings=warnings,
            trace=steps,
        )


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
