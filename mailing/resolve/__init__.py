"""Who sends and who receives: the resolution engine (SPEC §5 and §6).

One function decides the sender and the recipients of every message, and each
decision explains itself in a *trace*: an ordered list of steps naming the rule,
what it looked at, what it found and whether it decided. The TUI shows the trace,
the CLI prints it (``mailroom resolve``), and the spool stores it with each queued
message. docs/resolve-format.md describes the rules and the JSON.

The package owns the rules and their results; the map:

- ``results``     the result types (:class:`Resolution`, :class:`SenderChoice`,
                  :class:`Recipients`, :class:`DocumentRef`, :class:`TraceStep`) and
                  their JSON, the names of levels and rules
- ``sender``      who sends (SPEC §5): template, administration, personal, system
- ``recipients``  who receives (SPEC §6): opt-in, order override, per-type
                  addresses, fall-backs, address checks, the profile's Bcc/Reply-To
- ``resolver``    :class:`Resolver` tying the two per document, ``resolve_document``,
                  ``resolve_all`` and ``resolve_sender_for_object``

Import from ``mailing.resolve``; the submodules import each other, never this one.
"""

from __future__ import annotations

from mailing.resolve.resolver import (
    Resolver,
    resolve_all,
    resolve_document,
    resolve_sender_for_object,
)
from mailing.resolve.results import (
    LEVELS,
    RULES,
    Action,
    DocumentRef,
    Level,
    Reason,
    Recipients,
    Resolution,
    Rule,
    SenderChoice,
    SenderObject,
    TraceStep,
)

__all__ = [
    "LEVELS",
    "RULES",
    "Action",
    "DocumentRef",
    "Level",
    "Reason",
    "Recipients",
    "Resolution",
    "Resolver",
    "Rule",
    "SenderChoice",
    "SenderObject",
    "TraceStep",
    "resolve_all",
    "resolve_document",
    "resolve_sender_for_object",
]
