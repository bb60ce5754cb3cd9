"""A4 page geometry of the layouts: the envelope window, margins, table bounds, fonts."""

from __future__ import annotations

MM = 72 / 25.4
PAGE_W = 210 * MM
PAGE_H = 297 * MM

# The address window of a Dutch window envelope (NEN 1026), measured from the top left.
WINDOW_LEFT = 20 * MM
WINDOW_TOP = 45 * MM
WINDOW_WIDTH = 90 * MM
WINDOW_HEIGHT = 45 * MM

LEFT = 20 * MM
RIGHT = PAGE_W - 20 * MM
DATA_LEFT = 118 * MM  # the document data block, right of the window
FIRST_TABLE_TOP = PAGE_H - 108 * MM  # the line table on the first page
NEXT_TABLE_TOP = PAGE_H - 45 * MM  # on follow-on pages (below a letterhead's logo)
TABLE_BOTTOM = 32 * MM  # keep clear of a letterhead's footer
FOOTER_Y = 22 * MM  # page numbers
ROW_H = 4.6 * MM
FONT = "MailroomSans"  # DejaVu Sans, embedded (fonts.py)
FONT_BOLD = "MailroomSans-Bold"
SIZE = 9.0
