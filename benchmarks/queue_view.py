"""The Queue pane: open a batch and move to its last message, 10,000 messages vs 100.

The spool is written directly (small hand-built messages, ``Batch.add_item``), as
``mailing.batch`` lays it out; then a headless app at 80x24 shows the Queue pane,
opens the batch (Enter on it), and presses End (the last message of the whole
batch) until it is highlighted on screen. Half the batch is approved, a few
failed, so every state folder is read. Prints the medians and their ratio; the
target is a ratio under 2.

    python benchmarks/queue_view.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import email.policy
import json
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_batch(home: Path, n: int) -> str:
    from store.records import Administration, Profile, SystemSettings
    from store.spool import Spool, now_iso
    from store.store import Store

    store = Store(home, "bench")
    store.put_many(
        [
            Profile(code="P", system="outbox", sender="billing@sender.example", auth="none"),
            SystemSettings(profile="P"),
            Administration(code="A", name="A B.V."),
        ]
    )
    batch = Spool(home).new_batch()
    summaries = []
    for i in range(1, n + 1):
        item = f"{i:05d}-F{i}"
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["From"] = "billing@sender.example"
        msg["To"] = f"customer{i}@example.com"
        msg["Subject"] = f"Invoice F{i}"
        msg.set_content(f"Invoice F{i}.\n")
        raw = msg.as_bytes()
        doc = {"type": "sales_invoice", "number": f"F{i}", "administration": "A"}
        meta = {
            "item": item,
            "kind": "email",
            "document": {**doc, "relation": f"R{i % 97}", "date": "2026-11-01"},
            "profile": "P",
            "recipients": {"to": [f"customer{i}@example.com"], "cc": [], "bcc": []},
            "envelope": {"mail_from": "billing@sender.example", "rcpts": []},
            "size": len(raw),
            "warnings": ["no Cc"] if i % 50 == 0 else [],
        }
        state = "approved" if i % 2 else "draft"
        if i % 101 == 0:
            state = "failed"
        batch.add_item(item, "email", state, raw, meta, sync=False)
        summaries.append({"item": item, "number": f"F{i}", "kind": "email", "state": state})
    batch.write_info(
        {
            "id": batch.id,
            "type": "sales_invoice",
            "administration": "A",
            "created_by": "bench",
            "created_at": now_iso(),
            "items": summaries,
            "approvals": [],
        }
    )
    events = "".join(
        json.dumps({"at": now_iso(), "item": s["item"], "event": "approved", "state": s["state"]})
        + "\n"
        for s in summaries
    )
    (batch.path / "events.jsonl").write_text(events)
    return batch.id


async def open_and_go_to_end(home: Path, n: int) -> float:
    from store.store import Store
    from tui.app import MailroomApp

    app = MailroomApp(Store(home, "bench"), "bench", first_pane="queue")
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
    args = parser.parse_args()
    results: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100, 10_000):
            home = Path(tmp) / f"h{n}"
            t0 = time.perf_counter()
            make_batch(home, n)
            print(f"spool of {n:,} messages written in {time.perf_counter() - t0:.1f} s")
            times = [asyncio.run(open_and_go_to_end(home, n)) for _ in range(args.runs)]
            results[n] = statistics.median(times)
            print(
                f"{n:>6,} messages: open + End median {results[n] * 1000:.0f} ms "
                f"(runs: {', '.join(f'{t * 1000:.0f}' for t in times)})"
            )
    ratio = results[10_000] / results[100]
    print(f"ratio 10,000 / 100: {ratio:.2f} (target < 2)")
    return 0 if ratio < 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
