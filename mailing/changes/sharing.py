"""``mailroom init --group NAME``: share the data folder with the administrators of a group.

The modes themselves are one rule in ``store/permissions.py``; this door checks the
group (it exists, you are in it), applies the rule to everything under the folder,
and writes the change to the audit log.
"""

from __future__ import annotations

import grp
import os
from pathlib import Path

from mailing.changes.problems import ChangeRefused, Problem
from store.permissions import Wrong, marked_group, not_shared_right, share
from store.store import Store

WHAT = "Data folder not shared"


def already_shared(home: Path, group: str) -> bool:
    """The folder is marked for ``group`` and everything in it is as that asks."""
    return marked_group(home) == group and not not_shared_right(home, group, limit=1)


def share_data_folder(store: Store, group: str) -> list[Wrong]:
    """Share ``store``'s folder with ``group``; what is still not right (empty: all done).

    Only what is not right yet is changed, so a second administrator running it on a
    folder that is already right changes nothing (and needs no root)."""
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise ChangeRefused(
            WHAT,
            [
                Problem(
                    "--group",
                    "no group of that name exists on this computer",
                    group,
                    f"create it and add each administrator: sudo groupadd {group}; "
                    f"sudo usermod -aG {group} LOGIN (they log in again).",
                )
            ],
        ) from None
    if os.geteuid() != 0 and gid not in (os.getegid(), *os.getgroups()):
        raise ChangeRefused(
            WHAT,
            [
                Problem(
                    "--group",
                    f"you ({store.user}) are not a member of this group",
                    group,
                    f"sudo usermod -aG {group} {store.user}, log in again, then run "
                    f"`mailroom init --group {group}` again (or run it with sudo).",
                )
            ],
        )
    before = marked_group(store.home)
    if already_shared(store.home, group):
        return []
    failed = share(store.home, group)
    from mailing.changes.audit import append

    append(store.home, store.user, "share data folder", str(store.home), before, group)
    return failed or not_shared_right(store.home, group)
