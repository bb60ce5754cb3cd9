"""Office 365: msal device-code sign-in against a local fake of the Microsoft
identity endpoints (msal's ``http_client`` hook), then SMTP AUTH XOAUTH2 to a real
aiosmtpd server that checks the exact XOAUTH2 string."""

from __future__ import annotations

import base64
import json
import logging
import time
import traceback
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from mailing.transports import TransportError, open_transport
from mailing.transports.office365 import (
    SCOPES,
    finish_device_login,
    start_device_login,
    xoauth2_string,
)
from store.records import Profile
from store.secrets import get_secret, set_secret
from tests.smtp_server import SMTPTestServer

USER = "info@contoso.example"
HOST = "https://login.fake-ms.test"
TENANT = "contoso.example"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class FakeResponse:
    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code = status_code
        self.text = json.dumps(body)
        self.headers = {"Content-Type": "application/json"}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class FakeIdentity:
    """The few Microsoft identity platform endpoints msal uses for device code."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.approved = True
        self.refresh_ok = True
        self.expires_in = 3600
        self.issued: list[str] = []  # access tokens, in order
        self.refresh_tokens: set[str] = set()
        self.device_code = "device-code-abc"

    # msal's HttpClient interface
    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> FakeResponse:
        self.requests.append(("GET", url, {}))
        if url == f"{HOST}/{TENANT}/v2.0/.well-known/openid-configuration":
            base = f"{HOST}/{TENANT}/oauth2/v2.0"
            return FakeResponse(
                200,
                {
                    "issuer": f"{HOST}/tenant-id-1/v2.0",
                    "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token",
                    "device_authorization_endpoint": f"{base}/devicecode",
                },
            )
        return FakeResponse(404, {"error": "not_found"})

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any
    ) -> FakeResponse:
        form: dict[str, str] = (
            {k: v[0] for k, v in parse_qs(data).items()} if isinstance(data, str) else dict(data)
        )
        self.requests.append(("POST", url, form))
        assert form.get("client_id") == CLIENT_ID
        if url.endswith("/devicecode"):
            assert SCOPES[0] in form["scope"]
            return FakeResponse(
                200,
                {
                    "user_code": "FAKE-CODE",
                    "device_code": self.device_code,
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": 1,
                    "message": "To sign in, open https://microsoft.com/devicelogin and enter "
                    "the code FAKE-CODE.",
                },
            )
        if url.endswith("/token"):
            grant = form.get("grant_type", "")
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                assert form.get("device_code") == self.device_code
                if not self.approved:
                    return FakeResponse(400, {"error": "authorization_declined"})
                return self._tokens()
            if grant == "refresh_token":
                if self.refresh_ok and form.get("refresh_token") in self.refresh_tokens:
                    return self._tokens()
                return FakeResponse(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "AADSTS700082: The refresh token has expired due "
                        "to inactivity.",
                    },
                )
        return FakeResponse(404, {"error": "not_found"})

    def close(self) -> None:
        pass

    def _tokens(self) -> FakeResponse:
        n = len(self.issued) + 1
        access = f"at-{n}-EwBgA8l6BAAU"
        refresh = f"rt-{n}-M.C105_BAY"
        self.issued.append(access)
        self.refresh_tokens.add(refresh)
        now = int(time.time())
        claims = {
            "aud": CLIENT_ID,
            "iss": f"{HOST}/tenant-id-1/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": "Info",
            "oid": "object-id-1",
            "preferred_username": USER,
            "sub": "subject-1",
            "tid": "tenant-id-1",
        }
        id_token = ".".join(
            [_b64url(b'{"alg":"none","typ":"JWT"}'), _b64url(json.dumps(claims).encode()), ""]
        )
        return FakeResponse(
            200,
            {
                "token_type": "Bearer",
                "scope": f"{SCOPES[0]} openid profile offline_access",
                "expires_in": self.expires_in,
                "ext_expires_in": self.expires_in,
                "access_token": access,
                "refresh_token": refresh,
                "id_token": id_token,
                "client_info": _b64url(
                    json.dumps({"uid": "object-id-1", "utid": "tenant-id-1"}).encode()
                ),
            },
        )


def o365_profile(server: SMTPTestServer, folder: Path) -> Profile:
    return Profile.parse(
        {
            "code": "O365",
            "sender": USER,
            "username": USER,
            **server.profile_fields(folder),
            "auth": "oauth2-office365",
            "oauth_client_id": CLIENT_ID,
            "oauth_tenant": TENANT,
            "oauth_authority": HOST,
        }
    )


def message() -> bytes:
    msg = EmailMessage()
    msg["From"] = USER
    msg["To"] = "customer@example.org"
    msg["Subject"] = "Invoice"
    msg.set_content("Hello")
    return msg.as_bytes()


def sign_in(profile: Profile, home: Path, idp: FakeIdentity) -> str:
    flow = start_device_login(profile, home, http_client=idp)
    assert flow["verification_uri"] == "https://microsoft.com/devicelogin"
    assert flow["user_code"] == "FAKE-CODE"
    assert flow["expires_in"] == 900
    return finish_device_login(profile, home, flow, http_client=idp)


def test_device_login_then_xoauth2_send(tmp_path: Path) -> None:
    idp = FakeIdentity()
    home = tmp_path / "home"
    home.mkdir()
    with SMTPTestServer(tokens={USER: "at-1-EwBgA8l6BAAU"}) as srv:
        profile = o365_profile(srv, tmp_path)
        assert sign_in(profile, home, idp) == USER
        cache = get_secret("O365", "oauth-cache")
        assert cache and "rt-1-M.C105_BAY" in cache
        with open_transport(profile, home, http_client=idp) as transport:
            result = transport.send(message(), USER, ["customer@example.org"])
        assert result.accepted == ["customer@example.org"]
        assert srv.xoauth2_strings == [f"user={USER}\x01auth=Bearer at-1-EwBgA8l6BAAU\x01\x01"]
        assert srv.xoauth2_strings[0] == xoauth2_string(USER, "at-1-EwBgA8l6BAAU")
        assert srv.messages[0].login == USER
        assert [m for m, _, _ in srv.auth_attempts] == ["XOAUTH2"]
    # The token cache lives in the keyring, never in the data folder.
    for path in home.rglob("*"):
        if path.is_file():
            assert b"EwBgA8l6BAAU" not in path.read_bytes()
            assert b"M.C105_BAY" not in path.read_bytes()


def test_expired_access_token_is_refreshed_silently(tmp_path: Path) -> None:
    idp = FakeIdentity()
    idp.expires_in = 60  # msal refreshes tokens that expire within five minutes
    with SMTPTestServer(tokens={USER: "at-2-EwBgA8l6BAAU"}) as srv:
        profile = o365_profile(srv, tmp_path)
        sign_in(profile, tmp_path, idp)
        with open_transport(profile, tmp_path, http_client=idp) as transport:
            transport.send(message(), USER, ["customer@example.org"])
        assert srv.xoauth2_strings == [f"user={USER}\x01auth=Bearer at-2-EwBgA8l6BAAU\x01\x01"]
    grants = [form.get("grant_type") for method, _, form in idp.requests if method == "POST"]
    assert grants[-1] == "refresh_token"
    assert "rt-2-M.C105_BAY" in (get_secret("O365", "oauth-cache") or "")


def test_expired_refresh_token_is_reported_and_never_falls_back_to_a_password(
    tmp_path: Path,
) -> None:
    idp = FakeIdentity()
    idp.expires_in = 60
    set_secret("O365", "password", "a-password-that-must-not-be-used")
    with SMTPTestServer(
        tokens={USER: "whatever"}, users={USER: "a-password-that-must-not-be-used"}
    ) as srv:
        profile = o365_profile(srv, tmp_path)
        sign_in(profile, tmp_path, idp)
        idp.refresh_ok = False
        with open_transport(profile, tmp_path, http_client=idp) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["customer@example.org"])
        assert srv.auth_attempts == []
        assert srv.messages == []
    err = info.value
    assert err.kind == "auth"
    assert err.diagnosis.key == "oauth-refresh-expired"
    assert "expired" in err.diagnosis.title
    assert "mailroom profile login O365" in err.diagnosis.fix


def test_tenant_with_smtp_auth_disabled_is_reported_as_such(tmp_path: Path) -> None:
    idp = FakeIdentity()
    answer = (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
        "the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    with SMTPTestServer(tokens={USER: "at-1-EwBgA8l6BAAU"}, answers={"AUTH": answer}) as srv:
        profile = o365_profile(srv, tmp_path)
        sign_in(profile, tmp_path, idp)
        with open_transport(profile, tmp_path, http_client=idp) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["customer@example.org"])
    err = info.value
    assert err.kind == "auth" and err.code == 535
    assert err.diagnosis.key == "o365-smtp-auth-disabled"
    assert "5.7.139" in err.reply
    assert "at-1-EwBgA8l6BAAU" not in str(err)


def test_not_signed_in_says_how_to_sign_in(tmp_path: Path) -> None:
    idp = FakeIdentity()
    with SMTPTestServer(tokens={USER: "x"}) as srv:
        profile = o365_profile(srv, tmp_path)
        with open_transport(profile, tmp_path, http_client=idp) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["customer@example.org"])
        assert srv.connections == 1 and srv.auth_attempts == []
    assert info.value.diagnosis.key == "oauth-not-signed-in"
    assert "mailroom profile login O365" in str(info.value)


def test_declined_sign_in_is_reported(tmp_path: Path) -> None:
    idp = FakeIdentity()
    idp.approved = False
    with SMTPTestServer(tokens={USER: "x"}) as srv:
        profile = o365_profile(srv, tmp_path)
        flow = start_device_login(profile, tmp_path, http_client=idp)
        with pytest.raises(TransportError) as info:
            finish_device_login(profile, tmp_path, flow, http_client=idp)
    assert info.value.kind == "auth"
    assert "declined" in info.value.diagnosis.title
    assert get_secret("O365", "oauth-cache") is None


def test_no_token_in_logs_or_exception_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    idp = FakeIdentity()
    texts: list[str] = []
    with SMTPTestServer(tokens={USER: "something-else"}) as srv:  # the token is refused
        profile = o365_profile(srv, tmp_path)
        sign_in(profile, tmp_path, idp)
        with open_transport(profile, tmp_path, http_client=idp) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["customer@example.org"])
    texts += [str(info.value), repr(info.value), info.value.reply, info.value.diagnosis.text()]
    texts.append("".join(traceback.format_exception(info.value)))
    texts += _locals_of_non_test_frames(info.value)
    assert info.value.code == 535
    records = [r.getMessage() for r in caplog.records if r.name != "mail.log"]
    for text in texts + records:
        assert "EwBgA8l6BAAU" not in text, text
        assert "M.C105_BAY" not in text, text
        assert _b64url(xoauth2_string(USER, "at-1-EwBgA8l6BAAU").encode())[:40] not in text


def _locals_of_non_test_frames(exc: BaseException) -> list[str]:
    out: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        tb = current.__traceback__
        while tb is not None:
            if "/tests/" not in tb.tb_frame.f_code.co_filename:
                out += [repr(v) for v in tb.tb_frame.f_locals.values()]
            tb = tb.tb_next
        current = current.__cause__ or current.__context__
    return out
