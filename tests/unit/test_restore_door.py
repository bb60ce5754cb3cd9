"""Restore goes through the same door as `config import`; every refusal leaves the data as it was.

Each hostile backup here is a real backup (``write_backup`` of a good store) whose
archive was rebuilt with one member changed and the manifest made to match, so the
only thing wrong is the content under test.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailing.backup import (
    DEFAULT_MAIL_LIMIT,
    MANIFEST,
    BackupError,
    RestoreError,
    check_mail_size,
    human_size,
    restore_backup,
    verify_backup,
    write_backup,
)
from store.spool import Spool
from store.store import Store
from tests.unit.test_backup import small_store


def fingerprint(home: Path) -> dict[str, str]:
    """The SHA-256 of every file under the data folder, by its path."""
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


def members_of(archive: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar:
            f = tar.extractfile(m)
            assert f is not None
            out[m.name] = f.read()
    return out


def rebuild(src: Path, dest: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """A copy of the backup ``src`` with its members changed by ``change``; manifest to match."""
    members = members_of(src)
    manifest = json.loads(members.pop(MANIFEST))
    change(members)
    manifest["members"] = {
        name: {"sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
        for name, payload in members.items()
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, payload in [*members.items(), (MANIFEST, json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    dest.write_bytes(gzip.compress(buf.getvalue()))
    return dest


def change_config(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        data = json.loads(members["mailroom.json"])
        edit(data)
        members["mailroom.json"] = json.dumps(data).encode()

    return change


@pytest.fixture
def good_backup(tmp_path: Path) -> Path:
    return write_backup(small_store(tmp_path / "src"), tmp_path / "good.tar.gz").path


@pytest.fixture
def target(tmp_path: Path) -> Store:
    """The data folder a hostile backup is restored into: it must not change."""
    return small_store(tmp_path / "home")


def refused(store: Store, archive: Path) -> str:
    """Restore ``archive`` into ``store``: it must be refused, and nothing changed."""
    before = fingerprint(store.home)
    with pytest.raises(RestoreError) as exc:
        restore_backup(store, archive)
    assert fingerprint(store.home) == before
    message = str(exc.value)
    assert "Nothing was restored" in message
    assert "Traceback" not in message and "Error" not in message
    # `backup verify` says the same.
    with pytest.raises(RestoreError) as again:
        verify_backup(archive, store.home)
    assert str(again.value) == message
    assert fingerprint(store.home) == before
    return message


# ---------------------------------------------------------------- the configuration door


def _unsafe_template(data: dict[str, Any]) -> None:
    data["templates"]["1"]["body"] = "{{ ''.__class__.__mro__ }}"


def _header_injection(data: dict[str, Any]) -> None:
    data["relations"]["1"]["business_email"] = "a@b.nl\r\nBcc: evil@x.org"


def _dangling_profile(data: dict[str, Any]) -> None:
    data["administrations"]["1"]["profile"] = "GHOST"


def _no_system_profile(data: dict[str, Any]) -> None:
    data["system"]["1"]["profile"] = None


DOOR_CASES: dict[str, tuple[Callable[[dict[str, Any]], None], list[str]]] = {
    "unsafe-template": (_unsafe_template, ["mailroom.json, templates entry 1"]),
    "header-injection": (
        _header_injection,
        ["mailroom.json, relations entry 1.business_email", "line break"],
    ),
    "dangling-profile": (
        _dangling_profile,
        ["mailroom.json, administrations entry 1.profile", "'GHOST' does not exist"],
    ),
    "no-system-profile": (_no_system_profile, ["system.profile", "no system profile"]),
}


@pytest.mark.parametrize("case", sorted(DOOR_CASES))
def test_restore_refuses_what_config_import_refuses(
    tmp_path: Path, good_backup: Path, target: Store, case: str
) -> None:
    edit, expected = DOOR_CASES[case]
    archive = rebuild(good_backup, tmp_path / f"{case}.tar.gz", change_config(edit))
    message = refused(target, archive)
    for text in expected:
        assert text in message


def test_restore_lists_every_problem_at_once(
    tmp_path: Path, good_backup: Path, target: Store
) -> None:
    def everything(data: dict[str, Any]) -> None:
        for edit, _ in DOOR_CASES.values():
            edit(data)

    archive = rebuild(good_backup, tmp_path / "all.tar.gz", change_config(everything))
    message = refused(target, archive)
    assert "4 problems" in message
    for _, expected in DOOR_CASES.values():
        for text in expected:
            assert text in message


def test_restore_refuses_a_missing_stored_file(
    tmp_path: Path, good_backup: Path, target: Store
) -> None:
    def drop_files(members: dict[str, bytes]) -> None:
        for name in [n for n in members if n.startswith("files/")]:
            del members[name]

    archive = rebuild(good_backup, tmp_path / "nofiles.tar.gz", drop_files)
    message = refused(target, archive)
    assert "mailroom.json, templates entry 1" in message and "terms.pdf" in message


def test_a_good_rebuilt_backup_still_restores(
    tmp_path: Path, good_backup: Path, target: Store
) -> None:
    """The rebuilding in these tests is not what makes a backup refused."""
    archive = rebuild(good_backup, tmp_path / "same.tar.gz", lambda members: None)
    result = restore_backup(target, archive)
    assert result.records > 0


# ---------------------------------------------------------------- key map and spool


BAD_KEYMAPS: dict[str, tuple[bytes, str]] = {
    "undecodable": (b'"record.save" = "\xff\xfe"\n', "not UTF-8 text"),
    "invalid-toml": (b"record.save = \n", "not valid TOML"),
    "not-a-string": (b'"record.save" = 10\n', "not keys"),
}


@pytest.mark.parametrize("case", sorted(BAD_KEYMAPS))
def test_restore_refuses_a_bad_keymap(
    tmp_path: Path, good_backup: Path, target: Store, case: str
) -> None:
    raw, expected = BAD_KEYMAPS[case]

    def add(members: dict[str, bytes]) -> None:
        members["keymap.toml"] = raw

    message = refused(target, rebuild(good_backup, tmp_path / f"{case}.tar.gz", add))
    assert "keymap.toml" in message and expected in message


def test_restore_refuses_a_keymap_with_an_unknown_binding(
    tmp_path: Path, good_backup: Path, target: Store
) -> None:
    import tui.keymap  # noqa: F401 - the UI tells restore which bindings exist

    def add(members: dict[str, bytes]) -> None:
        members["keymap.toml"] = b'"record.sav" = "f10"\n'

    message = refused(target, rebuild(good_backup, tmp_path / "typo.tar.gz", add))
    assert "keymap.toml" in message and "unknown binding 'record.sav'" in message


def test_a_good_keymap_is_restored(tmp_path: Path, good_backup: Path, target: Store) -> None:
    import tui.keymap  # noqa: F401

    def add(members: dict[str, bytes]) -> None:
        members["keymap.toml"] = b'"record.save" = "ctrl+y"\n'

    restore_backup(target, rebuild(good_backup, tmp_path / "keys.tar.gz", add))
    assert (target.home / "keymap.toml").read_bytes() == b'"record.save" = "ctrl+y"\n'


@pytest.mark.parametrize("garbage", [b"{not json", b"[1, 2, 3]", b'{"approvals": "yes"}'])
def test_restore_refuses_a_garbage_batch_file(
    tmp_path: Path, good_backup: Path, target: Store, garbage: bytes
) -> None:
    batch_id = Spool(tmp_path / "src").batches()[0].id
    member = f"spool/{batch_id}/batch.json"

    def damage(members: dict[str, bytes]) -> None:
        members[member] = garbage

    message = refused(target, rebuild(good_backup, tmp_path / "spool.tar.gz", damage))
    assert member in message and "damaged" in message


# ---------------------------------------------------------------- odd archives


def test_a_very_long_member_name_is_refused_by_name(tmp_path: Path, target: Store) -> None:
    long_name = "archive/" + "x" * 300

    def add(members: dict[str, bytes]) -> None:
        members[long_name] = b"x"

    archive = rebuild(
        write_backup(small_store(tmp_path / "src"), tmp_path / "b.tar.gz").path,
        tmp_path / "long.tar.gz",
        add,
    )
    message = refused(target, archive)
    assert "too long" in message and "archive/xxxx" in message
    assert long_name not in message  # shortened


def test_a_file_that_is_not_gzip_is_not_called_an_email(tmp_path: Path, target: Store) -> None:
    for name, content in [("notes.tar.gz", b"just some text\n"), ("empty.tar.gz", b"")]:
        (tmp_path / name).write_bytes(content)
        message = refused(target, tmp_path / name)
        assert "is not a Mailroom backup (not a gzip file)" in message
        assert "e-mail" not in message.split("Fix:")[0]


def test_sizes_and_the_mail_limit_use_one_unit() -> None:
    assert human_size(50_000_000) == "50 MB"
    assert human_size(DEFAULT_MAIL_LIMIT) == "25 MB"
    assert human_size(999) == "999 bytes"
    assert human_size(1_500) == "1.5 kB"
    assert human_size(999_999) == "1.0 MB"
    assert human_size(1_048_576) == "1.0 MB"
    assert human_size(4_000_000_000) == "4 GB"
    with pytest.raises(BackupError, match="the limit for mail is 50 MB") as exc:
        check_mail_size(60_000_000, 50_000_000)
    assert "is 60 MB, about 82.1 MB once attached" in str(exc.value)


def test_the_screens_show_sizes_as_the_backup_does() -> None:
    from screens.widgets.spool_view import human_size as screen_size

    assert screen_size(None) == ""
    for n in (0, 999, 1_500, 50_000_000, 52_428_800, 3 * 10**9):
        assert screen_size(n) == human_size(n)


def test_cli_max_size_is_in_the_same_megabytes(tmp_path: Path) -> None:
    from tui.commands_backup import _mb

    assert _mb("50") == 50_000_000 and human_size(_mb("50")) == "50 MB"


def test_cli_restore_refusal_is_a_sentence(
    tmp_path: Path, good_backup: Path, target: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import main

    archive = rebuild(good_backup, tmp_path / "inj.tar.gz", change_config(_header_injection))
    before = fingerprint(target.home)
    code = main(["--home", str(target.home), "restore", str(archive)])
    err = capsys.readouterr().err
    assert code == 2
    assert "relations entry 1.business_email" in err and "Traceback" not in err
    assert fingerprint(target.home) == before
    code = main(["--home", str(target.home), "backup", "verify", str(archive)])
    assert code == 2 and "business_email" in capsys.readouterr().err
