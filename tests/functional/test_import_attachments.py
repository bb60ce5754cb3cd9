"""Hostile attachment paths and import files: refused before a byte is read, with the
place named; nothing is written to the data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mailing.importer import (
    import_documents,
)
from store.records import Document
from store.store import Store
from tests.conftest import PYTHON, cli_env
from tests.import_support import (
    import_store,
    invoice,
    problem_at,
    refused,
    snapshot,
    where,
    write_json,
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return import_store(tmp_path)


# ---------------------------------------------------------------- attachments


def test_attachment_proc_self_environ_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "in", invoice(attachments=["/proc/self/environ"]))
    exc = refused(store, path)
    what = problem_at(exc, "documents[0].attachments[0]")
    assert "/proc/self/environ" in what and "absolute" in what


def test_attachment_under_proc_is_refused_even_inside_the_named_folder(
    store: Store, tmp_path: Path
) -> None:
    # The administrator named / as the attachments folder: /proc stays out of bounds.
    path = write_json(tmp_path / "in", invoice(attachments=["proc/self/environ"]))
    exc = refused(store, path, attachments_dir="/")
    what = problem_at(exc, "documents[0].attachments[0]")
    assert "system" in what and "proc/self/environ" in what
    # ... and so are /sys and /dev.
    path = write_json(tmp_path / "in", invoice(attachments=["dev/zero", "sys/kernel/notes"]))
    exc = refused(store, path, attachments_dir="/")
    assert where(exc) == ["documents[0].attachments[0]", "documents[0].attachments[1]"]


def test_attachments_folder_under_proc_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "in", invoice(attachments=["environ"]))
    exc = refused(store, path, attachments_dir="/proc/self")
    assert "--attachments" in where(exc)


def test_attachment_etc_passwd_via_dotdot_is_refused(store: Store, tmp_path: Path) -> None:
    depth = len(tmp_path.parts) + 2
    spec = "../" * depth + "etc/passwd"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "terms.txt").write_text("terms")
    path = write_json(tmp_path / "in", invoice(attachments=[spec, "sub/../terms.txt"]))
    exc = refused(store, path)
    first = problem_at(exc, "documents[0].attachments[0]")
    assert "'..'" in first and "../../" in first
    assert "'..'" in problem_at(exc, "documents[0].attachments[1]")


def test_attachment_symlink_out_of_the_folder_is_refused(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("not for customers")
    (folder / "terms.pdf").symlink_to(tmp_path / "secret.txt")
    (folder / "env").symlink_to("/proc/self/environ")
    (folder / "subdir").symlink_to(tmp_path)  # a folder link that leaves, then a file in it
    path = write_json(folder, invoice(attachments=["terms.pdf", "env", "subdir/secret.txt"]))
    exc = refused(store, path)
    assert where(exc) == [f"documents[0].attachments[{i}]" for i in range(3)]
    assert "outside" in problem_at(exc, "documents[0].attachments[0]")


def test_symlink_that_stays_inside_the_folder_is_fine(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "pdfs").mkdir(parents=True)
    (folder / "pdfs" / "terms-2025.pdf").write_bytes(b"%PDF-1.4 terms")
    (folder / "terms.pdf").symlink_to("pdfs/terms-2025.pdf")
    path = write_json(folder, invoice(attachments=["terms.pdf"]))
    import_documents(store, path, administration="A1")
    (doc,) = store.all(Document)
    assert [a.name for a in doc.attachments] == ["terms.pdf"]
    assert store.files.read(doc.attachments[0]) == b"%PDF-1.4 terms"


def test_non_regular_attachments_are_refused_without_hanging(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "adir").mkdir(parents=True)
    os.mkfifo(folder / "pipe")
    path = write_json(folder, invoice(attachments=["pipe", "adir", "missing.pdf"]))
    exc = refused(store, path)
    assert "not a regular file" in problem_at(exc, "documents[0].attachments[0]")
    assert "folder" in problem_at(exc, "documents[0].attachments[1]")
    assert "does not exist" in problem_at(exc, "documents[0].attachments[2]")


def test_attachment_over_the_size_limit_is_refused_before_reading(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / "huge.pdf", "wb") as f:
        f.truncate(3 * 1024**3)  # sparse: no disk space, no time
    path = write_json(folder, invoice(attachments=["huge.pdf"]))
    start = time.process_time()  # CPU time: a busy machine does not add to it
    exc = refused(store, path)
    assert time.process_time() - start < 10
    what = problem_at(exc, "documents[0].attachments[0]")
    assert "huge.pdf" in what and "3,221.2 MB" in what and "50 MB" in what


# Runs the import in a child of a small wrapper, so that RUSAGE_CHILDREN holds that
# one process only (not every subprocess this test session started before).
_MEASURE = """
import json, resource, subprocess, sys
limit = int(sys.argv[1])
def cap():
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
p = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=120, preexec_fn=cap)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": p.returncode, "out": p.stdout, "err": p.stderr, "peak": peak}))
"""


def run_cli_measured(home: Path, *args: str, address_limit: int = 0) -> dict[str, Any]:
    cmd = [PYTHON, "-m", "tui", "--home", str(home), "documents", "import", *args]
    out = subprocess.run(
        [PYTHON, "-c", _MEASURE, str(address_limit), *cmd],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=180,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    result["peak_mb"] = result["peak"] * unit / 1024**2
    return result


def test_sparse_3gb_attachment_cli_refuses_with_low_memory(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / "backup.tar", "wb") as f:
        f.truncate(3 * 1024**3)
    path = write_json(folder, invoice(attachments=["backup.tar"]))
    before = snapshot(store.home)
    res = run_cli_measured(store.home, str(path), "--admin", "A1")
    assert res["rc"] == 2, res
    assert "documents[0].attachments[0]" in res["err"] and "backup.tar" in res["err"]
    assert "Traceback" not in res["err"]
    assert res["peak_mb"] < 200, res["peak_mb"]
    assert snapshot(store.home) == before


def test_cli_attachments_option_names_the_folder(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import main

    files = tmp_path / "pdfs"
    files.mkdir()
    (files / "terms.pdf").write_bytes(b"%PDF terms")
    path = write_json(tmp_path / "exports", invoice(attachments=["terms.pdf"]))
    home = str(store.home)
    # Relative to the import file's folder by default: not there.
    assert main(["--home", home, "documents", "import", str(path), "--admin", "A1"]) == 2
    err = capsys.readouterr().err
    assert "documents[0].attachments[0]" in err and "does not exist" in err
    assert "--attachments" in err  # the message tells how to point elsewhere
    # A folder that is not there is named as such.
    args = ["--home", home, "documents", "import", str(path), "--admin", "A1"]
    assert main([*args, "--attachments", str(tmp_path / "nope")]) == 2
    assert "--attachments" in capsys.readouterr().err
    assert main([*args, "--attachments", str(files)]) == 0
    (doc,) = store.all(Document)
    assert store.files.read(doc.attachments[0]) == b"%PDF terms"


def test_attachment_entries_are_checked(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "terms.pdf").write_bytes(b"%PDF")
    path = write_json(
        folder,
        invoice(
            attachments=[
                {"path": "terms.pdf", "name": "x\x1b[2J.pdf"},
                {"path": "terms.pdf", "nmae": "y.pdf"},
                "",
                "terms.pdf\x00.txt",
            ]
        ),
    )
    exc = refused(store, path)
    assert where(exc) == [f"documents[0].attachments[{i}]" for i in range(4)]


# ---------------------------------------------------------------- the import file itself


def test_import_file_that_is_not_a_regular_file_is_refused(store: Store, tmp_path: Path) -> None:
    fifo = tmp_path / "docs.json"
    os.mkfifo(fifo)
    exc = refused(store, fifo)
    assert "not a regular file" in str(exc)
    exc = refused(store, tmp_path)
    assert "folder" in str(exc)


def test_import_from_dev_zero_is_refused_quickly_and_small(store: Store) -> None:
    res = run_cli_measured(store.home, "/dev/zero", "--admin", "A1", address_limit=2 * 1024**3)
    assert res["rc"] == 2, res
    assert "not a regular file" in res["err"] and "Traceback" not in res["err"]
    assert res["peak_mb"] < 200
