"""Backups: what goes in, what never goes in, and restores that refuse bad archives.

Every refused archive must leave the data folder byte for byte as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from mailing.backup import (
    MANIFEST,
    BackupError,
    RestoreError,
    check_mail_size,
    restore_backup,
    verify_backup,
    write_backup,
)
from store.exchange import export_json
from store.records import (
    Administration,
    Document,
    LanguageCode,
    Profile,
    Relation,
    SystemSettings,
    Template,
)
from store.secrets import set_secret
from store.spool import Spool
from store.store import Store

SECRET = "Tr0ub4dor-unique-7f3a9c-password"


def small_store(home: Path) -> Store:
    store = Store(home, "alice")
    letter = store.files.add_bytes("terms.pdf", b"%PDF-1.4 terms and conditions\n")
    store.put_many(
        [
            SystemSettings(profile="SYS"),
            Profile(code="SYS", system="outbox", sender="office@example.com", auth="password"),
            Administration(code="A", name="Alpha B.V."),
            Template(code="T1", object="sales_invoice", subject="Invoice", attachments=[letter]),
            LanguageCode(administration="A", code="NL", templates={"sales_invoice": "T1"}),
            Relation(administration="A", code="R1", name="Rel One", business_email="r@example.com"),
            Document(
                administration="A",
                type="sales_invoice",
                number="F1",
                relation="R1",
                date="2026-11-02",
            ),
        ]
    )
    batch = Spool(home).new_batch()
    batch.add_item("00001-F1", "email", "sent", b"Subject: x\r\n\r\nbody\r\n", {"item": "00001-F1"})
    (home / "archive" / "A").mkdir(parents=True)
    (home / "archive" / "A" / "record.json").write_text("{}")
    (home / "outbox").mkdir()
    (home / "outbox" / "trial.eml").write_text("not backed up")
    return store


def snapshot(home: Path) -> dict[str, bytes]:
    """Every file under home (lock files aside, which are empty and carry no data)."""
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def members_of(archive: Path) -> dict[str, bytes]:
    out = {}
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar:
            f = tar.extractfile(m)
            assert f is not None
            out[m.name] = f.read()
    return out


def test_backup_holds_data_and_manifest_but_never_secrets(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = small_store(home)
    set_secret("SYS", "password", SECRET)
    result = write_backup(store, tmp_path / "b.tar.gz")

    members = members_of(result.path)
    names = set(members)
    assert {"mailroom.json", "documents.json", MANIFEST} <= names
    assert any(n.startswith("files/") for n in names)
    assert "spool/" + next(iter(Spool(home).batches())).id + "/sent/00001-F1.eml" in names
    assert "archive/A/record.json" in names
    # Not in it: trial outbox, database copies, locks and temporaries.
    assert not any(
        n.startswith(("outbox/", "backups/")) or "/." in n or n.startswith(".") for n in names
    )
    manifest = json.loads(members[MANIFEST])
    assert set(manifest["members"]) == names - {MANIFEST}
    for name, entry in manifest["members"].items():
        assert entry["sha256"] == hashlib.sha256(members[name]).hexdigest()
        assert entry["size"] == len(members[name])
    # The secret is in the keyring only: not in the compressed nor the unpacked bytes.
    raw = result.path.read_bytes()
    assert SECRET.encode() not in raw
    assert SECRET.encode() not in gzip.decompress(raw)


def test_restore_into_empty_home_gives_the_same_configuration(tmp_path: Path) -> None:
    store = small_store(tmp_path / "home")
    before = export_json(store)
    archive = write_backup(store, tmp_path / "b.tar.gz").path

    target = Store(tmp_path / "empty", "bob")
    result = restore_backup(target, archive)
    assert result.previous_backup is None  # there was nothing to keep
    system = target.system()
    assert system.sending_paused and "restored from backup b.tar.gz" in system.paused_reason
    assert target.get(Document, "A/sales_invoice/F1").relation == "R1"
    # Sending paused is the only difference until an admin resumes.
    from mailing.backup import resume_sending

    resume_sending(target)
    assert export_json(target) == before
    assert (tmp_path / "empty" / "files").is_dir()
    assert not list((tmp_path / "empty").glob(".restore-*"))


def test_restore_keeps_the_current_data_as_a_backup_first(tmp_path: Path) -> None:
    old = small_store(tmp_path / "old")
    archive = write_backup(old, tmp_path / "old.tar.gz").path
    home = tmp_path / "home"
    store = Store(home, "bob")
    store.put_many(
        [SystemSettings(profile="X"), Profile(code="X", system="outbox", sender="x@example.com")]
    )
    current = export_json(store)

    result = restore_backup(store, archive)
    assert result.previous_backup is not None and result.previous_backup.parent == home / "backups"
    assert store.find(Profile, "X") is None and store.find(Profile, "SYS") is not None
    # The kept copy restores the data as it was.
    again = Store(tmp_path / "again", "bob")
    restore_backup(again, result.previous_backup)
    from mailing.backup import resume_sending

    resume_sending(again)
    assert export_json(again) == current


def test_restore_from_the_eml_that_carried_it(tmp_path: Path) -> None:
    from email.message import EmailMessage

    store = small_store(tmp_path / "home")
    archive = write_backup(store, tmp_path / "b.tar.gz").path
    msg = EmailMessage()
    msg["Subject"] = "backup"
    msg.set_content("attached")
    msg.add_attachment(archive.read_bytes(), "application", "gzip", filename=archive.name)
    eml = tmp_path / "b.eml"
    eml.write_bytes(msg.as_bytes())
    info = verify_backup(eml, tmp_path / "target")
    assert info["members"] >= 5 and info["created_by"] == "alice"

    msg2 = EmailMessage()
    msg2.set_content("nothing attached")
    (tmp_path / "plain.eml").write_bytes(msg2.as_bytes())
    with pytest.raises(RestoreError, match="carries no backup archive"):
        verify_backup(tmp_path / "plain.eml", tmp_path / "target")


# ---------------------------------------------------------------- hostile archives


def evil_archive(
    path: Path,
    members: list[tuple[str, bytes] | tarfile.TarInfo],
    *,
    manifest: dict[str, object] | None = None,
    level: int = 6,
) -> Path:
    """A .tar.gz whose manifest matches its regular members (unless given)."""
    listed = {}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
                continue
            name, payload = m
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
            listed[name] = {"sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
        man = manifest or {"format": "mailroom-backup", "version": 1, "members": listed}
        raw = json.dumps(man).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    path.write_bytes(gzip.compress(buf.getvalue(), compresslevel=level))
    return path


def good_db(tmp_path: Path) -> bytes:
    store = small_store(tmp_path / "src")
    return (store.home / "mailroom.json").read_bytes()


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info


CASES = {
    "traversal": (lambda db: [("mailroom.json", db), ("files/../../escaped", b"x")], "'..'"),
    "traversal-top": (lambda db: [("mailroom.json", db), ("../escaped", b"x")], "'..'"),
    "absolute": (lambda db: [("mailroom.json", db), ("/tmp/escaped", b"x")], "absolute path"),
    "symlink": (
        lambda db: [("mailroom.json", db), _link("files/passwd", "/etc/passwd", tarfile.SYMTYPE)],
        "is a link",
    ),
    "hardlink": (
        lambda db: [("mailroom.json", db), _link("files/h", "mailroom.json", tarfile.LNKTYPE)],
        "is a link",
    ),
    "device": (lambda db: [("mailroom.json", db), _device("files/null")], "device"),
    "foreign": (lambda db: [("mailroom.json", db), ("etc/cron.d/x", b"x")], "not a part of"),
    "hidden": (lambda db: [("mailroom.json", db), ("spool/.sender.lock", b"")], "hidden"),
    "corrupt-db": (lambda db: [("mailroom.json", db[: len(db) // 2])], "damaged"),
    "invalid-record": (
        lambda db: [
            (
                "mailroom.json",
                json.dumps({"profiles": {"1": {"code": "P", "port": 99999999}}}).encode(),
            )
        ],
        "does not validate",
    ),
    "file-not-its-hash": (
        lambda db: [("mailroom.json", db), ("files/" + "0" * 64, b"other content")],
        "content its name says",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_archive_is_refused_and_nothing_changes(tmp_path: Path, case: str) -> None:
    make, expected = CASES[case]
    archive = evil_archive(tmp_path / f"{case}.tar.gz", make(good_db(tmp_path)))
    store = small_store(tmp_path / "home")
    before = snapshot(store.home)
    with pytest.raises(RestoreError, match=expected) as exc:
        restore_backup(store, archive)
    assert "Nothing was restored" in str(exc.value)
    assert snapshot(store.home) == before
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/escaped").exists()


def test_wrong_checksum_unlisted_and_missing_members_are_refused(tmp_path: Path) -> None:
    db = good_db(tmp_path)
    store = small_store(tmp_path / "home")
    before = snapshot(store.home)
    listed = {"mailroom.json": {"sha256": hashlib.sha256(db).hexdigest(), "size": len(db)}}
    tampered = dict(listed)
    tampered["mailroom.json"] = {"sha256": "ab" * 32, "size": len(db)}
    cases = [
        (
            {"format": "mailroom-backup", "version": 1, "members": tampered},
            [("mailroom.json", db)],
            "does not match its checksum",
        ),
        (
            {"format": "mailroom-backup", "version": 1, "members": listed},
            [("mailroom.json", db), ("archive/extra.txt", b"x")],
            "not listed in the manifest",
        ),
        (
            {
                "format": "mailroom-backup",
                "version": 1,
                "members": {**listed, "documents.json": {"sha256": "0" * 64, "size": 2}},
            },
            [("mailroom.json", db)],
            "is missing",
        ),
        (
            {"format": "something-else", "members": listed},
            [("mailroom.json", db)],
            "not that of a Mailroom backup",
        ),
    ]
    for i, (manifest, members, expected) in enumerate(cases):
        archive = evil_archive(tmp_path / f"m{i}.tar.gz", members, manifest=manifest)
        with pytest.raises(RestoreError, match=expected):
            restore_backup(store, archive)
        assert snapshot(store.home) == before


def test_decompression_bomb_is_refused_while_streaming(tmp_path: Path) -> None:
    zeros = b"\0" * (48 * 1024 * 1024)
    archive = evil_archive(
        tmp_path / "bomb.tar.gz",
        [("files/" + hashlib.sha256(zeros).hexdigest(), zeros)],
        level=9,
    )
    assert archive.stat().st_size < 200_000
    store = small_store(tmp_path / "home")
    before = snapshot(store.home)
    with pytest.raises(RestoreError, match="decompression bomb"):
        restore_backup(store, archive)
    assert snapshot(store.home) == before


def test_garbage_and_truncated_archives_are_refused(tmp_path: Path) -> None:
    store = small_store(tmp_path / "home")
    good = write_backup(store, tmp_path / "good.tar.gz").path.read_bytes()
    before = snapshot(store.home)
    (tmp_path / "cut.tar.gz").write_bytes(good[: len(good) // 2])
    (tmp_path / "junk.tar.gz").write_bytes(b"\x1f\x8b" + b"junk" * 100)
    for name in ("cut.tar.gz", "junk.tar.gz"):
        with pytest.raises(RestoreError):
            restore_backup(store, tmp_path / name)
    with pytest.raises(RestoreError, match="cannot be read"):
        restore_backup(store, tmp_path / "absent.tar.gz")
    assert snapshot(store.home) == before


def test_mail_size_limit_is_a_clear_error() -> None:
    check_mail_size(1_000_000, 25 * 1024 * 1024)
    with pytest.raises(BackupError, match="limit for mail is 1.0 MB") as exc:
        check_mail_size(900_000, 1024 * 1024)
    assert "--max-size" in exc.value.fix


def test_backup_is_refused_while_a_sender_runs(tmp_path: Path) -> None:
    from store.spool import SenderBusyError

    store = small_store(tmp_path / "home")
    with Spool(store.home).sender_lock("carol"), pytest.raises(SenderBusyError, match="carol"):
        write_backup(store, tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()


def test_restore_is_refused_while_a_sender_runs(tmp_path: Path) -> None:
    from store.spool import SenderBusyError

    archive = write_backup(small_store(tmp_path / "src"), tmp_path / "b.tar.gz").path
    store = small_store(tmp_path / "home")
    before = snapshot(store.home)
    with Spool(store.home).sender_lock("carol"), pytest.raises(SenderBusyError, match="carol"):
        restore_backup(store, archive)
    assert snapshot(store.home) == before


def test_links_in_the_data_folder_are_not_followed_into_a_backup(tmp_path: Path) -> None:
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("not mailroom data")
    store = small_store(tmp_path / "home")
    (store.home / "files" / "sneaky").symlink_to(outside)
    (store.home / "archive" / "linked-dir").symlink_to(tmp_path, target_is_directory=True)
    members = members_of(write_backup(store, tmp_path / "b.tar.gz").path)
    assert not any("sneaky" in n or "linked-dir" in n for n in members)
    assert b"not mailroom data" not in b"".join(members.values())
