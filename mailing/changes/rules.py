"""The rules of SPEC §1–§7 that can be checked before anything is sent, one function each.

Per-record rules look at one record (its addresses, its template expressions, its
letterhead); whole-configuration rules look at how records refer to each other (a
system profile exists, personal profiles are of its system, every code named
exists, a language code's template is for that document type). Every rule returns
a list of :class:`Problem`; none raises, none writes.
"""

from __future__ import annotations

from collections.abc import Callable

from mailing.addresses import check_address
from mailing.changes.problems import Problem, problem_from_error
from mailing.config import ConfigSnapshot
from mailing.errors import AddressError
from store.errors import MailroomError
from store.records import (
    Administration,
    LanguageCode,
    Profile,
    Record,
    Relation,
    StoredFileRef,
    SystemSettings,
    Template,
)

ReadFile = Callable[[StoredFileRef], bytes]


KIND_NAMES: dict[str, str] = {
    "system": "system settings",
    "administrations": "administration",
    "profiles": "profile",
    "users": "user",
    "templates": "template",
    "language_codes": "language code",
    "relations": "relation",
}


def describe(rec: Record) -> str:
    if isinstance(rec, SystemSettings):
        return "system settings"
    return f"{KIND_NAMES.get(rec.table, rec.table)} {rec.key}"


def position_of(cfg: ConfigSnapshot, rec: Record) -> str:
    """The record's position: its place in a file, else its kind and key."""
    return cfg.position(rec) or describe(rec)


# ---------------------------------------------------------------- one record


def _address(where: str, value: str, what: str) -> list[Problem]:
    try:
        check_address(value, what)
    except AddressError as exc:
        return [Problem(where, exc.message, None, exc.fix)]
    return []


def relation_address_problems(rel: Relation, where: str) -> list[Problem]:
    """SPEC §6: every address a relation holds is a valid single address, no header tricks."""
    out: list[Problem] = []
    if rel.business_email:
        out += _address(f"{where}.business_email", rel.business_email, "business e-mail")
    for doctype, addresses in rel.email_addresses.items():
        for kind in ("to", "cc", "bcc"):
            for i, addr in enumerate(getattr(addresses, kind)):
                out += _address(
                    f"{where}.email_addresses.{doctype}.{kind}[{i}]",
                    addr,
                    f"{kind.capitalize()} address for {doctype.replace('_', ' ')}s",
                )
    for i, contact in enumerate(rel.contacts):
        if contact.email:
            out += _address(
                f"{where}.contacts[{i}].email", contact.email, f"e-mail of contact {contact.name}"
            )
    return out


def administration_problems(admin: Administration, where: str) -> list[Problem]:
    out = identifier_problems(admin, where)
    if admin.email:
        out += _address(f"{where}.email", admin.email, "administration's e-mail")
    from mailing.changes.rules_payment import payment_code_problems

    return out + payment_code_problems(admin, where)


def identifier_problems(rec: Administration | Relation, where: str) -> list[Problem]:
    """Issue 26: the VAT number (python-stdnum), the legal registration with its scheme
    and the Peppol address (an EAS scheme and its identifier) of a seller or a buyer."""
    from mailing.einvoice.fields import LABELS
    from mailing.einvoice.identifiers import (
        identifier_problem,
        registration_scheme,
        vat_country,
        vat_problem,
    )

    who = describe(rec)
    out: list[Problem] = []

    def add(name: str, value: str, found: tuple[str, str] | None) -> None:
        if found is not None:
            what, fix = found
            out.append(Problem(f"{where}.{name}", f"{LABELS[name]} of {who} {what}", value, fix))

    if rec.vat_number:
        add("vat_number", rec.vat_number, vat_problem(rec.vat_number))
    country = rec.country if isinstance(rec, Relation) else vat_country(rec.vat_number)
    scheme = registration_scheme(country, rec.coc_scheme)
    if rec.coc_scheme or (rec.coc_number and scheme):
        add(
            "coc_scheme" if rec.coc_scheme else "coc_number",
            rec.coc_scheme or rec.coc_number,
            identifier_problem(scheme, rec.coc_number, eas=False),
        )
    elif rec.coc_number and isinstance(rec, Relation):
        add(
            "coc_scheme",
            "",
            (
                f"is needed: there is no usual registration scheme for country {country or '?'}",
                "enter the ISO 6523 scheme of the registration number (e.g. 0060 DUNS, "
                "0088 GLN), or leave the legal registration empty.",
            ),
        )
    if rec.peppol_scheme or rec.peppol_id:
        if not rec.peppol_scheme:
            add(
                "peppol_scheme",
                "",
                (
                    "is empty while the Peppol address is filled in",
                    "enter the scheme of the address (e.g. 0106 for a KvK number).",
                ),
            )
        else:
            add(
                "peppol_id" if rec.peppol_scheme and rec.peppol_id else "peppol_scheme",
                rec.peppol_id or rec.peppol_scheme,
                identifier_problem(rec.peppol_scheme, rec.peppol_id, eas=True),
            )
    return out


def profile_problems(profile: Profile, where: str) -> list[Problem]:
    """SPEC §1: a profile that cannot send is refused (sender, server, sign-in)."""
    from mailing.transports.profiles import check_profile

    try:
        check_profile(profile)
    except MailroomError as exc:
        return [problem_from_error(where, exc)]
    return []


def template_problems(template: Template, where: str) -> list[Problem]:
    """SPEC §2: expressions parse, name fields of the object, and stay within limits."""
    from mailing.render import validate_template

    try:
        validate_template(template)
    except MailroomError as exc:
        return [problem_from_error(where, exc)]
    return []


# Letterheads are stored by their SHA-256, so a verdict holds for the content for good:
# the (slow, child-process) check runs once per distinct file in a process.
_LETTERHEAD_VERDICTS: dict[tuple[str, str, bool], MailroomError | None] = {}


def _letterhead_verdict(
    ref: StoredFileRef, data: bytes, what: str, archival: bool
) -> MailroomError | None:
    from mailing.pdf.letterhead import validate_letterhead

    key = (ref.sha256, what, archival)
    if key not in _LETTERHEAD_VERDICTS:
        try:
            validate_letterhead(data, what, archival=archival)
            _LETTERHEAD_VERDICTS[key] = None
        except MailroomError as exc:
            _LETTERHEAD_VERDICTS[key] = exc
    return _LETTERHEAD_VERDICTS[key]


def letterhead_problems(
    lc: LanguageCode, where: str, read: ReadFile, known: frozenset[str] | None = frozenset()
) -> list[Problem]:
    """SPEC §3: a letterhead is an A4 portrait PDF that is safe to open; a new one can
    also lie under an archival PDF/A document (issue 17).

    ``known``: the SHA-256 of letterheads the record already had, which are not held to
    the PDF/A rule (None: none is, as on an import or a restore of older data); the
    documents on such a letterhead are drawn as plain PDF.
    """
    out: list[Problem] = []
    for name in ("first_background", "second_background"):
        ref: StoredFileRef | None = getattr(lc, name)
        if ref is None:
            continue
        try:
            data = read(ref)
        except (OSError, KeyError):
            out.append(
                Problem(
                    f"{where}.{name}",
                    f"the file {ref.name!r} is missing from the data",
                    ref.sha256[:12],
                    "choose the letterhead again.",
                )
            )
            continue
        archival = known is not None and ref.sha256 not in known
        verdict = _letterhead_verdict(ref, data, name.replace("_", " "), archival)
        if verdict is not None:
            out.append(problem_from_error(f"{where}.{name}", verdict))
    return out


APPROVAL_MODES = {
    "same-user": "anyone may approve, also who built the batch",
    "other-user": "four eyes: who built a batch may not approve it",
}


def approval_problems(system: SystemSettings, where: str) -> list[Problem]:
    """The approval setting is one of the two modes."""
    if system.approval in APPROVAL_MODES:
        return []
    return [
        Problem(
            f"{where}.approval",
            "is not a way of approving batches",
            system.approval,
            "use same-user (anyone may approve) or other-user (who built a batch may not).",
        )
    ]


def record_problems(
    cfg: ConfigSnapshot,
    rec: Record,
    read: ReadFile | None = None,
    known_files: frozenset[str] | None = frozenset(),
) -> list[Problem]:
    """Every per-record rule that applies to ``rec`` (``known_files``: see
    :func:`letterhead_problems`)."""
    where = position_of(cfg, rec)
    if isinstance(rec, SystemSettings):
        out = approval_problems(rec, where)
        if rec.redirect_to is not None:  # test mode, also when set by an import or restore
            out += redirect_address_problems(rec.redirect_to)
        return out
    if isinstance(rec, Relation):
        return relation_address_problems(rec, where) + identifier_problems(rec, where)
    if isinstance(rec, Profile):
        return profile_problems(rec, where)
    if isinstance(rec, Template):
        return template_problems(rec, where)
    if isinstance(rec, Administration):
        return administration_problems(rec, where)
    if isinstance(rec, LanguageCode) and read is not None:
        return letterhead_problems(rec, where, read, known_files)
    return []


# ---------------------------------------------------------------- the whole configuration


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


def redirect_address_problems(value: str) -> list[Problem]:
    """Test mode's one address: a single plain e-mail address."""
    where = "sending redirect address"
    if not value.strip():
        return [Problem(where, "is empty", value, "give one e-mail address, or `off`.")]
    found = _address(where, value.strip(), where)
    return [Problem(p.where, p.message, value, p.fix) for p in found]
