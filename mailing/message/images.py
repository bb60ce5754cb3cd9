"""Embedding images: ``cid:``/``file:`` references in the HTML become Content-IDs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from mailing.errors import TemplateError
from mailing.message.parts import InlineImage

_IMG_SRC = re.compile(r"""(\bsrc\s*=\s*)(["']?)(cid|file):([^"'\s>]+)\2""", re.IGNORECASE)


def _content_id(image: InlineImage, domain: str) -> str:
    if image.cid:
        return image.cid.strip("<>")
    digest = hashlib.sha256(image.content).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9.\-]", "-", image.filename)[:40] or "image"
    return f"{safe}.{digest}@{domain}"


def _embed_images(
    html: str, images: Sequence[InlineImage], domain: str
) -> tuple[str, list[tuple[InlineImage, str]]]:
    """Rewrite ``cid:``/``file:`` references to Content-IDs; return the images used."""
    if "rc" not in html.lower():
        # Every reference has "src"; its "r" and "c" match only r, R, c and C, even
        # ignoring case, so without them there is nothing to rewrite (and the search,
        # ignoring case, takes as long as the rest of the checks of a message).
        return html, []
    by_name: dict[str, InlineImage] = {}
    for img in images:
        by_name[img.filename] = img
        if img.cid:
            by_name[img.cid.strip("<>")] = img
    used: dict[str, tuple[InlineImage, str]] = {}

    def repl(m: re.Match[str]) -> str:
        ref = m.group(4)
        img = by_name.get(ref)
        if img is None:
            if m.group(3).lower() == "cid" and any(ref == c for _, c in used.values()):
                return m.group(0)
            known = ", ".join(sorted(i.filename for i in images)) or "none"
            raise TemplateError(
                f"The message refers to the image {ref!r}, which is not among the template's "
                f"images (known: {known}).",
                field="images",
                value=ref,
                fix="add the image to the template, or correct the name in the HTML source.",
            )
        key = img.filename
        if key not in used:
            used[key] = (img, _content_id(img, domain))
        return f"{m.group(1)}{m.group(2)}cid:{used[key][1]}{m.group(2)}"

    return _IMG_SRC.sub(repl, html), list(used.values())
