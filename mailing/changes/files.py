"""The doors for files: writing what the user asked for (an .eml, a PDF, an export),
the configuration as JSON, and putting back the last good copy of a database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.store import Store


def write_user_file(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write a file the user named, whole or not at all."""
    from store.db import atomic_write_bytes

    atomic_write_bytes(path, data, mode=mode)


def export_config_json(store: Store) -> str:
    from store.exchange import export_json

    return export_json(store)


def restore_database_copy(home: Path, documents: bool) -> tuple[Path, str]:
    """Replace a damaged database with its last good copy; return (database, copy used)."""
    from store.db import Database
    from store.store import CONFIG_FILE, DOCUMENTS_FILE, ensure_home

    home = ensure_home(home)
    db = Database(home / (DOCUMENTS_FILE if documents else CONFIG_FILE))
    return db.path, db.restore_copy()
