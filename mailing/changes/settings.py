"""The door for the Settings pane's values from a script (``mailroom settings set``).

One change, all or nothing, through the same rules as the pane (``config._apply``): the
system profile, each administration's profile, who may approve (four eyes), and the
personal settings (profile, full name, signature) of any user. Several at once, so a
change that is only valid as a whole (the system profile and the personal profiles
moving from ``outbox`` to ``smtp`` together) is one command, not a refused pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mailing.changes.config import _apply
from store.records import Administration, SystemSettings, User

if TYPE_CHECKING:
    from store.records import Record
    from store.store import Store

KEEP: Any = object()  # a value not given: keep what is stored


def change_settings(
    store: Store,
    *,
    system_profile: str | None = KEEP,
    approval: str | None = None,
    admin_profiles: dict[str, str | None] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """Apply the given settings as one change; what changed, in words (empty: nothing).

    ``users``: per user name, any of ``profile`` (None: none), ``full_name``, ``signature``.
    An administration not known is refused like a profile not known."""
    from mailing.changes.problems import ChangeRefused, Problem

    with store.view() as tx:
        system = tx.system()
        admins = {a.code: a for a in tx.all(Administration)}
        known_users = {u.name: u for u in tx.all(User)}
    puts: list[Record] = []
    said: list[str] = []
    fields: dict[str, Any] = {}
    if system_profile is not KEEP:
        fields["profile"] = system_profile or None
        said.append(f"system profile {system_profile or 'none'}")
    if approval is not None:
        fields["approval"] = approval
        said.append(f"approval {approval}")
    if fields:
        puts.append(SystemSettings.parse({**system.dump(), **fields}, "system"))
    problems: list[Problem] = []
    for code, prof in (admin_profiles or {}).items():
        if code not in admins:
            problems.append(
                Problem(
                    f"administration {code}",
                    "no administration has this code",
                    code,
                    f"choose one of: {', '.join(sorted(admins)) or '(none yet)'}.",
                )
            )
            continue
        puts.append(Administration.parse({**admins[code].dump(), "profile": prof or None}))
        said.append(f"administration {code}'s profile {prof or 'none'}")
    for name, values in (users or {}).items():
        base = known_users[name].dump() if name in known_users else {"name": name}
        puts.append(User.parse({**base, **values}, f"user {name}"))
        words = {"profile": "personal profile", "full_name": "full name", "signature": "signature"}
        for key, value in values.items():
            shown = (value or "none") if key == "profile" else "changed"
            said.append(f"{name}'s {words.get(key, key)} {shown}")
    if problems:
        raise ChangeRefused("Settings not saved", problems)
    if puts:
        _apply(store, "Settings not saved", puts)
    return said
