"""``mailroom doctor``: the checklist of an installation, each line OK or what to do.

Every check runs whatever an earlier one found (``run_checks``); the newer ones (the
account in the folder's group, the audit chain, templates, stored files, spool and
archive readable, the scheduled-send set-up) are in ``mailing.checks.doctor_checks``.

The data folder and its permissions, the secrets backend and whether it is open, a
system profile, each profile reachable and accepting its login (SMTP: greeting,
STARTTLS, AUTH, then QUIT: nothing is sent), each letterhead valid, a glyph in the
embedded fonts for every relation's and administration's name and address, items whose
sending is unknown, sending paused. The same checks feed the command and the TUI.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from mailing.checks.doctor_line import Check
from store.permissions import make_dirs, marked_group, not_shared_right

if TYPE_CHECKING:
    from store.records import Administration, Profile, Relation
    from store.store import Store


def data_folder(store: Store) -> Check:
    home = store.home
    mode = home.stat().st_mode & 0o777
    if not os.access(home, os.W_OK):
        return Check("Data folder", False, f"{home} cannot be written by you", f"ls -ld {home}")
    if mode & 0o007:
        return Check(
            "Data folder",
            False,
            f"{home} can be read by every user of this computer (mode {mode:o})",
            f"chmod -R o-rwx {home}",
        )
    loose = [
        p.name
        for p in home.iterdir()
        if p.is_file() and not p.is_symlink() and p.stat().st_mode & 0o007
    ]
    if loose:
        return Check(
            "Data folder",
            False,
            f"files others can read: {', '.join(sorted(loose)[:5])}",
            f"chmod -R o-rwx {home}",
        )
    group = marked_group(home)
    if group is None:
        shared = " (shared with its group)" if mode & 0o070 else ""
        return Check("Data folder", True, f"{home}, mode {mode:o}{shared}")
    wrong = not_shared_right(home, group, limit=5)
    if wrong:
        named = "; ".join(f"{w.path.relative_to(home) or '.'} ({w.why})" for w in wrong)
        return Check(
            "Data folder",
            False,
            f"shared with the group {group}, but not everything is: {named}",
            f"sudo mailroom --home {home} init --group {group}",
        )
    return Check(
        "Data folder",
        True,
        f"{home}, shared with the group {group} (files 660, folders 2770, all in the group)",
    )


def _uses_password(store: Store) -> list[str]:
    from store.records import Profile

    return [p.code for p in store.all(Profile) if p.system == "smtp" and p.auth == "password"]


def secrets(store: Store) -> Check:
    from mailing.changes.secrets import secrets_backend, secrets_file_state, unlock_now
    from store.errors import MailroomError

    kind, name, why = secrets_backend()
    if kind != "file":
        return Check("Secrets", True, f"{name} ({why})")
    state = secrets_file_state()
    if state == "absent":
        needing = _uses_password(store)
        if needing:
            return Check(
                "Secrets",
                False,
                f"no secrets file, and profile(s) {', '.join(needing)} log in with a password",
                "mailroom secrets init",
            )
        return Check("Secrets", True, "no secrets file yet (no profile needs a password)")
    if state == "locked":
        try:
            unlock_now()  # the command line's passphrase source: credentials file, terminal
        except MailroomError as exc:
            return Check(
                "Secrets",
                False,
                f"the secrets file is locked ({exc.message})",
                "mailroom --passphrase-file PATH doctor (or run it on a terminal)",
            )
    return Check("Secrets", True, f"{name}, unlocked")


def system_profile(store: Store) -> Check:
    from store.records import Profile

    code = store.system().profile
    if not code:
        return Check(
            "System profile",
            False,
            "none is set, so some documents have no sender",
            "mailroom profile add CODE --sender ADDRESS ..., then choose it in Settings (F6)",
        )
    if store.find(Profile, code) is None:
        return Check(
            "System profile",
            False,
            f"{code} does not exist",
            f"mailroom profile add {code} --sender ADDRESS ...",
        )
    return Check("System profile", True, code)


def profile_login(store: Store, profile: Profile) -> Check:
    """Reach the server and log in, then QUIT: nothing is sent."""
    from mailing.transports import TransportError
    from mailing.transports.profiles import check_profile
    from store.errors import MailroomError

    what = f"Profile {profile.code}"
    try:
        check_profile(profile)
        if profile.system == "outbox":
            folder = store.home / (profile.outbox_dir or "outbox")
            make_dirs(folder)
            if not os.access(folder, os.W_OK):
                return Check(what, False, f"cannot write to {folder}", f"ls -ld {folder}")
            return Check(what, True, f"delivers into {folder}")
        if profile.auth == "oauth2-office365":
            from mailing.changes.secrets import has_secret

            if not has_secret(profile.code, "oauth-cache"):
                return Check(
                    what,
                    False,
                    "not signed in to Office 365",
                    f"mailroom profile login {profile.code}",
                )
            return Check(what, True, "signed in to Office 365 (the sign-in is kept)")
        from mailing.transports.smtp_connect import connect, password_login

        login = password_login(profile) if profile.auth == "password" else None
        smtp = connect(profile, login, store.home)
        try:
            smtp.quit()
        except Exception:  # the check is done; a rude goodbye changes nothing
            smtp.close()
    except TransportError as exc:
        diag = exc.diagnosis
        fix = f"{diag.fix} Then: mailroom profile test {profile.code}"
        if profile.auth == "password" and exc.kind == "auth":
            fix = f"mailroom profile set-password {profile.code}"
        return Check(what, False, diag.title, fix)
    except MailroomError as exc:
        return Check(what, False, exc.message, exc.fix or f"mailroom profile show {profile.code}")
    logged = "logged in" if profile.auth == "password" else "no login"
    return Check(what, True, f"{profile.server}:{profile.port} answers, {logged}; nothing sent")


def letterheads(store: Store) -> Iterator[Check]:
    from mailing.changes.rules_record import letterhead_problems
    from store.errors import MailroomError
    from store.records import LanguageCode

    for lc in store.all(LanguageCode):
        if lc.first_background is None and lc.second_background is None:
            continue
        where = f"language code {lc.administration}/{lc.code}"
        try:
            problems = letterhead_problems(lc, where, store.files.read)
        except MailroomError as exc:  # missing, or changed on disk: this line, then on
            yield Check(
                f"Letterhead {lc.administration}/{lc.code}",
                False,
                exc.message,
                f"choose the letterhead again: Language codes (F4), {lc.administration}/"
                f"{lc.code} (or restore files/ from a backup)",
            )
            continue
        if problems:
            first = problems[0]
            yield Check(
                f"Letterhead {lc.administration}/{lc.code}",
                False,
                first.message,
                f"choose another letterhead: Language codes (F4), {lc.administration}/{lc.code}"
                + (f" ({first.fix})" if first.fix else ""),
            )
        else:
            yield Check(f"Letterhead {lc.administration}/{lc.code}", True, "A4 portrait, safe")


MAX_FONT_LINES = 20  # one line per relation or administration, then a count


def fonts(store: Store) -> Iterator[Check]:
    """Every name, address line and contact of the relations and administrations has a
    glyph in a face the PDFs embed; else which character, named, and where to edit it."""
    from mailing.pdf.glyph_check import administration_texts, needs_layout, relation_texts
    from store.records import Administration, Relation

    found: list[Check] = []
    laid_out = 0
    admins = sorted(store.all(Administration), key=lambda a: a.code)
    relations = sorted(store.all(Relation), key=lambda r: r.id)
    for adm in admins:
        texts = list(administration_texts(adm))
        found += _undrawable(
            f"administration {adm.code}", texts, f"edit it in Settings (F6), {adm.code}"
        )
    for rel in relations:
        texts = list(relation_texts(rel))
        texts += [(f"contact {n}'s name", c.name) for n, c in enumerate(rel.contacts, start=1)]
        edit = f"edit it in Relations (F5), {rel.id}"
        found += _undrawable(f"relation {rel.id}", texts, edit) or _unfit(rel, admins, edit)
        laid_out += any(needs_layout(text) for _, text in texts)
    if not found:
        shaped = (
            f"; {laid_out} relation(s) in a right-to-left or shaped script (Arabic, Hebrew, "
            "Thai, Devanagari) print in reading order, joined"
            if laid_out
            else ""
        )
        yield Check(
            "Fonts",
            True,
            f"the names and addresses of {len(relations)} relation(s) and {len(admins)} "
            f"administration(s) print with the embedded fonts{shaped}",
        )
        return
    yield from found[:MAX_FONT_LINES]
    if len(found) > MAX_FONT_LINES:
        yield Check(
            "Fonts",
            False,
            f"and {len(found) - MAX_FONT_LINES} more relation(s) or administration(s) "
            "with a character no font has",
            "fix the ones above, then run `mailroom doctor` again to see the rest",
        )


def _unfit(rel: Relation, admins: list[Administration], edit: str) -> list[Check]:
    """The relation's address does not fit the envelope window even at the smallest size:
    its documents are refused (mailing/pdf/layout_address.py, the same rule)."""
    from mailing.errors import DocumentError
    from mailing.pdf.fonts import FONT, register
    from mailing.pdf.layout_address import address_block

    adm = next((a for a in admins if a.code == rel.administration), None)
    if adm is None:
        return []
    register()
    try:
        address_block(rel, adm, rel.language, FONT, "Its documents")
    except DocumentError as exc:
        return [Check(f"Fonts for relation {rel.id}", False, exc.message, edit)]
    return []


def _undrawable(who: str, texts: list[tuple[str, str]], edit: str) -> list[Check]:
    from mailing.pdf.fonts import FACE_LIST, describe
    from mailing.pdf.glyph_check import undrawable

    for field, text in texts:
        bad = undrawable(text) if text else []
        if bad:
            chars = ", ".join(describe(ch) for ch in bad)
            return [
                Check(
                    f"Fonts for {who}",
                    False,
                    f"its {field} ({text!r}) holds {chars}, which none of the embedded fonts "
                    f"({FACE_LIST}) can draw: it would print as a box, and its "
                    "documents are refused",
                    f"{edit} (mailroom), or correct it in the file for "
                    "`mailroom config import`; e.g. a similar letter",
                )
            ]
    return []


def spool(store: Store) -> Iterator[Check]:
    from store.spool import Spool

    unknown = 0
    batches: list[str] = []
    unreadable: list[str] = []
    for batch in Spool(store.home).batches():
        try:
            n = batch.listed_counts().get("unknown", 0)  # kept while no folder changed
        except (OSError, ValueError):
            unreadable.append(batch.id)
            continue
        if n:
            unknown += n
            batches.append(batch.id)
    if unknown:
        yield Check(
            "Queue",
            False,
            f"{unknown} message(s) may or may not have been sent (batch {', '.join(batches)})",
            f"check with the recipient, then `mailroom batch mark-sent {batches[0]}` or "
            f"`mailroom batch resend {batches[0]}`",
        )
    else:
        yield Check("Queue", True, "no message of unknown fate")
    if unreadable:
        yield Check(
            "Queue",
            False,
            f"{len(unreadable)} batch(es) cannot be read: {', '.join(unreadable[:5])}",
            f"mailroom batch show {unreadable[0]} (it names the file)",
        )
    system = store.system()
    if system.sending_paused:
        yield Check(
            "Sending",
            False,
            f"paused: {system.paused_reason or 'by an administrator'}",
            "mailroom sending resume",
        )
    else:
        yield Check("Sending", True, "not paused")
    if system.redirect_to:
        yield Check(
            "Test mode",
            False,
            f"on: every message goes to {system.redirect_to} only, not to the customers",
            "mailroom sending redirect off",
        )
    else:
        yield Check("Test mode", True, "off: messages go to their own recipients")


def run_checks(
    store: Store, *, reach_servers: bool = True, passphrase_file: str | None = None
) -> Iterator[Check]:
    """Every check, in order, each whatever an earlier one found: a check that fails in
    itself is its own FIX line, never the end of the list. Each profile's login only
    when ``reach_servers``; ``passphrase_file``: the one an unattended run is given."""
    from mailing.checks import doctor_checks as more
    from store.records import Profile

    yield from _guarded("Data folder", lambda: [data_folder(store)])
    yield from _guarded("Your account", lambda: [more.group_membership(store)])
    yield from _guarded("Audit log", lambda: [more.audit_chain(store)])
    yield from _guarded("Secrets", lambda: [secrets(store)])
    yield from _guarded("System profile", lambda: [system_profile(store)])
    profiles: list[Profile] = []

    def read_profiles() -> list[Check]:
        profiles.extend(store.all(Profile))
        return []

    yield from _guarded("Profiles", read_profiles)
    for profile in sorted(profiles, key=lambda p: p.code):
        if reach_servers:
            yield from _guarded(f"Profile {profile.code}", _login_of(store, profile))
    yield from _guarded(
        "Scheduled sending", lambda: [more.scheduled_sending(store, passphrase_file)]
    )
    yield from _guarded("Templates", lambda: more.templates(store))
    yield from _guarded("Letterheads", lambda: letterheads(store))
    yield from _guarded("Stored files", lambda: more.stored_files(store))
    yield from _guarded("Fonts", lambda: fonts(store))
    yield from _guarded("Spool and archive", lambda: more.readable(store))
    yield from _guarded("Queue", lambda: spool(store))


def _login_of(store: Store, profile: Profile) -> Callable[[], list[Check]]:
    return lambda: [profile_login(store, profile)]


def _guarded(what: str, make: Callable[[], Iterable[Check]]) -> Iterator[Check]:
    """The lines of one check; if the check itself fails, one FIX line saying so."""
    from store.errors import MailroomError

    lines: list[Check] = []
    try:
        lines.extend(make())
    except MailroomError as exc:
        lines.append(Check(what, False, exc.message, exc.fix or "see the message"))
    except Exception as exc:  # a check must never end the doctor: name it and go on
        lines.append(
            Check(
                what,
                False,
                f"this check could not be made ({type(exc).__name__}: {exc})",
                "fix what it names, then run `mailroom doctor` again",
            )
        )
    yield from lines
