"""`batch create` of N invoices against a plain reportlab script drawing the same invoices.

The build (``mailing.batches.build.build_batch``, what ``mailroom batch create`` runs):
resolve, PDF on the letterhead with embedded DejaVu Sans and PDF/A-3b, template,
MIME message, ``.eml`` + side-car + trace into the spool, print list, with both
cores (two worker processes).

The reference, written here and sharing no code with Mailroom's layout: a plain
reportlab ``Canvas`` script that draws the same invoice (seller, customer address,
title, number and dates, the lines with quantities, prices and amounts, totals with
VAT, payment terms) with the same embedded TrueType font, DejaVu Sans and DejaVu
Sans Bold, page compression on, and writes one PDF file per invoice. It does not
draw a letterhead, make a PDF/A, render a template or build a message: it is the
floor of "a PDF invoice with an embedded font" on one core.

The sides, in ``--rounds`` interleaved rounds (the order rotates):

- ``mailroom batch create --type sales_invoice --from D --to D``: the real command
  in a fresh interpreter (start-up, resolve, render with its two worker processes,
  spool), over the N invoices stored in a demo data folder with date D;
- the reference above with DejaVu Sans embedded, in a child process;
- the same reference with reportlab's Helvetica (not embedded), in a child process;
- with ``--before DIR``: the same command of an older tree (``PYTHONPATH=DIR``).

Each side's output is moved aside and deleted after the last round: on an ext4 without a
journal (this machine's) a file created soon after thousands were deleted nearby costs
~0.6 ms of system CPU instead of ~0.03 (docs/performance.md, session 7).

CPU is user + system (``resource.getrusage`` of the children: the command's worker
processes included); the references count only their drawing, the command its whole
run. System calls of the command by ``strace -c -f`` in a run of its own. Targets
(issue 31): CPU per document <= 0.9x the DejaVu reference, <= 2.5x the Helvetica one.

Run: ``python benchmarks/batch.py [--count 1000] [--rounds 5] [--no-strace] [--before DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FONT_DIR = ROOT / "mailing" / "pdf" / "fonts"


def invoices(store: Any, count: int) -> list[Any]:
    """``count`` one-page invoices, copied from the demo's mailable ones."""
    from mailing.config import ConfigSnapshot, load_documents

    cfg = ConfigSnapshot.load(store)
    base = []
    for d in load_documents(store):
        rel = cfg.relations.get((d.administration, d.relation))
        if d.type == "sales_invoice" and rel is not None and "sales_invoice" in rel.opt_in:
            base.append(d)
    out = []
    for i in range(count):
        src = base[i % len(base)]
        out.append(src.model_copy(update={"number": f"B{i + 1:06d}", "lines": src.lines[:6]}))
    return out


def cpu() -> float:
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# ---------------------------------------------------------------- the reference


def _money(v: Decimal) -> str:
    return f"€ {v:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


SANS, BOLD = "RefSans", "RefSans-Bold"  # Helvetica and Helvetica-Bold in "helvetica"


def draw_reference(path: str, doc: Any, rel: Any, adm: Any) -> None:
    """One invoice, plain reportlab, DejaVu Sans embedded (or Helvetica, not embedded)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(path, pagesize=A4, pageCompression=1, invariant=1)
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    c.setFont(BOLD, 14)
    c.drawString(left, height - 25 * mm, adm.name)
    c.setFont(SANS, 9)
    y = height - 31 * mm
    for line in adm.address:
        c.drawString(left, y, line)
        y -= 11
    y = height - 55 * mm
    c.setFont(SANS, 10)
    for line in [rel.name, *rel.address]:
        c.drawString(left, y, line)
        y -= 13
    c.setFont(BOLD, 16)
    c.drawString(left, height - 95 * mm, "Factuur")
    c.setFont(SANS, 10)
    y = height - 105 * mm
    facts = [("Factuurnummer", doc.number), ("Factuurdatum", doc.date.isoformat())]
    if doc.due_date:
        facts.append(("Vervaldatum", doc.due_date.isoformat()))
    if doc.reference:
        facts.append(("Uw referentie", doc.reference))
    for label, value in facts:
        c.drawString(left, y, label)
        c.drawString(left + 40 * mm, y, value)
        y -= 13
    y -= 10
    c.setFont(BOLD, 10)
    cols = (left, right - 75 * mm, right - 40 * mm, right)
    c.drawString(cols[0], y, "Omschrijving")
    c.drawRightString(cols[1], y, "Aantal")
    c.drawRightString(cols[2], y, "Prijs")
    c.drawRightString(cols[3], y, "Bedrag")
    y -= 4
    c.line(left, y, right, y)
    y -= 13
    c.setFont(SANS, 10)
    subtotal, vat = Decimal(0), Decimal(0)
    for ln in doc.lines:
        amount = (ln.quantity * ln.unit_price).quantize(Decimal("0.01"))
        subtotal += amount
        vat += (amount * ln.vat_rate / 100).quantize(Decimal("0.01"))
        c.drawString(cols[0], y, ln.description[:60])
        c.drawRightString(cols[1], y, f"{ln.quantity:f}")
        c.drawRightString(cols[2], y, _money(ln.unit_price))
        c.drawRightString(cols[3], y, _money(amount))
        y -= 14
    c.line(cols[1] - 20 * mm, y + 6, right, y + 6)
    y -= 8
    for label, value in (("Subtotaal", subtotal), ("BTW", vat), ("Totaal", subtotal + vat)):
        c.setFont(BOLD if label == "Totaal" else SANS, 10)
        c.drawRightString(cols[2], y, label)
        c.drawRightString(cols[3], y, _money(value))
        y -= 14
    c.setFont(SANS, 8)
    c.drawString(
        left,
        25 * mm,
        f"Gelieve binnen {adm.payment_days} dagen te betalen op {adm.iban} "
        f"t.n.v. {adm.name}, onder vermelding van {doc.number}.",
    )
    c.showPage()
    c.save()


def child_reference(home: Path, count: int, out: Path, helvetica: bool = False) -> dict[str, float]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from mailing.config import ConfigSnapshot
    from store.store import Store

    global SANS, BOLD
    if helvetica:
        SANS, BOLD = "Helvetica", "Helvetica-Bold"
    else:
        pdfmetrics.registerFont(TTFont("RefSans", str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("RefSans-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    store = Store(home, "bench")
    docs = invoices(store, count)
    cfg = ConfigSnapshot.load(store)
    out.mkdir(parents=True, exist_ok=True)
    c0, t0 = cpu(), time.perf_counter()
    for i, d in enumerate(docs):
        rel = cfg.relations[(d.administration, d.relation)]
        draw_reference(str(out / f"{i}.pdf"), d, rel, cfg.administrations[d.administration])
    return {"wall": time.perf_counter() - t0, "cpu": cpu() - c0, "docs": count}


def child_build(home: Path, count: int) -> dict[str, float]:
    from mailing.batches import build_batch
    from mailing.demo import DEMO_USER
    from store.store import Store

    store = Store(home, DEMO_USER)
    docs = invoices(store, count)
    c0, t0 = cpu(), time.perf_counter()
    batch = build_batch(store, DEMO_USER, "sales_invoice", documents=docs)
    took = {"wall": time.perf_counter() - t0, "cpu": cpu() - c0, "docs": count}
    counts = batch.counts()
    took.update({k: counts[k] for k in ("draft", "print", "failed")})
    return took


# ---------------------------------------------------------------- the rounds

DATE = "2001-02-03"  # the benchmark's invoices, and no demo document, have this date
STRACE = "/usr/bin/strace"


def make_home(home: Path, count: int) -> None:
    """A demo data folder holding ``count`` more invoices, all dated ``DATE``."""
    import datetime as dt

    from mailing.demo import DEMO_USER, load_demo
    from store.store import Store

    store = Store(home, DEMO_USER)
    load_demo(store)
    # The reference draws no payment QR code: the demo's EPC code (issue 27) is left
    # off so both sides draw the same invoice (its cost: docs/performance.md).
    from mailing.changes import save_record
    from store.records import Administration

    for adm in store.all(Administration):
        if adm.epc_qr:
            save_record(store, adm.model_copy(update={"epc_qr": False}), adm.key)
    day = dt.date.fromisoformat(DATE)
    store.put_many([d.model_copy(update={"date": day}) for d in invoices(store, count)])


def command_line(home: Path, tree: Path = ROOT) -> tuple[list[str], dict[str, Any]]:
    from mailing.demo import DEMO_USER

    cmd = [sys.executable, "-m", "tui", "--home", str(home), "--user", DEMO_USER, "batch"]
    cmd += ["create", "--type", "sales_invoice", "--from", DATE, "--to", DATE]
    return cmd, {"env": {**os.environ, "PYTHONPATH": str(tree)}, "cwd": tree}


def move_aside(path: Path, trash: Path) -> None:
    trash.mkdir(exist_ok=True)
    path.rename(trash / f"{time.monotonic_ns()}")


def drop_batches(home: Path) -> dict[str, int]:
    """The last batch's counts; every batch moved aside (else the next leaves their documents out)."""
    from store.spool import Spool

    batches = Spool(home).batches()
    counts = batches[-1].counts() if batches else {}
    for b in batches:
        move_aside(b.path, home.parent / "trash")
    return counts


def run_command(home: Path, tree: Path = ROOT) -> dict[str, float]:
    """``mailroom batch create`` in a fresh interpreter: wall and CPU (user + system of
    it and of its worker processes), start-up included."""
    cmd, kw = command_line(home, tree)
    c0, u0, t0 = child_cpu(), child_user(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    took = {"wall": time.perf_counter() - t0, "cpu": child_cpu() - c0, "user": child_user() - u0}
    if done.returncode != 0:
        raise SystemExit(f"mailroom batch create failed:\n{done.stdout}\n{done.stderr}")
    counts = drop_batches(home)
    took.update({k: counts.get(k, 0) for k in ("draft", "print", "failed")})
    return took


def syscalls_of_command(home: Path, tree: Path = ROOT) -> int:
    with tempfile.NamedTemporaryFile(prefix="mailroom-bench-strace-") as out:
        cmd, kw = command_line(home, tree)
        done = subprocess.run(
            [STRACE, "-c", "-f", "-o", out.name, *cmd],
            capture_output=True,
            text=True,
            check=False,
            **kw,
        )
        if done.returncode != 0:
            raise SystemExit(f"batch create failed under strace:\n{done.stderr}")
        drop_batches(home)
        for line in Path(out.name).read_text().splitlines():
            fields = line.split()
            if fields and fields[-1] == "total":
                return int(fields[3])
    raise SystemExit("strace -c gave no total")


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_child(which: str, home: Path, count: int, out: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", which, "--home", str(home)]
    cmd += ["--count", str(count), "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{which} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    move_aside(out, out.parent / "trash")
    return result


def child_user() -> float:  # user CPU alone: the kernel's file costs left out
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime


def ratios(of: dict[str, list[float]], a: str, b: str) -> list[float]:
    return [x / y for x, y in zip(of[a], of[b], strict=True)]


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    med = fmt.format(statistics.median(values))
    return f"median {med} [min {fmt.format(min(values))}, max {fmt.format(max(values))}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-strace", action="store_true", help="leave out the system calls")
    ap.add_argument("--child", choices=("build", "reference", "helvetica"))
    ap.add_argument("--home", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--before", type=Path, help="an older tree: its command timed too")
    args = ap.parse_args()
    if args.child == "build":
        print(json.dumps(child_build(args.home, args.count)))
        return
    if args.child in ("reference", "helvetica"):
        print(json.dumps(child_reference(args.home, args.count, args.out, args.child[0] == "h")))
        return

    tmp = Path(tempfile.mkdtemp(prefix="mailroom-bench-batch-"))
    try:
        home = tmp / "home"
        n = args.count
        make_home(home, n)
        print(
            f"batch create: {n} one-page invoices (six lines), {args.rounds} rounds; CPU is "
            "user + system of each side's process and its workers; the command's includes "
            "its start-up, the references' only their drawing"
        )
        sides = ("command", "reference", "helvetica", *(("before",) if args.before else ()))
        cpu: dict[str, list[float]] = {w: [] for w in sides}
        wall: dict[str, list[float]] = {w: [] for w in sides}
        loads: list[float] = []
        trees = {"command": ROOT, **({"before": args.before} if args.before else {})}
        calls: dict[str, list[float]] = {w: [] for w in trees}
        user: dict[str, list[float]] = {w: [] for w in trees}
        for r in range(args.rounds):
            loads.append(os.getloadavg()[0])
            order = sides[r % len(sides) :] + sides[: r % len(sides)]
            got: dict[str, dict[str, float]] = {}
            for w in order:
                tree = trees.get(w)
                got[w] = run_command(home, tree) if tree else run_child(w, home, n, tmp / w)
                cpu[w].append(got[w]["cpu"] / n * 1000)
                if w in trees:
                    user[w].append(got[w]["user"] / n * 1000)
                wall[w].append(got[w]["wall"])
            b = got["command"]
            if b["draft"] + b["print"] != n:
                raise SystemExit(f"the batch holds {b['draft'] + b['print']:.0f}, not {n}")
            line = (
                f"  round {r + 1} (load {loads[-1]:.2f} -> {os.getloadavg()[0]:.2f}): "
                f"batch create {b['wall']:.1f} s wall, {cpu['command'][-1]:.2f} ms CPU/doc "
                f"({b['draft']:.0f} messages, {b['print']:.0f} to print); "
                f"reportlab+DejaVu {cpu['reference'][-1]:.2f}; "
                f"reportlab+Helvetica {cpu['helvetica'][-1]:.2f} ms CPU/doc; CPU ratios "
                f"{cpu['command'][-1] / cpu['reference'][-1]:.2f} and "
                f"{cpu['command'][-1] / cpu['helvetica'][-1]:.2f}"
            ) + (f"; before {cpu['before'][-1]:.2f} ms CPU/doc" if args.before else "")
            if not args.no_strace:
                for w, tree in trees.items():
                    calls[w].append(syscalls_of_command(home, tree) / n)
                    line += f"; {w} {calls[w][-1]:.1f} syscalls/doc"
            print(line, flush=True)
        print(f"  load at the start of each round: {spread(loads)}")
        for w, label in (
            ("command", "mailroom batch create"),
            ("reference", "reportlab, DejaVu embedded"),
            ("helvetica", "reportlab, Helvetica"),
            *((("before", "batch create, before"),) if args.before else ()),
        ):
            print(f"  CPU per document, {label:27}: {spread(cpu[w])} ms")
        for w, c in calls.items():
            if c:
                print(f"  system calls per document, {w}: {spread(c, '{:.1f}')}")
        if args.before:
            for x, y in (("command", "before"), ("before", "reference"), ("before", "helvetica")):
                print(f"  CPU ratio {x} / {y}: {spread(ratios(cpu, x, y))}")
        r_ref, r_hel = ratios(cpu, "command", "reference"), ratios(cpu, "command", "helvetica")
        print(f"  CPU ratio command / reportlab+DejaVu   : {spread(r_ref)}  (target <= 0.9)")
        print(f"  CPU ratio command / reportlab+Helvetica: {spread(r_hel)}  (target <= 2.5)")
        w_ref = ratios(wall, "command", "reference")
        print(f"  wall ratio command (2 cores) / reportlab+DejaVu (1 core): {spread(w_ref)}")
        for w in trees:
            print(f"  user CPU per document, {w}: {spread(user[w])} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
