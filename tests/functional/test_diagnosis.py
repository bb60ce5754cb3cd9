"""Every diagnosis row (SPEC §9 and issue 3), each driven by a real server (or a real
network failure) answering that way, through the transport and the Test action."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme

from mailing.transports import TransportError, open_transport
from mailing.transports.diagnosis import Diagnosis, diagnose
from mailing.transports.profiles import test_profile as run_profile_test
from store.records import Profile
from store.secrets import set_secret
from store.store import Store
from tests.smtp_server import SMTPTestServer, free_port

USER = "info@example.com"
PASSWORD = "Right-Pw-771"


def send_with(profile: Profile, home: Path) -> TransportError:
    raw = b"From: info@example.com\r\nTo: c@example.org\r\nSubject: t\r\n\r\nbody\r\n"
    with open_transport(profile, home) as transport:
        with pytest.raises(TransportError) as info:
            transport.send(raw, profile.sender, ["c@example.org"])
    return info.value


def profile_for(server: SMTPTestServer, folder: Path, **over: Any) -> Profile:
    fields: dict[str, Any] = {"code": "P", "sender": USER, "username": USER}
    fields.update(server.profile_fields(folder))
    fields.update(over)
    return Profile.parse(fields)


# (row key, server keyword arguments, profile overrides, password, expected kind, code)
SERVER_ROWS: list[tuple[str, dict[str, Any], dict[str, Any], str, str, int | None]] = [
    ("auth-failed", {"users": {USER: PASSWORD}}, {}, "wrong", "auth", 535),
    (
        "starttls-required",
        {"require_starttls": True},
        {"security": "none", "auth": "none"},
        "",
        "auth",
        530,
    ),
    ("auth-required", {"users": {USER: PASSWORD}}, {"auth": "none"}, "", "auth", 530),
    (
        "gmail-app-password",
        {
            "users": {USER: PASSWORD},
            "answers": {
                "AUTH": "534 5.7.9 Application-specific password required. Learn more at "
                "https://support.google.com/mail/?p=InvalidSecondFactor"
            },
        },
        {},
        PASSWORD,
        "auth",
        534,
    ),
    (
        "gmail-login-refused",
        {
            "users": {USER: PASSWORD},
            "answers": {
                "AUTH": "535 5.7.8 Username and Password not accepted. For more information, "
                "go to https://support.google.com/mail/?p=BadCredentials - gsmtp"
            },
        },
        {},
        PASSWORD,
        "auth",
        535,
    ),
    (
        "o365-smtp-auth-disabled",
        {
            "users": {USER: PASSWORD},
            "answers": {
                "AUTH": "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is "
                "disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled"
            },
        },
        {},
        PASSWORD,
        "auth",
        535,
    ),
    (
        "o365-basic-auth-disabled",
        {
            "users": {USER: PASSWORD},
            "answers": {
                "AUTH": "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
            },
        },
        {},
        PASSWORD,
        "auth",
        535,
    ),
    (
        "sender-refused",
        {
            "users": {USER: PASSWORD},
            "answers": {
                "MAIL": "550 5.7.60 SMTP; Client does not have permissions to send as this sender"
            },
        },
        {"sender": "sales@example.com"},
        PASSWORD,
        "permanent",
        550,
    ),
    (
        "sender-refused",
        {
            "users": {USER: PASSWORD},
            "answers": {
                "DATA": "554 5.2.252 SendAsDenied; info@example.com not allowed to send as "
                "sales@example.com"
            },
        },
        {"sender": "sales@example.com"},
        PASSWORD,
        "permanent",
        554,
    ),
    (
        "recipient-refused",
        {"users": {USER: PASSWORD}, "rcpt_answers": {"c@example.org": "550 5.1.1 User unknown"}},
        {},
        PASSWORD,
        "permanent",
        550,
    ),
    (
        "recipient-temporary",
        {"users": {USER: PASSWORD}, "rcpt_answers": {"c@example.org": "450 4.2.1 Mailbox busy"}},
        {},
        PASSWORD,
        "temporary",
        450,
    ),
    (
        "message-too-big",
        {"users": {USER: PASSWORD}, "answers": {"DATA": "552 5.3.4 Message size exceeds limit"}},
        {},
        PASSWORD,
        "permanent",
        552,
    ),
    (
        "rate-limited",
        {
            "users": {USER: PASSWORD},
            "answers": {"DATA": "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded"},
        },
        {},
        PASSWORD,
        "temporary",
        432,
    ),
    (
        "temporary",
        {"users": {USER: PASSWORD}, "answers": {"DATA": "451 4.3.0 Try again later"}},
        {},
        PASSWORD,
        "temporary",
        451,
    ),
    (
        "server-closing",
        {"users": {USER: PASSWORD}, "answers": {"MAIL": "421 4.3.2 Service shutting down"}},
        {},
        PASSWORD,
        "temporary",
        421,
    ),
    (
        "message-rejected",
        {"users": {USER: PASSWORD}, "answers": {"DATA": "554 5.7.1 Message rejected as spam"}},
        {},
        PASSWORD,
        "permanent",
        554,
    ),
    ("disconnected", {"users": {USER: PASSWORD}, "drop": {"MAIL"}}, {}, PASSWORD, "network", None),
    (
        "certificate-untrusted",
        {"users": {USER: PASSWORD}, "ca": "other"},
        {},
        PASSWORD,
        "tls",
        None,
    ),
    (
        "certificate-expired",
        {"users": {USER: PASSWORD}, "cert_not_after": "past"},
        {},
        PASSWORD,
        "tls",
        None,
    ),
    (
        "certificate-wrong-host",
        {"users": {USER: PASSWORD}, "cert_names": ("mail.example.com",)},
        {},
        PASSWORD,
        "tls",
        None,
    ),
    ("starttls-not-offered", {"security": "none"}, {"security": "starttls"}, PASSWORD, "tls", None),
    ("tls-failed", {"users": {USER: PASSWORD}}, {"security": "tls"}, PASSWORD, "tls", None),
]


@pytest.mark.parametrize(
    ("key", "server_kw", "over", "password", "kind", "code"),
    SERVER_ROWS,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(SERVER_ROWS)],
)
def test_server_answer_gives_its_diagnosis(
    tmp_path: Path,
    key: str,
    server_kw: dict[str, Any],
    over: dict[str, Any],
    password: str,
    kind: str,
    code: int | None,
) -> None:
    kw = dict(server_kw)
    if kw.get("ca") == "other":
        kw["ca"] = trustme.CA()  # the profile trusts only the CA file written below
        trusted = tmp_path / "trusted.pem"
        trusted.write_bytes(trustme.CA().cert_pem.bytes())
        over = {**over, "ca_file": str(trusted)}
    if kw.get("cert_not_after") == "past":
        kw["cert_not_after"] = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    if password:
        set_secret("P", "password", password)
    with SMTPTestServer(**kw) as server:
        profile = profile_for(server, tmp_path, **over)
        err = send_with(profile, tmp_path)
        if kind == "tls":
            assert server.auth_attempts == [], "no credentials before the TLS check"
        assert server.messages == []
    assert err.diagnosis.key == key, err.diagnosis
    assert err.kind == kind
    assert err.code == code
    if code is not None:
        assert str(code) in err.reply and str(code) in err.diagnosis.raw
    assert err.diagnosis.title and err.diagnosis.explanation and err.diagnosis.fix
    if password:
        assert password not in str(err)


@contextmanager
def silent_listener() -> Iterator[int]:
    """A TCP port that accepts connections but never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(5)
        yield int(s.getsockname()[1])


def network_profile(server: str, port: int, **over: Any) -> Profile:
    return Profile.parse(
        {
            "code": "P",
            "sender": USER,
            "server": server,
            "port": port,
            "auth": "none",
            "timeout_seconds": 0.5,
            **over,
        }
    )


def test_connection_refused(tmp_path: Path) -> None:
    err = send_with(network_profile("127.0.0.1", free_port()), tmp_path)
    assert (err.kind, err.diagnosis.key) == ("network", "connection-refused")
    assert "port" in err.diagnosis.fix


def test_unknown_host(tmp_path: Path) -> None:
    err = send_with(network_profile("no-such-host.mailroom-test.invalid", 587), tmp_path)
    assert (err.kind, err.diagnosis.key) == ("network", "unknown-host")
    assert "no-such-host.mailroom-test.invalid" in err.diagnosis.explanation


def test_timeout(tmp_path: Path) -> None:
    with silent_listener() as port:
        err = send_with(network_profile("127.0.0.1", port), tmp_path)
    assert (err.kind, err.diagnosis.key) == ("network", "timeout")


def test_profile_test_reports_the_diagnosis_with_the_raw_reply(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    answer = "534 5.7.9 Application-specific password required."
    with SMTPTestServer(users={USER: PASSWORD}, answers={"AUTH": answer}) as server:
        store.put(profile_for(server, tmp_path))
        set_secret("P", "password", PASSWORD)
        result = run_profile_test(store, "P")
    assert not result.ok
    assert result.diagnosis is not None and result.diagnosis.key == "gmail-app-password"
    assert result.diagnosis.raw == answer
    assert "apppasswords" in result.diagnosis.fix


def test_diagnose_accepts_a_plain_code_and_reply() -> None:
    d = diagnose(535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled")
    assert isinstance(d, Diagnosis) and d.key == "o365-smtp-auth-disabled"
    assert d.raw.startswith("535 5.7.139")
    assert diagnose(550, "5.1.1 unknown", stage="rcpt").key == "recipient-refused"
    assert diagnose(535, "5.7.8 bad", server="smtp.gmail.com").key == "gmail-login-refused"
    assert diagnose(530, "5.7.0 Must issue a STARTTLS command first").key == "starttls-required"


def test_a_552_for_size_is_too_large_for_that_server_not_a_sender_problem(
    tmp_path: Path,
) -> None:
    """A real aiosmtpd answering MAIL FROM ... SIZE= with 552 (RFC 1870)."""
    from mailing.sending import SendOptions, send
    from tests.send_support import make_store, spool_batch
    from tests.smtp_server import SMTPTestServer

    reply = "552 5.3.4 Message size exceeds fixed maximum message size"
    with SMTPTestServer(security="none", answers={"MAIL": reply}) as srv:
        store = make_store(tmp_path / "home", srv.profile_fields(tmp_path))
        batch = spool_batch(store, 1)
        report = send(store, "carol", batch.id, SendOptions(backoff=(0.0,)))
    (outcome,) = report.outcomes
    assert outcome.outcome == "failed"
    assert "too large for that server" in outcome.detail
    assert "send-as" not in outcome.detail
