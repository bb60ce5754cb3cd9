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
until it is highlighted. Runs alternate between the two sizes; per run the wall
time, the CPU time of the process (user + system of every thread, the pane's
"Mail goes" worker included: ``time.process_time``) and the full collections of
the garbage collector in the window (one costs ~70 ms of CPU in this heap,
whatever the batch); median, spread, the ratio of the medians and the runs within
issue 31's target are printed. Target (issue 31): wall ratio 10,000 / 100 <= 1.3
in 9 of 10 runs.

Side-cars as a build writes them, packed per 32 items (``meta/pack-*.jsonl``), or with
``--layout old`` one file each (batches built before session 7).

    python benchmarks/queue_view.py [--runs 10] [--data DIR] [--layout packed|old]

``--data DIR`` keeps the spools made there and uses them again (the same data for
the code before and after a change).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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


_full_collections = [0]


def _count_full(phase: str, info: dict[str, int]) -> None:
    if phase == "start" and info.get("generation") == 2:
        _full_collections[0] += 1


async def open_and_go_to_end(home: Path, n: int) -> tuple[float, float, int]:
    """Wall and CPU seconds of Enter + End, and the full collections meanwhile."""
    from store.store import Store
    from tui.app import MailroomApp

    app = MailroomApp(Store(home, USER), USER, first_pane="queue")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.query_one("#pane-queue")
        full = _full_collections[0]
        cpu = time.process_time()
        started = time.perf_counter()
        await pilot.press("enter")  # open the (only) batch
        await pilot.press("end")  # its last message
        await pilot.pause()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        items = pane.query_one("#items")
        assert items.position == n - 1, (items.position, n)  # type: ignore[attr-defined]
        return wall, cpu, _full_collections[0] - full


def make_spools(root: Path, sizes: tuple[int, ...], layout: str = "packed") -> dict[int, Path]:
    """The spools of ``sizes`` messages under ``root`` (made if not there)."""
    homes = {n: root / f"h{n}" for n in sizes}
    if all((h / "spool").is_dir() for h in homes.values()):
        print(f"spools of {root} used again")
        return homes
    real = real_send(root / "real")
    model = root / "model"
    model.mkdir()
    for k, raw in enumerate(real[1]):
        (model / f"{k}.eml").write_bytes(raw)
    side = statistics.mean(len(json.dumps(m)) for m in real[0])
    per = statistics.mean(len(e) for e in real[2].values())
    print(f"real side-cars {side:,.0f} bytes, {per:.1f} events per sent message")
    for n in sizes:
        t0 = time.perf_counter()
        make_batch(homes[n], n, real, model, layout)
        print(f"spool of {n:,} messages written in {time.perf_counter() - t0:.1f} s")
    return homes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--data", type=Path, help="keep the spools here, use them again")
    parser.add_argument("--layout", choices=("packed", "old"), default="packed")
    args = parser.parse_args()
    sizes = (100, 10_000)
    times: dict[int, list[float]] = {n: [] for n in sizes}
    cpus: dict[int, list[float]] = {n: [] for n in sizes}
    loads: list[float] = []
    gc.callbacks.append(_count_full)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        homes = make_spools(root, sizes, args.layout)
        for r in range(args.runs):
            load = os.getloadavg()[0]
            loads.append(load)
            full = {}
            for n in sizes if r % 2 == 0 else sizes[::-1]:
                wall, cpu, full[n] = asyncio.run(open_and_go_to_end(homes[n], n))
                times[n].append(wall)
                cpus[n].append(cpu)
            print(
                f"  run {r + 1} (load {load:.2f}): "
                + ", ".join(
                    f"{n:,}: {times[n][-1] * 1000:.0f} ms (CPU {cpus[n][-1] * 1000:.0f}"
                    + (f", {full[n]} full GC" if full[n] else "")
                    + ")"
                    for n in sizes
                )
                + f"; ratio {times[10_000][-1] / times[100][-1]:.2f}",
                flush=True,
            )

    def spread(v: list[float]) -> str:
        return f"{statistics.median(v) * 1000:.0f} ms [{min(v) * 1000:.0f}, {max(v) * 1000:.0f}]"

    for n in sizes:
        print(f"{n:>6,} messages: open + End wall {spread(times[n])}, CPU {spread(cpus[n])}")
    pairs = [a / b for a, b in zip(times[10_000], times[100], strict=True)]
    cpu_pairs = [a / b for a, b in zip(cpus[10_000], cpus[100], strict=True)]
    ratio = statistics.median(times[10_000]) / statistics.median(times[100])
    cpu_ratio = statistics.median(cpus[10_000]) / statistics.median(cpus[100])
    within = sum(p <= 1.3 for p in pairs)
    print(
        f"wall ratio 10,000 / 100: {ratio:.2f} of the medians; per run "
        f"{statistics.median(pairs):.2f} [{min(pairs):.2f}, {max(pairs):.2f}], "
        f"{within} of {len(pairs)} <= 1.3 (target: 9 of 10)"
    )
    print(
        f"CPU ratio 10,000 / 100: {cpu_ratio:.2f} of the medians; per run "
        f"{statistics.median(cpu_pairs):.2f} [{min(cpu_pairs):.2f}, {max(cpu_pairs):.2f}]"
    )
    print(f"load {min(loads):.2f}-{max(loads):.2f}")
    return 0 if within * 10 >= 9 * len(pairs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
