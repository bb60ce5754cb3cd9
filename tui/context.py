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

    def need_data_folder(self) -> None:
        """Refuse a data folder that does not exist (the CLI checks it before a command
        runs; here for commands that read files of the folder without the Store)."""
        from store.errors import MailroomError
        from store.store import check_access

        if not self.home.is_dir():
            raise MailroomError(
                f"The data folder {self.home} does not exist; nothing was done.",
                field="home",
                value=str(self.home),
                fix=f"give the folder that holds your data with --home, or create it with "
                f"`mailroom --home {self.home} init`.",
            )
        check_access(self.home)

    def open_data_folder(self) -> None:
        """Open the data folder (made if new; the secrets file is bound to it)."""
        _ = self.store


def print_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, default=str))


def check_doc_type(value: str, what: str) -> str:
    """A document type given on the command line (``what``: the argument's name), or a
    sentence naming it and the types there are."""
    from mailing.errors import DocumentError
    from store.records import DOC_TYPES

    if value not in DOC_TYPES:
        raise DocumentError(
            f"{value!r} is not a document type.",
            field=what,
            value=value,
            fix=f"use one of {', '.join(DOC_TYPES)}.",
        )
    return value
