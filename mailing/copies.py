"""SPEC §3: the document types of which a copy document (*kopiedocument*) is kept.

Every one keeps it with background. A module of its own, without imports: the
sender's archive asks it per message and must not load the PDF stack for a set of
names (that import was about 60 ms of the send's start, issue 31).
"""

from __future__ import annotations

COPY_DOCUMENT_TYPES: frozenset[str] = frozenset(
    {"reminder", "sales_invoice", "packing_slip", "purchase_order", "counter_invoice"}
)
