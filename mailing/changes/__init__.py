"""The one door for every change.

Every change to the data — a saved form, an imported file, a restored backup, an
approval, a secret — is one function here. It runs the rules (``rules``), and writes
everything or nothing, listing every problem with its position, the value and the
fix (:class:`ChangeRefused`). The TUI and the command line only call these; neither
changes ``store`` itself (an import-linter contract in CI says so).
"""

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

__all__ = [
    "ATTACHMENT_DOC_TYPES",
    "BATCH_ACTIONS",
    "ChangeRefused",
    "Problem",
    "add_profile",
    "change_items",
    "check_configuration",
    "copy_in_file",
    "delete_profile",
    "delete_record",
    "export_config_json",
    "forget_secrets",
    "has_password",
    "import_config",
    "read_stored_file",
    "save_profile",
    "save_record",
    "save_settings",
    "schedule_batch",
    "set_redirect",
    "set_document_attachments",
    "set_sending_paused",
    "store_password",
    "restore_database_copy",
    "update_profile",
    "write_user_file",
]
