"""The rules of SPEC §1–§7 about the whole configuration: how records refer to each other.

A system profile exists, personal profiles are of its system, every code named
exists, a language code's template is for that document type, e-invoicing and
Peppol have what they need. The rules about one record alone are in
``rules_record``. Every rule returns a list of :class:`Problem`; none raises, none
writes.
"""

from __future__ import annotations

from mailing.changes.problems import Problem
from mailing.changes.rules_record import position_of
from mailing.config import ConfigSnapshot
from store.records import Administration, Record, Relation


def system_profile_problems(cfg: ConfigSnapshot) -> list[Problem]:
    """SPEC §5.4: the system profile must always exist, so there is always a sender."""
    code = cfg.system.profile
    if not code:
        return [
            Problem(
                "system.profile",
                "there is no system profile; it must always exist, so that there is a sender",
                None,
                "choose one in Settings (F6), or set system.profile in the file.",
            )
        ]
    return []


def personal_profile_problems(cfg: ConfigSnapshot) -> list[Problem]:
    """SPEC §5: personal settings only with a system profile, and of the same system."""
    out: list[Problem] = []
    system = cfg.profiles.get(cfg.system.profile or "")
    for user in cfg.users.values():
        if not user.profile:
            continue
        personal = cfg.profiles.get(user.profile)
        if personal is None:
            continue  # reference_problems says so
        where = f"{position_of(cfg, user)}.profile"
        if system is None:
            out.append(
                Problem(
                    where,
                    f"user {user.name} has a personal profile while there is no system profile",
                    user.profile,
                    "choose the system profile first; it must always exist.",
                )
            )
        elif personal.system != system.system:
            out.append(
                Problem(
                    where,
                    f"the personal profile {personal.code} of user {user.name} sends by "
                    f"{personal.system}, the system profile {system.code} by {system.system}; "
                    "personal settings must be of the same system",
                    user.profile,
                    f"choose a {system.system} profile for {user.name}, or none; or change "
                    "the system profile.",
                )
            )
    return out


def reference_problems(cfg: ConfigSnapshot) -> list[Problem]:
    """Every code a record names exists; a language code's template is for that type."""
    out: list[Problem] = []

    def profile_ref(rec: Record, code: str | None, where: str) -> None:
        if code and code not in cfg.profiles:
            out.append(
                Problem(
                    where,
                    f"the profile {code!r} does not exist",
                    code,
                    "choose an existing profile, or add that profile first.",
                )
            )

    profile_ref(cfg.system, cfg.system.profile, "system.profile")
    for admin in cfg.administrations.values():
        profile_ref(admin, admin.profile, f"{position_of(cfg, admin)}.profile")
    for user in cfg.users.values():
        profile_ref(user, user.profile, f"{position_of(cfg, user)}.profile")
    for tpl in cfg.templates.values():
        profile_ref(tpl, tpl.profile, f"{position_of(cfg, tpl)}.profile")
    for lc in cfg.language_codes.values():
        where = position_of(cfg, lc)
        if lc.administration not in cfg.administrations:
            out.append(
                Problem(
                    f"{where}.administration",
                    f"the administration {lc.administration!r} does not exist",
                    lc.administration,
                    "add the administration first.",
                )
            )
        for doctype, code in lc.templates.items():
            found = cfg.templates.get(code)
            pos = f"{where}.templates.{doctype}"
            label = doctype.replace("_", " ")
            if found is None:
                out.append(
                    Problem(
                        pos,
                        f"the template {code!r} for {label}s does not exist",
                        code,
                        "choose an existing template.",
                    )
                )
            elif found.object != doctype:
                out.append(
                    Problem(
                        pos,
                        f"the template {code} is for {found.object.replace('_', ' ')}s, "
                        f"not for {label}s",
                        code,
                        f"choose a template whose object is {label}, or change the "
                        f"object of {code}.",
                    )
                )
    for rel in cfg.relations.values():
        where = position_of(cfg, rel)
        owner = cfg.administrations.get(rel.administration)
        if owner is None:
            out.append(
                Problem(
                    f"{where}.administration",
                    f"the administration {rel.administration!r} does not exist",
                    rel.administration,
                    "add the administration first.",
                )
            )
        elif (rel.administration, rel.language) not in cfg.language_codes:
            out.append(
                Problem(
                    f"{where}.language",
                    f"the language code {rel.language!r} does not exist in administration "
                    f"{rel.administration}",
                    rel.language,
                    f"add language code {rel.language} to {rel.administration}, or choose "
                    "one that exists.",
                )
            )
        if rel.invoice_debtor and (rel.administration, rel.invoice_debtor) not in cfg.relations:
            out.append(
                Problem(
                    f"{where}.invoice_debtor",
                    f"the invoice debtor {rel.invoice_debtor!r} does not exist",
                    rel.invoice_debtor,
                    "give the code of a relation of the same administration, or leave it empty.",
                )
            )
    return out


E_INVOICE_FORMS = {
    "off": "PDF only",
    "factur-x": "Factur-X",
    "ubl": "UBL (Peppol)",
    "xrechnung": "XRechnung (UBL)",
}


def e_invoice_problems(cfg: ConfigSnapshot) -> list[Problem]:
    """Issue 17: an e-invoice (Factur-X or UBL) needs the seller's VAT number with its
    country prefix (EN 16931 BT-31 and BT-40), for the administration and its relations."""
    out: list[Problem] = []
    for admin in cfg.administrations.values():
        users: list[Administration | Relation] = [admin] if admin.e_invoice != "off" else []
        users += [
            r
            for r in cfg.relations.values()
            if r.administration == admin.code and r.e_invoice not in ("", "off")
        ]
        vat = admin.vat_number.replace(" ", "").upper()
        if users and not (len(vat) > 2 and vat[:2].isalpha()):
            first = users[0]
            form = E_INVOICE_FORMS[first.e_invoice]
            out.append(
                Problem(
                    f"{position_of(cfg, first)}.e_invoice",
                    f"invoices as {form} need the VAT number of administration {admin.code} "
                    "with its country prefix, and it has none",
                    admin.vat_number,
                    f"enter the VAT number of administration {admin.code} (e.g. "
                    "NL123456789B01), or choose 'PDF only'.",
                )
            )
    return out


def peppol_problems(cfg: ConfigSnapshot) -> list[Problem]:
    """Issue 26: a customer whose invoices go as Peppol UBL needs an electronic address
    (PEPPOL-EN16931-R010), and so does its administration (R020): refused before any
    invoice is built, not by the access point after sending."""
    from mailing.einvoice.data import buyer_address, seller_address

    out: list[Problem] = []
    for rel in cfg.relations.values():
        admin = cfg.administrations.get(rel.administration)
        if admin is None or rel.kind != "customer":
            continue
        if (rel.e_invoice or admin.e_invoice) not in ("ubl", "xrechnung"):
            continue
        if buyer_address(rel) is None:
            out.append(
                Problem(
                    f"{position_of(cfg, rel)}.peppol_id",
                    f"invoices to relation {rel.administration}/{rel.code} go as Peppol UBL, "
                    "which needs the customer's electronic address (PEPPOL-EN16931-R010), "
                    "and it has no Peppol address, KvK/KBO number or VAT number",
                    None,
                    "enter its Peppol address (e.g. scheme 0106 with its KvK number), or "
                    "its KvK or VAT number, or choose another form for its invoices.",
                )
            )
    for admin in cfg.administrations.values():
        forms = {admin.e_invoice} | {
            r.e_invoice for r in cfg.relations.values() if r.administration == admin.code
        }
        uses = bool(forms & {"ubl", "xrechnung"})
        if "xrechnung" in forms and not (admin.phone and admin.email):
            out.append(
                Problem(
                    f"{position_of(cfg, admin)}.{'phone' if not admin.phone else 'email'}",
                    f"administration {admin.code} sends XRechnung invoices, which need the "
                    "seller's contact phone number and e-mail address (BR-DE-6, BR-DE-7)",
                    None,
                    f"enter the phone number and e-mail address of administration {admin.code}.",
                )
            )
        if uses and admin.vat_number and seller_address(admin) is None:
            out.append(
                Problem(
                    f"{position_of(cfg, admin)}.peppol_id",
                    f"administration {admin.code} sends Peppol UBL, which needs its own "
                    "electronic address (PEPPOL-EN16931-R020), and it has none",
                    None,
                    "enter its Peppol address (scheme and identifier), or its KvK number.",
                )
            )
    return out


def configuration_problems(cfg: ConfigSnapshot, *, need_system_profile: bool) -> list[Problem]:
    """The rules over the whole configuration."""
    out = reference_problems(cfg) + personal_profile_problems(cfg) + e_invoice_problems(cfg)
    out += peppol_problems(cfg)
    if need_system_profile:
        out = system_profile_problems(cfg) + out
    return out
