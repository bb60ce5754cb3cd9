"""The built-in demo installation: realistic, deterministic, and covering every rule.

Two administrations, NL/EN/DE language codes with templates for every document
type, a letterhead, outbox profiles that deliver into ``<home>/outbox/`` (no mail
server needed), personal settings for the user ``demo``, forty relations that
between them exercise every sender level (SPEC §5) and recipient rule (SPEC §6),
and a month of documents. Loading is idempotent: running it twice gives the
same data.

Which level and rule each part exercises:

- sender ``template``: reminder templates of HOLT carry the profile DEBITEUREN;
- sender ``administration``: administration HOLT has profile HOLT;
- sender ``personal``: administration KORN has no profile; user ``demo`` has the
  personal profile PERSONAL-DEMO (run with ``--user demo``);
- sender ``system``: the same KORN documents for any other user (SYSTEM);
- recipient rules: see the ``# rule:`` comments in ``relations``.

One idea a module:

* ``organisation`` - the administrations, languages, outbox profiles and the demo user;
* ``letterhead`` - :func:`letterhead_pdf`, the letterhead of each administration;
* ``templates`` - :func:`demo_templates`, the mail templates in three languages;
* ``relations`` - the forty relations, with the rule each one exercises;
* ``documents`` - a month of documents;
* this module: :func:`demo_records` and :func:`load_demo`, which put it all together.
"""

from __future__ import annotations

import random

from mailing.demo.documents import MONTH_START, _documents
from mailing.demo.letterhead import letterhead_pdf
from mailing.demo.organisation import ADMINISTRATIONS, DEMO_USER, LANGUAGES, _profiles
from mailing.demo.relations import _relations
from store.records import (
    DOC_TYPES,
    Document,
    LanguageCode,
    Record,
    StoredFileRef,
    SystemSettings,
    User,
)
from store.store import Store

__all__ = [
    "ADMINISTRATIONS",
    "DEMO_USER",
    "LANGUAGES",
    "MONTH_START",
    "demo_records",
    "letterhead_pdf",
    "load_demo",
]


def demo_records(store: Store) -> tuple[list[Record], list[Document]]:
    """Build every demo record (stores the letterhead files as a side effect)."""
    from mailing.demo.templates import demo_templates

    config: list[Record] = [SystemSettings(profile="SYSTEM"), *_profiles()]
    config.append(
        User(
            name=DEMO_USER,
            full_name="Dana Demo",
            profile="PERSONAL-DEMO",
            signature="Met vriendelijke groet,\nDana Demo\nFinanciële administratie",
        )
    )
    documents: list[Document] = []
    rng = random.Random(2026)
    for admin in ADMINISTRATIONS:
        config.append(admin)
        templates = demo_templates(admin.code)
        for t in templates:
            if admin.code == "HOLT" and t.object == "reminder":
                t.profile = "DEBITEUREN"  # sender level: template
        config.extend(templates)
        first: StoredFileRef = store.files.add_bytes(
            f"letterhead-{admin.code.lower()}-first.pdf", letterhead_pdf(admin)
        )
        second: StoredFileRef = store.files.add_bytes(
            f"letterhead-{admin.code.lower()}-second.pdf", letterhead_pdf(admin, follow_on=True)
        )
        codes = {t.code for t in templates}
        langs = set()
        for lang, desc, locale in LANGUAGES:
            mapping = {}
            for t in templates:
                if t.code.startswith(f"{admin.code}-{lang}-") and t.object in DOC_TYPES:
                    mapping[t.object] = t.code
            if not mapping:
                continue
            assert all(code in codes for code in mapping.values())
            langs.add(lang)
            config.append(
                LanguageCode(
                    administration=admin.code,
                    code=lang,
                    description=desc,
                    locale=locale,
                    templates=mapping,
                    first_background=first,
                    second_background=second,
                )
            )
        rels = _relations(admin.code, langs)
        config.extend(rels)
        documents.extend(_documents(admin, rels, rng))
    return config, documents


def load_demo(store: Store) -> tuple[int, int]:
    """Load the demo installation (idempotent); returns (config records, documents)."""
    config, documents = demo_records(store)
    with store.transaction() as tx:
        n_config = tx.put_many(config)
    with store.transaction(Document) as tx:
        n_docs = tx.put_many(documents)
    from mailing.identity import mark_demo

    mark_demo(store.home)  # a demo folder: `--user NAME` may name anyone here
    return n_config, n_docs
