"""VAT categories (UNCL 5305, as EN 16931 uses them) and the exemption reasons (VATEX).

A document line carries a category (``S``, ``Z``, ``E``, ``AE``, ``K``, ``G``, ``O``;
empty = ``S`` when its rate is above 0, else ``Z``) and, where the rules ask for one, a
VATEX code. ``line_problems`` says in words what EN 16931 would refuse (the rule, and
the fix); ``legal_words`` gives what the PDF must say, in the customer's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

CATEGORIES: dict[str, str] = {
    "S": "standard rate",
    "Z": "zero rated",
    "E": "exempt from VAT",
    "AE": "VAT reverse charge",
    "K": "intra-Community supply",
    "G": "export outside the EU",
    "O": "not subject to VAT",
}
# The reason a category needs (BR-AE-10, BR-IC-10, BR-G-10, BR-O-10, BR-E-10) and the one
# it takes when none is given; E has many reasons (Article 132, 135, ... of the directive).
DEFAULT_REASON: dict[str, str] = {
    "AE": "VATEX-EU-AE",
    "K": "VATEX-EU-IC",
    "G": "VATEX-EU-G",
    "O": "VATEX-EU-O",
}
NEEDS_REASON = frozenset({"AE", "K", "G", "O", "E"})

# VATEX codes (CEF VATEX code list, as the EN 16931 1.3 rules check it) with their texts.
VATEX: dict[str, str] = {
    "VATEX-EU-AE": "Reverse charge",
    "VATEX-EU-IC": "Intra-Community supply",
    "VATEX-EU-G": "Export outside the EU",
    "VATEX-EU-O": "Not subject to VAT",
    "VATEX-EU-79-C": "Exempt based on article 79, point c of Council Directive 2006/112/EC",
    "VATEX-EU-132": "Exempt based on article 132 of Council Directive 2006/112/EC",
    **{
        f"VATEX-EU-132-1{x}": (
            f"Exempt based on article 132, section 1 ({x.lower()}) of Council Directive 2006/112/EC"
        )
        for x in "ABCDEFGHIJKLMNOPQ"
    },
    "VATEX-EU-135-1": "Exempt based on article 135, section 1 of Council Directive 2006/112/EC",
    "VATEX-EU-143": "Exempt based on article 143 of Council Directive 2006/112/EC",
    "VATEX-EU-148": "Exempt based on article 148 of Council Directive 2006/112/EC",
    "VATEX-EU-151": "Exempt based on article 151 of Council Directive 2006/112/EC",
    "VATEX-EU-309": "Exempt based on article 309 of Council Directive 2006/112/EC",
    "VATEX-EU-D": "Intra-Community acquisition from second hand means of transport",
    "VATEX-EU-F": "Intra-Community acquisition of second hand goods",
    "VATEX-EU-I": "Intra-Community acquisition of works of art",
    "VATEX-EU-J": "Intra-Community acquisition of collectors items and antiques",
    "VATEX-FR-FRANCHISE": "France domestic VAT franchise in base",
    "VATEX-FR-CNWVAT": "France domestic Credit Notes without VAT, due to supplier forfait agreement",
}
# Which reasons go with which category (the others: E).
_REASON_CATEGORY = {"VATEX-EU-AE": "AE", "VATEX-EU-IC": "K", "VATEX-EU-G": "G", "VATEX-EU-O": "O"}


def category_of(rate: Decimal, given: str) -> str:
    """The line's category: as given, else S above 0 % and Z at 0 %."""
    return given or ("S" if rate > 0 else "Z")


def reason_of(category: str, given: str) -> str:
    """The VATEX code the line's category takes: as given, else its default ('' if none)."""
    return given or DEFAULT_REASON.get(category, "")


def reason_text(code: str) -> str:
    return VATEX.get(code, "")


def line_problems(rate: Decimal, category: str, reason: str) -> list[tuple[str, str]]:
    """(what is wrong with the rule in words, the fix) for one line's VAT."""
    cat = category_of(rate, category)
    out: list[tuple[str, str]] = []
    if cat not in CATEGORIES:
        return [
            (
                f"VAT category {cat!r} is not one of {', '.join(CATEGORIES)}",
                "use S (standard), Z (zero rated), E (exempt), AE (reverse charge), "
                "K (intra-Community), G (export) or O (not subject to VAT).",
            )
        ]
    if cat == "S" and rate <= 0:
        out.append(
            (
                "a standard-rated line must have a VAT rate above 0 % (EN 16931 BR-S-05)",
                "give the rate, or VAT category Z for 0 %.",
            )
        )
    if cat != "S" and rate != 0:
        out.append(
            (
                f"a line of VAT category {cat} ({CATEGORIES[cat]}) must have VAT rate 0 % "
                f"(EN 16931 BR-{'IC' if cat == 'K' else cat}-05); it has {rate} %",
                "set the VAT rate to 0, or the category to S.",
            )
        )
    if reason and reason not in VATEX:
        out.append(
            (
                f"exemption reason {reason!r} is not a VATEX code the rules know",
                "use a code such as VATEX-EU-132-1I (see docs/e-invoicing.md).",
            )
        )
    elif reason and cat not in NEEDS_REASON:
        out.append(
            (
                f"a line of VAT category {cat} takes no exemption reason",
                "leave the exemption reason empty, or choose the category it belongs to.",
            )
        )
    elif reason and _REASON_CATEGORY.get(reason, "E") != cat:
        out.append(
            (
                f"exemption reason {reason} belongs to VAT category "
                f"{_REASON_CATEGORY.get(reason, 'E')}, not {cat}",
                f"use category {_REASON_CATEGORY.get(reason, 'E')} or another reason.",
            )
        )
    if cat == "E" and not reason:
        out.append(
            (
                "a VAT-exempt line must say why it is exempt (EN 16931 BR-E-10)",
                "give the exemption reason as a VATEX code, e.g. VATEX-EU-132-1I "
                "(education) or VATEX-EU-132-1C (medical care).",
            )
        )
    return out


def document_words(doc: Any, language: str, buyer_vat: str = "") -> list[str]:
    """``legal_words`` for a document (its lines' categories and reasons)."""
    pairs = [(category_of(ln.vat_rate, ln.vat_category), ln.vat_exemption) for ln in doc.lines]
    return legal_words(pairs, language, buyer_vat, doc.corrects if doc.credit_note else "")


def document_problems(categories: Iterable[str]) -> list[tuple[str, str]]:
    """Rules over the whole document's categories (BR-O-11: O stands alone)."""
    cats = set(categories)
    if "O" in cats and len(cats) > 1:
        return [
            (
                "a document with lines not subject to VAT (O) may hold no other VAT "
                "category (EN 16931 BR-O-11)",
                "put the lines not subject to VAT on a document of their own.",
            )
        ]
    return []


# What the invoice must say, per category, in the customer's language (the PDF).
LEGAL_WORDS: dict[str, dict[str, str]] = {
    "AE": {
        "NL": "Btw verlegd",
        "EN": "VAT reverse charged",
        "DE": "Steuerschuldnerschaft des Leistungsempfängers",
        "FR": "Autoliquidation",
    },
    "K": {
        "NL": "Intracommunautaire levering, btw 0 %",
        "EN": "Intra-Community supply, exempt from VAT",
        "DE": "Steuerfreie innergemeinschaftliche Lieferung",
        "FR": "Livraison intracommunautaire exonérée de TVA",
    },
    "G": {
        "NL": "Export buiten de EU, btw 0 %",
        "EN": "Export outside the EU, exempt from VAT",
        "DE": "Steuerfreie Ausfuhrlieferung",
        "FR": "Exportation hors UE exonérée de TVA",
    },
    "E": {
        "NL": "Vrijgesteld van btw",
        "EN": "Exempt from VAT",
        "DE": "Steuerbefreit",
        "FR": "Exonéré de TVA",
    },
    "O": {
        "NL": "Niet onderworpen aan btw",
        "EN": "Not subject to VAT",
        "DE": "Nicht steuerbar",
        "FR": "Non soumis à la TVA",
    },
}
_BUYER_VAT = {
    "NL": "Btw-nummer afnemer",
    "EN": "Customer VAT number",
    "DE": "USt-IdNr. des Kunden",
    "FR": "N° TVA du client",
}


CREDIT_NOTE_TITLE = {"NL": "Creditnota", "EN": "Credit note", "DE": "Gutschrift", "FR": "Avoir"}
_CORRECTS = {
    "NL": "Creditnota bij factuur {n}",
    "EN": "Credit note for invoice {n}",
    "DE": "Gutschrift zur Rechnung {n}",
    "FR": "Avoir sur la facture {n}",
}


def legal_words(
    categories: Iterable[tuple[str, str]],
    language: str,
    buyer_vat: str = "",
    corrects: str = "",
) -> list[str]:
    """The sentences the PDF must carry for the (category, reason) pairs of a document,
    in ``language`` (NL, EN, DE, FR; English otherwise): the VAT words the law asks for
    (reverse charge, exemption, export...), the customer's VAT number where the VAT is
    theirs to pay, and the invoice a credit note corrects."""
    lang = language.upper()[:2]
    out: list[str] = []
    if corrects:
        out.append(_CORRECTS.get(lang, _CORRECTS["EN"]).format(n=corrects))
    needs_buyer_vat = False
    for cat, reason in sorted(set(categories)):
        words = LEGAL_WORDS.get(cat)
        if words is None:
            continue
        text = words.get(lang, words["EN"])
        if cat == "E" and reason:
            text = f"{text}: {reason_text(reason) or reason}"
        if text not in out:
            out.append(text)
        needs_buyer_vat |= cat in ("AE", "K")
    if needs_buyer_vat and buyer_vat:
        out.append(f"{_BUYER_VAT.get(lang, _BUYER_VAT['EN'])}: {buyer_vat}")
    return out
