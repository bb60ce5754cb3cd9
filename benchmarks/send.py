"""Send rate against Postfix's smtp-source, and the cost of a state change by batch size.

1. An approved batch of N messages of S bytes is sent by the send engine to
   Postfix's ``smtp-sink`` on loopback; then ``smtp-source`` sends N messages of
   the same size to the same sink over one reused connection (``-s 1 -d``), the
   way the engine sends (one connection per profile). Target: ratio >= 0.5.
   The archive step that follows a send is timed separately.
2. One state change (a rename between state folders) in a 10,000-message batch
   against a 100-message batch. Target: ratio < 1.5.

Run: ``python benchmarks/send.py [--messages N] [--size BYTES]``. Needs
/usr/sbin/smtp-sink and /usr/sbin/smtp-source (Debian package postfix); starts
no mail system.
"""

from __future__ import annotations

import argparse
import email.policy
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailing.engine import SendOptions, send
from store.records import Profile, SystemSettings
from store.spool import Batch, Spool, now_iso
from store.store import Store

SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"
SENDER = "bench@sender.example"
RCPT = "rcpt@receiver.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_batch(store: Store, n: int, size: int, *, approve: bool = True) -> Batch:
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
        meta = {
            "item": item,
            "kind": "email",
            "document": {
                "type": "sales_invoice",
                "number": f"B{i}",
                "administration": "A",
                "relation": "R",
            },
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
    if approve:
        batch.approve(None, "bench")
        batch.close()
    return batch


def wait_port(port: int) -> None:
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise SystemExit("smtp-sink did not start")


def bench_send(n: int, size: int) -> None:
    for tool in (SINK, SOURCE):
        if not os.access(tool, os.X_OK):
            raise SystemExit(
                f"{tool} is missing: apt-get install postfix (only its tools are used)"
            )
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([SINK, *user, f"127.0.0.1:{port}", "256"])
    home = Path(tempfile.mkdtemp(prefix="mailroom-bench-send-"))
    try:
        wait_port(port)
        store = Store(home, "bench")
        store.put_many(
            [
                SystemSettings(profile="P"),
                Profile(
                    code="P",
                    system="smtp",
                    server="127.0.0.1",
                    port=port,
                    security="none",
                    auth="none",
                    sender=SENDER,
                ),
            ]
        )
        batch = make_batch(store, n, size)
        msg_size = (batch.path / "approved" / "00001-B1.eml").stat().st_size
        t0 = time.perf_counter()
        report = send(store, "bench", batch.id, SendOptions(archive=False))
        engine_s = time.perf_counter() - t0
        assert report.count("sent") == n, report.summary()
        t0 = time.perf_counter()
        from mailing.archive import archive_batch

        try:
            archived = archive_batch(store, batch)
        except Exception as exc:  # the archive needs the PDF layout module
            archived, exc_text = 0, str(exc)
        else:
            exc_text = ""
        archive_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        subprocess.run(
            [
                SOURCE,
                "-s",
                "1",
                "-d",
                "-l",
                str(msg_size),
                "-m",
                str(n),
                "-f",
                SENDER,
                "-t",
                RCPT,
                f"127.0.0.1:{port}",
            ],
            check=True,
        )
        source_s = time.perf_counter() - t0
        engine_rate, source_rate = n / engine_s, n / source_s
        print(f"send: {n} messages of {msg_size} bytes to smtp-sink on loopback")
        print(f"  mailroom send engine : {engine_rate:8.0f} msg/s ({engine_s:.2f} s)")
        print(f"  smtp-source -s1 -d   : {source_rate:8.0f} msg/s ({source_s:.2f} s)")
        print(f"  ratio engine/smtp-source = {engine_rate / source_rate:.2f}  (target >= 0.5)")
        if archived:
            print(
                f"  archive after the send: {archived} messages in {archive_s:.2f} s "
                f"({archive_s / archived * 1000:.2f} ms each; not in the rate above)"
            )
        else:
            print(f"  archive after the send skipped: {exc_text}")
    finally:
        sink.terminate()
        sink.wait()
        shutil.rmtree(home, ignore_errors=True)


def bench_state_change(
    small: int = 100, large: int = 10_000, moves: int = 2000, rounds: int = 7
) -> None:
    """Median over ``rounds`` interleaved rounds: one round is noisy (0.1 s, fsyncs)."""
    import statistics

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--size", type=int, default=2000)
    args = ap.parse_args()
    bench_send(args.messages, args.size)
    bench_state_change()


if __name__ == "__main__":
    main()
