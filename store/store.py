"""The data folder: the configuration database, the document database and stored files.

Typed access to records. Each record lives in the TinyDB table named by its
class, with its key kept in a ``_key`` field beside it so a lookup needs no
parsing of the other records.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from tinydb import Query, TinyDB

from store.db import Database
from store.errors import NotFoundError, StoreError
from store.files import FileStore
from store.permissions import prepare_home

if TYPE_CHECKING:
    from store.documents import Documents, DocumentsTx
    from store.records import Document, Record, SystemSettings

# The records (pydantic models, ~0.1 s to import) are imported when first used, not
# with the store: the TUI shows its first list before it needs them.
R = TypeVar("R", bound="Record")

CONFIG_FILE = "mailroom.json"
DOCUMENTS_FILE = "documents.json"  # a backup's (and an older data folder's) one file
_KEY = "_key"


def default_user() -> str:
    """The account of this process's real uid: who is working (docs/sharing.md).

    Never ``$USER``, ``$LOGNAME`` or ``getpass.getuser()``: those are what the
    environment says, and anyone can set them."""
    import pwd

    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """``--home``, else ``MAILROOM_HOME``, else the platform's user data folder."""
    if home:
        path = Path(home)
    elif os.environ.get("MAILROOM_HOME"):
        path = Path(os.environ["MAILROOM_HOME"])
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("mailroom", appauthor=False))
    return path.expanduser().absolute()


def check_access(path: Path) -> None:
    """A data folder that exists but this account cannot enter, read and write: one
    sentence naming the account, the folder's owner and group, and the fix."""
    if not path.is_dir() or os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return
    import grp
    import pwd

    st = path.stat()
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    me = default_user()
    raise StoreError(
        f"{me} cannot open the data folder {path}: it belongs to {owner} and the group "
        f"{group}, and {me} is not allowed in (mode {st.st_mode & 0o7777:o}).",
        field="home",
        value=str(path),
        fix=f"ask an administrator to add you to the group: sudo usermod -aG {group} {me}, "
        "then log in again (or give your own data folder with --home).",
    )


def ensure_home(path: Path) -> Path:
    # Everything under the data folder holds customers' data or configuration:
    # owner-only, or its group's when shared (store/permissions.py), whatever writes it.
    check_access(path)
    try:
        prepare_home(path)
    except OSError as exc:
        raise StoreError(
            f"The data folder {path} cannot be created or used ({exc.strerror}).",
            field="home",
            value=str(path),
            fix="choose another folder with --home or MAILROOM_HOME, or fix its permissions.",
        ) from None
    return path


class Tx:
    """Typed operations on one open TinyDB (a transaction or a read-only view)."""

    def __init__(self, db: TinyDB) -> None:
        self.db = db

    def all(self, cls: type[R]) -> list[R]:
        return [cls.model_validate(_strip(d)) for d in self.db.table(cls.table).all()]

    def raw(self, cls: type[Record]) -> list[dict[str, Any]]:
        return self.rows(cls.table)

    def rows(self, table: str) -> list[dict[str, Any]]:
        """The stored dicts of a table, by its name, not validated (no record class, so
        no pydantic import: the TUI's first list)."""
        return [_strip(d) for d in self.db.table(table).all()]

    def find(self, cls: type[R], key: str) -> R | None:
        for d in self.db.table(cls.table).all():
            if d.get(_KEY) == key:
                return cls.model_validate(_strip(d))
        return None

    def get(self, cls: type[R], key: str) -> R:
        found = self.find(cls, key)
        if found is None:
            raise NotFoundError(
                f"No {cls.__name__.lower()} with key {key!r} exists.",
                field=cls.key_field,
                value=key,
                fix="check the spelling, or list them with `mailroom config export`.",
            )
        return found

    def put(self, record: Record) -> None:
        doc = record.dump()
        doc[_KEY] = record.key
        self.db.table(type(record).table).upsert(doc, Query()[_KEY] == record.key)

    def put_many(self, records: Iterable[Record]) -> int:
        """Insert or replace many records with one pass over each table."""
        by_table: dict[str, dict[str, dict[str, Any]]] = {}
        for rec in records:
            doc = rec.dump()
            doc[_KEY] = rec.key
            by_table.setdefault(type(rec).table, {})[rec.key] = doc
        n = 0
        for table_name, docs in by_table.items():
            table = self.db.table(table_name)
            existing = {d.get(_KEY): d.doc_id for d in table.all()}
            stale = [existing[k] for k in docs if k in existing]
            if stale:
                table.remove(doc_ids=stale)
            table.insert_multiple(list(docs.values()))
            n += len(docs)
        return n

    def delete(self, cls: type[Record], key: str) -> bool:
        return bool(self.db.table(cls.table).remove(Query()[_KEY] == key))

    def clear(self, cls: type[Record]) -> None:
        self.db.drop_table(cls.table)

    def system(self) -> SystemSettings:
        from store.records import SystemSettings

        return self.find(SystemSettings, "system") or SystemSettings()


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != _KEY}


class Store:
    """The data folder of one installation."""

    def __init__(self, home: Path, user: str | None = None) -> None:
        self.home = ensure_home(home)
        self.user = user or default_user()
        self.config_db = Database(self.home / CONFIG_FILE)
        self._documents: Documents | None = None
        self.files = FileStore(self.home / "files")
        from store.secrets import bind_data_folder

        bind_data_folder(self.home)  # its encrypted secrets file, when that is the backend

    @property
    def documents(self) -> Documents:
        """The documents, one file per month (``store/documents.py``); opened (and an
        older single ``documents.json`` moved to that layout) when first used."""
        if self._documents is None:
            from store.documents import Documents

            self._documents = Documents(self.home)
        return self._documents

    @staticmethod
    def _is_documents(cls: type[Record] | None) -> bool:
        # By table name: the records (pydantic) need not be imported to tell.
        return cls is not None and getattr(cls, "table", None) == "documents"

    # Reads: a consistent snapshot, no lock.
    @overload
    def view(self, cls: type[Document]) -> contextlib.AbstractContextManager[DocumentsTx]: ...
    @overload
    def view(self, cls: None = None) -> contextlib.AbstractContextManager[Tx]: ...
    @overload
    def view(
        self, cls: type[Record]
    ) -> contextlib.AbstractContextManager[Tx] | contextlib.AbstractContextManager[DocumentsTx]: ...
    def view(
        self, cls: type[Record] | None = None
    ) -> contextlib.AbstractContextManager[Tx] | contextlib.AbstractContextManager[DocumentsTx]:
        if self._is_documents(cls):
            return self.documents.view()
        return self._config_view()

    @contextlib.contextmanager
    def _config_view(self) -> Iterator[Tx]:
        with self.config_db.view() as db:
            yield Tx(db)

    # Writes: one locked read-modify-write; nothing is written if the block raises.
    @overload
    def transaction(
        self, cls: type[Document]
    ) -> contextlib.AbstractContextManager[DocumentsTx]: ...
    @overload
    def transaction(self, cls: None = None) -> contextlib.AbstractContextManager[Tx]: ...
    @overload
    def transaction(
        self, cls: type[Record]
    ) -> contextlib.AbstractContextManager[Tx] | contextlib.AbstractContextManager[DocumentsTx]: ...
    def transaction(
        self, cls: type[Record] | None = None
    ) -> contextlib.AbstractContextManager[Tx] | contextlib.AbstractContextManager[DocumentsTx]:
        if self._is_documents(cls):
            return self.documents.transaction()
        return self._config_transaction()

    @contextlib.contextmanager
    def _config_transaction(self) -> Iterator[Tx]:
        with self.config_db.transaction() as db:
            yield Tx(db)

    # Conveniences for a single operation.
    def all(self, cls: type[R]) -> list[R]:
        with self.view(cls) as tx:
            return tx.all(cls)

    def find(self, cls: type[R], key: str) -> R | None:
        with self.view(cls) as tx:
            return tx.find(cls, key)

    def get(self, cls: type[R], key: str) -> R:
        with self.view(cls) as tx:
            return tx.get(cls, key)

    def put(self, record: Record) -> None:
        with self.transaction(type(record)) as tx:
            tx.put(record)

    def put_many(self, records: Iterable[Record]) -> int:
        from store.records import Document

        records = list(records)
        docs = [r for r in records if isinstance(r, Document)]
        config = [r for r in records if not isinstance(r, Document)]
        n = 0
        if config:
            with self.transaction() as tx:
                n += tx.put_many(config)
        if docs:
            with self.transaction(Document) as tx:
                n += tx.put_many(docs)
        return n

    def delete(self, cls: type[Record], key: str) -> bool:
        with self.transaction(cls) as tx:
            return tx.delete(cls, key)

    def system(self) -> SystemSettings:
        with self.view() as tx:
            return tx.system()

    def config_stamp(self) -> tuple[int, int, int] | None:
        """Which version of the configuration file is on disk: every write replaces the
        file (a new inode, its own time and size), so an equal stamp means nothing was
        written since. None: it cannot be read (then a reader re-reads every time)."""
        try:
            st = os.stat(self.config_db.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)
