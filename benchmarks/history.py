"""Every-day commands with years of history: 60,000 historical documents against 1,000.

Two data folders are made from the demo installation, alike but for their history:
``--small`` (1,000) or ``--large`` (60,000) earlier invoices, dated over the five
years before this month, each stored as a document and each sent (the spool holds
one sent message per document, in batches of 1,000 with their side-cars and
events, as ``mailroom send`` leaves them; the messages themselves are small). Both
folders also hold this month's 20 new invoices, not sent yet.

Each command runs as the administrator runs it (``python -m tui ...``, a fresh
interpreter each time) in both folders, in ``--rounds`` interleaved rounds; the
median and the spread of large ÷ small per command are printed. Target: ≤ 1.2.

- ``batch create --type sales_invoice --from <first of this month>``: this month's 20
  (the batch is removed after each run, so every run builds the same 20);
- ``resolve sales_invoice <a new number>``; ``documents show sales_invoice <number>``;
- ``sending history sales_invoice <number>`` (when and how it was sent before);
- ``preview sales_invoice <a new number> --eml FILE``; ``documents import`` of five
  new invoices of this month (``--replace``, so every run imports the same five);
  ``doctor``;
- ``batch list``; ``documents list --type sales_invoice`` (the newest 1,000, as the
  Documents pane); ``documents list --type sales_invoice --all`` (lists every
  document, so it grows with the history by nature: printed for the record);
- the TUI's first screen: ``mailroom demo``'s Documents pane, headless (Textual's
  ``run_test``) in a fresh interpreter, from start until it shows "N shown".

``--cold``: every cache file (the history index ``spool/.history/``, each batch's
``.batch-head.json`` and ``.batch-counts.json``) is removed before every run, as on
the first run after an upgrade or a restore. Target (issue 31): <= 2.

Run: ``python benchmarks/history.py [--small 1000] [--large 60000] [--rounds 5] [--cold]``.
Making the 60,000-document folder takes a few minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

NEW = 20  # this month's new invoices
PER_BATCH = 1000


def make_home(home: Path, history: int) -> list[str]:
    """A demo folder with ``history`` sent invoices; the numbers of this month's new ones."""
    from batch import invoices

    from mailing.demo import DEMO_USER, load_demo
    from store.records import Document
    from store.spool import Spool, now_iso
    from store.store import Store

    store = Store(home, DEMO_USER)
    load_demo(store)
    today = dt.date.today()
    month_start = today.replace(day=1)
    base = invoices(store, history + NEW)
    old: list[Document] = []
    for i, d in enumerate(base[:history]):
        # spread over the five years before this month, oldest first
        days = 5 * 365 - (i * 5 * 365) // max(1, history)
        date = month_start - dt.timedelta(days=days)
        old.append(d.model_copy(update={"number": f"H{i + 1:06d}", "date": date}))
    new = [
        d.model_copy(update={"number": f"N{i + 1:03d}", "date": month_start})
        for i, d in enumerate(base[history:])
    ]
    store.put_many([*old, *new])
    spool = Spool(home)
    for start in range(0, len(old), PER_BATCH):
        batch = spool.new_batch()
        items = []
        for j, d in enumerate(old[start : start + PER_BATCH]):
            item = f"{j + 1:05d}-{d.number}"
            mid = f"<{d.number}.history@demo.example>"
            raw = (
                f"From: billing@demo.example\r\nTo: customer@demo.example\r\n"
                f"Subject: Invoice {d.number}\r\nMessage-ID: {mid}\r\n\r\nInvoice.\r\n"
            ).encode()
            document = {
                "type": d.type,
                "number": d.number,
                "administration": d.administration,
                "relation": d.relation,
                "date": d.date.isoformat(),
            }
            meta = {
                "item": item,
                "kind": "email",
                "document": document,
                "profile": "DEMO",
                "envelope": {"mail_from": "billing@demo.example", "rcpts": ["c@demo.example"]},
                "message_id": mid,
                "size": len(raw),
                "fingerprints": {},
            }
            batch.add_item(item, "email", "sent", raw, meta, sync=False)
            for ev in ("claimed", "attempt", "sent"):
                extra: dict[str, Any] = {"message_id": mid} if ev == "sent" else {}
                if ev == "sent":
                    extra.update({"reply": "250 2.0.0 Ok", "accepted": ["c@demo.example"]})
                batch.log({"item": item, "event": ev, "state": "sent", **extra})
            items.append(
                {
                    "item": item,
                    "number": d.number,
                    "administration": d.administration,
                    "kind": "email",
                    "state": "draft",
                }
            )
        batch.write_info(
            {
                "id": batch.id,
                "type": "sales_invoice",
                "created_by": DEMO_USER,
                "created_at": now_iso(),
                "items": items,
                "approvals": [],
            }
        )
        batch.sync()
        batch.close()
        time.sleep(1.01)  # batch ids are by the second
    return [d.number for d in new]


FIRST_SCREEN = """
import asyncio, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from store.store import Store
from tui.app import MailroomApp

async def main() -> None:
    app = MailroomApp(Store(Path({home!r}), "demo"), "demo", first_pane="documents")
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            progress = app.screen.query("#doc-progress")
            if progress and " shown" in str(progress.first().render()):
                return
            await pilot.pause(0.01)

asyncio.run(main())
"""


def import_file(folder: Path) -> Path:
    """Five new invoices of this month, as `documents import` takes them."""
    import json

    first = dt.date.today().replace(day=1).isoformat()
    docs = [
        {
            "administration": "HOLT",
            "type": "sales_invoice",
            "number": f"IMP{i}",
            "relation": "D1001",
            "date": first,
            "lines": [{"description": "Service", "quantity": 1, "unit_price": "10"}],
        }
        for i in range(5)
    ]
    path = folder / "import.json"
    path.write_text(json.dumps({"documents": docs}))
    return path


def commands(new_numbers: list[str], folder: Path) -> dict[str, list[str]]:
    first = dt.date.today().replace(day=1).isoformat()
    some = new_numbers[0]
    return {
        "batch create (this month's 20)": [
            "batch",
            "create",
            "--type",
            "sales_invoice",
            "--from",
            first,
        ],
        "resolve one document": ["resolve", "sales_invoice", some],
        "documents show": ["documents", "show", "sales_invoice", some],
        "sending history of one": ["sending", "history", "sales_invoice", "H000001"],
        "preview one document": ["preview", "sales_invoice", some, "--eml", str(folder / "p.eml")],
        "documents import (5 new)": ["documents", "import", str(import_file(folder)), "--replace"],
        "doctor": ["doctor"],
        "batch list": ["batch", "list"],
        "TUI first screen (Documents)": ["<first screen>"],
        "documents list (newest)": ["documents", "list", "--type", "sales_invoice"],
        "documents list --all": ["documents", "list", "--type", "sales_invoice", "--all"],
    }


def drop_caches(home: Path) -> None:
    """Remove every cache file of the data folder, as on the first run after an upgrade
    or a restore: the history index and each batch's head and counts."""
    spool = home / "spool"
    shutil.rmtree(spool / ".history", ignore_errors=True)
    for name in (".batch-head.json", ".batch-counts.json"):
        for path in spool.glob(f"*/{name}"):
            path.unlink(missing_ok=True)


def run(home: Path, args: list[str], cold: bool = False) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of the command
    (``cold``: with the cache files removed first)."""
    from mailing.demo import DEMO_USER

    if cold:
        drop_caches(home)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "tui", "--home", str(home), "--user", DEMO_USER, *args]
    if args == ["<first screen>"]:
        cmd = [sys.executable, "-c", FIRST_SCREEN.format(root=str(ROOT), home=str(home))]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if done.returncode != 0 and "WaitForScreenTimeout" in done.stderr:
        print(f"  the first screen did not show in {home.name} ({took:.0f} s: Textual gave up)")
        return float("nan"), cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {home}:\n{done.stdout}\n{done.stderr}")
    if args[:2] == ["batch", "create"]:
        from store.spool import Spool

        shutil.rmtree(Spool(home).batch(done.stdout.strip().splitlines()[-1]).path)
    return took, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=60_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--cold",
        action="store_true",
        help="remove the cache files before every run (target <= 2, issue 31)",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mailroom-bench-history-"))
    try:
        homes: dict[int, Path] = {}
        numbers: list[str] = []
        for n in (args.small, args.large):
            t0 = time.perf_counter()
            homes[n] = tmp / f"h{n}"
            numbers = make_home(homes[n], n)
            size = sum(f.stat().st_size for f in homes[n].glob("**/*.json"))
            print(
                f"made a folder with {n:,} historical documents in {time.perf_counter() - t0:.0f} s "
                f"(data files {size / 2**20:.1f} MiB)",
                flush=True,
            )
        cmds = commands(numbers, tmp)
        took: dict[tuple[str, int], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            before = os.getloadavg()[0]
            for name, argv in cmds.items():
                order = (args.small, args.large) if r % 2 == 0 else (args.large, args.small)
                for n in order:
                    took.setdefault((name, n), []).append(run(homes[n], argv, args.cold))
            print(
                f"  round {r + 1} done (load {before:.2f} -> {os.getloadavg()[0]:.2f})", flush=True
            )
        how = "cache files removed before every run" if args.cold else "caches kept"
        print(f"history {args.large:,} vs {args.small:,} documents, {args.rounds} rounds, {how}:")
        print("  (wall ms small -> large, ratio median [spread]; CPU ratio median [spread])")
        for name in cmds:
            small, large = took[(name, args.small)], took[(name, args.large)]
            if any(math.isnan(s[0]) for s in large + small):
                print(f"  {name:<30} did not finish (see above)")
                continue
            ratios = [a[0] / b[0] for a, b in zip(large, small, strict=True)]
            cpu = [a[1] / b[1] for a, b in zip(large, small, strict=True) if b[1] > 0]
            print(
                f"  {name:<30} {statistics.median(s[0] for s in small) * 1000:6.0f} -> "
                f"{statistics.median(s[0] for s in large) * 1000:6.0f} ms  wall "
                f"{statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]  CPU "
                f"{statistics.median(cpu):.2f} [{min(cpu):.2f}–{max(cpu):.2f}]  "
                f"(target <= {2 if args.cold else 1.2})"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
