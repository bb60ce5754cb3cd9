"""The EPC QR code on an invoice: "scan to pay" (EPC069-12, version 002, SEPA credit transfer).

A banking app reads the administration's name, IBAN and BIC, the amount in euros
and the payment reference from it. It goes on documents that ask for payment
(invoices, down-payment requests, reminders) with an amount due in euros, of an
administration that switched it on (``Administration.epc_qr``). A credit note (an
amount due of zero or less) and a counter sale invoice (paid at the counter) carry
none.

The reference is a structured creditor reference (ISO 11649, "RF" and two check
digits before the document number's letters and digits) when the administration
wants one (``Administration.rf_reference``), else the document's title and number
as unstructured text. The code is made by ``segno`` (its EPC helper: error
correction M, at most version 13, as the standard says) and drawn as vector squares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.records import Administration, Document

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

# Documents that ask for a payment; a counter sale invoice is paid at the counter.
PAYABLE_TYPES = frozenset({"sales_invoice", "subscription_invoice", "down_payment", "reminder"})
MAX_NAME = 70  # EPC069-12: the beneficiary's name
MAX_TEXT = 140  # unstructured remittance information
MAX_AMOUNT = Decimal("999999999.99")
QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks

SCAN_TO_PAY = {"NL": "Scan en betaal", "EN": "Scan to pay", "DE": "Scannen und bezahlen"}
MM = 72 / 25.4
EPC_SIZE = 26 * MM  # the code with its quiet zone; EPC advises at least 2 × 2 cm
EPC_BLOCK = EPC_SIZE + 6 * MM  # with the words under it


@dataclass(frozen=True)
class EpcPayment:
    """What the code holds."""

    name: str
    iban: str
    bic: str
    amount: Decimal
    reference: str  # ISO 11649 structured reference, or ""
    text: str  # unstructured remittance information, or ""

    def qr(self) -> Any:
        import segno.helpers

        return segno.helpers.make_epc_qr(
            name=self.name,
            iban=self.iban,
            amount=self.amount,
            text=self.text or None,
            reference=self.reference or None,
            bic=self.bic or None,
        )


def rf_reference(number: str) -> str:
    """The ISO 11649 creditor reference of a document number: 'RF12F20260001'."""
    from stdnum.iso7064 import mod_97_10

    body = re.sub(r"[^0-9A-Z]", "", number.upper())[:21] or "0"
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def rf_words(payment: EpcPayment | None, title: str) -> str:
    """What the payment terms ask to quote: the structured reference as people write it,
    with the document's title and number ('RF12 F202 6000 1 (factuur F20260001)'), or
    the title and number alone."""
    if payment is None or not payment.reference:
        return title
    from stdnum import iso11649

    return f"{iso11649.format(payment.reference)} ({title})"


def epc_payment(doc: Document, adm: Administration, title: str) -> EpcPayment | None:
    """The payment the document's code asks for, or None when it carries no code."""
    if not adm.epc_qr or doc.type not in PAYABLE_TYPES or doc.currency != "EUR":
        return None
    amount = doc.total_incl
    if amount <= 0 or amount > MAX_AMOUNT or not adm.iban:
        return None  # a credit note, nothing due, or no account to pay to
    iban = re.sub(r"\s", "", adm.iban).upper()
    reference = rf_reference(doc.number) if adm.rf_reference else ""
    return EpcPayment(
        name=adm.name[:MAX_NAME],
        iban=iban,
        bic=re.sub(r"\s", "", adm.bic).upper(),
        amount=amount,
        reference=reference,
        text="" if reference else f"{title} {doc.number}"[:MAX_TEXT],
    )


def draw_epc(c: Canvas, payment: EpcPayment, x: float, top: float, lang: str, font: str) -> float:
    """The code with "scan to pay" under it, its top left at (x, top); returns the y
    below it."""
    from mailing.pdf.fonts import draw

    draw_qr(c, payment.qr(), x, top - EPC_SIZE, EPC_SIZE)
    words = SCAN_TO_PAY.get(lang, SCAN_TO_PAY["EN"])
    draw(c, x + QUIET_ZONE * 0.55 * MM, top - EPC_SIZE - 3 * MM, words, font, 7)
    return top - EPC_BLOCK


def draw_qr(c: Canvas, qr: Any, x: float, y: float, size: float) -> None:
    """The code as black squares on white, its quiet zone included, in the square of
    side ``size`` whose lower left corner is (x, y)."""
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix) + 2 * QUIET_ZONE
    module = size / n
    c.saveState()
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        top = y + size - (r + QUIET_ZONE + 1) * module
        col = 0
        while col < len(row):  # a run of dark modules is one rectangle
            if not row[col]:
                col += 1
                continue
            start = col
            while col < len(row) and row[col]:
                col += 1
            path.rect(x + (start + QUIET_ZONE) * module, top, (col - start) * module, module)
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()
