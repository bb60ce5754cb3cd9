"""What the reports share: the words for why a document goes to print, and ReportError."""

from __future__ import annotations

from store.errors import MailroomError

PRINT_REASONS: dict[str, str] = {
    "not_opted_in": "the relation has not opted in to receive this document by e-mail",
    "no_address": "no usable e-mail address was found for the relation",
}


class ReportError(MailroomError):
    """A report cannot be made as asked."""
