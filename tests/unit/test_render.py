"""Rendering templates: formatting per language, validation at save time, the sandbox
and its bounds, and which template a relation's language code picks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from mailing.catalogue import field_names, sample_context
from mailing.config import ConfigSnapshot
from mailing.demo.templates import demo_templates
from mailing.errors import ConfigError, TemplateError
from mailing.render import (
    TemplateProblem,
    html_to_text,
    render_template,
    template_for,
    validate_template,
)
from store.records import Administration, LanguageCode, Relation, Template
from store.store import Store

LOCALES = {"NL": "nl_NL", "EN": "en_GB", "DE": "de_DE"}


def _t(
    body: str = "",
    subject: str = "S",
    obj: str = "sales_invoice",
    fmt: str = "html",
    disclaimer: str = "",
) -> Template:
    return Template(
        code="T",
        object=obj,
        format=fmt,
        subject=subject,
        body=body,
        disclaimer=disclaimer,  # type: ignore[arg-type]
    )


def _render(body: str, locale: str = "nl_NL", **ctx: object) -> str:
    context = sample_context("sales_invoice")
    context.update(ctx)
    return render_template(_t(body, fmt="text"), context, locale).text.strip()


# ---------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("locale", "money", "amount"),
    [
        ("nl_NL", "€ 1.234,56", "1.234,56"),
        ("en_GB", "€1,234.56", "1,234.56"),
        ("de_DE", "1.234,56\xa0€", "1.234,56"),
    ],
)
def test_money_per_language(locale: str, money: str, amount: str) -> None:
    out = _render("{{ total|money }}|{{ total|amount }}", locale, total=Decimal("1234.56"))
    assert out.replace("\xa0", " ") == f"{money}|{amount}".replace("\xa0", " ")


def test_money_uses_the_document_currency_and_rounds_to_it() -> None:
    assert (
        _render("{{ total|money }}", "en_GB", total=Decimal("99.5"), currency="USD") == "US$99.50"
    )
    assert (
        _render("{{ total|amount }}", "nl_NL", total=Decimal("1000000"), currency="JPY")
        == "1.000.000"
    )
    assert _render("{{ total|money('GBP') }}", "en_GB", total=Decimal("-3.1")) == "-£3.10"


@pytest.mark.parametrize(
    ("locale", "short", "long"),
    [
        ("nl_NL", "05-03-2025", "5 maart 2025"),
        ("en_GB", "05/03/2025", "5 March 2025"),
        ("de_DE", "05.03.2025", "5. März 2025"),
    ],
)
def test_dates_per_language(locale: str, short: str, long: str) -> None:
    out = _render("{{ date|date }}|{{ date|date('long') }}", locale, date=dt.date(2025, 3, 5))
    assert out == f"{short}|{long}"


def test_empty_values_format_as_nothing() -> None:
    assert _render("[{{ due_date|date }}][{{ total|money }}]", due_date=None, total=None) == "[][]"


# ---------------------------------------------------------------- demo templates


@pytest.mark.parametrize("t", demo_templates("HOLT"), ids=lambda t: t.code)
def test_every_demo_template_validates_and_renders(t: Template) -> None:
    validate_template(t)
    lang = t.code.split("-")[1]
    r = render_template(t, sample_context(t.object), LOCALES[lang])
    assert "{{" not in r.subject and r.subject
    assert "{{" not in r.text and "{%" not in r.text
    if t.format == "html":
        assert r.html is not None and r.html.startswith("<!DOCTYPE html>")


def test_demo_templates_cover_every_document_type_in_three_languages() -> None:
    codes = {t.code for t in demo_templates("ACME")}
    for lang in ("NL", "EN", "DE"):
        for doc_type in ("sales_invoice", "reminder", "purchase_order", "counter_invoice"):
            assert f"ACME-{lang}-{doc_type}" in codes
    assert {"ACME-NL-report", "ACME-NL-backup", "ACME-NL-manual"} <= codes


def test_german_invoice_text() -> None:
    t = next(t for t in demo_templates("HOLT") if t.code == "HOLT-DE-sales_invoice")
    ctx = sample_context("sales_invoice")
    r = render_template(t, ctx, "de_DE")
    assert r.subject == "Rechnung 2025-00123 von Holtkamp Installatietechniek B.V."
    assert "1.493,82\xa0€" in r.text and "13.04.2025" in r.text
    assert "Gesamt | 1.493,82\xa0€" in r.text  # the table as rows


# ---------------------------------------------------------------- composing parts


def test_html_escapes_values_but_subject_and_text_do_not() -> None:
    ctx = sample_context("sales_invoice")
    ctx["relation_name"] = "Jansen <b>&</b> Zn"
    r = render_template(
        _t("<p>{{ relation_name }}</p>", subject="Voor {{ relation_name }}"), ctx, "nl_NL"
    )
    assert r.subject == "Voor Jansen <b>&</b> Zn"
    assert r.html is not None and "Jansen &lt;b&gt;&amp;&lt;/b&gt; Zn" in r.html
    assert "Jansen <b>&</b> Zn" in r.text  # the text alternative shows it as typed
    rt = render_template(_t("{{ relation_name }}", fmt="text"), ctx, "nl_NL")
    assert rt.html is None and rt.text == "Jansen <b>&</b> Zn\n"


def test_signature_and_disclaimer_are_appended_in_order() -> None:
    t = _t("<p>Body {{ number }}</p>", disclaimer="<p>Disclaimer {{ administration_name }}</p>")
    r = render_template(t, sample_context("sales_invoice"), "nl_NL", signature="Groet,\nDana <DV>")
    assert r.html is not None
    assert r.html.index("Body") < r.html.index("Dana &lt;DV&gt;") < r.html.index("Disclaimer")
    assert r.text.split("\n\n") == [
        "Body 2025-00123",
        "Groet,\nDana <DV>",
        "Disclaimer Holtkamp Installatietechniek B.V.\n",
    ]
    tt = _t("Body", fmt="text", disclaimer="-- disclaimer")
    assert (
        render_template(tt, {}, "nl_NL", signature="Dana").text == "Body\n\nDana\n\n-- disclaimer\n"
    )


def test_full_html_document_gets_additions_inside_body() -> None:
    t = _t("<html><body><p>Hi</p></body></html>", disclaimer="<p>D</p>")
    r = render_template(t, sample_context("sales_invoice"), "nl_NL")
    assert r.html is not None and r.html.index("<p>D</p>") < r.html.index("</body>")


def test_html_to_text() -> None:
    html = (
        "<html><head><style>p{color:red}</style><title>x</title></head><body>"
        "<h1>Factuur</h1><p>Beste  klant,<br>regel twee</p>"
        "<ul><li>een</li><li>twee</li></ul><ol><li>eerst</li><li>dan</li></ol>"
        "<table><tr><th>Nr</th><th>Bedrag</th></tr><tr><td>1</td><td>€ 5,00</td></tr></table>"
        '<p><a href="https://pay.example/1">Betaal nu</a> of mail <a href="mailto:a@b.example">a@b.example</a></p>'
        '<p><img src="cid:logo" alt="Logo"></p></body></html>'
    )
    assert html_to_text(html) == (
        "Factuur\n\nBeste klant,\nregel twee\n\n- een\n- twee\n\n1. eerst\n2. dan\n\n"
        "Nr | Bedrag\n1 | € 5,00\n\nBetaal nu (https://pay.example/1) of mail a@b.example\n\n[Logo]\n"
    )


# ---------------------------------------------------------------- validation at save time


def test_unknown_name_is_refused_with_place_and_available_names() -> None:
    t = _t("<p>Beste {{ relation_name }},</p>\n<p>Te betalen: {{ totaal|money }}</p>")
    with pytest.raises(TemplateProblem) as info:
        validate_template(t)
    err = info.value
    assert (err.part, err.line, err.column, err.name) == ("body", 2, 19, "totaal")
    assert err.available == field_names("sales_invoice")
    assert "line 2, column 19" in str(err) and "'totaal'" in str(err) and "total_excl" in str(err)


def test_names_of_another_object_are_refused() -> None:
    t = _t("{{ open_total|money }}", obj="sales_invoice")
    with pytest.raises(TemplateProblem, match="open_total"):
        validate_template(t)
    validate_template(_t("{{ open_total|money }}", obj="reminder"))


def test_syntax_error_names_part_and_line() -> None:
    t = _t("ok", subject="Factuur {{ number }", disclaimer="x")
    with pytest.raises(TemplateProblem) as info:
        validate_template(t)
    assert (info.value.part, info.value.line, info.value.column) == ("subject", 1, 9)
    t2 = _t("<p>\n{% if total %}\n</p>")
    with pytest.raises(TemplateProblem) as info2:
        validate_template(t2)
    assert info2.value.part == "body" and "endif" in str(info2.value)


def test_unknown_filter_is_refused_with_the_filters_available() -> None:
    with pytest.raises(TemplateProblem) as info:
        validate_template(_t("x", disclaimer="{{ total|euro }}"))
    assert info.value.part == "disclaimer" and info.value.name == "euro"
    assert "money" in str(info.value)


def test_loop_variables_and_set_names_are_allowed() -> None:
    body = (
        "{% set n = lines|length %}{% for line in lines %}{{ loop.index }}/{{ n }} "
        "{{ line.description }} {{ line.amount|money }}\n{% endfor %}"
    )
    validate_template(_t(body, fmt="text"))


def test_attribute_typos_on_items_are_caught_at_save_time() -> None:
    with pytest.raises(TemplateProblem, match="numbr"):
        validate_template(
            _t("{% for item in open_items %}{{ item.numbr }}{% endfor %}", obj="reminder")
        )


# ---------------------------------------------------------------- the sandbox


INJECTIONS = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ ''|attr('_' ~ '_class__') }}",
    "{{ lines|attr('__class__') }}",
    "{{ lines|map('attr', '__class__')|list }}",
    "{{ lines|map(attribute='__class__')|list }}",
    "{{ lines|map('attr', '_' ~ '_class__')|join }}",
    "{{ lines|map('attr', '_' ~ '_class__')|list }}",
    "{{ '{0.__class__.__mro__}'.format('') }}",
    "{{ ('{0._' ~ '_class__}').format(number) }}",
    "{{ '{x.__class__}'.format_map({'x': number}) }}",
    "{{ ('{0.' ~ '_' ~ '_init__.__globals__}').format(cycler) }}",
    "{{ '%s'.format }}{{ number.format_map.__self__ }}",
    "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}",
    "{{ joiner.__init__.__globals__['os'].popen('touch MARKER').read() }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ namespace.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ lines.append(1) }}",
    "{{ lines[0].update({'description': 'x'}) }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% macro m() %}{% endmacro %}",
    "{% autoescape false %}{{ relation_name }}{% endautoescape %}",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_is_refused_at_save_and_at_render(
    payload: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    payload = payload.replace("MARKER", str(tmp_path / "pwned"))
    ctx = sample_context("sales_invoice")
    lines_before = repr(ctx["lines"])
    t = _t("<p>Hallo</p>\n" + payload)
    with pytest.raises(TemplateError):
        validate_template(t)
    with pytest.raises(TemplateError) as info:
        render_template(t, ctx, "nl_NL")
    assert info.value.field == "body"
    assert not (tmp_path / "pwned").exists()  # nothing executed
    assert repr(ctx["lines"]) == lines_before  # nothing changed


BOMBS = [
    "{{ 'A' * 10**9 }}",
    "{{ 'A' * 999999 * 999999 }}",
    "{{ [number] * 10**9 }}",
    "{{ 2 ** (10 ** 9) }}",
    "{{ 'x'.center(10**9) }}",
    "{{ 'x'|center(10**9) }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ '%*d' % (999999999, 1) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '{:>{w}}'.format(1, w=999999999) }}",
    "{{ '%s'|format('x' * 999999 ~ 'y' * 999999) }}",
    "{{ ('A' * 999999).replace('A', 'AAAA') }}",
    "{{ ('A' * 999999)|replace('A', 'AAAA') }}",
    "{{ ('x' * 500)|indent(10**7) }}",
    "{{ [1]|batch(10**9, 'x')|list }}",
    "{{ [1]|slice(10**9)|list }}",
    "{% set x = 'A' * 999999 %}{{ [x, x, x]|join }}",
    "{% set x = 'A' * 999999 %}{{ ''.join([x, x, x]) }}",
    "{% set x = 'A' * 999999 %}{{ x ~ x }}",
    "{% set x = 'A' * 999999 %}{{ [x, x, x]|string }}",
    "{% set x = 'A' * 999999 %}{{ [x, x]|sum(start=[]) }}",
    "{% set ns = namespace(x='A') %}{% for i in range(64) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}",
    "{% set ns = namespace(x='A') %}{% for i in range(64) %}{% set ns.x = ns.x + ns.x %}{% endfor %}",
    "{% set ns = namespace(x=[1]) %}{% for i in range(64) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ 'A' * 100 }}{% endfor %}",
    "{% for i in range(99999) %}{% for c in 'abcdefghij' %}{% endfor %}{% endfor %}",
    "{{ total.scaleb(999999999)|money }}",
]


@pytest.mark.parametrize("payload", BOMBS)
def test_huge_output_and_long_loops_are_errors_not_hangs(payload: str) -> None:
    t = _t(payload, fmt="text")
    # The render's own bounds (output size, loop steps, its 2-second budget) stop it;
    # the error says which. No wall-clock assertion here: a loaded machine is slower.
    with pytest.raises(TemplateError) as info:
        render_template(t, sample_context("sales_invoice"), "nl_NL")
    assert info.value.field == "body"
    assert "Cannot render the body" in str(info.value)


def test_slow_loop_stops_at_the_time_bound() -> None:
    body = "{% for i in range(99999) %}{% set s = lines|map(attribute='description')|join(',') %}{% endfor %}"
    with pytest.raises(TemplateError, match="longer than 2 seconds|more than"):
        render_template(_t(body, fmt="text"), sample_context("sales_invoice"), "nl_NL")


def test_errors_while_rendering_name_the_line() -> None:
    with pytest.raises(TemplateProblem) as info:
        render_template(
            _t("a\nb\n{{ total / 0 }}", fmt="text"), sample_context("sales_invoice"), "nl_NL"
        )
    assert info.value.line == 3 and "division by zero" in str(info.value)


def test_line_break_in_the_rendered_subject_is_refused() -> None:
    ctx = sample_context("sales_invoice")
    ctx["relation_name"] = "Jansen\r\nBcc: x@y.example"
    with pytest.raises(TemplateError) as info:
        render_template(_t("x", subject="Factuur voor {{ relation_name }}"), ctx, "nl_NL")
    assert info.value.field == "subject"
    assert "line break" in str(info.value)


def test_unknown_locale_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        render_template(_t("x"), sample_context("sales_invoice"), "xx_YY")
    assert info.value.field == "locale"


# ---------------------------------------------------------------- language codes


def _snapshot() -> ConfigSnapshot:
    templates = demo_templates("HOLT")
    codes = {}
    for lang, locale in LOCALES.items():
        mapping = {t.object: t.code for t in templates if t.code.startswith(f"HOLT-{lang}-")}
        mapping = {k: v for k, v in mapping.items() if k not in ("report", "backup", "manual")}
        if lang == "EN":
            mapping.pop("packing_slip")
        codes[("HOLT", lang)] = LanguageCode(
            administration="HOLT",
            code=lang,
            locale=locale,
            templates=mapping,  # type: ignore[arg-type]
        )
    return ConfigSnapshot(
        administrations={"HOLT": Administration(code="HOLT", name="Holtkamp")},
        templates={t.code: t for t in templates},
        language_codes=codes,
    )


def _rel(lang: str) -> Relation:
    return Relation(administration="HOLT", code=f"R{lang}", name=f"Klant {lang}", language=lang)


def test_german_customer_gets_the_german_template_and_dutch_the_dutch() -> None:
    cfg = _snapshot()
    de = template_for(cfg, _rel("DE"), "sales_invoice")
    nl = template_for(cfg, _rel("NL"), "reminder")
    assert de.code == "HOLT-DE-sales_invoice" and de.subject.startswith("Rechnung")
    assert nl.code == "HOLT-NL-reminder" and nl.subject.startswith("Herinnering")
    lc = cfg.language_of(_rel("DE"))
    assert lc is not None
    r = render_template(de, sample_context("sales_invoice"), lc.locale)
    assert "1.493,82\xa0€" in r.text


def test_language_code_without_a_template_for_the_type_names_both() -> None:
    with pytest.raises(ConfigError) as info:
        template_for(_snapshot(), _rel("EN"), "packing_slip")
    msg = str(info.value)
    assert "Language code EN" in msg and "packing_slip" in msg
    assert "assign a packing_slip template to language code EN" in msg


def test_relation_with_an_unknown_language_code() -> None:
    with pytest.raises(ConfigError) as info:
        template_for(_snapshot(), _rel("FR"), "sales_invoice")
    assert info.value.field == "language" and "'FR'" in str(info.value)
    assert "DE, EN, NL" in str(info.value)


def test_template_of_the_wrong_object_or_missing_is_refused() -> None:
    cfg = _snapshot()
    cfg.language_codes[("HOLT", "NL")].templates["reminder"] = "HOLT-NL-sales_invoice"
    with pytest.raises(ConfigError, match="is for sales_invoice"):
        template_for(cfg, _rel("NL"), "reminder")
    cfg.language_codes[("HOLT", "NL")].templates["reminder"] = "GONE"
    with pytest.raises(ConfigError, match="does not exist"):
        template_for(cfg, _rel("NL"), "reminder")


def test_template_for_from_a_real_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "home", "dana")
    cfg = _snapshot()
    with store.transaction() as tx:
        tx.put_many(
            [
                *cfg.administrations.values(),
                *cfg.templates.values(),
                *cfg.language_codes.values(),
                _rel("DE"),
            ]
        )
    loaded = ConfigSnapshot.load(store)
    rel = loaded.relations[("HOLT", "RDE")]
    assert template_for(loaded, rel, "purchase_order").code == "HOLT-DE-purchase_order"
