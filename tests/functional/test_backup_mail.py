"""A backup by mail, restored from the received message: the demo configuration comes back whole.

A real aiosmtpd server with STARTTLS and a login; the password lives only in the
keyring and must not be in what was mailed.
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from mailing.backup import BackupError, restore_backup, resume_sending, send_backup
from mailing.demo import load_demo
from store.exchange import export_json
from store.records import Profile, Template
from store.secrets import set_secret
from store.store import Store
from tests.conftest import PYTHON, ROOT, cli_env
from tests.smtp_server import SMTPTestServer

LOGIN = "backup@office.example"
PASSWORD = "Sm7p-pass-only-in-keyring-4411"


@pytest.fixture
def demo(tmp_path: Path) -> Store:
    store = Store(tmp_path / "home", "demo")
    load_demo(store)
    return store


def test_round_trip_backup_by_mail_restores_the_same_configuration(
    demo: Store, tmp_path: Path
) -> None:
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        demo.put(
            Profile.parse(
                {
                    "code": "OFFSITE",
                    "sender": LOGIN,
                    "username": LOGIN,
                    **server.profile_fields(tmp_path),
                }
            )
        )
        set_secret("OFFSITE", "password", PASSWORD)
        original = export_json(demo)
        sent = send_backup(demo, "demo", ["offsite@example.net"], profile="OFFSITE")
        assert [m.rcpt_tos for m in server.messages] == [["offsite@example.net"]]
        assert server.messages[0].login == LOGIN
        eml = server.messages[0].data
    assert sent.mail.accepted == ["offsite@example.net"] and sent.mail.level == "given"
    assert sent.backup.members >= 4

    # The password went to the server in AUTH, never into the message or the archive.
    assert PASSWORD.encode() not in eml
    from mailing.backup import _archive_from_eml

    archive = _archive_from_eml("received", eml)
    assert PASSWORD.encode() not in archive and PASSWORD.encode() not in gzip.decompress(archive)
    # The sent backup is recorded (record only: an .eml would double the data each time).
    assert sent.mail.archive is not None and (sent.mail.archive / "record.json").exists()
    assert not (sent.mail.archive / "message.eml").exists()

    received = tmp_path / "received.eml"
    received.write_bytes(eml)
    target = Store(tmp_path / "empty", "demo")
    result = restore_backup(target, received)
    assert result.records > 300
    assert target.system().sending_paused
    resume_sending(target)
    assert export_json(target) == original


def test_backup_follows_the_sender_order_for_objects(demo: Store) -> None:
    # User demo has a personal profile: it comes first for backups.
    sent = send_backup(demo, "demo", ["a@example.net"]).mail
    assert (sent.profile, sent.level) == ("PERSONAL-DEMO", "personal")
    # Another user: the administration's profile, else the system's.
    sent = send_backup(demo, "bob", ["a@example.net"], administration="HOLT").mail
    assert (sent.profile, sent.level) == ("HOLT", "administration")
    sent = send_backup(demo, "bob", ["a@example.net"]).mail
    assert (sent.profile, sent.level) == ("SYSTEM", "system")
    assert any(s.decided and s.rule == "sender.system" for s in sent.trace)
    # Outbox profiles deliver into <home>/outbox: three messages with the archive attached.
    emls = sorted((demo.home / "outbox").glob("*.eml"))
    assert len(emls) == 3 and all(b"mailroom-backup-" in e.read_bytes() for e in emls)


def test_backup_template_is_used_when_there_is_one(demo: Store) -> None:
    demo.put(
        Template(
            code="BACKUP-MAIL",
            object="backup",
            format="text",
            subject="Backup {{ file_name }} from {{ installation }}",
            body="Size {{ size }}.",
        )
    )
    sent = send_backup(demo, "bob", ["a@example.net"]).mail
    assert sent.subject.startswith("Backup mailroom-backup-") and ".tar.gz from " in sent.subject
    eml = next((demo.home / "outbox").glob("*.eml")).read_bytes()
    assert b"Size " in eml


def test_backup_over_the_mail_limit_is_refused_before_sending(demo: Store) -> None:
    with pytest.raises(BackupError, match="limit for mail") as exc:
        send_backup(demo, "bob", ["a@example.net"], max_bytes=2048)
    assert "--max-size" in exc.value.fix
    assert not (demo.home / "outbox").exists() or not list((demo.home / "outbox").iterdir())


def test_backup_and_restore_from_the_command_line(demo: Store, tmp_path: Path) -> None:
    archive = tmp_path / "nightly.tar.gz"
    env = cli_env()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-m", "tui", *args],  # as the login: "other" is no demo folder
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    made = run("--home", str(demo.home), "backup", "create", str(archive))
    assert made.returncode == 0, made.stderr
    assert archive.exists() and "backup written to" in made.stdout
    empty = tmp_path / "other"
    assert run("--home", str(empty), "init").returncode == 0  # only init and demo make one
    restored = run("--home", str(empty), "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "sending is PAUSED" in restored.stdout
    status = run("--home", str(empty), "sending", "status")
    assert "PAUSED" in status.stdout and "restored from backup nightly.tar.gz" in status.stdout
    # A refused restore: a clear message, exit 2, no traceback.
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b" + b"\0" * 64)
    refused = run("--home", str(empty), "restore", str(bad))
    assert refused.returncode == 2 and "Nothing was restored" in refused.stderr
    assert "Traceback" not in refused.stderr
