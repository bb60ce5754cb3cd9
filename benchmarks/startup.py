"""Start-up to the first screen, with 40 relations and with 10,000.

Each measurement is a fresh interpreter (imports included): from process start
until the first pane is on screen, in a headless app. Prints the medians and
their ratio; the target is a ratio under 2.

    python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_home(folder: Path, relations: int) -> None:
    """Demo-like data: the demo installation when it can be loaded, then relations up to N."""
    from store.records import Administration, Profile, Relation, SystemSettings
    from store.store import Store

    store = Store(folder, "demo")
    try:
        from mailing.demo import load_demo

        load_demo(store)
    except Exception:  # the demo module is optional here
        store.put_many(
            [
                Administration(code="HOLT", name="Holtkamp B.V."),
                Profile(code="OUTBOX", system="outbox", sender="info@holtkamp.example"),
                SystemSettings(profile="OUTBOX"),
            ]
        )
    have = len(store.all(Relation))
    admin = store.all(Administration)[0].code
    extra = [
        Relation(
            administration=admin,
            code=f"B{i:06d}",
            name=f"Benchmark customer {i:06d} B.V.",
            business_email=f"info{i}@customer.example",
            opt_in=["sales_invoice", "reminder"],
            contacts=[
                {"name": f"Contact {i}", "email": f"c{i}@customer.example", "roles": ["main"]}
            ],  # type: ignore[list-item]
        )
        for i in range(max(0, relations - have))
    ]
    if extra:
        store.put_many(extra)


def child(home: str) -> None:
    """Run in a fresh interpreter: time to the first screen, in ms, on stdout."""
    from store.store import Store
    from tui.app import MailroomApp

    app = MailroomApp(Store(Path(home), "demo"), "demo")

    async def first_screen(pilot: object) -> None:
        await app.workers.wait_for_complete()
        elapsed = (time.perf_counter() - T0) * 1000
        print(f"{elapsed:.1f}")
        app.exit()

    app.run(headless=True, size=(80, 24), auto_pilot=first_screen)  # type: ignore[arg-type]


def measure(home: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(home)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
        )
        out.append(float(proc.stdout.strip().splitlines()[-1]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (40, 10_000):
            home = Path(tmp) / f"home-{n}"
            make_home(home, n)
            size = (home / "mailroom.json").stat().st_size
            times = measure(home, args.runs)
            results[n] = statistics.median(times)
            print(
                f"{n:>6} relations ({size / 1e6:.1f} MB): first screen in "
                f"{results[n]:.0f} ms (median of {args.runs}: "
                + ", ".join(f"{t:.0f}" for t in times)
                + ")"
            )
    ratio = results[10_000] / results[40]
    print(f"ratio 10,000 / 40 relations: {ratio:.2f}x (target < 2x)")
    return 0 if ratio < 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
