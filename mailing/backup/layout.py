"""What a backup holds and how it is written: format, member names, sizes."""

from __future__ import annotations

from store.store import CONFIG_FILE, DOCUMENTS_FILE

FORMAT = "mailroom-backup"
VERSION = 1
MANIFEST = "MANIFEST.json"
SUFFIX = ".tar.gz"
# Top-level entries of the data folder that a backup holds.
DATABASES: tuple[str, ...] = (CONFIG_FILE, DOCUMENTS_FILE)
KEYMAP_FILE = "keymap.toml"
# The audit log and its head (mailing/changes/audit.py): carried, read under the log's lock, its
# chain checked on restore; a restore keeps the data folder's own log when it has one
# (it goes on, with the restore as its next entry).
AUDIT_FILES: tuple[str, ...] = ("audit.log", "audit.head")
TOP_FILES: tuple[str, ...] = (*DATABASES, KEYMAP_FILE, *AUDIT_FILES)
# bounces/: how far each profile's inbox of delivery reports was read.
TOP_DIRS: tuple[str, ...] = ("files", "spool", "archive", "bounces")
# Runtime state inside the spool that must not travel.
SKIP_IN_SPOOL: frozenset[str] = frozenset({"sender.json"})

# Sizes are in decimal units throughout (1 MB = 1,000,000 bytes), as `--max-size MB`
# takes them and human_size shows them: the limit of 25 MB is shown as "25 MB".
MB = 1_000_000
DEFAULT_MAIL_LIMIT = 25 * MB
_CHUNK = 1024 * 1024
# A member's name: each part at most what a file system takes, the whole path bounded.
MAX_NAME_PART_BYTES = 255
MAX_NAME_CHARS = 1024
# A refusal lists at most this many problems; the rest are counted.
MAX_LISTED = 50
