"""One snapshot of the whole configuration: typed, immutable, indexed for fast lookups.

Loaded once per batch or per command: resolving 10,000 documents must not re-read
the database per document. The change doors (``mailing.changes``) check a change
by building the snapshot after it with :meth:`ConfigSnapshot.changed`; the
relations screen resolves a relation as typed with :meth:`ConfigSnapshot.around`.
Nothing changes a snapshot in place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from store.records import (
    Administration,
    Document,
    LanguageCode,
    Profile,
    Record,
    Relation,
    SystemSettings,
    Template,
    User,
)
from store.store import Store, Tx

# The tables a snapshot holds, beside the one system settings record.
TABLES = ("administrations", "profiles", "users", "templates", "language_codes", "relations")

# Language codes and relations are keyed by (administration, code); the rest by key.
TableKey = str | tuple[str, str]


@dataclass(frozen=True)
class ConfigSnapshot:
    """The configuration records, each table read-only; ``positions`` says where a
    record came from (its place in an imported file), for messages."""

    system: SystemSettings = field(default_factory=SystemSettings)
    administrations: Mapping[str, Administration] = field(default_factory=dict)
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    users: Mapping[str, User] = field(default_factory=dict)
    templates: Mapping[str, Template] = field(default_factory=dict)
    # keyed by (administration, code)
    language_codes: Mapping[tuple[str, str], LanguageCode] = field(default_factory=dict)
    # keyed by (administration, relation code)
    relations: Mapping[tuple[str, str], Relation] = field(default_factory=dict)
    # (table, record key) -> where it came from, e.g. "relations[3]"
    positions: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, store: Store) -> ConfigSnapshot:
        with store.view() as tx:
            return cls.read(tx)

    @classmethod
    def read(cls, tx: Tx, *, relations: bool = True) -> ConfigSnapshot:
        """The configuration as ``tx`` sees it (without relations when ``relations`` is off)."""
        return cls(
            system=tx.system(),
            administrations={a.code: a for a in tx.all(Administration)},
            profiles={p.code: p for p in tx.all(Profile)},
            users={u.name: u for u in tx.all(User)},
            templates={t.code: t for t in tx.all(Template)},
            language_codes={(lc.administration, lc.code): lc for lc in tx.all(LanguageCode)},
            relations={(r.administration, r.code): r for r in tx.all(Relation)}
            if relations
            else {},
        )

    @classmethod
    def around(cls, store: Store, relation: Relation) -> ConfigSnapshot:
        """The configuration with ``relation`` as given and only the relations it needs
        (its invoice debtor), not all 10,000."""
        with store.view() as tx:
            cfg = cls.read(tx, relations=False)
            debtor = None
            if relation.invoice_debtor:
                debtor = tx.find(Relation, f"{relation.administration}/{relation.invoice_debtor}")
        return cfg.changed(put=[r for r in (debtor, relation) if r is not None])

    @classmethod
    def of(
        cls, records: Iterable[Record], positions: Mapping[int, str] | None = None
    ) -> ConfigSnapshot:
        """A snapshot of ``records``; ``positions`` gives the place of the i-th record."""
        recs = list(records)
        where = {
            (rec.table, rec.key): positions[i]
            for i, rec in enumerate(recs)
            if positions and positions.get(i)
        }
        return cls().changed(put=recs, positions=where)

    def changed(
        self,
        put: Iterable[Record] = (),
        delete: Iterable[tuple[type[Record], str]] = (),
        positions: Mapping[tuple[str, str], str] | None = None,
    ) -> ConfigSnapshot:
        """A new snapshot: this one with ``delete`` (class, key) gone, then ``put`` in."""
        tables: dict[str, dict[Any, Any]] = {name: dict(getattr(self, name)) for name in TABLES}
        system = self.system
        for rec_cls, key in delete:
            if rec_cls.table in tables:
                tables[rec_cls.table].pop(table_key(rec_cls, key), None)
        for rec in put:
            if isinstance(rec, SystemSettings):
                system = rec
            else:
                tables[rec.table][table_key(type(rec), rec.key)] = rec
        where = {**self.positions, **(positions or {})}
        return dataclasses.replace(self, system=system, positions=where, **tables)

    def find(self, rec_cls: type[Record], key: str) -> Record | None:
        """The record of ``rec_cls`` with ``key`` (``Record.key``), or None."""
        if rec_cls is SystemSettings:
            return self.system
        table: Mapping[TableKey, Record] = getattr(self, rec_cls.table, {})
        return table.get(table_key(rec_cls, key))

    def records(self) -> list[Record]:
        out: list[Record] = [self.system]
        for name in TABLES:
            out += list(getattr(self, name).values())
        return out

    def position(self, rec: Record) -> str | None:
        """Where ``rec`` came from, when known."""
        return self.positions.get((rec.table, rec.key))

    def relation_of(self, doc: Document) -> Relation | None:
        return self.relations.get((doc.administration, doc.relation))

    def language_of(self, relation: Relation) -> LanguageCode | None:
        return self.language_codes.get((relation.administration, relation.language))


def table_key(rec_cls: type[Record], key: str) -> TableKey:
    """A record's key in its snapshot table: (administration, code) for language codes
    and relations (whose ``Record.key`` is ``"ADMIN/CODE"``), else the key itself."""
    if rec_cls is LanguageCode or rec_cls is Relation:
        admin, _, code = key.partition("/")
        return (admin, code)
    return key


def load_documents(store: Store) -> list[Document]:
    with store.view(Document) as tx:
        return tx.all(Document)
