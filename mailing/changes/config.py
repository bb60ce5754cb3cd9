"""The doors for changes to the configuration: save, delete, settings, import.

Each door loads the configuration under the store's lock, applies the change to a
copy, runs the rules (mailing.changes.rules_record and rules_configuration) and writes everything or nothing.
A save may not add a problem to the configuration: what was already wrong (for
example, data from before a rule existed) does not block an unrelated save, but
nothing new gets in. Import and restore must be free of problems altogether.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mailing.changes.problems import ChangeRefused, Problem
from mailing.changes.rules_configuration import configuration_problems
from mailing.changes.rules_record import KIND_NAMES, ReadFile, describe, record_problems
from mailing.config import ConfigSnapshot
from store.records import (
    CONFIG_RECORDS,
    Administration,
    LanguageCode,
    Profile,
    Record,
    StoredFileRef,
    SystemSettings,
    User,
)
from store.store import Store


def _keyed(problems: Iterable[Problem]) -> set[tuple[str, str]]:
    return {(p.where, p.message) for p in problems}


def _apply(
    store: Store,
    what: str,
    put: list[Record],
    delete: list[tuple[type[Record], str]] | None = None,
    *,
    before_write: Callable[[], None] | None = None,
    new_keys: bool = False,
) -> None:
    """Apply puts and deletes as one change, or refuse it with every new problem.

    ``new_keys``: the records put must not exist yet (a new record, or a rename); checked
    under the same lock as the write, so two administrators cannot both take a code.
    """
    delete = delete or []
    with store.transaction() as tx:
        before = ConfigSnapshot.read(tx)
        after = before.changed(delete=delete)
        problems: list[Problem] = []
        taken: set[tuple[str, str]] = set()
        for rec in put:
            if new_keys and (
                after.find(type(rec), rec.key) is not None or (rec.table, rec.key) in taken
            ):
                problems.append(
                    Problem(
                        f"{describe(rec)}.{rec.key_field}",
                        f"another {KIND_NAMES.get(rec.table, rec.table)} with this "
                        f"{rec.key_field} exists already",
                        rec.key,
                        "choose another code, or open that one from the list.",
                    )
                )
            taken.add((rec.table, rec.key))
        if problems:
            raise ChangeRefused(what, problems)
        after = after.changed(put=put)
        for rec in put:
            problems += record_problems(after, rec, store.files.read, _files_of(before, rec))
        old = _keyed(configuration_problems(before, need_system_profile=True))
        problems += [
            p
            for p in configuration_problems(after, need_system_profile=True)
            if (p.where, p.message) not in old
        ]
        if problems:
            raise ChangeRefused(what, problems)
        if before_write is not None:
            before_write()  # e.g. store a secret; if it fails, nothing is written
        for cls, key in delete:
            tx.delete(cls, key)
        for rec in put:
            tx.put(rec)
    _audit_records(store, before, put, delete)


def _audit_records(
    store: Store,
    before: ConfigSnapshot,
    put: list[Record],
    delete: list[tuple[type[Record], str]],
) -> None:
    """One audit entry per record deleted or changed (a save that changed nothing: none)."""
    from mailing.changes.audit import append

    def old(cls: type[Record], key: str) -> Record | None:
        return before.find(cls, key)

    for cls, key in delete:
        gone = old(cls, key)
        kind = KIND_NAMES.get(cls.table, cls.table)
        append(
            store.home,
            store.user,
            f"delete {kind}",
            f"{kind} {key}",
            gone.dump() if gone else None,
            None,
        )
    for rec in put:
        was = old(type(rec), rec.key)
        if was is not None and was.dump() == rec.dump():
            continue
        kind = (
            "settings" if isinstance(rec, SystemSettings) else KIND_NAMES.get(rec.table, rec.table)
        )
        append(
            store.home,
            store.user,
            f"save {kind}",
            describe(rec),
            was.dump() if was else None,
            rec.dump(),
        )


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _save(
    store: Store,
    record: Record,
    old_key: str | None,
    *,
    before_write: Callable[[], None] | None = None,
) -> str:
    """Save a new record (``old_key`` None), a changed one, or a renamed one."""
    renamed = old_key is not None and old_key != record.key
    _apply(
        store,
        f"{_upper_first(describe(record))} not saved",
        [record],
        [(type(record), old_key)] if renamed and old_key else [],
        before_write=before_write,
        new_keys=old_key is None or renamed,
    )
    return record.key


def save_record(store: Store, record: Record, old_key: str | None = None) -> str:
    """Save a new or changed administration, template, language code, relation or user.

    ``old_key`` is the key the record had (None for a new one); a changed key renames.
    """
    return _save(store, record, old_key)


def delete_record(store: Store, cls: type[Record], key: str) -> None:
    """Delete a record, unless something else still refers to it."""
    kind = KIND_NAMES.get(cls.table, cls.table)
    _apply(store, f"{_upper_first(kind)} {key} not deleted", [], [(cls, key)])


def save_profile(
    store: Store, profile: Profile, old_key: str | None = None, password: str = ""
) -> str:
    """Save a profile and, when given, its password (keyring first: a refused secret
    saves nothing of the profile)."""
    from mailing.changes.secrets import move_password, store_password

    def secrets() -> None:
        if password:
            store_password(profile.code, password)
        elif old_key and old_key != profile.code:
            move_password(old_key, profile.code)

    from mailing.changes.secrets import had_password

    had = bool(password) and had_password(profile.code)
    key = _save(store, profile, old_key, before_write=secrets)
    if password:
        from mailing.changes.audit import append

        action = "change password" if had else "store password"
        append(store.home, store.user, action, f"profile {key}")
    return key


def update_profile(store: Store, code: str, fields: dict[str, Any]) -> Profile:
    """Change some fields of a stored profile (``mailroom profile set``)."""
    from mailing.transports.profiles import stored_profile

    current = stored_profile(store, code)
    profile = Profile.parse({**current.dump(), **fields}, f"profile {code}")
    _apply(store, f"Profile {code} not changed", [profile])
    return profile


def set_system_profile(store: Store, code: str) -> None:
    """Make ``code`` the system profile (``mailroom profile system CODE``)."""
    with store.view() as tx:
        system = tx.system()
    changed = SystemSettings.parse({**system.dump(), "profile": code})
    _apply(store, "System profile not set", [changed])


def add_profile(store: Store, profile: Profile) -> None:
    """Add a new profile (``mailroom profile add``)."""
    save_profile(store, profile, None)


def delete_profile(store: Store, code: str) -> None:
    from mailing.changes.secrets import forget_secrets

    _apply(store, f"Profile {code} not deleted", [], [(Profile, code)])
    forget_secrets(code)
    from mailing.changes.audit import append

    append(store.home, store.user, "forget secrets", f"profile {code}")


def save_settings(
    store: Store,
    user: str,
    *,
    system_profile: str | None,
    admin_profiles: dict[str, str | None],
    full_name: str,
    personal_profile: str | None,
    signature: str,
    approval: str | None = None,
) -> None:
    """The Settings pane: the system profile, each administration's, the user's own, and
    who may approve (``approval``; None keeps it)."""
    with store.view() as tx:
        system = tx.system()
        admins = {a.code: a for a in tx.all(Administration)}
        current_user = tx.find(User, user)
    puts: list[Record] = []
    system = SystemSettings.parse(
        {
            **system.dump(),
            "profile": system_profile or None,
            "approval": approval or system.approval,
        }
    )
    puts.append(system)
    for code, prof in admin_profiles.items():
        if code in admins:
            puts.append(Administration.parse({**admins[code].dump(), "profile": prof or None}))
    base = current_user.dump() if current_user else {"name": user}
    puts.append(
        User.parse(
            {
                **base,
                "full_name": full_name,
                "profile": personal_profile or None,
                "signature": signature,
            },
            f"user {user}",
        )
    )
    _apply(store, "Settings not saved", puts)


# ---------------------------------------------------------------- whole configuration


def _files_of(before: ConfigSnapshot, rec: Record) -> frozenset[str]:
    """The letterheads the record had before this change (not held to newer rules)."""
    old = before.find(LanguageCode, rec.key) if isinstance(rec, LanguageCode) else None
    if not isinstance(old, LanguageCode):
        return frozenset()
    return frozenset(r.sha256 for r in (old.first_background, old.second_background) if r)


def check_configuration(
    records: list[Record], positions: dict[int, str], read: ReadFile
) -> list[Problem]:
    """Every rule over a whole configuration (import, restore): every record, every link."""
    cfg = ConfigSnapshot.of(records, positions)
    problems: list[Problem] = []
    for rec in records:
        problems += record_problems(cfg, rec, read, known_files=None)
    problems += configuration_problems(cfg, need_system_profile=True)
    return problems


def _fill_languages(data: Any) -> None:
    """A relation without a language gets its administration's default language (SPEC §2)."""
    if not isinstance(data, dict):
        return
    admins = data.get("administrations")
    relations = data.get("relations")
    if not isinstance(admins, list) or not isinstance(relations, list):
        return
    defaults = {
        a.get("code"): a.get("default_language", "NL") for a in admins if isinstance(a, dict)
    }
    for rel in relations:
        if isinstance(rel, dict) and "language" not in rel and rel.get("administration"):
            lang = defaults.get(rel["administration"])
            if isinstance(lang, str):
                rel["language"] = lang


def import_config(store: Store, data: Any, source: str = "configuration") -> int:
    """Replace the whole configuration with ``data`` (a `config export`); all or nothing."""
    from store.exchange import ConfigImportError, parse_config

    _fill_languages(data)
    records, files, positions, shape_problems = parse_config(data, source)

    def read(ref: StoredFileRef) -> bytes:
        return files[ref.sha256]

    problems = shape_problems + [str(p) for p in check_configuration(records, positions, read)]
    if problems:
        raise ConfigImportError(source, problems)
    for payload in files.values():
        store.files.add_bytes("imported", payload)
    with store.transaction() as tx:
        before = {cls.table: len(tx.raw(cls)) for cls in CONFIG_RECORDS}
        for cls in CONFIG_RECORDS:
            tx.clear(cls)
        n = tx.put_many(records)
    from mailing.changes.audit import append

    after: dict[str, int] = {}
    for rec in records:
        after[rec.table] = after.get(rec.table, 0) + 1
    append(store.home, store.user, "import configuration", source, before, after)
    return n


def set_sending_paused(store: Store, paused: bool, reason: str = "") -> None:
    """Stop every send until resumed (`mailroom sending pause|resume`)."""
    with store.transaction() as tx:
        system = tx.system()
        was = {"sending_paused": system.sending_paused, "paused_reason": system.paused_reason}
        system.sending_paused = paused
        system.paused_reason = reason if paused else ""
        tx.put(system)
    from mailing.changes.audit import append

    now = {"sending_paused": paused, "paused_reason": system.paused_reason}
    append(
        store.home, store.user, "pause sending" if paused else "resume sending", "sending", was, now
    )
