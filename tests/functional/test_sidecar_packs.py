"""Side-cars packed per chunk (store/spool/sidecars.py): a build writes one pack of
side-cars per chunk of items, not one file per item; batches in the layout before
(``meta/<item>.json`` each) are read, sent and archived the same; a side-car written
again later wins over the pack; a damaged pack is a sentence naming the batch, the
file and the fix (exit 2); a build killed at any point leaves no batch that looks
complete and no item without its side-car."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from mailing.batches import build_batch
from mailing.config import ConfigSnapshot, load_documents
from mailing.demo import DEMO_USER, load_demo
from mailing.sending import SendOptions, send
from store.errors import NotFoundError
from store.records import Document, Profile
from store.spool import BATCH_FILE, META_DIR, Batch, Spool, SpoolError
from store.spool.files import json_bytes
from store.store import Store
from tests.conftest import PYTHON, cli_env
from tests.smtp_server import SMTPTestServer
from tui.cli import main


def _mailable(store: Store) -> list[Document]:
    cfg = ConfigSnapshot.load(store)
    return [
        d
        for d in load_documents(store)
        if d.type == "sales_invoice"
        and "sales_invoice" in cfg.relations[(d.administration, d.relation)].opt_in
    ]


def _store(tmp_path: Path, server: SMTPTestServer | None = None) -> Store:
    store = Store(tmp_path / "home", DEMO_USER)
    load_demo(store)
    if server is not None:
        fields = server.profile_fields(tmp_path)
        with store.transaction() as tx:
            for p in tx.all(Profile):
                tx.put(Profile.parse({**p.dump(), **fields, "outbox_dir": ""}))
    return store


def _copies(store: Store, n: int, day: str = "2031-05-07") -> list[Document]:
    import datetime as dt

    base = _mailable(store)
    date = dt.date.fromisoformat(day)
    return [
        base[i % len(base)].model_copy(update={"number": f"K{i:05d}", "date": date})
        for i in range(n)
    ]


def _to_old_layout(batch: Batch) -> None:
    """The batch as the build wrote it before packs: one ``meta/<item>.json`` each (the
    same JSON, ``json_bytes`` of the side-car), no pack."""
    metas = {item: batch.meta(item) for item in batch.all_items()}
    meta_dir = batch.path / META_DIR
    for name in os.listdir(meta_dir):
        os.unlink(meta_dir / name)
    for item, meta in metas.items():
        (meta_dir / f"{item}.json").write_bytes(json_bytes(meta))


def test_a_build_packs_side_cars_per_chunk_and_reads_each_back(tmp_path: Path) -> None:
    store = _store(tmp_path)
    docs = _copies(store, 70)
    batch = build_batch(store, DEMO_USER, "sales_invoice", documents=docs, workers=2)
    info = batch.info(fresh=True)
    items = [s["item"] for s in info["items"]]
    names = sorted(os.listdir(batch.path / META_DIR))
    # 70 items in chunks of 32: three packs, no file per item
    assert names == ["pack-00001-00032.jsonl", "pack-00033-00064.jsonl", "pack-00065-00070.jsonl"]
    fresh = Spool(store.home).batch(batch.id)
    assert fresh.all_items() == items
    for s in info["items"]:
        meta = fresh.meta(s["item"])
        assert meta["item"] == s["item"] and meta["document"]["number"] == s["number"]
        assert meta["kind"] == s["kind"]
        if s["kind"] == "email":
            assert meta["size"] == len(fresh.read(s["item"], "email", "draft"))
    assert fresh.find_item(docs[40].number) == items[40]
    assert fresh.has_item(items[0]) and not fresh.has_item("00001-NOPE")
    with pytest.raises(NotFoundError, match="has no item '00001-NOPE'"):
        fresh.meta("00001-NOPE")

    # A side-car written again (as the build does for a document sent before) wins,
    # for a reader that had read the pack before too.
    meta = fresh.meta(items[3]) | {"sent_before": {"batch": "x"}}
    fresh.write_meta(items[3], meta)
    assert fresh.meta(items[3])["sent_before"] == {"batch": "x"}
    assert Spool(store.home).batch(batch.id).meta(items[3])["sent_before"] == {"batch": "x"}
    assert fresh.all_items() == items  # listed once, not twice

    # the same side-cars as the build wrote before packs (same keys and values)
    reader = Spool(store.home).batch(batch.id)
    before = {i: reader.meta(i) for i in items}
    _to_old_layout(reader)
    old = Spool(store.home).batch(batch.id)
    assert old.all_items() == items
    assert {i: old.meta(i) for i in items} == before


def test_a_batch_in_the_old_layout_is_sent_and_archived(tmp_path: Path) -> None:
    """A spool may hold batches built by the version before (or restored from a backup):
    one side-car file per item. They are shown, approved, sent and archived."""
    with SMTPTestServer(security="none") as server:
        store = _store(tmp_path, server)
        numbers = [d.number for d in _mailable(store)][:12]
        batch = build_batch(store, DEMO_USER, "sales_invoice", numbers=numbers, workers=1)
        _to_old_layout(batch)
        assert not [n for n in os.listdir(batch.path / META_DIR) if n.startswith("pack-")]
        assert main(["--home", str(store.home), "batch", "show", batch.id]) == 0
        old = Spool(store.home).batch(batch.id)
        old.approve(None, "boss")
        report = send(store, "carol", batch.id, SendOptions())
        sent = old.counts()["sent"]
        assert report.count("sent") == sent > 0, report.summary()
        got = {m.rcpt_tos[0] for m in server.messages}
    for ref in old.items("sent"):
        assert old.meta(ref.item)["envelope"]["rcpts"][0] in got
    records = list((store.home / "archive").rglob("record.json"))
    assert len(records) == sent


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("cut", "cut short, or not a pack of side-cars"),
        ("garbage", "not valid JSON (cut short, or not a pack)"),
        ("link", "a symbolic link, which is not followed"),
    ],
)
def test_a_damaged_pack_is_a_sentence_naming_batch_file_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, says: str
) -> None:
    store = _store(tmp_path)
    numbers = [d.number for d in _mailable(store)][:12]
    batch = build_batch(store, DEMO_USER, "sales_invoice", numbers=numbers, workers=1)
    batch.approve(None, "boss")
    pack = sorted((batch.path / META_DIR).glob("pack-*"))[0]
    raw = pack.read_bytes()
    if damage == "cut":
        pack.write_bytes(raw[: raw.index(b"\n") + 1])  # the names' line only
    elif damage == "garbage":
        pack.write_bytes(b"\x00garbage")
    else:
        moved = tmp_path / "elsewhere.jsonl"
        pack.rename(moved)
        pack.symlink_to(moved)
    assert main(["--home", str(store.home), "send", batch.id]) == 2
    err = capsys.readouterr().err
    assert f"Batch {batch.id} is damaged: the file {META_DIR}/{pack.name}" in err
    assert says in err
    assert f"move the folder spool/{batch.id} away or restore a backup" in err
    assert "Traceback" not in err
    first = Spool(store.home).batch(batch.id)
    with pytest.raises(SpoolError, match=f"the file {META_DIR}/{pack.name}"):
        first.meta(first.all_items()[0] if damage == "cut" else "00001-x")


def _batch_folders(home: Path) -> list[Path]:
    root = home / "spool"
    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _item_files(folder: Path) -> int:
    n = 0
    for state in ("draft", "print", "failed"):
        with contextlib.suppress(FileNotFoundError):  # made just after the batch folder
            n += len(os.listdir(folder / state))
    return n


def test_a_build_killed_at_any_point_leaves_nothing_that_looks_complete(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put_many(_copies(store, 150, "2031-05-08"))
    home = store.home
    cmd = [PYTHON, "-m", "tui", "--home", str(home), "--user", DEMO_USER, "batch", "create"]
    cmd += ["--type", "sales_invoice", "--from", "2031-05-08", "--to", "2031-05-08"]
    packs_seen = 0
    for n_files in (1, 20, 60, 110, 140):  # kill once this many item files exist
        before = _batch_folders(home)
        proc = subprocess.Popen(
            cmd,
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # the command and its worker processes, killed at once
        )
        folder: Path | None = None
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            new = [f for f in _batch_folders(home) if f not in before]
            folder = new[0] if new else None
            if folder is not None and _item_files(folder) >= n_files:
                break
            time.sleep(0.005)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert folder is not None
        batch = Spool(home).batch(folder.name)
        if (folder / BATCH_FILE).exists():  # it finished before the kill: whole
            assert len(batch.all_items()) == 150
            continue
        assert not batch.complete
        # every pack there is whole, and no item file is without its side-car
        for name in os.listdir(folder / META_DIR):
            if name.startswith("pack-"):
                packs_seen += 1
                lines = (folder / META_DIR / name).read_bytes().split(b"\n")
                listed = json.loads(lines[0])["items"]
                assert [json.loads(line)["item"] for line in lines[1:-1]] == listed
        for state in ("draft", "print", "failed"):
            for ref in batch.items(state):
                assert batch.meta(ref.item)["item"] == ref.item
        assert main(["--home", str(home), "batch", "approve", folder.name]) == 2
    assert packs_seen > 0
    # an unfinished batch holds no document back: the next build takes all 150
    import datetime as dt

    day = dt.date(2031, 5, 8)
    whole = build_batch(store, DEMO_USER, "sales_invoice", date_from=day, date_to=day)
    assert len(whole.all_items()) == 150 and whole.complete


def test_a_backup_restores_packed_and_old_layout_batches_alike(tmp_path: Path) -> None:
    store = _store(tmp_path)
    numbers = [d.number for d in _mailable(store)]
    packed = build_batch(store, DEMO_USER, "sales_invoice", numbers=numbers[:6], workers=1)
    old = build_batch(store, DEMO_USER, "sales_invoice", numbers=numbers[6:12], workers=1)
    _to_old_layout(old)
    metas = {b.id: {i: b.meta(i) for i in b.all_items()} for b in (packed, old)}
    archive = tmp_path / "nightly.tar.gz"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-m", "tui", *args], env=cli_env(), capture_output=True, text=True
        )

    made = run("--home", str(store.home), "backup", "create", str(archive))
    assert made.returncode == 0, made.stderr
    other = tmp_path / "other"
    assert run("--home", str(other), "init").returncode == 0
    restored = run("--home", str(other), "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    for batch_id, want in metas.items():
        batch = Spool(other).batch(batch_id)
        assert batch.complete
        assert {i: batch.meta(i) for i in batch.all_items()} == want
