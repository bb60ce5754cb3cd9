"""What every ``mailroom`` command gets (``Context``) and how it prints JSON.

A module of its own so that the command modules, the CLI that loads them and the
app all import it, and none of them imports another just for these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.store import Store


@dataclass
class Context:
    """What every command gets: where the data is and who is working."""

    home: Path
    user: str
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            from store.store import Store

            self._store = Store(self.home, self.user)
        return self._store

    def open_data_folder(self) -> None:
        """Open the data folder (made if new; the secrets file is bound to it)."""
        _ = self.store


def print_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, default=str))
