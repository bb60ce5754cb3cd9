"""Fingerprints of the configuration a message was built from.

A batch records, per message, the SHA-256 of the template record and the
letterhead files it used; the send engine compares them with the configuration
of the moment and refuses a message whose template or letterhead changed after
it was built (and so after it was approved).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from store.records import LanguageCode, Template


def template_fingerprint(template: Template | None) -> str | None:
    """SHA-256 of the template record as canonical JSON (None: no template)."""
    if template is None:
        return None
    data = json.dumps(template.dump(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def letterhead_fingerprint(language: LanguageCode | None) -> dict[str, Any]:
    """The letterhead files a language code carries, by SHA-256."""
    if language is None:
        return {"language": None, "first": None, "second": None}
    return {
        "language": language.id,
        "first": language.first_background.sha256 if language.first_background else None,
        "second": language.second_background.sha256 if language.second_background else None,
    }


def changed_since_build(
    recorded: dict[str, Any],
    templates: Mapping[str, Template],
    language_codes: Mapping[tuple[str, str], LanguageCode],
) -> str | None:
    """Why a message built with ``recorded`` fingerprints must not be sent now, or None."""
    tpl = recorded.get("template")
    if isinstance(tpl, dict) and tpl.get("code"):
        current = templates.get(tpl["code"])
        if current is None:
            return f"template {tpl['code']!r} was deleted after the message was built"
        if template_fingerprint(current) != tpl.get("sha256"):
            return f"template {tpl['code']!r} was changed after the message was built and approved"
    lh = recorded.get("letterhead")
    if isinstance(lh, dict) and lh.get("language"):
        admin, _, code = str(lh["language"]).partition("/")
        now = letterhead_fingerprint(language_codes.get((admin, code)))
        if now["language"] is None:
            return f"language code {lh['language']!r} was deleted after the message was built"
        for which in ("first", "second"):
            if now[which] != lh.get(which):
                return (
                    f"the {which} background (letterhead) of language code {lh['language']!r} "
                    "was changed after the message was built and approved"
                )
    return None
