"""Damaged files in the data folder never stop Mailroom: a garbage batch.json, a bad key map.

A damaged batch is shown as damaged (with what to do) and left out of sending; the
other batches keep working. A key map that cannot be used gives a warning and the
default keys.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mailing.sending import send
from store.spool import Batch, DamagedBatchError, Spool, SpoolError
from store.store import Store
from tests.conftest import PYTHON, ROOT, cli_env
from tests.send_support import make_store, spool_batch
from tui.cli import main

GARBAGE: dict[str, bytes] = {
    "not-json": b"{this is not json",
    "not-utf8": b'{"type": "\xff\xfe"}',
    "a-list": b"[1, 2, 3]",
    "approvals-not-a-list": b'{"type": "sales_invoice", "approvals": "yes"}',
    "approval-without-items": b'{"approvals": [{"by": "bob", "items": ["x"]}]}',
    "items-not-entries": b'{"items": [1, 2]}',
}


def two_batches(home: Path, garbage: bytes) -> tuple[Store, Batch, Batch]:
    """A store with an outbox profile, one good approved batch and one damaged one."""
    store = make_store(home, {"system": "outbox"})
    good = spool_batch(store, 2)
    bad = spool_batch(store, 1)
    (bad.path / "batch.json").write_bytes(garbage)
    return store, good, bad


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_a_damaged_batch_says_why_and_the_others_work(tmp_path: Path, case: str) -> None:
    store, good, bad = two_batches(tmp_path / "home", GARBAGE[case])
    again = Spool(store.home).batch(bad.id)
    assert again.built and not again.complete
    assert again.damage and "batch.json" in again.damage
    with pytest.raises(DamagedBatchError, match=f"Batch {bad.id} is damaged") as exc:
        again.approved_hashes()
    assert "move the folder spool/" in str(exc.value)
    assert Spool(store.home).batch(good.id).complete


def test_batch_list_shows_the_damaged_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, good, bad = two_batches(tmp_path / "home", b"{garbage")
    assert main(["--home", str(store.home), "batch", "list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "2 approved" in lines[good.id]
    assert "damaged: batch.json is not valid JSON (line 1, column 2)" in lines[bad.id]
    assert f"move the folder spool/{bad.id} away or restore a backup" in lines[bad.id]

    assert main(["--home", str(store.home), "batch", "list", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[good.id]["damaged"] is None and rows[good.id]["complete"]
    assert "not valid JSON" in rows[bad.id]["damaged"] and not rows[bad.id]["complete"]
    assert rows[bad.id]["counts"] == {"approved": 1}


def test_batch_show_of_a_damaged_batch_is_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, _, bad = two_batches(tmp_path / "home", b"[1, 2]")
    assert main(["--home", str(store.home), "batch", "show", bad.id]) == 1
    captured = capsys.readouterr()
    assert f"batch {bad.id}: damaged: batch.json does not hold a batch" in captured.out
    assert "1 approved" in captured.out and "Traceback" not in captured.err


def test_send_skips_the_damaged_batch_and_sends_the_others(tmp_path: Path) -> None:
    store, good, bad = two_batches(tmp_path / "home", b"{garbage")
    report = send(store, "carol")
    assert report.count("sent") == 2
    assert {o.batch for o in report.outcomes} == {good.id}
    assert Spool(store.home).batch(bad.id).counts()["approved"] == 1  # untouched


def test_send_of_the_damaged_batch_by_id_is_refused_with_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, _, bad = two_batches(tmp_path / "home", b"{garbage")
    assert main(["--home", str(store.home), "send", bad.id]) == 2
    err = capsys.readouterr().err
    assert f"Batch {bad.id} is damaged: batch.json is not valid JSON" in err
    assert "Traceback" not in err


def test_mailroom_send_warns_about_the_damaged_batch(tmp_path: Path) -> None:
    """The real command line: the warning on stderr, the good batch sent, exit 0."""
    store, good, bad = two_batches(tmp_path / "home", b"{garbage")
    done = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(store.home), "send"],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 sent" in done.stdout
    assert f"warning: batch {bad.id} is damaged (batch.json is not valid JSON" in done.stderr
    assert f"move the folder spool/{bad.id} away or restore a backup" in done.stderr
    assert "Traceback" not in done.stderr
    assert Spool(store.home).batch(good.id).counts()["sent"] == 2


def test_the_queue_screen_lists_the_damaged_batch(tmp_path: Path) -> None:
    from screens.widgets.spool_batches import list_batches

    store, good, bad = two_batches(tmp_path / "home", b"{garbage")
    shown = {s.id: s for s in list_batches(store.home)}
    assert shown[good.id].complete and not shown[good.id].damaged
    assert not shown[bad.id].complete
    label = shown[bad.id].label()
    assert "damaged: batch.json is not valid JSON" in label and "approved 1" in label


# ---------------------------------------------------------------- the key map


BAD_KEYMAPS: dict[str, tuple[bytes, str]] = {
    "undecodable": (b'"record.save" = "\xff"\n', "is not UTF-8 text"),
    "invalid-toml": (b"record.save = \n", "is not valid TOML"),
    "unknown-action": (b'"record.sav" = "f10"\n', "unknown binding 'record.sav'"),
    "not-a-string": (b'"record.save" = ["f10"]\n', "not keys"),
}


@pytest.mark.parametrize("case", sorted(BAD_KEYMAPS))
def test_a_bad_keymap_warns_and_the_default_keys_are_used(tmp_path: Path, case: str) -> None:
    from tui.keymap import load_keymap

    raw, expected = BAD_KEYMAPS[case]
    home = tmp_path / "home"
    home.mkdir()
    (home / "keymap.toml").write_bytes(raw)
    warnings: list[str] = []
    keymap, path = load_keymap(home, {"record.save"}, warnings.append)
    assert keymap == {} and path == home / "keymap.toml"
    assert len(warnings) == 1
    assert expected in warnings[0] and str(home / "keymap.toml") in warnings[0]
    assert warnings[0].endswith("The default keys are used.")


async def test_the_app_starts_with_a_bad_keymap_and_says_so_on_screen(tmp_path: Path) -> None:
    from tests.functional.tui.helpers import SIZE, seed, wait_for
    from tui.cli import Context
    from tui.run import build_app

    home = tmp_path / "home"
    seed(Store(home))
    (home / "keymap.toml").write_bytes(b'"pane.relations" = "\xff\xfe"\n')
    app = build_app(Context(home=home, user="tester"))
    async with app.run_test(size=(120, 30)) as pilot:
        text = await wait_for(pilot, "Key map not used")
        assert "not UTF-8 text" in text
        await pilot.press("enter", "f5")  # the default key of the Relations pane
        await wait_for(pilot, "Relations:")
    del SIZE


def test_damaged_event_lines_and_side_cars_are_sentences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = make_store(tmp_path / "home", {"system": "outbox"})
    batch = spool_batch(store, 2)
    with open(batch.path / "events.jsonl", "ab") as fh:
        fh.write(b'[1, 2]\n"text"\n{"item": "00001-F1", "event": "x"\n')
    assert main(["--home", str(store.home), "batch", "show", batch.id]) == 0
    assert "00002-F2" in capsys.readouterr().out
    (batch.path / "meta" / "00001-F1.json").write_bytes(b"\x00garbage")
    assert main(["--home", str(store.home), "send", batch.id]) == 2
    err = capsys.readouterr().err
    assert f"Batch {batch.id} is damaged: the file meta/00001-F1.json" in err
    assert "Traceback" not in err


def test_a_side_car_or_message_that_is_a_symbolic_link_is_not_followed(tmp_path: Path) -> None:
    """Nobody makes links in a spool: one found there is not read through."""
    store = make_store(tmp_path / "home", {"system": "outbox"})
    batch = spool_batch(store, 2)
    first, second = (r.item for r in batch.items("approved"))
    secret = tmp_path / "elsewhere.json"
    secret.write_text('{"item": "x", "envelope": {"mail_from": "a@b.c", "rcpts": []}}')
    side_car = batch.path / "meta" / f"{first}.json"
    side_car.unlink()
    side_car.symlink_to(secret)
    with pytest.raises(SpoolError, match=f"is damaged: the file meta/{first}.json"):
        batch.meta(first)
    message = batch.file_of(second, "email", "approved")
    message.rename(tmp_path / "moved.eml")
    message.symlink_to(tmp_path / "moved.eml")
    with pytest.raises(SpoolError, match="is a symbolic link, which is not followed"):
        batch.read(second, "email", "approved")
    # with the side-car put back, the sender stops at the link with that sentence
    # (exit 2): nothing goes out through it
    side_car.unlink()
    side_car.write_bytes(json.dumps(batch.meta(second) | {"item": first}).encode())
    done = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(store.home), "--user", "alice", "send", batch.id],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "is a symbolic link, which is not followed" in done.stdout + done.stderr
    assert not list((store.home / "outbox").glob("*.eml"))
    assert batch.locate(second).state == "approved"
