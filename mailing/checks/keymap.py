"""Where the UI tells restore how to check a key map (mailing never imports the UI).

Kept apart from ``mailing.backup`` so that registering costs the TUI's start-up nothing.
"""

from __future__ import annotations

from collections.abc import Callable

KeymapCheck = Callable[[bytes], list[str]]
_registered: list[KeymapCheck] = []


def register_keymap_check(check: KeymapCheck) -> None:
    """Let restore check ``keymap.toml`` as the application will read it."""
    _registered[:] = [check]


def registered_keymap_check() -> KeymapCheck | None:
    return _registered[0] if _registered else None
