"""The one door for every change.

Every change to the data — a saved form, an imported file, a restored backup, an
approval, a secret — is one function here. It runs the rules (``rules_record``, ``rules_configuration``), and writes
everything or nothing, listing every problem with its position, the value and the
fix (:class:`ChangeRefused`). The TUI and the command line only call these; neither
changes ``store`` itself (an import-linter contract in CI says so).

The names below are exported lazily (PEP 562): ``from mailing.changes import
save_profile`` imports ``mailing.changes.config`` only, so the TUI's start does not
pay for every rule (e-mail validation, ...) before its first pane is on screen.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailing.changes.batches import BATCH_ACTIONS, change_items
    from mailing.changes.config import (
        add_profile,
        check_configuration,
        delete_profile,
        delete_record,
        import_config,
        save_profile,
        save_record,
        save_settings,
        set_sending_paused,
        update_profile,
    )
    from mailing.changes.documents import ATTACHMENT_DOC_TYPES, set_document_attachments
    from mailing.changes.files import (
        copy_in_file,
        export_config_json,
        read_stored_file,
        restore_database_copy,
        write_user_file,
    )
    from mailing.changes.problems import ChangeRefused, Problem
    from mailing.changes.secrets import forget_secrets, has_password, store_password
    from mailing.changes.sending import schedule_batch, set_redirect
    from mailing.changes.template_images import (
        add_template_image,
        copy_in_image,
        remove_template_image,
        template_images,
    )

_EXPORTS: dict[str, str] = {
    "ATTACHMENT_DOC_TYPES": "mailing.changes.documents",
    "BATCH_ACTIONS": "mailing.changes.batches",
    "ChangeRefused": "mailing.changes.problems",
    "Problem": "mailing.changes.problems",
    "add_profile": "mailing.changes.config",
    "add_template_image": "mailing.changes.template_images",
    "change_items": "mailing.changes.batches",
    "check_configuration": "mailing.changes.config",
    "copy_in_file": "mailing.changes.files",
    "copy_in_image": "mailing.changes.template_images",
    "delete_profile": "mailing.changes.config",
    "delete_record": "mailing.changes.config",
    "export_config_json": "mailing.changes.files",
    "forget_secrets": "mailing.changes.secrets",
    "has_password": "mailing.changes.secrets",
    "import_config": "mailing.changes.config",
    "read_stored_file": "mailing.changes.files",
    "remove_template_image": "mailing.changes.template_images",
    "restore_database_copy": "mailing.changes.files",
    "save_profile": "mailing.changes.config",
    "save_record": "mailing.changes.config",
    "save_settings": "mailing.changes.config",
    "schedule_batch": "mailing.changes.sending",
    "set_document_attachments": "mailing.changes.documents",
    "set_redirect": "mailing.changes.sending",
    "set_sending_paused": "mailing.changes.config",
    "store_password": "mailing.changes.secrets",
    "template_images": "mailing.changes.template_images",
    "update_profile": "mailing.changes.config",
    "write_user_file": "mailing.changes.files",
}

__all__ = [
    "ATTACHMENT_DOC_TYPES",
    "BATCH_ACTIONS",
    "ChangeRefused",
    "Problem",
    "add_profile",
    "add_template_image",
    "change_items",
    "check_configuration",
    "copy_in_file",
    "copy_in_image",
    "delete_profile",
    "delete_record",
    "export_config_json",
    "forget_secrets",
    "has_password",
    "import_config",
    "read_stored_file",
    "remove_template_image",
    "save_profile",
    "save_record",
    "save_settings",
    "schedule_batch",
    "set_redirect",
    "set_document_attachments",
    "set_sending_paused",
    "store_password",
    "restore_database_copy",
    "template_images",
    "update_profile",
    "write_user_file",
]


def __getattr__(name: str) -> Any:
    """A name of ``__all__``: imported from its module on first use, then kept."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
