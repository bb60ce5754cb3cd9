"""The Queue pane: open a batch and move to its last message, 10,000 messages vs 100.

The spool is made from a real one: 24 demo invoices are built by the batch build,
approved and sent by the send engine (the demo's profiles write to an outbox
folder), so their side-cars (~2.8 KB: resolution with its trace, recipients,
fingerprints, attachments) and events (built, approved, claimed, attempt, sent:
~4 a message) are what a real send writes. The 100- and 10,000-message batches are
those side-cars and event lines repeated under new item names and numbers; the
messages are hard links to the real ones; ``batch.json`` lists every item with the
summary the build writes (number, size, recipients, profile). Half are sent, a quarter approved, a few
failed, the rest drafts, so every state folder is read. A headless app at 80x24
shows the Queue pane, opens the batch (Enter) and presses End (the last message)
until it is highlighted. Runs alternate between the two sizes; median, spread and
the ratio of the medians are printed. Target: ratio <= 1.5.

Side-cars as a build writes them, packed per 32 items (``meta/pack-*.jsonl``), or with
``--layout old`` one file each (batches built before session 7).

    python benchmarks/queue_view.py [--runs 5] [--layout packed|old]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

USER = "bench"


def real_send(
    home: Path,
) -> tuple[list[dict[str, Any]], list[bytes], dict[str, list[dict[str, Any]]]]:
    """Side-cars, messages and events of a real build and send of 24 demo invoices."""
    from batch import invoices

    from mailing.batches import build_batch
    from mailing.demo import DEMO_USER, load_demo
    from mailing.sending import SendOptions, send
    from store.store import Store

    store = Store(home, DEMO_USER)
    load_demo(store)
    batch = build_batch(store, DEMO_USER, "sales_invoice", documents=invoices(store, 24), workers=1)
    batch.approve(None, "boss")
    send(store, "carol", batch.id, SendOptions(archive=False))
    items = [r.item for r in batch.items("sent")]
    metas = [batch.meta(i) for i in items]
    raws = [batch.read(i, "email", "sent") for i in items]
    events: dict[str, list[dict[str, Any]]] = {}
    for ev in batch.events():
        events.setdefault(str(ev.get("item")), []).append(ev)
    return metas, raws, {i: events.get(i, []) for i in items}


def make_batch(
    home: Path, n: int, real: tuple[Any, Any, Any], model: Path, layout: str = "packed"
) -> str:
    from store.records import Administration, Profile, SystemSettings
    from store.spool import Spool, now_iso
    from store.spool.layout import json_bytes
    from store.spool.sidecars import pack_bytes, pack_name
    from store.store import Store

    metas, _raws, events = real
    store = Store(home, USER)
    store.put_many(
        [
            Profile(code="P", system="outbox", sender="billing@sender.example", auth="none"),
            SystemSettings(profile="P"),
            Administration(code="A", name="A B.V."),
        ]
    )
    batch = Spool(home).new_batch()
    summaries = []
    lines: list[bytes] = []
    pack: list[tuple[str, dict[str, Any]]] = []
    for i in range(1, n + 1):
        k = i % len(metas)
        item = f"{i:05d}-F{i}"
        meta = json.loads(json.dumps(metas[k]))
        old_item = meta["item"]
        meta["item"] = item
        meta["document"]["number"] = f"F{i}"
        state = "sent" if i % 2 else ("approved" if i % 4 == 0 else "draft")
        if i % 101 == 0:
            state = "failed"
        if layout == "old":
            (batch.path / "meta" / f"{item}.json").write_bytes(json_bytes(meta))
        else:
            pack.append((item, meta))
            if len(pack) == 32 or i == n:
                name = pack_name(i - len(pack) + 1, i)
                (batch.path / "meta" / name).write_bytes(pack_bytes(pack))
                pack = []
        os.link(model / f"{k}.eml", batch.path / state / f"{item}.eml")
        # the summary the build writes for each message into batch.json
        summaries.append(
            {
                "item": item,
                "number": f"F{i}",
                "administration": meta["document"]["administration"],
                "kind": "email",
                "size": meta["size"],
                "to": list(meta["recipients"]["to"]),
                "profile": meta["profile"],
                "state": "draft",
            }
        )
        for ev in events[old_item]:
            if state != "sent" and ev.get("event") not in ("built", "approved"):
                continue
            lines.append(json_bytes({**ev, "item": item}) + b"\n")
    batch.write_info(
        {
            "id": batch.id,
            "type": "sales_invoice",
            "created_by": USER,
            "created_at": now_iso(),
            "items": summaries,
            "approvals": [],
        }
    )
    (batch.path / "events.jsonl").write_bytes(b"".join(lines))
    return batch.id


async def open_and_go_to_end(home: Path, n: int) -> float:
    from store.store import Store
    from tui.app import MailroomApp

    app = MailroomApp(Store(home, USER), USER, first_pane="queue")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.query_one("#pane-queue")
        started = time.perf_counter()
        await pilot.press("enter")  # open the (only) batch
        await pilot.press("end")  # its last message
        await pilot.pause()
        items = pane.query_one("#items")
        assert items.position == n - 1, (items.position, n)  # type: ignore[attr-defined]
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--layout", choices=("packed", "old"), default="packed")
    args = parser.parse_args()
    sizes = (100, 10_000)
    times: dict[int, list[float]] = {n: [] for n in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        real = real_send(Path(tmp) / "real")
        model = Path(tmp) / "model"
        model.mkdir()
        for k, raw in enumerate(real[1]):
            (model / f"{k}.eml").write_bytes(raw)
        side = statistics.mean(len(json.dumps(m)) for m in real[0])
        per = statistics.mean(len(e) for e in real[2].values())
        print(f"real side-cars {side:,.0f} bytes, {per:.1f} events per sent message")
        homes = {}
        for n in sizes:
            homes[n] = Path(tmp) / f"h{n}"
            t0 = time.perf_counter()
            make_batch(homes[n], n, real, model, args.layout)
            print(f"spool of {n:,} messages written in {time.perf_counter() - t0:.1f} s")
        for r in range(args.runs):
            load = os.getloadavg()[0]
            for n in sizes if r % 2 == 0 else sizes[::-1]:
                times[n].append(asyncio.run(open_and_go_to_end(homes[n], n)))
            print(
                f"  run {r + 1} (load {load:.2f}): "
                + ", ".join(f"{n:,}: {times[n][-1] * 1000:.0f} ms" for n in sizes),
                flush=True,
            )
    med = {n: statistics.median(v) for n, v in times.items()}
    for n in sizes:
        print(
            f"{n:>6,} messages: open + End median {med[n] * 1000:.0f} ms "
            f"[{min(times[n]) * 1000:.0f}–{max(times[n]) * 1000:.0f}]"
        )
    pairs = [a / b for a, b in zip(times[10_000], times[100], strict=True)]
    ratio = med[10_000] / med[100]
    print(
        f"ratio 10,000 / 100: {ratio:.2f} (per run {min(pairs):.2f}–{max(pairs):.2f}; "
        "target <= 1.5)"
    )
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
