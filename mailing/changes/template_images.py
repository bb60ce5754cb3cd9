"""The door for a template's images (SPEC §2): the HTML shows each as ``<img src="cid:NAME">``.

``copy_in_image`` copies a file in and checks it is an image that can travel in every
message, under a name the HTML can refer to and no other image of the template has;
the Templates pane (ctrl+o) uses it and saves with the form. ``add_template_image``
and ``remove_template_image`` change a stored template at once (the command line).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from mailing.errors import TemplateError

if TYPE_CHECKING:
    from store.records import StoredFileRef, Template
    from store.store import Store

MAX_IMAGE_BYTES = 2_000_000  # every message carries it: 2 MB (decimal, as everywhere)

# The first bytes of each image type a mail client shows inline.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
KINDS = "PNG, JPEG, GIF or WebP"

# An image the HTML shows: src="cid:NAME" or src="file:NAME" (as the message builder reads it).
_IMG_REF = re.compile(r"""\bsrc\s*=\s*["']?(?:cid|file):([^"'\s>]+)""", re.IGNORECASE)

# What ``src="cid:NAME"`` can hold (no spaces, quotes or ``>``), as a plain file name.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")


def image_type(data: bytes) -> str | None:
    """The image's content type from its first bytes; None when it is no image we embed."""
    for magic, ctype in _MAGIC:
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image_name(name: str, taken: Collection[str]) -> None:
    if not _NAME.fullmatch(name):
        raise TemplateError(
            f"The image name {name!r} cannot be written in the HTML as cid:{name}.",
            field="name",
            value=name,
            fix="use letters, digits, '.', '-', '_' or '+', no spaces, e.g. logo.png.",
        )
    if name in taken:
        raise TemplateError(
            f"The template already has an image named {name!r}.",
            field="name",
            value=name,
            fix="give this one another name (--name on the command line), "
            "or remove the other first.",
        )


def copy_in_image(
    store: Store, path: str | Path, taken: Collection[str] = (), name: str | None = None
) -> StoredFileRef:
    """Copy an image into the data folder as ``name`` (default: the file's name); refuse
    a file that is no PNG/JPEG/GIF/WebP, is over 2 MB, or whose name is taken."""
    from mailing.changes.files import copy_in_file, read_stored_file

    shown = str(path)
    check_image_name(name or Path(shown).name, taken)

    def too_large(size: int) -> None:
        if size > MAX_IMAGE_BYTES:
            raise TemplateError(
                f"The image {shown!r} is {size / 1_000_000:,.1f} MB; an image travels in "
                f"every message, at most {MAX_IMAGE_BYTES // 1_000_000} MB.",
                field="image",
                value=shown,
                fix="make it smaller (fewer pixels, or more compression).",
            )

    try:  # a regular file too large is refused before it is copied in
        size = Path(path).expanduser().stat().st_size if Path(path).expanduser().is_file() else 0
    except OSError:
        size = 0  # copy_in_file says why it cannot be read
    too_large(size)
    ref = copy_in_file(store, path, "image")
    too_large(ref.size)  # it may have grown meanwhile
    ctype = image_type(read_stored_file(store, ref)[:16])
    if ctype is None:
        raise TemplateError(
            f"The file {shown!r} is not an image a mail client shows ({KINDS}).",
            field="image",
            value=shown,
            fix=f"save the picture as {KINDS} and add that file.",
        )
    return ref.model_copy(update={"name": name or ref.name, "content_type": ctype})


def _template(store: Store, code: str) -> Template:
    from store.records import Template

    found = store.find(Template, code)
    if found is None:
        import difflib

        codes = sorted(t.code for t in store.all(Template))
        near = difflib.get_close_matches(code, codes, n=3, cutoff=0.5)
        shown = near or codes[:3]
        more = "" if len(shown) == len(codes) else "; `mailroom config export` lists them all"
        raise TemplateError(
            f"There is no template {code!r}.",
            field="template",
            value=code,
            fix=f"give one of: {', '.join(shown) or '(none yet)'}{more}.",
        )
    return found


def template_images(store: Store, code: str) -> list[StoredFileRef]:
    """The images of template ``code`` (refused when there is no such template)."""
    return list(_template(store, code).images)


def add_template_image(
    store: Store, code: str, path: str | Path, name: str | None = None
) -> StoredFileRef:
    """Add an image to the stored template ``code``; return it as stored."""
    from mailing.changes.config import save_record

    template = _template(store, code)
    ref = copy_in_image(store, path, [i.name for i in template.images], name)
    save_record(store, template.model_copy(update={"images": [*template.images, ref]}), code)
    return ref


def remove_template_image(store: Store, code: str, name: str) -> None:
    """Remove the image ``name`` from the stored template ``code``."""
    from mailing.changes.config import save_record

    template = _template(store, code)
    names = [i.name for i in template.images]
    if name not in names:
        raise TemplateError(
            f"Template {code} has no image named {name!r}.",
            field="name",
            value=name,
            fix=f"give one of: {', '.join(names) or '(it has none)'}.",
        )
    shown_in = [
        label
        for label, text in (("body", template.body), ("disclaimer", template.disclaimer))
        if name in _IMG_REF.findall(text)
    ]
    if shown_in:
        raise TemplateError(
            f"The {' and '.join(shown_in)} of template {code} still show {name} "
            f'(<img src="cid:{name}">): every message would fail without it.',
            field="name",
            value=name,
            fix=f"take that <img> out of the template first (F3, the {shown_in[0]}), "
            "then remove the image.",
        )
    kept = [i for i in template.images if i.name != name]
    save_record(store, template.model_copy(update={"images": kept}), code)
