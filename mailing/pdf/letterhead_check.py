"""Checking an uploaded letterhead in a bounded child process (A4, encryption, bombs, loops)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

from mailing.errors import DocumentError
from mailing.pdf.letterhead_bounds import text_outside
from mailing.pdf.letterhead_forms import (
    _SKIP_KEYS,
    MAX_BACKGROUND_PAGES,
    _open_reader,
    _prepare,
    _short,
)
from mailing.pdf.letterhead_pdfa import pdfa_problems

A4_WIDTH = 595.2756  # points: 210 mm
A4_HEIGHT = 841.8898  # points: 297 mm
SIZE_TOLERANCE = 3.0  # points (about 1 mm)
MAX_LETTERHEAD_BYTES = 20_000_000
VALIDATE_TIMEOUT_SECONDS = 15.0  # of CPU time: the child's RLIMIT_CPU is the real bound
# The wall-clock wait is only a guard against a child that hangs without using CPU: on a
# busy machine (two administrators building, CI beside another suite) the same work can
# take several times as long by the clock, and a good letterhead must not be refused.
WALL_GUARD_FACTOR = 10
VALIDATE_MEMORY_BYTES = 1024 * 1024 * 1024
# Decoded size above which one stream of a letterhead is refused as a "zip bomb".
MAX_DECODED_STREAM_BYTES = 50 * 1024 * 1024

_DO_RE = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+Do\b")

_KNOWN_SIZES = {
    "US Letter": (612.0, 792.0),
    "US Legal": (612.0, 1008.0),
    "A3": (841.89, 1190.55),
    "A5": (419.53, 595.28),
    "A4 landscape": (A4_HEIGHT, A4_WIDTH),
}


def _mm(points: float) -> float:
    return points * 25.4 / 72


def describe_size(width: float, height: float) -> str:
    """'215.9 × 279.4 mm (US Letter)' for a page size in points."""
    text = f"{_mm(width):.1f} × {_mm(height):.1f} mm"
    for name, (w, h) in _KNOWN_SIZES.items():
        if abs(width - w) <= SIZE_TOLERANCE and abs(height - h) <= SIZE_TOLERANCE:
            return f"{text} ({name})"
    return text


def is_a4(width: float, height: float) -> bool:
    return abs(width - A4_WIDTH) <= SIZE_TOLERANCE and abs(height - A4_HEIGHT) <= SIZE_TOLERANCE


# ---------------------------------------------------------------- validation


def _inspect(data: bytes, archival: bool = True) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a letterhead PDF; runs inside the bounded child process."""
    from pypdf.errors import LimitReachedError, PyPdfError
    from pypdf.generic import IndirectObject, StreamObject

    errors: list[str] = []
    warnings: list[str] = []
    try:
        reader = _open_reader(data, "letterhead")
        pages = list(reader.pages)
    except DocumentError as exc:
        return [exc.message], []
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return [f"The letterhead cannot be read ({type(exc).__name__}: {_short(exc)})."], []
    if not pages:
        return ["The letterhead has no pages."], []
    if len(pages) > MAX_BACKGROUND_PAGES:
        return [
            f"The letterhead has {len(pages)} pages; at most {MAX_BACKGROUND_PAGES} are allowed."
        ], []
    if len(pages) > 1:
        warnings.append(
            f"The letterhead has {len(pages)} pages; all of them are used under the first "
            f"{len(pages)} pages of every document. A one-page PDF is advised."
        )
    for n, page in enumerate(pages, start=1):
        try:
            box = page.mediabox
            width, height = float(box.width), float(box.height)
            rotate = int(page.get("/Rotate", 0) or 0) % 360
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
            errors.append(f"Page {n} of the letterhead has no readable size ({_short(exc)}).")
            continue
        if rotate:
            errors.append(
                f"Page {n} of the letterhead is rotated by {rotate}°; rotated pages are not "
                "supported as background."
            )
        elif not is_a4(width, height):
            errors.append(
                f"Page {n} of the letterhead is {describe_size(width, height)}, not A4 "
                "(210.0 × 297.0 mm)."
            )
        if page.get("/Annots"):
            warnings.append(
                f"Page {n} of the letterhead has links or form fields; they are not carried "
                "into the documents."
            )
    if errors:
        return errors, warnings
    # Decode every stream reachable from the pages, with a limit: refuses "zip bombs"
    # and proves the content can be read.
    seen: set[tuple[int, int]] = set()

    def visit(obj: Any, depth: int) -> None:
        if depth > 200:
            raise DocumentError("The letterhead's objects are nested too deeply.")
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                return  # shared, or a circular reference: each object is read once
            seen.add(key)
            visit(obj.get_object(), depth + 1)
            return
        if isinstance(obj, StreamObject):
            if len(obj.get_data()) > MAX_DECODED_STREAM_BYTES:
                raise LimitReachedError("stream too large")
        if hasattr(obj, "items"):
            for key, value in obj.items():
                if key not in _SKIP_KEYS:
                    visit(value, depth + 1)
        elif isinstance(obj, list):
            for value in obj:
                visit(value, depth + 1)

    # Forms that draw themselves (directly or through others) would make every
    # viewer recurse without end: follow the `Do` operators as a viewer would.
    done: set[tuple[int, int]] = set()

    def draws(data: bytes, resources: Any, stack: tuple[tuple[int, int], ...]) -> None:
        if len(stack) > 50:
            raise DocumentError("The letterhead's forms are nested too deeply.")
        xobjects: Any = resources.get("/XObject") if hasattr(resources, "get") else None
        if xobjects is not None and hasattr(xobjects, "get_object"):
            xobjects = xobjects.get_object()
        if not hasattr(xobjects, "raw_get"):
            return
        for name in set(_DO_RE.findall(data)):
            try:
                ref = xobjects.raw_get("/" + name.decode("latin-1"))
            except KeyError:
                continue
            if not isinstance(ref, IndirectObject):
                continue
            key = (ref.idnum, ref.generation)
            target = ref.get_object()
            if not isinstance(target, StreamObject) or target.get("/Subtype") != "/Form":
                continue
            if key in stack:
                raise DocumentError(
                    f"The letterhead has a circular reference: form object {key[0]} draws "
                    "itself, which would make every PDF viewer loop."
                )
            if key in done:
                continue
            draws(target.get_data(), target.get("/Resources") or resources, (*stack, key))
            done.add(key)

    try:
        for page in pages:
            resources = page.get("/Resources")
            visit(resources, 0)
            visit(page.get("/Contents"), 0)
            content = page.get_contents()
            if content is not None:
                draws(content.get_data(), resources.get_object() if resources else {}, ())
        if archival:
            errors.extend(pdfa_problems(reader, pages))
        _prepare(data, "LH1", "letterhead")
        if not errors:
            errors.extend(text_outside(data))
    except DocumentError as exc:
        errors.append(exc.message)
    except LimitReachedError:
        errors.append(
            "The letterhead holds a compressed stream that inflates to more than "
            f"{MAX_DECODED_STREAM_BYTES // 1_000_000} MB (a 'zip bomb')."
        )
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
        zlib.error,
    ) as exc:
        errors.append(
            f"The letterhead's content cannot be read ({type(exc).__name__}: {_short(exc)})."
        )
    return errors, warnings


def _limit_pypdf() -> None:
    """Lower pypdf's decompression limits to what a letterhead may need."""
    try:
        from pypdf import overwrite_configuration  # pypdf >= 7
    except ImportError:  # pypdf 6: module-level limits
        from pypdf import filters

        filters.ZLIB_MAX_OUTPUT_LENGTH = MAX_DECODED_STREAM_BYTES
        return
    overwrite_configuration(
        zlib_maximum_output_length=MAX_DECODED_STREAM_BYTES,
        lzw_maximum_output_length=MAX_DECODED_STREAM_BYTES,
        run_length_maximum_output_length=MAX_DECODED_STREAM_BYTES,
        array_based_stream_maximum_output_length=MAX_DECODED_STREAM_BYTES,
    )


def _child_main() -> int:
    """Entry of the bounded child: PDF bytes on stdin, JSON (errors, warnings) on stdout."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (VALIDATE_MEMORY_BYTES, VALIDATE_MEMORY_BYTES))
        cpu = int(VALIDATE_TIMEOUT_SECONDS) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    except (ImportError, ValueError, OSError):
        pass  # the parent's timeout still bounds the time
    import logging

    logging.disable(logging.CRITICAL)  # pypdf's warnings would go to stderr
    data = sys.stdin.buffer.read()
    try:
        _limit_pypdf()
        errors, warnings = _inspect(data, archival="--not-archival" not in sys.argv)
    except MemoryError:
        errors, warnings = (
            ["Reading the letterhead needs more memory than allowed (a 'zip bomb'?)."],
            [],
        )
    sys.stdout.write(json.dumps({"errors": errors, "warnings": warnings}))
    return 0


def validate_letterhead(
    data: bytes, what: str = "letterhead", *, archival: bool = True
) -> list[str]:
    """Check a letterhead PDF before it is stored; returns warnings.

    Raises DocumentError when it cannot be opened, is encrypted, is not A4 (naming the
    size found), has text outside its page (letterhead_bounds.py), has too many pages, holds a "zip bomb" or a circular reference, or
    cannot be part of an archival PDF/A document (letterhead_pdfa.py; with
    ``archival=False`` that last check is left out: a letterhead stored before it
    existed, under which documents are then drawn as plain PDF).
    The check runs in a child process bounded in time and memory.
    """
    fix = (
        "choose an unencrypted, undamaged one-page PDF of A4 size (210 × 297 mm), saved "
        "as PDF/A or with its fonts embedded and without transparency."
    )
    if not data.startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise DocumentError(f"The {what} is not a PDF file.", field=what, fix=fix)
    if len(data) > MAX_LETTERHEAD_BYTES:
        raise DocumentError(
            f"The {what} is {len(data) / 1e6:.1f} MB; at most "
            f"{MAX_LETTERHEAD_BYTES // 1_000_000} MB is allowed.",
            field=what,
            fix="use a smaller PDF (compress its images).",
        )
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from mailing.pdf.letterhead_check import _child_main as m; raise SystemExit(m())",
                *([] if archival else ["--not-archival"]),
            ],
            input=data,
            capture_output=True,
            timeout=VALIDATE_TIMEOUT_SECONDS * WALL_GUARD_FACTOR,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        proc = None
    if proc is None or proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise DocumentError(
            f"Reading the {what} took longer than {VALIDATE_TIMEOUT_SECONDS:.0f} s; it is damaged "
            "or built to exhaust resources (a circular reference or a 'zip bomb').",
            field=what,
            fix=fix,
        ) from None
    try:
        result = json.loads(proc.stdout.decode("utf-8"))
        errors, warnings = list(result["errors"]), list(result["warnings"])
    except (ValueError, KeyError, UnicodeDecodeError):
        raise DocumentError(
            f"Reading the {what} failed (the checker stopped with exit code {proc.returncode}); "
            "it is damaged or needs more memory than allowed (a 'zip bomb'?).",
            field=what,
            fix=fix,
        ) from None
    if errors:
        text = " ".join(e.replace("letterhead", what, 1) for e in errors)
        raise DocumentError(text, field=what, fix=fix)
    return [w.replace("letterhead", what, 1) for w in warnings]
