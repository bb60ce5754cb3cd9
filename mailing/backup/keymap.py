"""Checking the key map in a backup, with the checker the UI registers."""

from __future__ import annotations

import tomllib

from mailing.backup.layout import KEYMAP_FILE
from mailing.checks.keymap import KeymapCheck, register_keymap_check, registered_keymap_check

# What checks the key map of a backup: the UI registers its own (tui.keymap, which knows
# the binding ids); without one, the file must be text and TOML that gives every
# binding a string of keys.
__all__ = ["KeymapCheck", "register_keymap_check"]


def _basic_keymap_problems(raw: bytes) -> list[str]:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return ["it is not UTF-8 text"]
    except tomllib.TOMLDecodeError as exc:
        return [f"it is not valid TOML ({exc})"]
    if set(data) == {"keys"} and isinstance(data["keys"], dict):
        data = data["keys"]
    return [
        f"it gives {binding!r} the value {keys!r}, not keys"
        for binding, keys in data.items()
        if not isinstance(keys, str) or not [k for k in keys.split(",") if k.strip()]
    ]


def _keymap_problems(raw: bytes) -> list[str]:
    check = registered_keymap_check() or _basic_keymap_problems
    fix = 'Fix: correct it (one line per binding, e.g. "record.save" = "ctrl+s"), or remove it.'
    return [f"{KEYMAP_FILE}: {p.rstrip('.')}. {fix}" for p in check(raw)]
