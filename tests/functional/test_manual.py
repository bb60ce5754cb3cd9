"""Hand-written e-mail: sender order, checked addresses, signature, the same transport, archived."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailing.errors import AddressError, ConfigError, TemplateError
from mailing.manual import send_manual
from mailing.manual_parts import MailError
from mailing.sending import SendingPausedError
from store.records import Administration, Profile, SystemSettings, Template, User
from store.secrets import set_secret
from store.store import Store
from tests.conftest import PYTHON, ROOT, cli_env
from tests.smtp_server import SMTPTestServer

SIGNATURE = "Kind regards,\nAlice Admin\nAccounts"


def setup(home: Path, server: SMTPTestServer, folder: Path) -> Store:
    store = Store(home, "alice")
    fields = server.profile_fields(folder)
    store.put_many(
        [
            SystemSettings(profile="SYS"),
            Profile.parse({"code": "SYS", "sender": "office@example.com", **fields}),
            Profile.parse(
                {
                    "code": "PERS",
                    "sender": "alice@example.com",
                    "sender_name": "Alice Admin",
                    "bcc": "alice-copy@example.com",
                    "reply_to": "replies@example.com",
                    **fields,
                }
            ),
            Administration(code="A", name="Alpha B.V."),
            User(name="alice", full_name="Alice Admin", profile="PERS", signature=SIGNATURE),
        ]
    )
    return store


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_hand_written_mail_goes_out_signed_and_is_archived(tmp_path: Path) -> None:
    attachment = tmp_path / "notes.txt"
    attachment.write_text("attached notes\n")
    with SMTPTestServer(security="starttls") as server:
        store = setup(tmp_path / "home", server, tmp_path)
        sent = send_manual(
            store,
            "alice",
            ["Customer@Example.net"],
            ["boss@example.org"],
            ["hidden@example.org"],
            "About your invoice",
            "Dear customer,\n\nPlease find the notes attached.",
            [attachment],
        )
        assert len(server.messages) == 1
        got = server.messages[0]
    # Personal profile first for hand-written mail (SPEC §5), with its Bcc and Reply-To.
    assert (sent.profile, sent.level, sent.sender) == ("PERS", "personal", "alice@example.com")
    assert got.mail_from == "alice@example.com"
    assert set(got.rcpt_tos) == {
        "Customer@example.net",
        "boss@example.org",
        "hidden@example.org",
        "alice-copy@example.com",
    }
    msg = parse(got.data)
    assert "Bcc" not in msg and "hidden@example.org" not in got.data.decode()
    assert msg["Reply-To"] == "replies@example.com"
    assert msg["From"] == "Alice Admin <alice@example.com>"
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")
    assert text.index("Please find the notes attached.") < text.index("Alice Admin\nAccounts")
    assert [p.get_filename() for p in msg.iter_attachments()] == ["notes.txt"]
    # Archived: archive/manual/<date>-<message-id>/ with the .eml and the server's reply.
    assert sent.archive is not None and sent.archive.parent == store.home / "archive" / "manual"
    assert (sent.archive / "message.eml").read_bytes() == got.data
    record = json.loads((sent.archive / "record.json").read_text())
    assert record["message_id"] == msg["Message-ID"] and record["reply"].startswith("250")
    assert record["sent_by"] == "alice" and record["accepted"]


def test_each_field_is_checked_and_named_before_anything_is_sent(tmp_path: Path) -> None:
    with SMTPTestServer(security="starttls") as server:
        store = setup(tmp_path / "home", server, tmp_path)
        for to, cc, bcc, field in (
            (["ok@example.com"], ["not an address"], [], "Cc"),
            (["ok@example.com"], [], ["x@@example.com"], "Bcc"),
            (["bad@"], [], [], "To"),
            ([], [], [], "To"),
        ):
            with pytest.raises(AddressError) as exc:
                send_manual(store, "alice", to, cc, bcc, "Hi", "text")
            assert exc.value.field == field
        with pytest.raises(MailError, match="cannot be read") as err:
            send_manual(store, "alice", ["ok@example.com"], [], [], "Hi", "x", [tmp_path / "nope"])
        assert err.value.field == "attachment"
        with pytest.raises(MailError, match="no subject"):
            send_manual(store, "alice", ["ok@example.com"], [], [], "  ", "x")
        with pytest.raises(ConfigError, match="'NOPE' does not exist"):
            send_manual(store, "alice", ["ok@example.com"], [], [], "Hi", "x", profile="NOPE")
        assert server.messages == []


def test_sender_order_given_profile_then_system(tmp_path: Path) -> None:
    with SMTPTestServer(security="starttls") as server:
        store = setup(tmp_path / "home", server, tmp_path)
        sent = send_manual(store, "alice", ["a@example.com"], [], [], "Hi", "x", profile="SYS")
        assert (sent.profile, sent.level) == ("SYS", "given")
        # Bob has no personal settings, administration A no profile: the system profile.
        sent = send_manual(store, "bob", ["a@example.com"], [], [], "Hi", "x", administration="A")
        assert (sent.profile, sent.level) == ("SYS", "system")
        steps = [s.rule for s in sent.trace]
        assert steps.index("sender.personal") < steps.index("sender.administration")
        assert [m.mail_from for m in server.messages] == ["office@example.com"] * 2


def test_a_manual_template_fills_subject_and_text(tmp_path: Path) -> None:
    with SMTPTestServer(security="starttls") as server:
        store = setup(tmp_path / "home", server, tmp_path)
        store.put_many(
            [
                Template(
                    code="MAN-EN",
                    object="manual",
                    format="html",
                    subject="A note from {{ administration_name }}",
                    body="<p>Best wishes from {{ user_name }}.</p>",
                ),
                Template(code="INV", object="sales_invoice", subject="x"),
            ]
        )
        sent = send_manual(
            store,
            "alice",
            ["a@example.com"],
            [],
            [],
            "",
            "Personal words first.",
            template="MAN-EN",
            administration="A",
        )
        assert sent.subject == "A note from Alpha B.V."
        msg = parse(server.messages[0].data)
        html = msg.get_body(("html",))
        assert html is not None
        content = html.get_content()
        assert content.index("Personal words first.") < content.index(
            "Best wishes from Alice Admin"
        )
        assert "Alice Admin<br>" in content  # the signature, once
        with pytest.raises(TemplateError, match="is for sales_invoice, not for manual"):
            send_manual(store, "alice", ["a@example.com"], [], [], "", "x", template="INV")


def test_nothing_is_sent_while_sending_is_paused(tmp_path: Path) -> None:
    with SMTPTestServer(security="starttls") as server:
        store = setup(tmp_path / "home", server, tmp_path)
        store.put(SystemSettings(profile="SYS", sending_paused=True, paused_reason="migration"))
        with pytest.raises(SendingPausedError, match="migration"):
            send_manual(store, "alice", ["a@example.com"], [], [], "Hi", "x")
        assert server.messages == []


def test_mail_command_with_password_login(tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_text("Hello from the command line.\n")
    keyfile = tmp_path / "keyring.json"
    env = cli_env(
        {
            "PYTHON_KEYRING_BACKEND": "tests.keyring_backend.FileKeyring",
            "MAILROOM_TEST_KEYRING_FILE": str(keyfile),
        }
    )
    with SMTPTestServer(security="starttls", users={"office@example.com": "pw-123"}) as server:
        store = setup(tmp_path / "home", server, tmp_path)
        store.put(
            Profile.parse(
                {
                    "code": "SYS",
                    "sender": "office@example.com",
                    "username": "office@example.com",
                    **server.profile_fields(tmp_path),
                }
            )
        )
        import os

        os.environ["MAILROOM_TEST_KEYRING_FILE"] = str(keyfile)
        from tests.keyring_backend import FileKeyring

        FileKeyring().set_password("mailroom", "password:SYS", "pw-123")
        run = subprocess.run(
            [
                PYTHON,
                "-m",
                "tui",
                "--home",
                str(store.home),
                "mail",
                "--to",
                "a@example.com",
                "--subject",
                "CLI test",
                "--body-file",
                str(body),
                "--attach",
                str(body),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert "profile SYS, system level" in run.stdout
        assert server.logins == ["office@example.com"]
        msg = parse(server.messages[0].data)
        assert msg["Subject"] == "CLI test"
        bad = subprocess.run(
            [
                PYTHON,
                "-m",
                "tui",
                "--home",
                str(store.home),
                "mail",
                "--to",
                "a@example.com",
                "--cc",
                "nope",
                "--subject",
                "x",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2 and "The Cc 'nope'" in bad.stderr
        assert len(server.messages) == 1
    _ = set_secret  # the in-process keyring is not what the subprocess reads
