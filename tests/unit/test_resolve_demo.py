"""The demo installation exercises every sender level and every recipient rule (issue 6).

The personal level belongs to a user, so it shows for the demo user (who has
personal settings) and the system level for anyone else: ``mailroom resolve --all``
is run as both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailing.demo import DEMO_USER, load_demo
from mailing.resolve import LEVELS, RULES
from store.store import Store
from tui.cli import main


def test_resolve_all_over_the_demo_shows_every_level_and_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_demo(Store(tmp_path, DEMO_USER))
    levels: set[str] = set()
    rules: set[str] = set()
    reasons: set[str] = set()
    for user in (DEMO_USER, "someone-else"):
        code = main(["--home", str(tmp_path), "--user", user, "resolve", "--all", "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        for r in json.loads(out):
            levels.add(r["sender"]["level"])
            rules.add(r["recipients"]["rule"])
            if r["reason"]:
                reasons.add(r["reason"])
    assert levels == set(LEVELS)
    assert rules == set(RULES)
    assert reasons == {"not_opted_in", "no_address"}
