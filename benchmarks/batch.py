"""Building a batch of N one-page invoices, against drawing their PDFs with reportlab alone.

Whole build: resolve, render the template, draw the PDF on the letterhead, build
the message, write the ``.eml``, side-car and trace into the spool; with both
cores. Against: the same N invoices drawn by the reportlab layout alone (no
letterhead, no message, no spool) in this one process. Target: the whole build
takes no longer than the reportlab-alone drawing (ratio <= 1.0).

Run: ``python benchmarks/batch.py [--count N]`` (default 10,000; a few minutes).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailing.batch import build_batch
from mailing.config import ConfigSnapshot, load_documents
from mailing.demo import DEMO_USER, load_demo
from store.records import Document
from store.store import Store


def invoices(store: Store, count: int) -> list[Document]:
    """``count`` one-page invoices, copied from the demo's mailable ones."""
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mailroom-bench-batch-"))
    try:
        store = Store(home, DEMO_USER)
        load_demo(store)
        docs = invoices(store, args.count)
        cfg = ConfigSnapshot.load(store)

        from mailing.pdf.layout import render_document_pdf

        t0 = time.perf_counter()
        pages = 0
        for d in docs:
            rel = cfg.relations[(d.administration, d.relation)]
            pdf = render_document_pdf(
                d, rel, cfg.administrations[d.administration], language=rel.language
            )
            pages += pdf.count(b"/Type /Page\n") or 1
        alone = time.perf_counter() - t0

        t0 = time.perf_counter()
        batch = build_batch(store, DEMO_USER, "sales_invoice", documents=docs)
        build = time.perf_counter() - t0
        counts = batch.counts()
        n = len(docs)
        print(
            f"batch build: {n} one-page invoices -> {counts['draft']} messages, "
            f"{counts['print']} to print, {counts['failed']} failed"
        )
        print(
            f"  reportlab alone, 1 core : {alone:7.1f} s  {n / alone:7.0f} docs/s "
            f"({alone / n * 1000:.2f} ms each)"
        )
        print(
            f"  whole build, 2 cores    : {build:7.1f} s  {n / build:7.0f} docs/s "
            f"({build / n * 1000:.2f} ms each)"
        )
        print(f"  ratio build/reportlab-alone = {build / alone:.2f}  (target <= 1.0)")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
