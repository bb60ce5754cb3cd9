"""The doctor's checks of who may work here and whether what is stored still holds.

The user in the folder's group, the audit log's hash chain, every template rendered
against a sample document (and, as a note, the document templates no language code
uses), the stored files unchanged, the spool and archive readable, and whether an
unattended `mailroom send --due` can reach its credentials. Each returns
:class:`mailing.checks.doctor.Check` lines; ``mailing.checks.doctor.run_checks`` runs them
whatever an earlier one found.
"""

from __future__ import annotations

import grp
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mailing.checks.doctor_line import Check

if TYPE_CHECKING:
    from store.store import Store

MAX_LINES = 10  # per check: the first ones, then a count


def group_membership(store: Store) -> Check:
    """In a shared folder: the OS account is in its group, in this very login."""
    from mailing.identity import login_user
    from store.permissions import MARKER, marked_group

    home = store.home
    group = marked_group(home)
    if group is None and (home / MARKER).exists():  # there, but you may not read it
        group = _group_name(home.stat().st_gid)
    me = login_user()
    if group is None:
        return Check("Your account", True, f"{me}; the data folder is not shared with a group")
    try:
        gid = grp.getgrnam(group).gr_gid
        members = grp.getgrnam(group).gr_mem
    except KeyError:
        return Check(
            "Your account",
            False,
            f"the data folder is shared with the group {group}, which does not exist here",
            f"sudo groupadd {group}; sudo usermod -aG {group} {me}",
        )
    if os.getuid() == 0:
        return Check("Your account", True, f"{me} (root may work in any folder)")
    if gid in (os.getgid(), os.getegid(), *os.getgroups()):
        return Check("Your account", True, f"{me}, a member of the group {group}")
    if me in members:
        return Check(
            "Your account",
            False,
            f"{me} was added to the group {group}, but this login started before that",
            "log out and in again (a new SSH session), then run `mailroom doctor` again",
        )
    return Check(
        "Your account",
        False,
        f"{me} is not a member of the group {group} the data folder is shared with",
        f"sudo usermod -aG {group} {me}, then log in again",
    )


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def audit_chain(store: Store) -> Check:
    from mailing.changes.audit import FILE_NAME, verify

    path = store.home / FILE_NAME
    verdict = verify(store.home)
    if verdict.ok:
        return Check("Audit log", True, verdict.sentence(path))
    if verdict.unreadable:
        return Check("Audit log", False, verdict.sentence(path), f"ls -l {path}")
    return Check(
        "Audit log",
        False,
        verdict.sentence(path),
        "keep this copy, compare it with the audit.log of a backup, and find out who "
        "changed it (`mailroom audit verify` names the entry)",
    )


def templates(store: Store) -> Iterator[Check]:
    """Every template rendered against a sample document of its object."""
    from mailing.errors import TemplateError
    from mailing.render.validate import validate_template
    from store.records import Template

    found = sorted(store.all(Template), key=lambda t: t.code)
    bad: list[Check] = []
    for t in found:
        try:
            validate_template(t)
        except TemplateError as exc:
            fix = getattr(exc, "fix", "") or "correct the expression"
            bad.append(
                Check(
                    f"Template {t.code}",
                    False,
                    str(getattr(exc, "message", exc)),
                    f"{fix.rstrip('.')} (Templates, F3, {t.code})",
                )
            )
    if not bad:
        yield Check(
            "Templates",
            True,
            f"{len(found)} template(s) render with a sample document of their object",
        )
    yield from bad[:MAX_LINES]
    if len(bad) > MAX_LINES:
        yield Check("Templates", False, f"and {len(bad) - MAX_LINES} more", "fix the ones above")
    unhooked = unhooked_templates(store)
    if unhooked:  # a note, not a fault: a template may be kept for later on purpose
        from mailing.words import count

        if len(unhooked) == 1:
            detail = (
                f"no language code uses the template {unhooked[0]} yet, so no document is "
                "sent with it; to use it, choose it in Language codes (F4)"
            )
        else:
            named = ", ".join(unhooked[:MAX_LINES])
            if len(unhooked) > MAX_LINES:
                named += f" and {len(unhooked) - MAX_LINES} more"
            detail = (
                f"no language code uses {count(len(unhooked), 'document template')} yet, so "
                f"no document is sent with them: {named}; to use one, choose it in Language "
                "codes (F4)"
            )
        yield Check("Templates in use", True, detail)


def unhooked_templates(store: Store) -> list[str]:
    """The codes of the document templates that no language code uses: no document is
    sent with them (a language code says which template goes with each type of
    document). Report, backup and hand-written mail templates are chosen elsewhere."""
    from store.records import DOC_TYPES, LanguageCode, Template

    used = {code for lc in store.all(LanguageCode) for code in lc.templates.values()}
    return sorted(
        t.code for t in store.all(Template) if t.object in DOC_TYPES and t.code not in used
    )


def stored_files(store: Store) -> Iterator[Check]:
    """Letterheads, attachments and images: present, and still what was stored."""
    from store.records import LanguageCode, StoredFileRef, Template

    refs: dict[str, tuple[StoredFileRef, str]] = {}
    for lc in store.all(LanguageCode):
        for ref in (lc.first_background, lc.second_background):
            if ref is not None:
                refs.setdefault(ref.sha256, (ref, f"letterhead of {lc.administration}/{lc.code}"))
    for t in store.all(Template):
        for ref in (*t.attachments, *t.images):
            refs.setdefault(ref.sha256, (ref, f"template {t.code}"))
    bad: list[Check] = []
    for sha, (ref, used) in sorted(refs.items(), key=lambda kv: kv[1][1]):
        path = store.files.path(ref)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            why = "is missing from the data folder"
        except OSError as exc:
            why = f"cannot be read ({exc.strerror})"
        else:
            if digest == sha:
                continue
            why = "was changed on disk after it was stored"
        bad.append(
            Check(
                f"Stored file {ref.name}",
                False,
                f"the {used} ({path.relative_to(store.home)}) {why}",
                "add the file again where it is used, or restore files/ from a backup",
            )
        )
    if not bad:
        yield Check("Stored files", True, f"{len(refs)} file(s) present and unchanged")
        return
    yield from bad[:MAX_LINES]
    if len(bad) > MAX_LINES:
        yield Check("Stored files", False, f"and {len(bad) - MAX_LINES} more", "fix those above")


def readable(store: Store) -> Iterator[Check]:
    """The spool and the archive: every folder enterable, every file readable by you."""
    for top in ("spool", "archive"):
        root = store.home / top
        if not root.exists():
            yield Check(f"{top.capitalize()} folder", True, "none yet")
            continue
        first: tuple[Path, str] | None = None
        count = 0

        def failed(exc: OSError) -> None:
            nonlocal first, count
            count += 1
            if first is None and exc.filename:
                first = (Path(exc.filename), exc.strerror or "cannot be read")

        # One access() a file and no stat: the kind of each entry comes with the
        # listing (years of history are 100,000s of files).
        folders = [os.fspath(root)]
        while folders:
            try:
                with os.scandir(folders.pop()) as it:
                    entries = list(it)
            except OSError as exc:
                failed(exc)
                continue
            for entry in entries:
                try:
                    if entry.is_symlink():
                        continue
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if not os.access(entry.path, os.R_OK | os.X_OK if is_dir else os.R_OK):
                    count += 1
                    first = first or (Path(entry.path), "cannot be read by you")
                if is_dir:
                    folders.append(entry.path)
        if first is None:
            yield Check(f"{top.capitalize()} folder", True, "readable")
            continue
        path, why = first
        group = _group_hint(store.home)
        yield Check(
            f"{top.capitalize()} folder",
            False,
            f"{count} file(s) or folder(s) cannot be read, e.g. {path.relative_to(store.home)} "
            f"({why})",
            f"sudo mailroom --home {store.home} init --group {group}"
            if group
            else f"chmod -R u+rwX {root}",
        )


def _group_hint(home: Path) -> str | None:
    from store.permissions import marked_group

    return marked_group(home)


def scheduled_sending(store: Store, passphrase_file: str | None) -> Check:
    """Can an unattended `mailroom send --due` (cron, a timer) reach its credentials?"""
    from mailing.changes.secrets import (
        credentials_file,
        secrets_backend,
        secrets_file_state,
        try_passphrase_file,
    )
    from store.records import Profile

    what = "Scheduled sending"
    needing = sorted(
        p.code
        for p in store.all(Profile)
        if p.system == "smtp" and p.auth in ("password", "oauth2-office365")
    )
    if not needing:
        return Check(what, True, "no profile needs a secret: `mailroom send --due` runs as is")
    kind, name, _ = secrets_backend()
    if kind != "file":
        return Check(
            what,
            True,
            f"secrets are in {name}: cron and timers reach it only in a session that "
            "unlocks it (docs/secrets.md)",
        )
    if secrets_file_state() == "absent":
        return Check(
            what,
            False,
            f"profile(s) {', '.join(needing)} need a secret and there is no secrets file",
            "mailroom secrets init --passphrase-file PATH",
        )
    source = credentials_file(passphrase_file)
    if source is None:
        return Check(
            what,
            False,
            "an unattended run cannot unlock the secrets file: no passphrase file is given "
            "(--passphrase-file, $MAILROOM_PASSPHRASE_FILE or systemd's LoadCredential=)",
            "run the doctor as cron will: `mailroom --home DIR --passphrase-file PATH doctor` "
            "(docs/scheduled-sending.md)",
        )
    problem = try_passphrase_file(source)
    if problem:
        return Check(what, False, problem, f"write the passphrase into {source} (mode 0600)")
    return Check(what, True, f"the passphrase file {source} opens the secrets file")
