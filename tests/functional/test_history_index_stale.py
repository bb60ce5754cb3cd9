"""The index of sends when it is out of date: a file of it removed, damaged or older than
the spool, a batch made or sent by another process after the index was written, and
processes asking at the same time. However stale, it never makes a sent document look
unsent (it would be sent twice) nor an unsent one sent (it would be left out)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from mailing.batches import INDEX_DIR, document_history, document_states
from mailing.batches.history_index import shard_of
from store.spool import Batch, Spool
from tests.unit.test_history_index import key, make_batch

ROOT = Path(__file__).resolve().parents[2]


def send(home: Path, batch: Batch, number: str) -> None:
    """What `mailroom send` does to one approved message: claim it, then sent."""
    b = Spool(home).batch(batch.id)
    item = b.find_item(number)
    assert b.advance(item, "approved", "sending", {"event": "claimed"})
    mid = f"<{number}@a.example>"
    sent = {"event": "sent", "message_id": mid, "accepted": ["c@x.example"]}
    assert b.advance(item, "sending", "sent", sent, event_first=True)
    b.close()


def sent_numbers(home: Path, numbers: list[str]) -> set[str]:
    h = document_history(home, keys=[key(n) for n in numbers])
    return {n for n in numbers if h.last_sent(key(n)) is not None}


def child(code: str, home: Path) -> subprocess.Popen[str]:
    """Another Mailroom process working on the same data folder."""
    script = "import sys\nfrom pathlib import Path\nhome = Path(sys.argv[1])\n"
    script += textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", script, str(home)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def test_index_files_removed_damaged_or_older_than_the_spool_never_change_the_answer(
    tmp_path: Path,
) -> None:
    home = tmp_path / "h"
    folder = home / "spool" / INDEX_DIR
    make_batch(home, ["F1"], "sent", at="2026-10-01T10:00:00")
    waiting = make_batch(home, ["G1", "G2"], "approved")
    assert sent_numbers(home, ["F1", "G1", "G2"]) == {"F1"}
    old_shard = (folder / f"shard-{shard_of('G1')}.json").read_bytes()
    old_batches = (folder / "batches.json").read_bytes()
    send(home, waiting, "G1")
    assert sent_numbers(home, ["F1", "G1", "G2"]) == {"F1", "G1"}
    # The shard file of G1 put back as it was before the send: its signature is the
    # batch's old one, so the batch is read again.
    (folder / f"shard-{shard_of('G1')}.json").write_bytes(old_shard)
    assert sent_numbers(home, ["G1", "G2"]) == {"G1"}
    assert document_states(home, [key("G1"), key("G2")]) == {
        key("G1"): ("sent", waiting.id),
        key("G2"): ("in a batch", waiting.id),
    }
    # A shard file removed, then one damaged, with batches.json intact.
    (folder / f"shard-{shard_of('F1')}.json").unlink()
    assert sent_numbers(home, ["F1", "G1"]) == {"F1", "G1"}
    for shard in folder.glob("shard-*.json"):
        shard.write_bytes(b'{"damaged": ')
    assert sent_numbers(home, ["F1", "G1", "G2"]) == {"F1", "G1"}
    # A shard that parses but lost its batches (written by a version that kept none).
    for shard in folder.glob("shard-*.json"):
        shard.write_bytes(b"{}")
    assert sent_numbers(home, ["F1", "G1", "G2"]) == {"F1", "G1"}
    # batches.json as it was before: the batch made since is found by its stamp.
    later = make_batch(home, ["G3"], "sent", at="2026-12-01T10:00:00")
    (folder / "batches.json").write_bytes(old_batches)
    h = document_history(home, keys=[key("G3"), key("G2")])
    last = h.last_sent(key("G3"))
    assert last is not None and last.batch == later.id
    assert h.open[key("G2")][0] == waiting.id
    # batches.json damaged, then removed, with the shard files intact.
    (folder / "batches.json").write_bytes(b"\x00\xff")
    assert sent_numbers(home, ["F1", "G1", "G2", "G3"]) == {"F1", "G1", "G3"}
    (folder / "batches.json").unlink()
    assert sent_numbers(home, ["F1", "G1", "G2", "G3"]) == {"F1", "G1", "G3"}
    # An index of an older layout (version 2): rebuilt.
    (folder / "batches.json").write_text(json.dumps({"version": 2, "batches": {}}))
    assert sent_numbers(home, ["F1", "G1", "G2", "G3"]) == {"F1", "G1", "G3"}
    # Everything gone at once.
    shutil.rmtree(folder)
    assert sent_numbers(home, ["F1", "G1", "G2", "G3"]) == {"F1", "G1", "G3"}


def test_a_removed_batch_is_forgotten_and_a_cancelled_message_counts_as_unsent(
    tmp_path: Path,
) -> None:
    home = tmp_path / "h"
    first = make_batch(home, ["F1", "F2"], "sent", at="2026-10-01T10:00:00")
    second = make_batch(home, ["F3"], "draft")
    assert sent_numbers(home, ["F1", "F2"]) == {"F1", "F2"}
    Spool(home).batch(second.id).transition(["F3"], ("draft",), "cancelled", "cancel", "b")
    assert document_history(home, keys=[key("F3")]).open == {}
    shutil.rmtree(first.path)
    assert sent_numbers(home, ["F1", "F2"]) == set()
    assert document_states(home) == {}


def test_a_batch_made_or_sent_by_another_process_after_the_index_was_written_is_seen(
    tmp_path: Path,
) -> None:
    home = tmp_path / "h"
    make_batch(home, ["F1"], "sent", at="2026-10-01T10:00:00")
    waiting = make_batch(home, ["G1"], "approved")
    assert sent_numbers(home, ["F1", "G1", "G2"]) == {"F1"}
    assert (home / "spool" / INDEX_DIR / "batches.json").exists()
    # Another process makes a batch that sent G2, and sends G1 from the waiting one.
    other = child(
        f"""
        from store.spool import Spool
        from tests.unit.test_history_index import make_batch
        from tests.functional.test_history_index_stale import send
        make_batch(home, ["G2"], "sent", at="2026-12-01T10:00:00")
        send(home, Spool(home).batch({waiting.id!r}), "G1")
        """,
        home,
    )
    finished(other)
    assert sent_numbers(home, ["F1", "G1", "G2"]) == {"F1", "G1", "G2"}


def test_processes_asking_while_another_makes_batches_see_every_batch_finished_before(
    tmp_path: Path,
) -> None:
    """One process makes twelve batches, each sending one document, and says after
    each that it is finished; two others ask about all twelve over and over, each
    noting how many were finished before it asked: every one of those is sent."""
    home = tmp_path / "h"
    make_batch(home, ["F1"], "sent", at="2026-10-01T10:00:00")
    done = tmp_path / "done"
    done.write_text("0")
    maker = child(
        f"""
        from tests.unit.test_history_index import make_batch
        done = Path({str(done)!r})
        for i in range(1, 13):
            make_batch(home, [f"G{{i:03d}}"], "sent", at="2026-12-01T10:00:00")
            tmp = done.with_suffix(".tmp")
            tmp.write_text(str(i))
            tmp.replace(done)
        """,
        home,
    )
    ask = f"""
        from mailing.batches import document_history
        done = Path({str(done)!r})
        keys = [("A", "sales_invoice", f"G{{i:03d}}") for i in range(1, 13)]
        while True:
            finished = int(done.read_text())
            h = document_history(home, keys=keys)
            sent = [i for i in range(1, 13) if h.last_sent(keys[i - 1])]
            missing = [i for i in range(1, finished + 1) if i not in sent]
            assert not missing, (finished, missing)
            assert h.last_sent(("A", "sales_invoice", "F1")) is None  # not asked about
            if finished == 12:
                print("all twelve")
                break
        """
    askers = [child(ask, home) for _ in range(2)]
    finished(maker)
    for asker in askers:
        assert finished(asker).strip() == "all twelve"
    assert sent_numbers(home, ["F1"] + [f"G{i:03d}" for i in range(1, 13)]) == {"F1"} | {
        f"G{i:03d}" for i in range(1, 13)
    }


def test_processes_building_the_index_at_the_same_time_agree(tmp_path: Path) -> None:
    home = tmp_path / "h"
    for year in range(4):
        numbers = [f"H{i:06d}" for i in range(year * 300 + 1, year * 300 + 301)]
        make_batch(home, numbers, "sent", at=f"202{year}-06-01T10:00:00")
    make_batch(home, ["N001", "N002"], "draft")
    code = """
        from mailing.batches import document_states
        states = document_states(home)
        print(len(states), sum(1 for s, _ in states.values() if s == "sent"))
        """
    procs = [child(code, home) for _ in range(3)]
    answers = {finished(p).strip() for p in procs}
    assert answers == {"1202 1200"}
    states = document_states(home)
    assert len(states) == 1202 and states[key("N001")][0] == "in a batch"
