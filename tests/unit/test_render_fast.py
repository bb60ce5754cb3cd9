"""html_to_text's fast tokenizer gives exactly what html.parser gives.

The batch makes a plain-text part from every message's HTML; the tokenizer that
does it quickly must never read HTML differently from the standard library's
parser, which it falls back on for anything it does not recognise.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailing.catalogue import sample_context
from mailing.demo.templates import demo_templates
from mailing.render import render_template
from mailing.render.html_text import _TextMaker, _tokenize, html_to_text


def _reference(html: str) -> str:
    maker = _TextMaker()
    maker.feed(html)
    maker.close()
    return maker.text()


CASES = [
    "<p>Beste klant,</p><p>Het bedrag van &euro;&nbsp;1.234,56 &amp; meer.</p>",
    '<P CLASS=x>Upper <B>case</B><BR/>tags <A HREF="https://pay.example/1?a=1&amp;b=2">Betaal</A></P>',
    "<ul><li>een</li><li>twee<ol><li>a</li><li>b</li></ol></li></ul><hr><p>na</p>",
    "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>",
    "<p>a < b and c<3 and <</p><p>x &lt; y &#169; &#x263a; &unknown; &amp</p>",
    "<p>rest<",
    '<a href="mailto:info@holtkamp.example">info@holtkamp.example</a> '
    '<a href="#top">top</a> <a href=https://x.example/y>x</a> <a>leeg</a>',
    "<html><head><title>T</title><style>p { color: red; } a<b>c</b></style>"
    "<script>if (a < b) { x = '</p>'; }</script></head><body><p>tekst</p></body></html>",
    "<!DOCTYPE html><!-- een -- opmerking --><!-- gewoon --><?xml x?><p>na</p><![CDATA[x]]>",
    '<img src="cid:logo.png" alt="Logo"><img alt=\'\'><img src=x.png alt=Kop>',
    "<pre>  regels\n    met   spaties\n</pre><p>  en   hier\n\n  ook </p>",
    "<p>onafgesloten <b>vet<p>nieuw<div>blok</span></div>",
    '<p data-x="a>b">attribuut met &gt;</p><p title="&quot;q&quot;">q</p>',
    "<p>tab\tform\x0cfeed\rcr</p>",
    "<br><br/><br /><p/>leeg",
    "<p>Pr&ijs</p><p>&#0; &#x110000; &#xD800;</p>",
    "<a href='x'>x</a><a href=\"\">leeg</a>",
    "<P>\n<SCRIPT>document.write('<p>')</SCRIPT>\n</P>",
    "<!DOCTYPE html>\n<!-- gewoon -->\n<html><body><p>na</p></body></html>\n",
    "plain text only & nothing else",
    "",
]


@pytest.mark.parametrize("html", CASES)
def test_same_text_as_html_parser(html: str) -> None:
    assert html_to_text(html) == _reference(html)


def test_the_demo_templates_go_the_fast_way_and_read_the_same() -> None:
    for t in demo_templates("HOLT"):
        r = render_template(t, sample_context(t.object), "nl_NL")
        if r.html is None:
            continue
        assert _tokenize(r.html) is not None, t.code
        assert r.text == _reference(r.html), t.code


# HTML made of the pieces the tokenizer must read as html.parser does: tags with and
# without attributes (quoted, unquoted, repeated, with character references), upper
# case, self-closing, end tags with spaces, text with references, white space of every
# kind, a lone "<", comments, declarations, script and style.
_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<P CLASS=x>",
        "</P >",
        "<br>",
        "<br/>",
        "<br />",
        "<div>",
        "</div>",
        "<ul>",
        "</ul>",
        "<ol>",
        "</ol>",
        "<li>",
        "</li>",
        "<table>",
        "</table>",
        "<tr>",
        "</tr>",
        "<td>",
        '<td style="padding:2px 0 2px 12px;text-align:right">',
        "</td>",
        "<th colspan='3'>",
        "</th>",
        '<a href="https://pay.example/?a=1&amp;b=2">',
        "<a href=mailto:x@y.example>",
        '<a href="#top" href="x">',
        "<a>",
        "</a>",
        '<img src="cid:logo.png" alt="Logo &amp; co">',
        "<img alt=''>",
        "<pre>",
        "</pre>",
        "<hr>",
        "<strong>",
        "</strong>",
        "<head>",
        "</head>",
        "<title>T</title>",
        "<style>p { color: red } a<b></style>",
        "<script>if (a < b) { x = '</p>'; }</script>",
        "<!-- opmerking -->",
        "<!DOCTYPE html>",
        "<?xml x?>",
        "<",
        " < ",
        "&amp;",
        "&euro;&nbsp;",
        "&#169;",
        "&lt;p&gt;",
        "&unknown;",
        " ",
        "  ",
        "\n",
        "\t",
        "\r\n",
        "\x0b\x0c",
        "\u00a0",
        "\u2028",
        "tekst",
        "Factuur B000123",
        "€ 1.234,56",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40))
def test_any_mix_of_pieces_reads_as_html_parser_reads_it(pieces: list[str]) -> None:
    html = "".join(pieces)
    assert html_to_text(html) == _reference(html)
    events = _tokenize(html)
    if events is not None:  # and the events are new lists each time (the tags are cached)
        for kind, _tag, attrs in events:
            if kind == 1:
                attrs.clear()
        assert html_to_text(html) == _reference(html)
