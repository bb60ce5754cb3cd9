"""Text of a letterhead that lies outside its page: it would be cut at the edge.

poppler (``pdftoppm``) draws the letterhead's text alone on a canvas larger than the
page (the page box grown by a margin on every side); ink in that margin is text
outside the page box. Paths, images and shadings are left out first, so a colour
band drawn to the edge or a bleeding picture is no reason to refuse: only text is,
because there a reader loses letters ("oltkamp", "info@holtkamp.exampl").
Runs inside the letterhead check's bounded child process.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path
from typing import Any

MARGIN = 72.0  # points drawn around the page
DPI = 72
TOLERANCE = 1.5  # points: anti-aliasing at the very edge is not text outside
_PAINT = {b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}


def _text_only(
    ops: list[tuple[Any, bytes]], xobjects: Any, seen: set[int], writer: Any
) -> list[tuple[Any, bytes]]:
    """The operations with every path painted as nothing and images, shadings left out;
    forms are made text-only too (each once)."""
    out: list[tuple[Any, bytes]] = []
    for operands, op in ops:
        if op in _PAINT:
            out.append(([], b"n"))
        elif op in (b"sh", b"INLINE IMAGE"):
            continue
        elif op == b"Do" and xobjects is not None:
            target = xobjects.get(operands[0]) if operands else None
            target = target.get_object() if target is not None else None
            if target is None or target.get("/Subtype") != "/Form":
                continue
            _strip_form(target, seen, writer)
            out.append((operands, op))
        else:
            out.append((operands, op))
    return out


def _strip_form(form: Any, seen: set[int], writer: Any) -> None:
    from pypdf.generic import ContentStream

    if id(form) in seen:
        return
    seen.add(id(form))
    resources = form.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    xobjects = xobjects.get_object() if xobjects is not None else None
    stream = ContentStream(form, writer)
    stream.operations = _text_only(stream.operations, xobjects, seen, writer)
    form.set_data(stream.get_data())


def text_outside(data: bytes) -> list[str]:
    """One sentence per page with text beyond its page box (which edges, how far)."""
    from PIL import Image
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ContentStream, RectangleObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    boxes: list[tuple[float, float]] = []
    seen: set[int] = set()
    for page in writer.pages:
        box = page.mediabox
        x0, y0, width, height = (
            float(box.left),
            float(box.bottom),
            float(box.width),
            float(box.height),
        )
        boxes.append((width, height))
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        contents = page.get_contents()
        if contents is not None:
            stream = ContentStream(contents, writer)
            stream.operations = _text_only(stream.operations, xobjects, seen, writer)
            page.replace_contents(stream)
        grown = RectangleObject(
            (x0 - MARGIN, y0 - MARGIN, x0 + width + MARGIN, y0 + height + MARGIN)
        )
        page.mediabox = grown
        page.cropbox = grown
        for name in ("/TrimBox", "/BleedBox", "/ArtBox"):
            if name in page:
                del page[name]
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "text.pdf"
        with path.open("wb") as fh:
            writer.write(fh)
        subprocess.run(
            ["pdftoppm", "-gray", "-r", str(DPI), str(path), str(Path(tmp) / "p")],
            check=True,
            capture_output=True,
            timeout=20,
        )
        for n, (width, height) in enumerate(boxes, start=1):
            found = sorted(Path(tmp).glob("p-*.pgm"))
            if len(found) < n:
                break
            img = Image.open(found[n - 1])
            sides = _ink_outside(img, width, height)
            if sides:
                where = ", ".join(f"{mm:.1f} mm beyond the {side} edge" for side, mm in sides)
                problems.append(
                    f"Page {n} of the letterhead has text outside its page ({where}); "
                    "it would be cut off on every document."
                )
    return problems


def _ink_outside(img: Any, width: float, height: float) -> list[tuple[str, float]]:
    """(edge, how far in mm) for each edge that text crosses."""
    k = DPI / 72
    ink = img.point(lambda p: 255 if p < 128 else 0)  # text as white on black
    left, top = round((MARGIN - TOLERANCE) * k), round((MARGIN - TOLERANCE) * k)
    right = round((MARGIN + width + TOLERANCE) * k)
    bottom = round((MARGIN + height + TOLERANCE) * k)
    edge = {"left": MARGIN * k, "top": MARGIN * k}
    edge["right"], edge["bottom"] = (MARGIN + width) * k, (MARGIN + height) * k
    out: list[tuple[str, float]] = []
    bands = {
        "left": (0, 0, left, img.height),
        "right": (right, 0, img.width, img.height),
        "top": (0, 0, img.width, top),
        "bottom": (0, bottom, img.width, img.height),
    }
    for side, band in bands.items():
        found = ink.crop(band).getbbox()
        if found is None:
            continue
        if side == "left":
            far = edge["left"] - found[0]
        elif side == "right":
            far = band[0] + found[2] - edge["right"]
        elif side == "top":
            far = edge["top"] - found[1]
        else:
            far = band[1] + found[3] - edge["bottom"]
        out.append((side, far / k * 25.4 / 72))
    return out
