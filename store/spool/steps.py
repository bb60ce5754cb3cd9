"""What approval and recovery use of a batch: its folder and one step at a time.

:class:`store.spool.batch.Batch` calls :mod:`store.spool.approval` and
:mod:`store.spool.recovery` (``Batch.approve``, ``Batch.recover``); they take the batch
as this Protocol, so neither imports the class that calls it, and the three are no circle.
"""

from __future__ import annotations

from typing import Any, Protocol

from store.spool.layout import ItemRef


class SteppingBatch(Protocol):
    """A batch folder (:class:`store.spool.layout.BatchFolder`) that changes an item's
    state only by :meth:`advance`, and syncs a run of changes with :meth:`settle`."""

    id: str

    def info(self, *, fresh: bool = False) -> dict[str, Any]: ...

    def write_info(self, info: dict[str, Any]) -> None: ...

    def items(self, state: str, offset: int = 0, limit: int | None = None) -> list[ItemRef]: ...

    def find_item(self, name: str) -> str: ...

    def locate(self, item: str) -> ItemRef: ...

    def read(self, item: str, kind: str, state: str) -> bytes: ...

    def move(self, item: str, kind: str, src: str, dst: str, *, durable: bool = False) -> bool: ...

    def last_events(self) -> dict[str, dict[str, Any]]: ...

    def advance(
        self,
        item: str,
        from_state: str,
        to_state: str,
        event: dict[str, Any],
        *,
        durable: bool = True,
        kind: str = "email",
        event_first: bool = False,
    ) -> bool: ...

    def settle(self, *states: str) -> None: ...
