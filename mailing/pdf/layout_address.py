"""The address in the envelope window, and text that must fit its place: never cut silently.

The window (NEN 1026, 90 × 45 mm) takes every line of the relation's name and address,
each wrapped at spaces to the window's width. When the wrapped lines are too many
for the window, the size goes down in half points to a floor (8 pt, what post offices
still read by machine); when even that is too many, the document is refused at build
with a sentence naming the relation and the field that takes most lines.

Elsewhere a text that does not fit its one line (the reference, the description,
the return address) ends in an ellipsis, and the document's build report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from mailing.errors import DocumentError
from mailing.pdf.layout_geometry import (
    MM,
    PAGE_H,
    WINDOW_HEIGHT,
    WINDOW_LEFT,
    WINDOW_TOP,
    WINDOW_WIDTH,
)
from mailing.pdf.layout_table import _fit
from store.records import Administration, Relation

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

ADDRESS_SIZES = (10.0, 9.5, 9.0, 8.5, 8.0)  # the last is the floor
FIRST_LINE = 12 * MM  # the first baseline below the window's top (the return address above)
BOTTOM_CLEAR = 2 * MM  # descenders stay inside the window
TEXT_WIDTH = WINDOW_WIDTH - 6 * MM  # 3 mm inside the window on either side
ELLIPSIS = "…"
# The data block's fields in the words of a warning about a text cut to fit.
FIELD_WORDS = {
    "number": "document number",
    "customer": "relation's code",
    "supplier": "relation's code",
}


@dataclass(frozen=True)
class AddressBlock:
    size: float
    leading: float
    lines: list[str]


def leading(size: float) -> float:
    return size * 1.25  # 4.4 mm at 10 pt, as before


def lines_that_fit(size: float) -> int:
    room = WINDOW_HEIGHT - FIRST_LINE - BOTTOM_CLEAR
    return 1 + int(room / leading(size))


@lru_cache(maxsize=64)
def country_name(country: str, language: str) -> str:
    """The country in words in ``language`` ('POLEN' for PL in Dutch), in capitals as
    post offices ask; the code itself when Babel does not know it."""
    from babel import Locale, UnknownLocaleError

    code = country.upper()
    try:
        locale = Locale.parse((language or "en").lower().replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse("en")
    name = locale.territories.get(code) or Locale.parse("en").territories.get(code) or code
    return name.upper()


def address_fields(
    relation: Relation, administration: Administration, language: str
) -> list[tuple[str, str]]:
    """(field in words, text) of what the window shows: the country only when it is not
    the administration's own."""
    fields = [("name", relation.name)]
    fields += [(f"address line {n}", line) for n, line in enumerate(relation.address, start=1)]
    own = (administration.country or "NL").upper()
    if relation.country and relation.country.upper() != own:
        fields.append(("country", country_name(relation.country, language)))
    return fields


def address_block(
    relation: Relation, administration: Administration, language: str, font: str, title: str
) -> AddressBlock:
    """Every line wrapped to the window, at the largest size at which all of them fit."""
    fields = [(f, t) for f, t in address_fields(relation, administration, language) if t]
    for size in ADDRESS_SIZES:
        wrapped = [(field, _fit(text, TEXT_WIDTH, font, size)) for field, text in fields]
        lines = [line for _, parts in wrapped for line in parts]
        if len(lines) <= lines_that_fit(size):
            return AddressBlock(size, leading(size), lines)
    floor = ADDRESS_SIZES[-1]
    field, parts = max(wrapped, key=lambda fp: len(fp[1]))
    text = dict(fields)[field]
    raise DocumentError(
        f"{title} cannot be drawn: the address of relation {relation.code} "
        f"({relation.name!r}) needs {len(lines)} lines in the envelope window even at "
        f"{floor:g} pt, where {lines_that_fit(floor)} fit; its {field} alone takes "
        f"{len(parts)}.",
        field=f"the relation's {field}",
        value=text,
        fix=f"shorten the relation's {field} (Relations, F5, {relation.code}; e.g. with an "
        "abbreviation, or the rest on another address line), then build the document again.",
    )


def draw_address(c: Canvas, sender: str, block: AddressBlock, font: str) -> None:
    """The return address (6.5 pt) and the address lines in the window."""
    from mailing.pdf.fonts import draw

    top = PAGE_H - WINDOW_TOP
    x = WINDOW_LEFT + 3 * MM
    draw(c, x, top - 5 * MM, sender, font, 6.5)
    y = top - FIRST_LINE
    for line in block.lines:
        draw(c, x, y, line, font, block.size)
        y -= block.leading


def clip(text: str, width: float, font: str, size: float, field: str, warnings: list[str]) -> str:
    """``text`` as one line of ``width`` points: whole, or cut with an ellipsis and a
    warning naming the field (the page cannot hold the rest there)."""
    from mailing.pdf.fonts import width as measure

    if not text or measure(text, font, size) <= width:
        return text
    words = text.split(" ")
    # whole words first; one word longer than the line is cut inside it
    while len(words) > 1 and measure(" ".join(words) + ELLIPSIS, font, size) > width:
        words.pop()
    shown = " ".join(words)
    while len(shown) > 1 and measure(shown + ELLIPSIS, font, size) > width:
        shown = shown[:-1]
    shown = shown.rstrip() + ELLIPSIS
    warnings.append(f"{field} ({text!r}) was cut to fit its place on the page: {shown!r}")
    return shown
