"""HTML to readable plain text: the text alternative of every HTML message.

Paragraphs and line breaks become blank lines and new lines, list items get a
bullet, table rows become ``cell | cell`` lines, links become ``text (url)``.
A fast tokenizer handles the HTML our templates produce; anything unusual falls
back to :mod:`html.parser`, and both give the same text (tests/unit/test_render_fast.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")


class _TextMaker(HTMLParser):
    _BLOCK = frozenset(
        {
            "p",
            "div",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "table",
            "ul",
            "ol",
            "blockquote",
            "section",
            "article",
            "header",
            "footer",
            "address",
            "pre",
            "hr",
            "dl",
            "form",
        }
    )
    _SKIP = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0
        self.lists: list[list[Any]] = []  # [kind, counter]
        self.links: list[tuple[str, int]] = []  # (href, position in out)
        self.cells = 0

    def _trailing_newlines(self) -> int | None:
        """Newlines at the end of the output so far; None when nothing was written yet."""
        count = 0
        for piece in reversed(self.out):
            stripped = piece.rstrip("\n")
            count += len(piece) - len(stripped)
            if stripped.strip():
                return count
            if stripped:  # only spaces: keep looking, they are trimmed per line later
                continue
        return None

    def _newlines(self, n: int) -> None:
        have = self._trailing_newlines()
        if have is not None and have < n:
            self.out.append("\n" * (n - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            self._newlines(1 if self.lists else 2)
            self.lists.append([tag, 0])
        elif tag == "li":
            self._newlines(1)
            indent = "  " * max(len(self.lists) - 1, 0)
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                self.out.append(f"{indent}{self.lists[-1][1]}. ")
            else:
                self.out.append(f"{indent}- ")
        elif tag == "tr":
            self._newlines(1)
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.out.append(" | ")
            self.cells += 1
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.out.append(f"[{alt}]")
        elif tag in self._BLOCK:
            self._newlines(2)
            if tag == "pre":
                self.pre += 1
            if tag == "hr":
                self.out.append("-" * 40)
                self._newlines(2)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip = max(self.skip - 1, 0)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newlines(1 if self.lists else 2)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            target = href[7:] if href.lower().startswith("mailto:") else href
            if target and target != label and not href.startswith(("#", "cid:", "file:")):
                self.out.append(f" ({target})" if label else target)
        elif tag == "tr":
            self._newlines(1)
        elif tag in self._BLOCK:
            if tag == "pre":
                self.pre = max(self.pre - 1, 0)
            self._newlines(2)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            if "  " in data or not data.isprintable():  # else it has single spaces only
                data = _WHITESPACE.sub(" ", data)
            # what the output so far ends with (the last three pieces, as html.parser's
            # callers may have appended empty ones)
            text = self.out[-1] if self.out else ""
            if not text:
                text = "".join(self.out[-3:])
            if not text or text.endswith(("\n", " ")):
                data = data.lstrip(" ")
        self.out.append(data)

    def text(self) -> str:
        raw = "".join(self.out)
        lines = [ln.rstrip() for ln in raw.split("\n")]
        out = "\n".join(lines)
        out = re.sub(r"\n{3,}", "\n\n", out)
        return out.strip("\n") + "\n"


def html_to_text(html: str) -> str:
    """A readable plain-text version of ``html``: paragraphs, line breaks, lists,
    tables as rows (cells joined by ``|``), links as ``text (url)``."""
    maker = _TextMaker()
    events = _tokenize(html)
    if events is None:  # anything unusual: the standard library's parser
        maker.feed(html)
        maker.close()
        return maker.text()
    for kind, a, b in events:
        if kind == 0:
            maker.handle_data(a)
        elif kind == 1:
            maker.handle_starttag(a, b)
        else:
            maker.handle_endtag(a)
    return maker.text()


# A tokenizer for well-formed HTML, giving ``_TextMaker`` exactly the calls that
# ``HTMLParser(convert_charrefs=True)`` gives it (measured: 4x faster, which counts in a
# batch of 10,000). Anything it does not recognise makes it give up (None), and
# html.parser does the work: ``tests/unit/test_render_fast.py`` compares the two.
#
# One compiled expression finds the next token where the last one ended; the first
# alternative that matches decides, in the order html.parser looks at a "<". A start
# tag's name and attributes are parsed once per distinct tag text and kept (the tags
# of a template are the same in every message of a batch).
_ATTRS = r"((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)"
_TOKEN = re.compile(
    r"([^<]+)"  # 1: text up to the next "<"
    rf"|<([a-zA-Z][a-zA-Z0-9]*){_ATTRS}\s*(/?)>"  # 2, 3, 4: a start tag
    r"|</([a-zA-Z][a-zA-Z0-9]*)\s*>"  # 5: an end tag
    r"|(<!--)"  # 6: a comment (its end is looked for below)
    r"|<[!?][^<>]*>"  # a declaration or processing instruction: skipped
    r"|(<[a-zA-Z/!?])"  # 7: none of those although it looks like one: give up
    r"|<"  # a "<" that starts no tag is text of its own, as html.parser hands it over
)
_ATTR = re.compile(r"\s+([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?")
_RAW_END = {
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
}
_Event = tuple[int, str, Any]  # (0 data | 1 start | 2 end, text or tag, attributes)
_Attrs = list[tuple[str, str | None]]
# (name, attribute text) as matched -> (name in lower case, attributes): a function of
# its key, so what is kept is what would be parsed again
_TAGS: dict[tuple[str, str], tuple[str, _Attrs]] = {}


def _start_tag(name: str, attr_text: str) -> tuple[str, _Attrs]:
    key = (name, attr_text)
    known = _TAGS.get(key)
    if known is None:
        from html import unescape

        attrs: _Attrs = []
        for a in _ATTR.finditer(attr_text):
            value = a.group(2)
            if value is not None:
                if value[:1] in ("'", '"'):
                    value = value[1:-1]
                if value:
                    value = unescape(value)
            attrs.append((a.group(1).lower(), value))
        if len(_TAGS) >= 4096:  # a bound, whatever the templates hold
            _TAGS.clear()
        known = _TAGS[key] = (name.lower(), attrs)
    return known


def _tokenize(html: str) -> list[_Event] | None:
    from html import unescape

    events: list[_Event] = []
    match = _TOKEN.match
    i, n = 0, len(html)
    while i < n:
        t = match(html, i)
        assert t is not None  # the last alternative matches any "<"
        kind = t.lastindex  # which alternative matched (None: one without a group)
        if kind == 1:
            data = t.group(1)
            events.append((0, unescape(data) if "&" in data else data, None))
        elif kind == 4:
            name, attr_text, close_slash = t.group(2, 3, 4)
            tag, attrs = _start_tag(name, attr_text)
            events.append((1, tag, list(attrs)))
            if close_slash:
                events.append((2, tag, None))
            elif tag in _RAW_END:
                close = _RAW_END[tag].search(html, t.end())
                if close is None:
                    return None
                if t.end() < close.start():
                    events.append((0, html[t.end() : close.start()], None))
                events.append((2, tag, None))
                i = close.end()
                continue
        elif kind == 5:
            events.append((2, t.group(5).lower(), None))
        elif kind == 6:
            end = html.find("-->", i + 4)
            if end < 0 or "--" in html[i + 4 : end] or html[end - 1 : end] == "<":
                return None  # parsers differ on these
            i = end + 3
            continue
        elif kind == 7:
            return None
        elif t.end() - i == 1:
            events.append((0, "<", None))
        i = t.end()
    return events
