"""Who is working: the operating system account of the process, never a claim.

The acting user is the account of the process's real uid (``pwd.getpwuid(os.getuid())``):
over SSH that login is authenticated, so approvals and the audit log can rely on it.
No environment variable changes it (``USER``, ``LOGNAME`` and ``getpass.getuser()``
are what a process *says*, not who it is). Under ``sudo`` the process is root: it
acts as root, and the audit log notes who ran sudo (``SUDO_UID``) beside it, never
instead of it.

``--user NAME`` picks another name only in a demo folder that is **private to the
caller**: the folder and its ``DEMO-FOLDER`` marker are owned by the caller's uid,
nobody else has any access to the folder, it is not shared with a group, and the
marker names this very folder (its device and inode), so a marker copied from another
folder does nothing. Elsewhere it is refused, saying who you are. No one can act as a
colleague without being able to log in as them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from store.errors import MailroomError
from store.permissions import MARKER, open_new
from store.store import default_user

DEMO_MARK = "DEMO-FOLDER"


def login_user() -> str:
    """The account of this process's real uid (see ``store.store.default_user``)."""
    return default_user()


def sudo_by() -> str | None:
    """Who ran ``sudo``, when this process is root through it: a note, never the actor."""
    if os.getuid() != 0:
        return None
    raw = os.environ.get("SUDO_UID", "")
    if not raw.isdigit() or int(raw) == 0:
        return None
    import pwd

    try:
        return pwd.getpwuid(int(raw)).pw_name
    except KeyError:
        return f"uid {raw}"


def _folder_stamp(home: Path) -> str:
    st = os.stat(home)
    return f"{st.st_dev}:{st.st_ino}"


def mark_demo(home: Path) -> None:
    """Mark ``home`` as a demo folder: its owner may name themselves with --user there."""
    path = home / DEMO_MARK
    text = (
        "This data folder holds the demo: `--user NAME` may name anyone here, as long as\n"
        "the folder stays private to its owner.\n"
        f"folder: {_folder_stamp(home)}\n"
    )
    try:
        current = path.read_text(encoding="utf-8")
    except OSError:
        current = None
    if current == text:
        return
    if current is not None:
        path.unlink()
    fd = open_new(path, os.O_WRONLY | os.O_EXCL)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def why_not_demo(home: Path) -> str | None:
    """None when ``home`` is a demo folder private to the caller; else why it is not."""
    uid = os.getuid()
    try:
        folder = os.stat(home)
    except FileNotFoundError:
        return None  # a new folder: it will be the caller's, private
    except OSError as exc:
        return f"the folder cannot be read ({exc.strerror})"
    if (home / MARKER).exists():
        return "it is shared with a group"
    if folder.st_uid != uid:
        return "it is not your folder"
    if stat.S_IMODE(folder.st_mode) & 0o077:
        return "others than you can enter it"
    return None


def is_demo(home: Path) -> bool:
    """A demo folder private to the caller, with its own (not a copied) marker."""
    if why_not_demo(home) is not None:
        return False
    path = home / DEMO_MARK
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            return False
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return f"folder: {_folder_stamp(home)}\n" in text


def acting_user(home: Path, requested: str | None, login: str, *, loading_demo: bool) -> str:
    """The user a command acts as: ``login``, or ``requested`` where a private demo allows."""
    if not requested or requested == login:
        return login
    if loading_demo:
        reason = why_not_demo(home)
        if reason is None:
            return requested
    elif is_demo(home):
        return requested
    else:
        reason = why_not_demo(home) or "it is not a demo folder"
    raise MailroomError(
        f"--user {requested} is refused: you are logged in as {login}, and only a demo "
        f"data folder private to you lets you work under another name ({home}: {reason}).",
        field="user",
        value=requested,
        fix=f"leave out --user (you work as {login}); each administrator logs in with "
        "their own account (docs/sharing.md). To play several people, load the demo into "
        "a folder of your own: mailroom --home DIR demo.",
    )
