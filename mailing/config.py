"""A snapshot of the whole configuration, indexed for fast lookups.

Loaded once per batch or per command: resolving 10,000 documents must not
re-read the database per document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store.records import (
    Administration,
    Document,
    LanguageCode,
    Profile,
    Relation,
    SystemSettings,
    Template,
    User,
)
from store.store import Store


@dataclass
class ConfigSnapshot:
    system: SystemSettings = field(default_factory=SystemSettings)
    administrations: dict[str, Administration] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    # keyed by (administration, code)
    language_codes: dict[tuple[str, str], LanguageCode] = field(default_factory=dict)
    # keyed by (administration, relation code)
    relations: dict[tuple[str, str], Relation] = field(default_factory=dict)

    @classmethod
    def load(cls, store: Store) -> ConfigSnapshot:
        with store.view() as tx:
            return cls(
                system=tx.system(),
                administrations={a.code: a for a in tx.all(Administration)},
                profiles={p.code: p for p in tx.all(Profile)},
                users={u.name: u for u in tx.all(User)},
                templates={t.code: t for t in tx.all(Template)},
                language_codes={(lc.administration, lc.code): lc for lc in tx.all(LanguageCode)},
                relations={(r.administration, r.code): r for r in tx.all(Relation)},
            )

    def relation_of(self, doc: Document) -> Relation | None:
        return self.relations.get((doc.administration, doc.relation))

    def language_of(self, relation: Relation) -> LanguageCode | None:
        return self.language_codes.get((relation.administration, relation.language))


def load_documents(store: Store) -> list[Document]:
    with store.view(Document) as tx:
        return tx.all(Document)
