"""Snapshots of the main panes at 80x24 and 160x48 (nothing blinks, data is fixed).

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs in tests/tui/__snapshots__/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from store.store import Store
from tests.tui.helpers import make_app, seed

SIZES = [(80, 24), (160, 48)]


def _app(tmp_path: Path) -> Any:
    home = tmp_path / "home"
    seed(Store(home, "tester"), relations=40)
    return make_app(home)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_profiles_pane(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(_app(tmp_path), press=["enter", "_"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_relations_pane_with_receivers(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    assert snap_compare(
        _app(tmp_path), press=["f5", "_", "enter", "ctrl+t", "_"], terminal_size=size
    )


def test_templates_preview(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), press=["f3", "_", "enter", "ctrl+t", "_"])


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), press=["f1", "_"])
