"""Who may read the data folder: its owner only, or the administrators of one group.

One rule for every file and folder Mailroom creates under the data folder: **a new
file or folder takes the sharing of the folder it is created in.** In a private folder
(0700) files are 0600 and folders 0700. In a folder shared with a group (setgid and
group rwx: 2770) files are 0660 and folders 2770; the setgid bit makes the system give
every new file and folder the folder's group, so every administrator of the group can
read and write what another one wrote.

``mailroom init --group NAME`` shares a data folder (:func:`share`): it writes the
marker file ``SHARED-GROUP`` (the group's name), gives everything under the folder
that group and those modes. :func:`prepare_home` (when a Store opens) sets the process
umask to match (0o007 shared, 0o077 private), so what other libraries create follows
too. :func:`not_shared_right` lists what breaks the rule, for ``init`` and the doctor.
"""

from __future__ import annotations

import contextlib
import grp
import os
import stat
from dataclasses import dataclass
from pathlib import Path

MARKER = "SHARED-GROUP"
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700
GROUP_FILE, GROUP_DIR = 0o660, 0o2770


def is_shared(folder: Path) -> bool:
    """The folder is shared with its group: setgid and group read, write and enter."""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_ISGID) and mode & 0o070 == 0o070


def file_mode(folder: Path) -> int:
    """The mode of a new file in ``folder``."""
    return GROUP_FILE if is_shared(folder) else PRIVATE_FILE


def dir_mode(folder: Path) -> int:
    """The mode of a new folder in ``folder``."""
    return GROUP_DIR if is_shared(folder) else PRIVATE_DIR


def open_new(path: Path, flags: int, mode: int | None = None) -> int:
    """``os.open`` creating ``path`` with the mode of its folder (or ``mode``)."""
    chosen = file_mode(path.parent) if mode is None else mode
    fd = os.open(path, flags | os.O_CREAT, chosen)
    if chosen & 0o070:
        # The umask of this process may belong to another (private) data folder.
        with contextlib.suppress(OSError):
            os.fchmod(fd, chosen)
    return fd


def make_dir(path: Path) -> None:
    """``mkdir`` with the mode its parent gives; FileExistsError if it exists."""
    mode = dir_mode(path.parent)
    path.mkdir(mode=mode & 0o777)
    if mode & stat.S_ISGID:
        os.chmod(path, mode)  # Linux inherits setgid from the parent; other systems may not


def make_dirs(path: Path) -> None:
    """Like ``mkdir -p``: each missing folder gets the mode its parent gives."""
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            make_dir(folder)


def marked_group(home: Path) -> str | None:
    """The group named by ``init --group`` in ``home``, if any."""
    try:
        return (home / MARKER).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def prepare_home(home: Path) -> None:
    """Create the data folder if needed; the process umask follows its sharing.

    Shared is the marker's presence, not its content: an owner who is not in the group
    cannot read the marker, and must not make the folder private by opening it."""
    shared = (home / MARKER).exists() or marked_group(home) is not None
    os.umask(0o007 if shared else 0o077)
    home.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if not shared and home.stat().st_mode & 0o077:
        home.chmod(PRIVATE_DIR)


@dataclass(frozen=True)
class Wrong:
    path: Path
    why: str  # "group staff, not mailroom", "mode 600, not 660"


def not_shared_right(home: Path, group: str, *, limit: int = 20) -> list[Wrong]:
    """Files and folders under ``home`` (itself too) not in ``group`` with its modes."""
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        return [Wrong(home, f"the group {group} does not exist")]
    found: list[Wrong] = []
    for path, is_dir in _walk(home):
        try:
            st = os.lstat(path)
        except OSError:
            continue
        want = GROUP_DIR if is_dir else GROUP_FILE
        have = stat.S_IMODE(st.st_mode)
        if st.st_gid != gid:
            found.append(Wrong(path, f"group {_group_name(st.st_gid)}, not {group}"))
        elif have & want != want or have & 0o007:
            found.append(Wrong(path, f"mode {have:o}, not {want:o}"))
        if len(found) >= limit:
            break
    return found


def _walk(home: Path) -> list[tuple[Path, bool]]:
    out: list[tuple[Path, bool]] = [(home, True)]
    for root, dirs, files in os.walk(home):
        base = Path(root)
        out.extend((base / d, True) for d in dirs if not (base / d).is_symlink())
        out.extend((base / f, False) for f in files if not (base / f).is_symlink())
    return out


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def share(home: Path, group: str) -> list[Wrong]:
    """Share ``home`` with ``group``: marker, group and modes on everything under it.

    Returns what could not be changed (files of another owner, when not run as root).
    """
    gid = grp.getgrnam(group).gr_gid
    if marked_group(home) != group:
        (home / MARKER).write_text(group + "\n", encoding="utf-8")
    failed: list[Wrong] = []
    for path, is_dir in _walk(home):
        want = GROUP_DIR if is_dir else GROUP_FILE
        try:
            st = os.lstat(path)
            if st.st_gid == gid and stat.S_IMODE(st.st_mode) == want:
                continue  # right already: nothing to change (another owner's file too)
            os.chown(path, -1, gid, follow_symlinks=False)
            os.chmod(path, want)
        except OSError as exc:
            failed.append(Wrong(path, exc.strerror or "not allowed"))
    os.umask(0o007)
    return failed
