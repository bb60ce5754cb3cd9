"""Backups of the data folder, and restoring one (SPEC §8).

A backup is one ``.tar.gz`` archive of the data folder with a ``MANIFEST.json``
as its last member, listing the SHA-256 and size of every other member.

What goes in (see docs/backup.md): the configuration database ``mailroom.json``,
the document database ``documents.json``, the key map ``keymap.toml``, the stored
files ``files/``, the spool ``spool/`` and the archive of sent mail ``archive/``.
What stays out: ``backups/`` (copies of the databases, and earlier archives),
``outbox/`` (the trial transport's delivered mail), lock and temporary files
(every name starting with a dot), and anything else Mailroom does not own.
Secrets live in the OS keyring and are never read.

Restoring verifies everything before it changes anything: each member's name
(no ``..``, no absolute path, only regular files and folders: no links, no
devices), its size and SHA-256 against the manifest, that nothing unlisted is
present and nothing listed is missing, the total size and compression ratio
while decompressing (not trusting any header), that the databases parse and
every record validates, and that every stored file has the content its name
says. Only then is the current data kept as a backup
(``backups/before-restore-<time>.tar.gz``), the verified copy swapped into place,
and sending paused so that a restored queue is not sent a second time by accident.

The modules, each one idea:

- ``layout``: the format's names and sizes (what goes in, the manifest, ``MB``).
- ``errors``: :class:`BackupError`, :class:`RestoreError`, and how a refusal is worded.
- ``write``: writing the archive (:func:`write_backup`).
- ``unpack``: streaming an untrusted archive in, checking names, sizes, bombs and
  the manifest (:class:`RestoreLimits`).
- ``content``: the unpacked content through the checks of ``config import``
  (mailing.changes), the key map's and the batches'.
- ``keymap``: the key map check, which the UI registers (:func:`register_keymap_check`).
- ``restore``: verifying and restoring (:func:`verify_backup`, :func:`restore_backup`).
- ``mail``: mailing a backup (:func:`send_backup`), and the archive in a saved e-mail.
"""

from mailing.backup.errors import BackupError, RestoreError
from mailing.backup.keymap import KeymapCheck, register_keymap_check
from mailing.backup.layout import (
    DATABASES,
    DEFAULT_MAIL_LIMIT,
    FORMAT,
    KEYMAP_FILE,
    MANIFEST,
    MAX_LISTED,
    MAX_NAME_CHARS,
    MAX_NAME_PART_BYTES,
    MB,
    SKIP_IN_SPOOL,
    SUFFIX,
    TOP_DIRS,
    TOP_FILES,
    VERSION,
)
from mailing.backup.mail import BackupSent, _archive_from_eml, check_mail_size, send_backup
from mailing.backup.restore import RestoreResult, restore_backup, resume_sending, verify_backup
from mailing.backup.unpack import RestoreLimits
from mailing.backup.write import BackupResult, default_name, write_backup
from mailing.names import human_size

__all__ = [
    "DATABASES",
    "DEFAULT_MAIL_LIMIT",
    "FORMAT",
    "KEYMAP_FILE",
    "MANIFEST",
    "MAX_LISTED",
    "MAX_NAME_CHARS",
    "MAX_NAME_PART_BYTES",
    "MB",
    "SKIP_IN_SPOOL",
    "SUFFIX",
    "TOP_DIRS",
    "TOP_FILES",
    "VERSION",
    "BackupError",
    "BackupResult",
    "BackupSent",
    "KeymapCheck",
    "RestoreError",
    "RestoreLimits",
    "RestoreResult",
    "_archive_from_eml",
    "check_mail_size",
    "default_name",
    "human_size",
    "register_keymap_check",
    "restore_backup",
    "resume_sending",
    "send_backup",
    "verify_backup",
    "write_backup",
]
