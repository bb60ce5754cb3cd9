"""Which template a relation gets: its language code, and the template that code assigns to a type."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from mailing.errors import ConfigError
from store.records import DocType, LanguageCode, Relation, Template

if TYPE_CHECKING:
    from mailing.config import ConfigSnapshot


def language_for(cfg: ConfigSnapshot, relation: Relation) -> LanguageCode:
    """The relation's language code, or ConfigError naming the relation and the code."""
    lc = cfg.language_of(relation)
    if lc is None:
        known = sorted(code for (adm, code) in cfg.language_codes if adm == relation.administration)
        raise ConfigError(
            f"Relation {relation.code} ({relation.name}) has language code {relation.language!r}, "
            f"which administration {relation.administration} does not have.",
            field="language",
            value=relation.language,
            fix=(
                f"give the relation one of {', '.join(known)}, or add language code "
                f"{relation.language} to administration {relation.administration}."
                if known
                else f"add language code {relation.language} to administration "
                f"{relation.administration}."
            ),
        )
    return lc


def template_for(cfg: ConfigSnapshot, relation: Relation, doc_type: str) -> Template:
    """The template the relation's language code assigns to ``doc_type`` (SPEC §2).

    Raises ConfigError naming the language code and the document type when the code
    has no template for that type, when the template does not exist, or when it is
    for another object.
    """
    lc = language_for(cfg, relation)
    code = lc.templates.get(cast(DocType, doc_type))
    if not code:
        raise ConfigError(
            f"Language code {lc.code} of administration {lc.administration} has no template "
            f"for document type {doc_type}.",
            field=f"language code {lc.code} / {doc_type}",
            value=doc_type,
            fix=f"assign a {doc_type} template to language code {lc.code}.",
        )
    t = cfg.templates.get(code)
    if t is None:
        raise ConfigError(
            f"Language code {lc.code} of administration {lc.administration} assigns template "
            f"{code!r} to document type {doc_type}, but that template does not exist.",
            field=f"language code {lc.code} / {doc_type}",
            value=code,
            fix=f"create template {code}, or assign an existing {doc_type} template.",
        )
    if t.object != doc_type:
        raise ConfigError(
            f"Language code {lc.code} of administration {lc.administration} assigns template "
            f"{code!r} to document type {doc_type}, but that template is for {t.object}.",
            field=f"language code {lc.code} / {doc_type}",
            value=code,
            fix=f"assign a template whose object is {doc_type}.",
        )
    return t
