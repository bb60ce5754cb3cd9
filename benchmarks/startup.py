"""Start-up and pane switch of Mailroom, against a minimal Textual app in the same run.

Each measurement is a fresh interpreter (imports included), headless at 80x24:

- first paint: from process start until the first frame that shows the first
  pane with its data (the first row of its list, found in the frame's text); for
  the minimal app, until its one Static is in a frame;
- ready: from process start until the app is idle, the first pane complete (a
  record pane's form is built after the first paint) and its workers done;
- pane switch: from the key until the new pane is on screen with its data: F7 to
  Documents the first time (its module imported, the pane built), F2 back to
  Profiles (built already); for the minimal app, a key that switches a
  ContentSwitcher between two Statics. Measured two ways: by Pilot (press, workers
  done, idle: Pilot's waits for idle cost ~85 ms by themselves, the minimal app's
  figure), and "key to frame": from the key until the first frame handed to the
  terminal that shows the pane's first list row (the minimal app: its Static).

Our packages are byte-compiled first (``compileall``), as an installed package is:
without it every start compiles every module of ours again.

CPU time (user + system of the process, ``time.process_time``) is printed beside
first paint and key to frame: on a machine shared with other work it moves less than
wall time.

Rounds are interleaved (Mailroom, minimal, Mailroom, ...) so a busy machine moves
both sides; medians and the spread (min-max) are printed. The targets of issue 16
are first paint within 0.5 s and a pane switch within 0.1 s on a quiet machine.
With ``--relations 10000`` the data folder has that many relations (the target
there: at most twice the first paint with the demo's 40).

    python benchmarks/startup.py [--rounds 7] [--relations 10000]
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_home(folder: Path, relations: int) -> None:
    """The demo installation, then relations up to ``relations``."""
    from mailing.demo import load_demo
    from store.records import Administration, Relation
    from store.store import Store

    store = Store(folder, "demo")
    load_demo(store)
    have = len(store.all(Relation))
    admin = store.all(Administration)[0].code
    extra = [
        Relation(
            administration=admin,
            code=f"B{i:06d}",
            name=f"Benchmark customer {i:06d} B.V.",
            business_email=f"info{i}@customer.example",
            opt_in=["sales_invoice", "reminder"],
        )
        for i in range(max(0, relations - have))
    ]
    if extra:
        store.put_many(extra)


def frame_text(app: Any) -> str:
    """The whole screen as the terminal would show it, as plain text."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def watch_frames(app: Any, expected: Any, out: dict[str, float]) -> dict[str, Any]:
    """Record in ``out["first_paint"]`` when a frame sent to the terminal first shows
    ``expected()`` (None: nothing to look for yet). Headless, Textual still renders
    every frame and hands it to ``App._display``; the check runs after the frame was
    rendered, and its own cost is counted (it only makes the figure larger).

    The returned dict arms the same watch for a key: set ``name``, ``since`` (the
    time the key was sent) and ``expected``; ``out[name]`` is then the time from the
    key to the first frame that shows ``expected()``."""
    display = app._display
    armed: dict[str, Any] = {}

    def watched(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is None:
            return
        if "first_paint" not in out:
            text = expected()
            if text and text in frame_text(app):
                out["first_paint"] = (time.perf_counter() - T0) * 1000
                out["first_paint_cpu"] = time.process_time() * 1000  # since process start
        if armed.get("name") and armed["name"] not in out:
            text = armed["expected"]()
            if text and text in frame_text(app):
                out[armed["name"]] = (time.perf_counter() - armed["since"]) * 1000
                out[armed["name"] + "_cpu"] = (time.process_time() - armed["cpu"]) * 1000

    app._display = watched
    return armed


def child_mailroom(home: str) -> None:
    """In a fresh interpreter: JSON of first paint and pane switches, in ms."""
    from store.store import Store
    from tui.app import MailroomApp

    app = MailroomApp(Store(Path(home), "demo"), "demo")
    out: dict[str, float] = {}

    def first_row(pane: str = "profiles") -> str | None:
        """The text of the first row of the pane's list once it has one and is shown."""
        from textual.widgets import ContentSwitcher, OptionList

        if app.query_one("#panes", ContentSwitcher).current != f"pane-{pane}":
            return None
        for option_list in app.query(f"#pane-{pane} OptionList").results(OptionList):
            if option_list.option_count and option_list.display:
                return str(option_list.get_option_at_index(0).prompt)[:12]  # the list is narrow
        return None

    armed = watch_frames(app, first_row, out)

    async def steps(pilot: Any) -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()
        out["ready"] = (time.perf_counter() - T0) * 1000
        panes = (("switch_new", "f7", "documents"), ("switch_back", "f2", "profiles"))
        for name, key, pane in panes:
            t = time.perf_counter()
            armed.update(
                name=f"{name}_frame",
                since=t,
                cpu=time.process_time(),
                expected=lambda p=pane: first_row(p),
            )
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            out[name] = (time.perf_counter() - t) * 1000
        print(json.dumps(out))
        app.exit()

    app.run(headless=True, size=(80, 24), auto_pilot=steps)


def child_minimal() -> None:
    """The reference: the smallest Textual app with a footer and two switchable panes."""
    from textual.app import App, ComposeResult
    from textual.widgets import ContentSwitcher, Footer, Static

    class Minimal(App[None]):
        BINDINGS = [("f7", "show('b')", "B"), ("f2", "show('a')", "A")]

        def compose(self) -> ComposeResult:
            with ContentSwitcher(initial="a"):
                yield Static("pane a", id="a")
                yield Static("pane b", id="b")
            yield Footer()

        def action_show(self, pane: str) -> None:
            self.query_one(ContentSwitcher).current = pane

    app = Minimal()
    out: dict[str, float] = {}
    armed = watch_frames(app, lambda: "pane a", out)

    async def steps(pilot: Any) -> None:
        await pilot.pause()
        out["ready"] = (time.perf_counter() - T0) * 1000
        for name, key, text in (("switch_new", "f7", "pane b"), ("switch_back", "f2", "pane a")):
            t = time.perf_counter()
            armed.update(
                name=f"{name}_frame", since=t, cpu=time.process_time(), expected=lambda x=text: x
            )
            await pilot.press(key)
            await pilot.pause()
            out[name] = (time.perf_counter() - t) * 1000
        print(json.dumps(out))
        app.exit()

    app.run(headless=True, size=(80, 24), auto_pilot=steps)


def run_child(*args: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    result: dict[str, float] = json.loads(line)
    return result


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):7.0f} ms  (spread {min(values):.0f}-{max(values):.0f})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=("mailroom", "minimal"))
    parser.add_argument("--home")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--relations", type=int, default=0)
    args = parser.parse_args()
    if args.child == "mailroom":
        child_mailroom(args.home)
        return 0
    if args.child == "minimal":
        child_minimal()
        return 0
    # Bytecode, as an installed package has it (pip writes it; a development tree run
    # with PYTHONDONTWRITEBYTECODE would compile every module of ours at each start).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    packages = [str(ROOT / p) for p in ("tui", "screens", "mailing", "store")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], env=env, check=True)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        make_home(home, args.relations)
        ours: list[dict[str, float]] = []
        minimal: list[dict[str, float]] = []
        for _ in range(args.rounds):  # interleaved: both sides see the same machine
            ours.append(run_child("--child", "mailroom", "--home", str(home)))
            minimal.append(run_child("--child", "minimal"))
    size = "demo data" if not args.relations else f"{args.relations:,} relations"
    print(f"{args.rounds} interleaved rounds, {size}, load {load:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"{'':<34}{'Mailroom':<38}minimal Textual app")
    rows = (
        ("first paint (process start)", "first_paint"),
        ("  CPU time until first paint", "first_paint_cpu"),
        ("ready (process start)", "ready"),
        ("pane switch, first time (F7)", "switch_new"),
        ("pane switch, built (F2)", "switch_back"),
        ("  key to frame, first time (F7)", "switch_new_frame"),
        ("  key to frame, built (F2)", "switch_back_frame"),
        ("  CPU key to frame, first (F7)", "switch_new_frame_cpu"),
        ("  CPU key to frame, built (F2)", "switch_back_frame_cpu"),
    )
    for label, key in rows:
        a = [r[key] for r in ours]
        b = [r[key] for r in minimal]
        print(f"{label:<34}{summary(a):<38}{summary(b)}")
    first = statistics.median(r["first_paint"] for r in ours)
    back = statistics.median(r["switch_back"] for r in ours)
    frame = statistics.median(r["switch_back_frame"] for r in ours)
    print(
        f"targets: first paint <= 500 ms: {first:.0f} ms; switch <= 100 ms: {back:.0f} ms "
        f"(key to frame {frame:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
