"""`mailroom profile ...` and `mailroom sink`, driven through the real command line."""

from __future__ import annotations

import email
import io
import mailbox
import signal
import smtplib
import subprocess
import time
from email import policy
from pathlib import Path

import pytest

from store.records import Profile
from store.secrets import get_secret, set_secret
from store.store import Store
from tests.conftest import PYTHON, ROOT, cli_env
from tests.smtp_server import SMTPTestServer, free_port
from tui.cli import main

LOGIN = "office@example.com"
PASSWORD = "pw-Kx81-unique"


def run(home: Path, *argv: str) -> int:
    return main(["--home", str(home), *argv])


def add_for(server: SMTPTestServer, home: Path, folder: Path, code: str = "MAIN") -> None:
    assert run(home, "init") == 0  # only init (or demo) makes a data folder
    f = server.profile_fields(folder)
    rc = run(
        home, "profile", "add", code, "--sender", LOGIN, "--username", LOGIN,
        "--server", f["server"], "--port", str(f["port"]), "--security", f["security"],
        "--ca-file", f["ca_file"], "--timeout", "5", "--auth", f["auth"],
    )  # fmt: skip
    assert rc == 0


def test_add_show_list_and_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(
        tmp_path, "profile", "add", "RELAY", "--sender", "info@example.com",
        "--server", "relay.internal", "--security", "none", "--auth", "none",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0
    assert "not encrypted" in out and "without a login" in out
    profile = Store(tmp_path).get(Profile, "RELAY")
    assert profile.port == 25 and profile.security == "none"

    assert run(tmp_path, "profile", "list") == 0
    assert "RELAY" in capsys.readouterr().out
    assert run(tmp_path, "profile", "show", "RELAY") == 0
    assert "relay.internal" in capsys.readouterr().out


def test_add_refuses_duplicates_and_missing_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "profile", "add", "A", "--server", "smtp.example.com") == 2
    assert "sender" in capsys.readouterr().err
    assert run(tmp_path, "profile", "add", "A", "--sender", "a@example.com") == 2
    assert "server" in capsys.readouterr().err
    assert run(tmp_path, "profile", "add", "A", "--sender", "x@", "--server", "s.example") == 2
    assert "'x@'" in capsys.readouterr().err
    assert (
        run(tmp_path, "profile", "add", "A", "--sender", "a@example.com", "--server", "s.example")
        == 0
    )
    assert (
        run(tmp_path, "profile", "add", "A", "--sender", "a@example.com", "--server", "s.example")
        == 2
    )
    assert "exists already" in capsys.readouterr().err


def test_set_changes_fields_and_follows_the_default_port(tmp_path: Path) -> None:
    assert (
        run(tmp_path, "profile", "add", "A", "--sender", "a@example.com", "--server", "s.example")
        == 0
    )
    assert run(tmp_path, "profile", "set", "A", "--security", "tls", "--bcc", "a@example.com") == 0
    profile = Store(tmp_path).get(Profile, "A")
    assert (profile.security, profile.port, profile.bcc) == ("tls", 465, "a@example.com")
    assert run(tmp_path, "profile", "set", "NOPE", "--port", "25") == 2


def test_set_password_from_stdin_goes_to_the_keyring_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        run(tmp_path, "profile", "add", "A", "--sender", "a@example.com", "--server", "s.example")
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert run(tmp_path, "profile", "set-password", "A") == 0
    out = capsys.readouterr()
    assert get_secret("A", "password") == PASSWORD
    assert PASSWORD not in out.out + out.err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes()


def test_profile_test_succeeds_and_the_message_arrives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        add_for(server, home, tmp_path)
        set_secret("MAIN", "password", PASSWORD)
        assert run(home, "profile", "test", "MAIN") == 0
        assert run(home, "profile", "test", "MAIN", "--to", "boss@example.org") == 0
        assert [m.rcpt_tos for m in server.messages] == [[LOGIN], ["boss@example.org"]]
        msg = email.message_from_bytes(server.messages[0].data, policy=policy.default)
        assert "Mailroom test message" in str(msg["Subject"])
    out = capsys.readouterr().out
    assert out.count("OK: Test message sent") == 2


def test_profile_test_wrong_password_prints_the_diagnosis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        add_for(server, home, tmp_path)
        set_secret("MAIN", "password", "not-the-password")
        assert run(home, "profile", "test", "MAIN") == 1
    out = capsys.readouterr().out
    assert "FAILED: The server refused the user name or password" in out
    assert "Fix:" in out and "Server reply: 535" in out
    assert "not-the-password" not in out


def test_profile_test_without_password_says_how_to_set_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        add_for(server, home, tmp_path)
        assert run(home, "profile", "test", "MAIN") == 1
    assert "mailroom profile set-password MAIN" in capsys.readouterr().out


def test_outbox_profile_test_writes_an_eml_file(tmp_path: Path) -> None:
    assert (
        run(tmp_path, "profile", "add", "BOX", "--system", "outbox", "--sender", "a@example.com")
        == 0
    )
    assert run(tmp_path, "profile", "test", "BOX", "--to", "b@example.org") == 0
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "b@example.org"
    assert not list((tmp_path / "outbox").glob(".*"))  # no temporary file left


def test_sink_stores_messages_in_a_maildir_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    maildir = tmp_path / "maildir"
    assert run(tmp_path / "home", "init") == 0
    proc = subprocess.Popen(
        [PYTHON, "-m", "tui", "--home", str(tmp_path / "home"), "sink", "--port", str(port),
         "--maildir", str(maildir)],
        cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"Listening on 127.0.0.1:{port}" in line and str(maildir) in line
        home = tmp_path / "home"
        run(home, "profile", "add", "SINK", "--sender", "a@example.com", "--server", "127.0.0.1",
            "--port", str(port), "--security", "none", "--auth", "none")  # fmt: skip
        assert run(home, "profile", "test", "SINK", "--to", "b@example.org") == 0
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.sendmail("x@example.com", ["hidden@example.org"], b"Subject: hi\r\n\r\nbody\r\n")
        box = mailbox.Maildir(str(maildir), create=False)
        # Both were accepted (the client's sendmail returned): the sink files them as it
        # goes. Waited for while it runs, not against a clock a busy machine can pass.
        while len(box) < 2 and proc.poll() is None:
            time.sleep(0.05)
        subjects = sorted(str(m["Subject"]) for m in box)
        assert subjects == ["Mailroom test message (profile SINK)", "hi"]
        envelopes = sorted(str(m["X-Mailroom-Envelope-To"]) for m in box)
        assert envelopes == ["b@example.org", "hidden@example.org"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "2 message(s) received" in out
    # One line per message as it arrives: who, to whom, the subject, the size.
    assert "#1 from a@example.com to b@example.org: 'Mailroom test message (profile SINK)'" in out
    assert "#2 from x@example.com to hidden@example.org: 'hi' (0.0 kB)" in out


def test_warnings_for_office365_and_gmail() -> None:
    from mailing.errors import ConfigError
    from mailing.transports.profiles import check_profile, profile_warnings

    o365 = Profile.parse(
        {"code": "O", "sender": "info@contoso.example", "server": "smtp.office365.com",
         "username": "admin@contoso.example"}
    )  # fmt: skip
    warnings = " ".join(profile_warnings(o365))
    assert "Sent Items" in warnings and "Bcc" in warnings
    assert "30 messages a minute" in warnings
    assert "send-as rights" in warnings
    o365.bcc, o365.rate_per_minute = "info@contoso.example", 30
    assert not any("Sent Items" in w or "30 messages" in w for w in profile_warnings(o365))
    gmail = Profile.parse({"code": "G", "sender": "me@gmail.com", "server": "smtp.gmail.com"})
    assert any("app password" in w for w in profile_warnings(gmail))
    oauth = Profile.parse(
        {"code": "X", "sender": "a@contoso.example", "server": "smtp.office365.com",
         "auth": "oauth2-office365"}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="client"):
        check_profile(oauth)
