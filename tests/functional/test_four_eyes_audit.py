"""Four eyes (``approval: other-user``) and the audit log written by the one door."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailing.batches import build_batch
from mailing.changes import ChangeRefused, change_items, save_settings, set_sending_paused
from mailing.demo import load_demo
from store.records import SystemSettings
from store.store import Store
from tui.cli import main

NUMBERS = ["F20260001", "F20260002"]


def _office(home: Path) -> tuple[Store, Store]:
    alice = Store(home, "alice")
    load_demo(alice)
    bob = Store(home, "bob")
    return alice, bob


def _settings(store: Store, approval: str) -> None:
    system = store.system()
    save_settings(
        store,
        store.user,
        system_profile=system.profile,
        admin_profiles={},
        full_name="",
        personal_profile=None,
        signature="",
        approval=approval,
    )


def test_who_built_may_not_approve_another_may_and_the_audit_shows_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    alice, bob = _office(home)
    _settings(bob, "other-user")
    assert alice.system().approval == "other-user"
    batch = build_batch(alice, "alice", "sales_invoice", administration="HOLT", numbers=NUMBERS)
    drafts = batch.counts()["draft"]
    assert drafts >= 1

    with pytest.raises(ChangeRefused) as refused:
        change_items(alice, "alice", batch.id, "approve", None)
    text = str(refused.value)
    assert "built by alice" in text and "four eyes" in text
    assert "bob" in text  # who may: the other administrators the data folder knows
    assert batch.counts()["approved"] == 0  # nothing moved

    done, skipped = change_items(bob, "bob", batch.id, "approve", None)
    assert len(done) == drafts and skipped == []
    assert batch.counts()["approved"] == drafts

    code = main(["--home", str(home), "audit", "--json"])
    assert code == 0
    log = json.loads(capsys.readouterr().out)
    actions = [(e["user"], e["action"], e["what"]) for e in log]
    assert ("bob", "save settings", "system settings") in actions
    assert ("bob", "approve", f"batch {batch.id}") in actions
    setting = next(e for e in log if e["action"] == "save settings")
    assert setting["before"]["approval"] == "same-user"
    assert setting["after"]["approval"] == "other-user"
    approve = next(e for e in log if e["action"] == "approve")
    assert approve["after"]["count"] == drafts
    # Alice's refused approval changed nothing, so it is no entry of the log.
    assert not any(u == "alice" and a == "approve" for u, a, _ in actions)

    # The lines for people, and --since.
    assert main(["--home", str(home), "audit"]) == 0
    out = capsys.readouterr().out
    assert "bob" in out and "approve" in out and f"batch {batch.id}" in out
    assert main(["--home", str(home), "audit", "--since", "2999-01-01"]) == 0
    assert "Nothing in the audit log since" in capsys.readouterr().out
    assert main(["--home", str(home), "audit", "--since", "last tuesday"]) == 2
    assert "is not a date" in capsys.readouterr().err


def test_same_user_lets_the_builder_approve_and_every_change_is_logged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    alice, _ = _office(home)
    batch = build_batch(alice, "alice", "sales_invoice", administration="HOLT", numbers=NUMBERS)
    done, _ = change_items(alice, "alice", batch.id, "approve", None)
    assert done
    change_items(alice, "alice", batch.id, "hold", None)
    change_items(alice, "alice", batch.id, "cancel", None)
    set_sending_paused(alice, True, "month end")
    from mailing.changes.audit import entries

    seen = [(e.user, e.action) for e in entries(home)]
    for action in ("approve", "hold", "cancel", "pause sending"):
        assert ("alice", action) in seen
    paused = [e for e in entries(home) if e.action == "pause sending"][0]
    assert paused.before == {"sending_paused": False, "paused_reason": ""}
    assert paused.after == {"sending_paused": True, "paused_reason": "month end"}
    assert (home / "audit.log").stat().st_mode & 0o777 == 0o600


def test_test_mode_is_logged_and_the_doctor_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    _office(home)
    args = ["--home", str(home), "--user", "alice"]
    assert main([*args, "sending", "redirect", "test@office.example"]) == 0
    capsys.readouterr()
    assert main([*args, "doctor", "--offline"]) == 1
    out = capsys.readouterr().out
    assert "every message goes to test@office.example only" in out
    assert "mailroom sending redirect off" in out
    assert main([*args, "sending", "redirect", "off"]) == 0
    capsys.readouterr()
    assert main([*args, "audit", "--json"]) == 0
    log = json.loads(capsys.readouterr().out)
    turns = [(e["user"], e["before"], e["after"]) for e in log if e["action"] == "test mode"]
    assert turns == [("alice", None, "test@office.example"), ("alice", "test@office.example", None)]


def test_an_unknown_approval_mode_is_refused_naming_the_fix(tmp_path: Path) -> None:
    store = Store(tmp_path / "home", "alice")
    load_demo(store)
    with pytest.raises(ChangeRefused) as refused:
        _settings(store, "whoever")
    assert "same-user" in str(refused.value) and "other-user" in str(refused.value)
    assert store.system().approval == "same-user"
    assert isinstance(store.system(), SystemSettings)


def test_user_is_the_login_and_another_name_only_in_a_demo_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from store.store import default_user

    home = tmp_path / "office"
    Store(home, default_user())
    code = main(["--home", str(home), "--user", "eve-unknown", "audit"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--user eve-unknown is refused" in err and f"logged in as {default_user()}" in err
    assert "leave out --user" in err
    assert main(["--home", str(home), "--user", default_user(), "audit"]) == 0
    capsys.readouterr()
    # The README's demo: `mailroom --home demo-home --user demo demo` on a new folder.
    demo = tmp_path / "demo-home"
    assert main(["--home", str(demo), "--user", "demo", "demo", "--no-tui"]) == 0
    assert main(["--home", str(demo), "--user", "eve", "batch", "list"]) == 0
