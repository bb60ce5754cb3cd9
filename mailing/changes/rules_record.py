"""The rules of SPEC §1–§7 about one record, one function each.

A record alone: its addresses, identifiers, payment codes, template expressions,
profile, letterhead and approval mode (:func:`record_problems` picks those that
apply). Also how a record is named in a problem (:func:`describe`,
:func:`position_of`). The rules about how records refer to each other are in
``rules_configuration``. Every rule returns a list of :class:`Problem`; none raises,
none writes.
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


def redirect_address_problems(value: str) -> list[Problem]:
    """Test mode's one address: a single plain e-mail address."""
    where = "sending redirect address"
    if not value.strip():
        return [Problem(where, "is empty", value, "give one e-mail address, or `off`.")]
    found = _address(where, value.strip(), where)
    return [Problem(p.where, p.message, value, p.fix) for p in found]
