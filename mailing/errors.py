"""Errors of the domain. Each names the field, the value and the fix (see store.errors)."""

from __future__ import annotations

from store.errors import MailroomError


class ConfigError(MailroomError):
    """The configuration does not allow this (e.g. no system profile)."""


class AddressError(MailroomError):
    """An e-mail address is not valid; names the field it came from."""


class TemplateError(MailroomError):
    """A template does not parse, names an unknown field, or fails to render."""


class DocumentError(MailroomError):
    """A document cannot be imported, drawn or sent."""
