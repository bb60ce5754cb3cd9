"""Peak memory of `mailroom batch create`: 50,000 documents against 1,000.

A demo data folder per size holds N one-page invoices of this month (copies of the
demo's mailable invoices, stored as documents); ``mailroom batch create --type
sales_invoice --from <first of this month>`` builds them all, as a child process
(a fresh interpreter, the real command, its two worker processes). Two figures
per run:

- ``maxrss``: ``ru_maxrss`` from ``os.wait4`` of the command: the largest resident
  set of the command or any of its workers (Linux reports the largest process);
- ``tree``: the largest sum of the resident sets of the command and its workers,
  sampled from ``/proc`` every 20 ms (what the machine must have free).

Target: peak at 50,000 ≤ 1.5 × the peak at 1,000.

Run: ``python benchmarks/memory.py [--small 1000] [--large 50000]``. Linux only
(``/proc``). The large run writes its batch to a temporary folder (about 6 GB for
50,000 invoices) and takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def make_home(home: Path, n: int) -> None:
    from batch import invoices

    from mailing.demo import DEMO_USER, load_demo
    from store.store import Store

    store = Store(home, DEMO_USER)
    load_demo(store)
    first = dt.date.today().replace(day=1)
    store.put_many(
        d.model_copy(update={"number": f"M{i + 1:06d}", "date": first})
        for i, d in enumerate(invoices(store, n))
    )


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run_create(home: Path) -> tuple[int, int, float]:
    """maxrss (bytes), sampled peak of the process tree (bytes), seconds."""
    from mailing.demo import DEMO_USER

    first = dt.date.today().replace(day=1).isoformat()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "tui", "--home", str(home), "--user", DEMO_USER]
    cmd += ["batch", "create", "--type", "sales_invoice", "--from", first]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - t0
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"batch create failed:\n{out}\n{err}")
    from store.spool import Spool

    shutil.rmtree(Spool(home).batch(out.strip().splitlines()[-1]).path)
    return usage.ru_maxrss * 1024, peak[0], took


def main() -> None:
    if sys.argv[1:2] == ["--make"]:
        make_home(Path(sys.argv[2]), int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=50_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mailroom-bench-memory-"))
    mib = 2**20
    try:
        got = {}
        for n in (args.small, args.large):
            home = tmp / f"h{n}"
            # Made by a child: the command's ru_maxrss counts the memory of the process
            # that starts it, until its exec (Linux keeps the old high-water mark), so
            # this process must not hold the documents it made.
            make = [sys.executable, __file__, "--make", str(home), str(n)]
            subprocess.run(make, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            load = os.getloadavg()[0]
            got[n] = run_create(home)
            maxrss, tree, took = got[n]
            print(
                f"batch create of {n:,} (load {load:.2f}): maxrss {maxrss / mib:.0f} MiB, "
                f"process tree {tree / mib:.0f} MiB, {took:.0f} s",
                flush=True,
            )
            shutil.rmtree(home, ignore_errors=True)
        (m1, t1, _), (m2, t2, _) = got[args.small], got[args.large]
        print(
            f"ratio {args.large:,} / {args.small:,}: maxrss {m2 / m1:.2f}, "
            f"process tree {t2 / t1:.2f}  (target <= 1.5)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
