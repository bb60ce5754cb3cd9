"""Rules for what an administration prints to be paid: its country, and the account
the EPC QR code (issue 27) names."""

from __future__ import annotations

from mailing.changes.problems import Problem
from store.records import Administration


def payment_code_problems(admin: Administration, where: str) -> list[Problem]:
    """The EPC QR code (epc_qr) needs an account a bank accepts; the country must be one."""
    from babel import Locale
    from stdnum import bic, iban

    out: list[Problem] = []
    if admin.country.upper() not in Locale.parse("en").territories or not admin.country.isalpha():
        out.append(
            Problem(
                f"{where}.country",
                f"The country {admin.country!r} is not an ISO 3166 country code.",
                admin.country,
                "give the two letters of the administration's country, e.g. NL, BE or DE.",
            )
        )
    if not admin.epc_qr:
        return out
    if not iban.is_valid(admin.iban):
        out.append(
            Problem(
                f"{where}.iban",
                f"The EPC QR code (epc_qr) needs the administration's IBAN; {admin.iban!r} is "
                "not a valid IBAN.",
                admin.iban,
                "type the IBAN as the bank gives it (e.g. NL91 ABNA 0417 1643 00), or switch "
                "the QR code off.",
            )
        )
    if admin.bic and not bic.is_valid(admin.bic):
        out.append(
            Problem(
                f"{where}.bic",
                f"{admin.bic!r} is not a valid BIC for the EPC QR code.",
                admin.bic,
                "type the bank's BIC (8 or 11 letters and digits, e.g. ABNANL2A), or leave "
                "it empty.",
            )
        )
    return out
