"""Snapshots of the main panes at 80x24 and 160x48 (nothing blinks, data is fixed).

Each snapshot is taken only after what it shows is on screen: the keys are pressed in a
``run_before`` that waits for a condition after each step, never for a fixed time (a
bare ``"_"`` in ``press`` is typed as an underscore by Textual 8, not a pause).

Update after an intended change with ``pytest tests/functional/tui/test_snapshots.py --snapshot-update``
and look at the SVGs in tests/functional/tui/__snapshots__/.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from store.store import Store
from tests.functional.tui.helpers import make_app, seed, settle, wait_for

SIZES = [(80, 24), (160, 48)]

Steps = list[tuple[str, str]]


def _app(tmp_path: Path) -> Any:
    home = tmp_path / "home"
    seed(Store(home, "tester"), relations=40)
    return make_app(home)


def _steps(steps: Steps) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Press each key, then wait until the text that key should bring is on screen."""

    async def run(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, "F2 ")
        for key, shown in steps:
            await pilot.press(key)
            await wait_for(pilot, shown)
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_profiles_pane(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    steps = _steps([("enter", "Profiles: OUTBOX")])
    assert snap_compare(_app(tmp_path), run_before=steps, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_relations_pane_with_receivers(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    steps = _steps(
        [("f5", "C00001"), ("enter", "Relations: HOLT/C00000"), ("ctrl+t", "Who would receive")]
    )
    assert snap_compare(_app(tmp_path), run_before=steps, terminal_size=size)


def test_templates_preview(snap_compare: Any, tmp_path: Path) -> None:
    steps = _steps(
        [("f3", "INV-NL"), ("enter", "Templates: INV-NL"), ("ctrl+t", "Subject: Factuur")]
    )
    assert snap_compare(_app(tmp_path), run_before=steps)


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), run_before=_steps([("f1", "Esc or F1: close")]))
