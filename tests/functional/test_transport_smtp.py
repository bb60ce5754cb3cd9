"""SMTP transport against a real aiosmtpd server with STARTTLS/TLS and AUTH."""

from __future__ import annotations

import base64
import datetime as dt
import email
import logging
import traceback
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme

from mailing.transports import SendResult, TransportError, open_transport
from store.records import Profile
from store.secrets import set_secret
from tests.smtp_server import SMTPTestServer

PASSWORD = "corr3ct-horse-Battery"
USER = "info@example.com"


def make_profile(server: SMTPTestServer, tmp_path: Path, **over: Any) -> Profile:
    fields = {
        "code": "MAIN",
        "sender": USER,
        "username": USER,
        **server.profile_fields(tmp_path),
    }
    fields.update(over)
    return Profile.parse(fields)


def message(to: str = "customer@example.org", *, attachments: bool = True) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = USER
    msg["To"] = to
    msg["Subject"] = "Invoice 2024-001"
    msg["Message-ID"] = "<inv-2024-001@example.com>"
    msg.set_content("Dear customer,\n.\nA line starting with a dot, above.\n")
    if attachments:
        msg.add_attachment(
            b"%PDF-1.4\n% invoice\n" + bytes(range(256)) * 40,
            maintype="application",
            subtype="pdf",
            filename="invoice-2024-001.pdf",
        )
        msg.add_attachment("Terms and conditions\n", filename="terms.txt")
    return msg.as_bytes()


def attachments_of(data: bytes) -> dict[str, bytes]:
    parsed = email.message_from_bytes(data, policy=policy.default)
    out: dict[str, bytes] = {}
    for part in parsed.iter_attachments():  # type: ignore[attr-defined]
        out[part.get_filename()] = part.get_payload(decode=True)
    return out


@pytest.fixture
def server() -> Any:
    with SMTPTestServer(users={USER: PASSWORD}) as srv:
        yield srv


def test_message_with_attachments_arrives_over_starttls_with_password(
    server: SMTPTestServer, tmp_path: Path
) -> None:
    set_secret("MAIN", "password", PASSWORD)
    raw = message()
    with open_transport(make_profile(server, tmp_path), tmp_path) as transport:
        result = transport.send(raw, USER, ["customer@example.org"])
    assert isinstance(result, SendResult)
    assert result.accepted == ["customer@example.org"]
    assert result.refused == {}
    assert result.reply.startswith("250")
    [got] = server.messages
    assert got.mail_from == USER and got.rcpt_tos == ["customer@example.org"]
    assert got.tls and got.login == USER
    # Byte for byte what was approved (dot-stuffing undone by the server).
    assert got.data.rstrip(b"\r\n") == raw.rstrip(b"\r\n")
    files = attachments_of(got.data)
    assert files["invoice-2024-001.pdf"].startswith(b"%PDF-1.4")
    assert len(files["invoice-2024-001.pdf"]) == len(b"%PDF-1.4\n% invoice\n") + 256 * 40
    assert files["terms.txt"].replace(b"\r\n", b"\n") == b"Terms and conditions\n"


def test_one_connection_is_reused_for_many_messages(server: SMTPTestServer, tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with open_transport(make_profile(server, tmp_path), tmp_path) as transport:
        for i in range(5):
            transport.send(
                message(f"c{i}@example.org", attachments=False), USER, [f"c{i}@example.org"]
            )
    assert [m.rcpt_tos for m in server.messages] == [[f"c{i}@example.org"] for i in range(5)]
    assert server.connections == 1
    assert len(server.auth_attempts) == 1


def test_reconnects_when_the_server_dropped_the_idle_connection(
    server: SMTPTestServer, tmp_path: Path
) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with open_transport(make_profile(server, tmp_path), tmp_path) as transport:
        transport.send(message(attachments=False), USER, ["a@example.org"])
        server.drop_connections()
        result = transport.send(message(attachments=False), USER, ["b@example.org"])
    assert result.accepted == ["b@example.org"]
    assert [m.rcpt_tos for m in server.messages] == [["a@example.org"], ["b@example.org"]]
    assert server.connections == 2


def test_implicit_tls_profile_sends(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(security="tls", users={USER: PASSWORD}) as srv:
        with open_transport(make_profile(srv, tmp_path), tmp_path) as transport:
            transport.send(message(), USER, ["x@example.org"])
        assert srv.messages[0].rcpt_tos == ["x@example.org"]


def test_wrong_password_gives_the_535_diagnosis(server: SMTPTestServer, tmp_path: Path) -> None:
    set_secret("MAIN", "password", "wrong-password-123")
    with open_transport(make_profile(server, tmp_path), tmp_path) as transport:
        with pytest.raises(TransportError) as info:
            transport.send(message(), USER, ["x@example.org"])
    err = info.value
    assert err.kind == "auth" and err.code == 535
    assert err.diagnosis.key == "auth-failed"
    assert "user name or password" in err.diagnosis.title
    assert "535" in err.reply and "535" in err.diagnosis.raw
    assert "set-password" in err.diagnosis.fix
    assert "wrong-password-123" not in str(err)
    assert server.messages == []
    assert len(server.auth_attempts) == 1  # one try, not one per mechanism


def test_untrusted_certificate_is_refused_before_any_credentials(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    trusted = trustme.CA()
    with SMTPTestServer(users={USER: PASSWORD}, ca=trustme.CA()) as srv:  # another CA
        profile = make_profile(srv, tmp_path)
        ca_file = tmp_path / "trusted.pem"
        ca_file.write_bytes(trusted.cert_pem.bytes())
        profile.ca_file = str(ca_file)
        with open_transport(profile, tmp_path) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["x@example.org"])
        assert srv.auth_attempts == []
        assert srv.messages == []
    assert info.value.kind == "tls"
    assert info.value.diagnosis.key == "certificate-untrusted"
    assert "not trusted" in info.value.diagnosis.title


def test_expired_certificate_is_refused(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    with SMTPTestServer(users={USER: PASSWORD}, cert_not_after=past) as srv:
        with open_transport(make_profile(srv, tmp_path), tmp_path) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["x@example.org"])
        assert srv.auth_attempts == []
    assert info.value.kind == "tls"
    assert info.value.diagnosis.key == "certificate-expired"


def test_starttls_profile_refuses_a_server_without_starttls(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(security="none", users={USER: PASSWORD}) as srv:
        profile = make_profile(srv, tmp_path, security="starttls")
        with open_transport(profile, tmp_path) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["x@example.org"])
        assert srv.auth_attempts == [] and srv.messages == []
    assert info.value.kind == "tls"
    assert info.value.diagnosis.key == "starttls-not-offered"
    assert "does not offer STARTTLS" in str(info.value)


def test_system_trust_store_alone_does_not_trust_a_private_ca(
    server: SMTPTestServer, tmp_path: Path
) -> None:
    set_secret("MAIN", "password", PASSWORD)
    profile = make_profile(server, tmp_path, ca_file="")
    with open_transport(profile, tmp_path) as transport:
        with pytest.raises(TransportError) as info:
            transport.send(message(), USER, ["x@example.org"])
    assert info.value.diagnosis.key == "certificate-untrusted"
    assert server.auth_attempts == []


def test_refused_recipients_are_reported_one_by_one(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(
        users={USER: PASSWORD},
        rcpt_answers={"gone@example.org": "550 5.1.1 User unknown"},
    ) as srv:
        with open_transport(make_profile(srv, tmp_path), tmp_path) as transport:
            result = transport.send(message(), USER, ["ok@example.org", "gone@example.org"])
        assert srv.messages[0].rcpt_tos == ["ok@example.org"]
    assert result.accepted == ["ok@example.org"]
    assert result.refused == {"gone@example.org": (550, "5.1.1 User unknown")}


def test_all_recipients_refused_is_a_permanent_error(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(
        users={USER: PASSWORD},
        rcpt_answers={"a@example.org": "550 5.1.1 User unknown", "b@example.org": "553 no"},
    ) as srv:
        with open_transport(make_profile(srv, tmp_path), tmp_path) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["a@example.org", "b@example.org"])
            # The connection is still usable after the refusal.
            transport.send(message(), USER, ["c@example.org"])
        assert [m.rcpt_tos for m in srv.messages] == [["c@example.org"]]
        assert srv.connections == 1
    err = info.value
    assert err.kind == "permanent" and err.code == 550
    assert set(err.refused) == {"a@example.org", "b@example.org"}
    assert err.diagnosis.key == "recipient-refused"


def test_all_recipients_temporarily_refused_is_temporary(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(
        users={USER: PASSWORD}, rcpt_answers={"a@example.org": "450 4.2.1 try later"}
    ) as srv:
        with open_transport(make_profile(srv, tmp_path), tmp_path) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["a@example.org"])
    assert info.value.kind == "temporary" and info.value.code == 450


def test_connection_dropped_after_data_means_the_outcome_is_unknown(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(users={USER: PASSWORD}, drop={"DATA"}) as srv:
        with open_transport(make_profile(srv, tmp_path), tmp_path) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["a@example.org"])
    assert info.value.kind == "network"
    assert info.value.maybe_sent is True
    assert info.value.stage == "data"


def test_missing_password_names_the_profile_and_the_command(
    server: SMTPTestServer, tmp_path: Path
) -> None:
    with open_transport(make_profile(server, tmp_path), tmp_path) as transport:
        with pytest.raises(TransportError) as info:
            transport.send(message(), USER, ["a@example.org"])
    assert info.value.kind == "config"
    assert "'MAIN'" in str(info.value)
    assert "mailroom profile set-password MAIN" in str(info.value)
    assert server.auth_attempts == []


def test_smtputf8_is_used_for_an_internationalised_address(
    server: SMTPTestServer, tmp_path: Path
) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with open_transport(make_profile(server, tmp_path), tmp_path) as transport:
        result = transport.send(message(attachments=False), USER, ["jürgen@example.org"])
    assert result.accepted == ["jürgen@example.org"]
    assert server.messages[0].rcpt_tos == ["jürgen@example.org"]
    assert "SMTPUTF8" in server.messages[0].mail_options


def test_smtputf8_address_refused_when_the_server_lacks_it(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(users={USER: PASSWORD}, smtputf8=False) as srv:
        with open_transport(make_profile(srv, tmp_path), tmp_path) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["jürgen@example.org"])
        assert srv.messages == []
    assert info.value.kind == "permanent"
    assert info.value.diagnosis.key == "smtputf8-unsupported"


def test_no_password_in_logs_exceptions_or_traces(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Xy9-unique-Secret-Pw"
    encoded = base64.b64encode(f"\0{USER}\0{secret}".encode()).decode()
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with SMTPTestServer(users={USER: PASSWORD}) as srv:
        set_secret("MAIN", "password", secret)
        with open_transport(make_profile(srv, tmp_path), tmp_path) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["a@example.org"])
        texts += [str(info.value), repr(info.value), info.value.reply, info.value.diagnosis.text()]
        texts.append("".join(traceback.format_exception(info.value)))
        texts += _locals_of_our_frames(info.value)
        set_secret("MAIN", "password", PASSWORD)
        srv.users[USER] = PASSWORD
        with open_transport(make_profile(srv, tmp_path), tmp_path) as transport:
            transport.send(message(), USER, ["a@example.org"])
    ours = [r.getMessage() for r in caplog.records if r.name != "mail.log"]
    assert ours, "the transport logs what it does"
    for text in texts + ours:
        assert secret not in text and encoded not in text and PASSWORD not in text


def _locals_of_our_frames(exc: BaseException) -> list[str]:
    """repr of every local of every non-test frame in the trace, chained ones too."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            if "/tests/" not in tb.tb_frame.f_code.co_filename:
                out += [repr(v) for v in tb.tb_frame.f_locals.values()]
            tb = tb.tb_next
        current = current.__cause__ or current.__context__
    return out


def test_the_server_receives_the_approved_bytes_whatever_dots_they_hold(tmp_path: Path) -> None:
    """Over a plain connection (the message and its end written separately) the server
    gets the approved bytes exactly: lines starting with "." dot-stuffed and restored,
    a message that starts with a dot, one with thousands of dots, an invoice with none,
    and one without a final CRLF (the terminator's CRLF is then the server's last line
    end)."""
    plain = message()
    dotty = b"".join(b"Line %d.\r\n.%d dots...\r\n" % (i, i) for i in range(3000))
    cases = [
        plain,
        b".first line is a dot\r\n" + plain,
        b"Subject: dots\r\n\r\n" + dotty,
        message(attachments=True).replace(b"\r\n.\r\n", b"\r\n-\r\n"),  # no line starts "."
        plain + b"no final line end",
    ]
    with SMTPTestServer(security="none") as srv:
        profile = Profile.parse({"code": "MAIN", "sender": USER, **srv.profile_fields(tmp_path)})
        with open_transport(profile, tmp_path) as transport:
            for i, raw in enumerate(cases):
                transport.send(raw, USER, [f"c{i}@example.org"])
        received = [m.data for m in srv.messages]
    assert received[:4] == cases[:4]
    assert received[4] == cases[4] + b"\r\n"
