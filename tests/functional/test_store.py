"""The store: atomic writes, locking, corruption handling, validation, secrets."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store.errors import CorruptDatabaseError, RecordError
from store.records import Administration, Profile, Relation
from store.secrets import SecretStoreError, get_secret, set_secret
from store.store import Store
from tests.conftest import ROOT, cli_env

WRITER = """
import sys
sys.path.insert(0, {root!r})
from store.store import Store
from store.records import Administration
store = Store(__import__('pathlib').Path({home!r}))
n = int(store.get(Administration, "A").name.split()[1])
first = True
while True:
    n += 1
    with store.transaction() as tx:
        # Two records that must always agree: a torn write would show a mix.
        tx.put(Administration(code="A", name=f"state {{n}}"))
        tx.put(Administration(code="B", name=f"state {{n}}"))
    if first:
        print("ready", flush=True)
        first = False
"""


def test_kill_during_writes_leaves_old_or_new_state(tmp_path: Path) -> None:
    home = tmp_path / "h"
    Store(home).put_many(
        [Administration(code="A", name="state 0"), Administration(code="B", name="state 0")]
    )
    rng = random.Random(7)
    script = WRITER.format(root=str(ROOT), home=str(home))
    last_seen = 0
    for trial in range(50):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        store = Store(home)  # start-up cleans leftovers
        names = {a.code: a.name for a in store.all(Administration)}
        assert names["A"] == names["B"], f"trial {trial}: torn state {names}"
        n = int(names["A"].split()[1])
        assert n >= last_seen
        last_seen = n
    leftovers = [p.name for p in home.iterdir() if ".tmp-" in p.name]
    assert leftovers == []


CONCURRENT = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from store.store import Store
from store.records import Relation
store = Store(Path({home!r}))
for k in range(300):
    with store.transaction() as tx:
        tx.put(Relation(administration="A", code=f"P{who}-{{k}}", name="x"))
"""


def test_two_processes_300_updates_each_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "h"
    Store(home)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT.format(root=str(ROOT), home=str(home), who=who)]
        )
        for who in (1, 2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    codes = {r.code for r in Store(home).all(Relation)}
    assert len(codes) == 600
    assert {f"P1-{k}" for k in range(300)} <= codes
    assert {f"P2-{k}" for k in range(300)} <= codes


def test_corrupt_file_is_refused_naming_the_file_and_a_good_copy(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    for i in range(5):
        store.put(Administration(code="A", name=f"v{i}"))
    db_file = tmp_path / "h" / "mailroom.json"
    db_file.write_bytes(db_file.read_bytes()[:20])  # truncated
    with pytest.raises(CorruptDatabaseError) as info:
        Store(tmp_path / "h").all(Administration)
    msg = str(info.value)
    assert str(db_file) in msg
    assert "mailroom.json.1" in msg
    copies = store.config_db.good_copies()
    assert len(copies) == 3
    store.config_db.restore_copy()
    assert Store(tmp_path / "h").get(Administration, "A").name == "v3"


def test_cli_reports_corrupt_database_without_traceback(tmp_path: Path) -> None:
    home = tmp_path / "h"
    Store(home).put(Administration(code="A", name="x"))
    Store(home).put(Administration(code="A", name="y"))
    (home / "mailroom.json").write_text("{not json")
    run = subprocess.run(
        [sys.executable, "-m", "tui", "--home", str(home), "config", "export"],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "is damaged" in run.stderr and "mailroom db restore-copy" in run.stderr
    fixed = subprocess.run(
        [sys.executable, "-m", "tui", "--home", str(home), "db", "restore-copy"],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
    )
    assert fixed.returncode == 0, fixed.stderr
    assert Store(home).get(Administration, "A").name == "x"


def test_bad_record_is_refused_with_field_and_nothing_stored(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    with pytest.raises(RecordError) as info:
        Profile.parse({"code": "P 1", "port": 70000, "security": "ssl"})
    text = str(info.value)
    assert "field code" in text and "field port" in text and "field security" in text
    assert "'ssl'" in text
    with pytest.raises(ValueError):
        with store.transaction() as tx:
            tx.put(Administration(code="A", name="first"))
            raise ValueError("half way")
    assert store.all(Administration) == []


def test_data_folder_and_files_are_private(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    store = Store(home)
    store.put(Administration(code="A", name="x"))
    ref = store.files.add_bytes("terms.pdf", b"%PDF-1.4 terms")
    assert home.stat().st_mode & 0o777 == 0o700
    assert (home / "mailroom.json").stat().st_mode & 0o777 == 0o600
    assert store.files.path(ref).stat().st_mode & 0o777 == 0o600
    # whatever module writes into the data folder (spool, archive, outbox) writes privately
    (home / "archive" / "x").mkdir(parents=True)
    (home / "archive" / "x" / "message.eml").write_bytes(b"From: a@b.example")
    assert (home / "archive" / "x").stat().st_mode & 0o777 == 0o700
    assert (home / "archive" / "x" / "message.eml").stat().st_mode & 0o777 == 0o600
    assert store.files.read(ref) == b"%PDF-1.4 terms"


def test_stored_file_is_a_copy_by_sha256(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    original = tmp_path / "terms.pdf"
    original.write_bytes(b"version 1")
    ref = store.files.add_file(original)
    original.write_bytes(b"version 2, edited later")
    assert store.files.read(ref) == b"version 1"
    assert ref.name == "terms.pdf" and len(ref.sha256) == 64


def test_password_never_reaches_the_data_folder(tmp_path: Path) -> None:
    home = tmp_path / "h"
    store = Store(home)
    store.put(Profile(code="MAIN", server="smtp.example.com", sender="a@b.example", username="a"))
    set_secret("MAIN", "password", "S3cret-Pa55word!")
    assert get_secret("MAIN", "password") == "S3cret-Pa55word!"
    for path in home.rglob("*"):
        if path.is_file():
            assert b"S3cret-Pa55word!" not in path.read_bytes(), path


def test_no_keyring_backend_says_what_to_configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring

    Store(tmp_path / "h")
    from keyring.backends import fail

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(SecretStoreError) as info:
        set_secret("MAIN", "password", "x")
    assert "mailroom secrets init" in str(info.value)
    assert "docs/secrets.md" in str(info.value)


def test_plaintext_backend_is_not_chosen_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring

    Store(tmp_path / "h")
    from keyring.backend import KeyringBackend

    class PlaintextKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, s: str, u: str) -> None:
            return None

        def set_password(self, s: str, u: str, p: str) -> None:
            raise AssertionError("must not be used")

        def delete_password(self, s: str, u: str) -> None:
            pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    # Installed and even made the default, but not named: never chosen. Without a
    # system keyring the data folder's encrypted file is, and it does not exist yet.
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    keyring.set_keyring(PlaintextKeyring())
    with pytest.raises(SecretStoreError) as info:
        set_secret("MAIN", "password", "x")
    assert "mailroom secrets init" in str(info.value)
    # Named, but plain text all the same: refused.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring.other")
    with pytest.raises(SecretStoreError) as info:
        set_secret("MAIN", "password", "x")
    assert "plain text" in str(info.value)


def test_domain_and_store_never_import_the_ui() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "import mailing, store\n"
        "for pkg in (mailing, store):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]\n"
        "assert not bad, bad\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=cli_env()
    )
    assert run.returncode == 0, run.stderr


def test_home_from_environment_and_option(tmp_path: Path) -> None:
    from store.store import resolve_home

    os.environ["MAILROOM_HOME"] = str(tmp_path / "env")
    assert resolve_home(None) == tmp_path / "env"
    assert resolve_home(str(tmp_path / "opt")) == tmp_path / "opt"
    del os.environ["MAILROOM_HOME"]
    assert "mailroom" in str(resolve_home(None))


def test_put_many_replaces_and_inserts(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    store.put_many([Relation(administration="A", code=f"C{i}", name=f"old {i}") for i in range(4)])
    store.put_many(
        [Relation(administration="A", code=f"C{i}", name=f"new {i}") for i in range(2, 6)]
    )
    names = {r.code: r.name for r in store.all(Relation)}
    assert names == {
        "C0": "old 0",
        "C1": "old 1",
        "C2": "new 2",
        "C3": "new 3",
        "C4": "new 4",
        "C5": "new 5",
    }
    raw = json.loads((tmp_path / "h" / "mailroom.json").read_text())
    assert len(raw["relations"]) == 6
