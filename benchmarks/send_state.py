"""Part 2 of ``benchmarks/send.py``: one state change (a rename between state folders,
and its event) in a 10,000-message batch against a 100-message batch. Target: ratio
< 1.5. Run by ``python benchmarks/send.py`` (``--no-state`` skips it).
"""

from __future__ import annotations

import email.policy
import shutil
import statistics
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from store.spool import Batch, Spool, now_iso
from store.store import Store

SENDER = "bench@sender.example"
RCPT = "rcpt@receiver.example"


def make_batch(store: Store, n: int, size: int) -> Batch:
    """A batch of ``n`` small approved messages (for the state-change part only)."""
    batch = Spool(store.home).new_batch()
    filler = ("x" * 76 + "\n") * max(1, (size - 300) // 77)
    items = []
    for i in range(1, n + 1):
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["From"] = SENDER
        msg["To"] = RCPT
        msg["Subject"] = f"Invoice {i}"
        msg["Message-ID"] = f"<bench.{i}@sender.example>"
        msg.set_content(filler)
        raw = msg.as_bytes()
        item = f"{i:05d}-B{i}"
        document = {"type": "sales_invoice", "number": f"B{i}", "administration": "A"}
        meta = {
            "item": item,
            "kind": "email",
            "document": {**document, "relation": "R"},
            "profile": "P",
            "envelope": {"mail_from": SENDER, "rcpts": [RCPT]},
            "message_id": msg["Message-ID"],
            "size": len(raw),
            "fingerprints": {},
        }
        batch.add_item(item, "email", "draft", raw, meta, sync=False)
        items.append({"item": item, "kind": "email", "state": "draft"})
    batch.write_info(
        {
            "id": batch.id,
            "type": "sales_invoice",
            "created_by": "bench",
            "created_at": now_iso(),
            "items": items,
            "approvals": [],
        }
    )
    batch.approve(None, "bench")
    batch.close()
    return batch


def bench_state_change(
    small: int = 100, large: int = 10_000, moves: int = 2000, rounds: int = 7
) -> None:
    """Median over ``rounds`` interleaved rounds: one round is noisy (0.1 s, fsyncs)."""
    home = Path(tempfile.mkdtemp(prefix="mailroom-bench-state-"))
    try:
        store = Store(home, "bench")
        batches = {n: make_batch(store, n, 600) for n in (small, large)}
        names = {n: [r.item for r in b.items("approved")] for n, b in batches.items()}
        where = {n: ("approved", "held") for n in (small, large)}
        samples: dict[int, list[float]] = {small: [], large: []}
        for _ in range(rounds):
            for n in (small, large):
                batch = batches[n]
                src, dst = where[n]
                # the same number of state changes in both: approved <-> held, round the items
                t0 = time.perf_counter()
                done = 0
                while done < moves:
                    for name in names[n]:
                        batch.move(name, "email", src, dst)
                        batch.log({"item": name, "event": dst, "state": dst})
                        done += 1
                        if done >= moves:
                            break
                    else:
                        src, dst = dst, src
                        continue
                batch.sync()
                samples[n].append((time.perf_counter() - t0) / moves)
                # finish the pass so every item is in one state again
                for name in names[n]:
                    batch.move(name, "email", src, dst)
                where[n] = (dst, src)
        for b in batches.values():
            b.close()
        med = {n: statistics.median(v) for n, v in samples.items()}
        ratio = med[large] / med[small]
        print(
            f"state change (rename + event), median of {rounds} rounds of {moves}: "
            f"{med[small] * 1e6:.1f} us in a {small}-message batch, "
            f"{med[large] * 1e6:.1f} us in a {large}-message batch"
        )
        print(
            "  per round, large/small: "
            + ", ".join(f"{a / b:.2f}" for a, b in zip(samples[large], samples[small], strict=True))
        )
        print(f"  ratio {large}/{small} = {ratio:.2f}  (target < 1.5)")
    finally:
        shutil.rmtree(home, ignore_errors=True)
