"""The user's key map: ``keymap.toml`` in the data folder or the config folder.

The file maps binding ids (see docs/keymap.md) to keys::

    "record.save" = "ctrl+s,f10"
    "pane.relations" = "f5"

Unknown ids and non-string values are refused with a message that names them, so
a typo does not silently leave a key unbound.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from store.errors import MailroomError

KEYMAP_FILE = "keymap.toml"


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


def parse_keymap(text: str, known_ids: set[str], where: str = KEYMAP_FILE) -> dict[str, str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KeymapError(
            f"The key map {where} is not valid TOML ({exc}).",
            field="keymap",
            value=where,
            fix='write one line per binding, e.g. "record.save" = "ctrl+s".',
        ) from None
    # A [keys] table is accepted too, for people who like sections.
    if set(data) == {"keys"} and isinstance(data["keys"], dict):
        data = data["keys"]
    keymap: dict[str, str] = {}
    for binding_id, keys in data.items():
        if binding_id not in known_ids:
            raise KeymapError(
                f"The key map {where} names an unknown binding {binding_id!r}.",
                field="keymap",
                value=binding_id,
                fix="use one of the ids listed in docs/keymap.md (or the help screen, F1).",
            )
        if not isinstance(keys, str) or not keys.strip():
            raise KeymapError(
                f"The key map {where} gives {binding_id!r} the value {keys!r}, not keys.",
                field=binding_id,
                value=keys,
                fix='give keys as a string, several separated by commas: "ctrl+s,f10".',
            )
        keymap[binding_id] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return keymap


def load_keymap(home: Path, known_ids: set[str]) -> tuple[dict[str, str], Path | None]:
    path = find_keymap(home)
    if path is None:
        return {}, None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeymapError(
            f"The key map {path} cannot be read ({exc.strerror}).",
            field="keymap",
            value=str(path),
            fix="fix its permissions or remove it.",
        ) from None
    return parse_keymap(text, known_ids, str(path)), path
