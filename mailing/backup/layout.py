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
TOP_FILES: tuple[str, ...] = (*DATABASES, KEYMAP_FILE)
TOP_DIRS: tuple[str, ...] = ("files", "spool", "archive")
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
