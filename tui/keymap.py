"""The user's key map: ``keymap.toml`` in the data folder or the config folder.

The file maps binding ids (see docs/keymap.md) to keys::

    "record.save" = "ctrl+s,f10"
    "pane.relations" = "f5"

Unknown ids and non-string values are refused with a message that names them, so
a typo does not silently leave a key unbound. A key map that cannot be used never
stops Mailroom: :func:`load_keymap` says what is wrong and the default keys are
used. A restore refuses a backup whose key map cannot be used (this module
registers :func:`check_keymap` with ``mailing.backup``).
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from mailing.checks.keymap import register_keymap_check
from store.errors import MailroomError

KEYMAP_FILE = "keymap.toml"
FIX = 'write one line per binding, e.g. "record.save" = "ctrl+s".'


class KeymapError(MailroomError):
    """The key map file cannot be used."""


def keymap_paths(home: Path) -> list[Path]:
    """Where a key map is looked for, first found wins."""
    paths = [home / KEYMAP_FILE]
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    paths.append(Path(xdg) / "mailroom" / KEYMAP_FILE)
    return paths


def find_keymap(home: Path) -> Path | None:
    for path in keymap_paths(home):
        if path.is_file():
            return path
    return None


def _errors(
    text: str, known_ids: Collection[str] | None, where: str
) -> tuple[dict[str, str], list[KeymapError]]:
    """The key map in ``text`` and every problem in it (ids unchecked when not known)."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return {}, [
            KeymapError(
                f"The key map {where} is not valid TOML ({exc}).",
                field="keymap",
                value=where,
                fix=FIX,
            )
        ]
    # A [keys] table is accepted too, for people who like sections.
    if set(data) == {"keys"} and isinstance(data["keys"], dict):
        data = data["keys"]
    keymap: dict[str, str] = {}
    errors: list[KeymapError] = []
    for binding_id, keys in data.items():
        if known_ids is not None and binding_id not in known_ids:
            errors.append(
                KeymapError(
                    f"The key map {where} names an unknown binding {binding_id!r}.",
                    field="keymap",
                    value=binding_id,
                    fix="use one of the ids listed in docs/keymap.md (or the help screen, F1).",
                )
            )
        elif not isinstance(keys, str) or not [k for k in keys.split(",") if k.strip()]:
            errors.append(
                KeymapError(
                    f"The key map {where} gives {binding_id!r} the value {keys!r}, not keys.",
                    field=binding_id,
                    value=keys,
                    fix='give keys as a string, several separated by commas: "ctrl+s,f10".',
                )
            )
        else:
            keymap[binding_id] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return keymap, errors


def parse_keymap(text: str, known_ids: set[str], where: str = KEYMAP_FILE) -> dict[str, str]:
    """The key map in ``text``; KeymapError names the first problem."""
    keymap, errors = _errors(text, known_ids, where)
    if errors:
        raise errors[0]
    return keymap


def read_keymap(path: Path, known_ids: set[str]) -> dict[str, str]:
    """The key map in the file ``path``; KeymapError when it cannot be used."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeymapError(
            f"The key map {path} cannot be read ({exc.strerror or exc}).",
            field="keymap",
            value=str(path),
            fix="fix its permissions or remove it.",
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KeymapError(
            f"The key map {path} is not UTF-8 text.",
            field="keymap",
            value=str(path),
            fix="save it as UTF-8 text, " + FIX,
        ) from None
    return parse_keymap(text, known_ids, str(path))


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def load_keymap(
    home: Path, known_ids: set[str], warn: Callable[[str], None] | None = None
) -> tuple[dict[str, str], Path | None]:
    """The user's key map, or the default keys ({}) with a warning when it cannot be used.

    The warning (default: on stderr, before the TUI starts) names the file, the
    problem and the fix; a bad key map never stops Mailroom.
    """
    path = find_keymap(home)
    if path is None:
        return {}, None
    try:
        return read_keymap(path, known_ids), path
    except KeymapError as exc:
        (warn or _warn)(f"{exc} The default keys are used.")
        return {}, path


def check_keymap(raw: bytes, known_ids: Collection[str] | None = None) -> list[str]:
    """Every problem of a key map's bytes, as restore reports them (``it is not ...``)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ["it is not UTF-8 text"]
    if known_ids is None:
        from tui.panes import all_binding_ids

        known_ids = all_binding_ids()
    _, errors = _errors(text, known_ids, KEYMAP_FILE)
    prefix = f"The key map {KEYMAP_FILE} "
    return ["it " + e.message.removeprefix(prefix).rstrip(".") for e in errors]


register_keymap_check(check_keymap)
