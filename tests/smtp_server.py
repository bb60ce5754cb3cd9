"""A real SMTP server for tests: aiosmtpd in a thread on 127.0.0.1.

Use it as a context manager; it picks a free port::

    from tests.smtp_server import SMTPTestServer

    with SMTPTestServer(users={"me@example.com": "s3cret"}) as server:
        profile = Profile.parse({..., **server.profile_fields()})
        ...
        assert server.messages[0].rcpt_tos == ["you@example.com"]

Defaults: STARTTLS offered with a certificate for 127.0.0.1/localhost from a
trustme CA (``server.ca``; ``server.ca_file`` is its PEM, which is what a
profile's ``ca_file`` should name), AUTH PLAIN, LOGIN and XOAUTH2 offered after
STARTTLS, and login required before MAIL when ``users`` or ``tokens`` are given.

Knobs (all keyword arguments):

``security``        "starttls" (default), "tls" (implicit TLS) or "none" (no TLS
                    at all: STARTTLS is not offered)
``ca``              the trustme.CA that signs the server certificate (give another
                    CA than the one the client trusts to test an untrusted
                    certificate); ``cert_not_after`` a datetime to issue an
                    expired certificate; ``cert_names`` the names on the certificate
                    (default 127.0.0.1 and localhost)
``users``           {login: password} accepted by PLAIN and LOGIN
``tokens``          {login: access token} accepted by XOAUTH2; the exact decoded
                    XOAUTH2 strings received are in ``server.xoauth2_strings``
``require_auth``    refuse MAIL before login (default: True when users/tokens)
``require_starttls``refuse everything but EHLO/STARTTLS/QUIT before STARTTLS
                    (aiosmtpd answers ``530 Must issue a STARTTLS command first``)
``answers``         {stage: "CODE text"} with stage one of "AUTH", "MAIL",
                    "DATA" (the answer to the end of data) or "DATA_CMD" (the
                    answer to the DATA command): answer that instead of the
                    normal reply. Change later with ``server.answers[...] = ...``
``rcpt_answers``    {address: "CODE text"}: refuse (or answer) this recipient
``drop``            set of stages ("MAIL", "RCPT", "DATA") at which the server
                    closes the connection instead of answering; "DATA" closes
                    after the whole message was received, before the reply: for
                    the client the outcome is unknown
``smtputf8``        offer SMTPUTF8 (default True)
``pipelining``      offer PIPELINING (RFC 2920; default False, as aiosmtpd does not
                    announce it, though it reads pipelined commands in order)
``dsn``             offer DSN (RFC 3461) and take its MAIL (ENVID, RET) and RCPT
                    (NOTIFY, ORCPT) parameters, which plain aiosmtpd refuses
``enhanced``        offer ENHANCEDSTATUSCODES (RFC 2034) and answer MAIL "250 2.1.0"
                    and RCPT "250 2.1.5", as Postfix does
``swallow``         {reply prefix: n}: the n-th reply (from 1) starting with that
                    prefix is never sent (lost on the way)

What the server saw:

``messages``        list of :class:`Received` (envelope, bytes, login), in order
``auth_attempts``   list of (mechanism, login, success); passwords are not kept
``xoauth2_strings`` the decoded XOAUTH2 initial responses
``connections``     how many SMTP sessions were opened (the start-up probe of
                    aiosmtpd's Controller is not counted)
``dsn_mail``        with ``dsn``: per MAIL command, its DSN parameters as given
                    ({"ENVID": ..., "RET": ...})
``dsn_rcpt``        with ``dsn``: per RCPT command, (address, {"NOTIFY": ..., "ORCPT": ...})

``server.drop_connections()`` closes every open session now (as an idle
timeout would), to test reconnecting.
"""

from __future__ import annotations

import base64
import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None  # who was logged in, if anyone
    mail_options: list[str] = field(default_factory=list)
    tls: bool = False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, server: SMTPTestServer) -> None:
        self.s = server

    def _track(self, smtp: SMTP) -> None:
        with self.s._lock:
            if smtp not in self.s._live:
                self.s._live.append(smtp)
                self.s.connections += 1

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self._track(server)
        session.host_name = hostname
        if self.s.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        if self.s.dsn:
            responses.insert(len(responses) - 1, "250-DSN")
        if self.s.enhanced:
            responses.insert(len(responses) - 1, "250-ENHANCEDSTATUSCODES")
        return responses

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        self._track(server)
        if "MAIL" in self.s.drop:
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        if self.s.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        answer = self.s.answers.get("MAIL")
        if answer:
            return answer
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK" if self.s.enhanced else "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if "RCPT" in self.s.drop:
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        reader = getattr(server, "_reader", None)
        if b"DATA\r\n" in bytes(getattr(reader, "_buffer", b"")):
            with self.s._lock:
                self.s.pipelined += 1
        answer = self.s.rcpt_answers.get(address)
        if answer and not answer.startswith("25"):
            return answer
        envelope.rcpt_tos.append(address)
        return answer or ("250 2.1.5 OK" if self.s.enhanced else "250 OK")

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if "DATA" in self.s.drop:
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        reader = getattr(server, "_reader", None)
        if b"MAIL FROM:" in bytes(getattr(reader, "_buffer", b"")):
            with self.s._lock:
                self.s.chained += 1
        answer = self.s.answers.get("DATA")
        if answer and not answer.startswith("25"):
            return answer
        login = session.login_data
        received = Received(
            mail_from=str(envelope.mail_from),
            rcpt_tos=list(envelope.rcpt_tos),
            data=bytes(envelope.original_content or b""),
            login=login.decode() if isinstance(login, bytes) else login,
            mail_options=list(envelope.mail_options),
            tls=server._tls_protocol is not None or self.s.security == "tls",
        )
        with self.s._lock:
            self.s.messages.append(received)
        return answer or "250 2.0.0 OK queued"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 2:
            blob = base64.b64decode(args[1])
        else:
            got = await server.challenge_auth("", encode_to_b64=False)
            if not isinstance(got, bytes):
                return AuthResult(success=False, handled=False)
            blob = got
        text = blob.decode("utf-8", "replace")
        with self.s._lock:
            self.s.xoauth2_strings.append(text)
        parts = dict(p.split("=", 1) for p in text.split("\x01") if "=" in p)
        user = parts.get("user", "")
        bearer = parts.get("auth", "")
        ok = (
            user in self.s.tokens
            and bearer == f"Bearer {self.s.tokens[user]}"
            and text == f"user={user}\x01auth=Bearer {self.s.tokens[user]}\x01\x01"
        )
        override = self.s.answers.get("AUTH")
        if override:
            ok = False
        with self.s._lock:
            self.s.auth_attempts.append(("XOAUTH2", user, ok))
        if ok:
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        # Like Office 365: an error challenge, then the refusal after the client's empty line.
        err = base64.b64encode(b'{"status":"401","schemes":"bearer","scope":"SMTP.Send"}')
        await server.push(b"334 " + err)
        assert server._reader is not None
        await server._reader.readline()
        return AuthResult(
            success=False,
            handled=False,
            message=override or "535 5.7.3 Authentication unsuccessful",
        )


class _Authenticator:
    def __init__(self, server: SMTPTestServer) -> None:
        self.s = server

    def __call__(
        self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = self.s.users.get(login) == password
        override = self.s.answers.get("AUTH")
        with self.s._lock:
            self.s.auth_attempts.append((mechanism, login, ok and not override))
        if override:
            return AuthResult(success=False, handled=False, message=override)
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Authentication credentials invalid"
        )


class _SMTP(SMTP):
    """aiosmtpd's SMTP with a hook to answer the DATA command itself."""

    def __init__(self, handler: Any, test_server: SMTPTestServer, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._test_server = test_server

    async def push(self, status: Any) -> None:
        ts = self._test_server
        text = status.decode() if isinstance(status, bytes) else str(status)
        with ts._lock:
            for prefix, nth in ts.swallow.items():
                if text.startswith(prefix):
                    ts._replies[prefix] = ts._replies.get(prefix, 0) + 1
                    if ts._replies[prefix] == nth:
                        return  # this reply is lost on the way
        await super().push(status)

    async def smtp_MAIL(self, arg: str) -> None:
        if self._test_server.dsn and arg:
            arg, taken = _take_params(arg, ("ENVID", "RET"))
            with self._test_server._lock:
                self._test_server.dsn_mail.append(taken)
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str) -> None:
        if self._test_server.dsn and arg:
            arg, taken = _take_params(arg, ("NOTIFY", "ORCPT"))
            address = arg.split(">", 1)[0].split("<", 1)[-1]
            with self._test_server._lock:
                self._test_server.dsn_rcpt.append((address, taken))
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str) -> None:
        answer = self._test_server.answers.get("DATA_CMD")
        if answer and self.envelope is not None and self.envelope.rcpt_tos:
            await self.push(answer)
            return
        await super().smtp_DATA(arg)


def _take_params(arg: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """The command argument without the ESMTP parameters ``names``, and those."""
    kept: list[str] = []
    taken: dict[str, str] = {}
    for word in arg.split(" "):
        key, eq, value = word.partition("=")
        if eq and key.upper() in names:
            taken[key.upper()] = value
        else:
            kept.append(word)
    return " ".join(kept), taken


class _Controller(Controller):
    def __init__(self, test_server: SMTPTestServer, *args: Any, **kwargs: Any) -> None:
        self._test_server = test_server
        super().__init__(*args, **kwargs)

    def factory(self) -> SMTP:
        return _SMTP(self.handler, self._test_server, **self.SMTP_kwargs)


class SMTPTestServer:
    """An aiosmtpd server on 127.0.0.1 for one test. See the module docstring."""

    PIPELINING = (
        False  # the default of ``pipelining`` (tests/functional/test_pipelining.py sets it)
    )

    def __init__(
        self,
        *,
        security: str = "starttls",
        ca: trustme.CA | None = None,
        cert_not_after: dt.datetime | None = None,
        cert_names: tuple[str, ...] = ("127.0.0.1", "localhost"),
        users: dict[str, str] | None = None,
        tokens: dict[str, str] | None = None,
        require_auth: bool | None = None,
        require_starttls: bool = False,
        answers: dict[str, str] | None = None,
        rcpt_answers: dict[str, str] | None = None,
        drop: Iterable[str] = (),
        smtputf8: bool = True,
        tmp_dir: Path | None = None,
        pipelining: bool | None = None,
        dsn: bool = False,
        port: int | None = None,
        enhanced: bool = False,
        swallow: dict[str, int] | None = None,
    ) -> None:
        """``port``: listen on this port (default: a free one)."""
        if security not in ("starttls", "tls", "none"):
            raise ValueError(f"security must be starttls, tls or none, not {security!r}")
        self.security = security
        self.ca = ca or trustme.CA()
        self.users = dict(users or {})
        self.tokens = dict(tokens or {})
        self.require_auth = (
            bool(self.users or self.tokens) if require_auth is None else require_auth
        )
        self.answers: dict[str, str] = dict(answers or {})
        self.rcpt_answers: dict[str, str] = dict(rcpt_answers or {})
        self.drop: set[str] = set(drop)
        self.pipelining = self.PIPELINING if pipelining is None else pipelining
        self.dsn = dsn
        self.enhanced = enhanced
        self.swallow: dict[str, int] = dict(swallow or {})
        self._replies: dict[str, int] = {}
        self.dsn_mail: list[dict[str, str]] = []
        self.dsn_rcpt: list[tuple[str, dict[str, str]]] = []
        self.pipelined = 0  # RCPTs answered while DATA was already waiting (RFC 2920)
        self.chained = 0  # messages whose final dot came with the next MAIL FROM
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.messages: list[Received] = []
        self.auth_attempts: list[tuple[str, str, bool]] = []
        self.xoauth2_strings: list[str] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._live: list[SMTP] = []
        cert = self.ca.issue_cert(*cert_names, not_after=cert_not_after)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(server_ctx)
        self._tmp = tmp_dir
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": self.port,
            "authenticator": _Authenticator(self),
            # Implicit TLS is encrypted from the start; aiosmtpd only counts STARTTLS.
            "auth_require_tls": security == "starttls",
            "enable_SMTPUTF8": smtputf8,
            "decode_data": False,
            "ident": "mailroom-test-smtpd",
        }
        if security == "starttls":
            kwargs["tls_context"] = server_ctx
            kwargs["require_starttls"] = require_starttls
        elif security == "tls":
            kwargs["ssl_context"] = server_ctx
        self._controller = _Controller(self, _Handler(self), **kwargs)

    # ------------------------------------------------------------ life cycle

    def start(self) -> SMTPTestServer:
        self._controller.start()
        # The Controller's start-up probe is not a client session.
        with self._lock:
            self._live.clear()
            self.connections = 0
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SMTPTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ helpers

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem.bytes()

    def write_ca_file(self, folder: Path) -> Path:
        """Write the CA certificate (PEM) into ``folder``; give it to a profile's ca_file."""
        path = folder / f"ca-{self.port}.pem"
        path.write_bytes(self.ca_pem)
        return path

    def profile_fields(self, folder: Path, **overrides: Any) -> dict[str, Any]:
        """Profile fields that reach this server (server, port, security, ca_file)."""
        fields: dict[str, Any] = {
            "system": "smtp",
            "server": self.host,
            "port": self.port,
            "security": self.security,
            "ca_file": str(self.write_ca_file(folder)),
            "timeout_seconds": 5.0,
            "auth": "password" if self.users else ("oauth2-office365" if self.tokens else "none"),
        }
        fields.update(overrides)
        return fields

    def drop_connections(self) -> None:
        """Close every open session now, as a server's idle timeout would."""
        loop = self._controller.loop

        def close_all() -> None:
            for smtp in list(self._live):
                if smtp.transport is not None:
                    smtp.transport.close()

        done = threading.Event()

        def run() -> None:
            close_all()
            done.set()

        loop.call_soon_threadsafe(run)
        done.wait(5)
        with self._lock:
            self._live.clear()

    @property
    def logins(self) -> list[str]:
        return [login for _, login, _ in self.auth_attempts]


def _silence_asyncio() -> None:  # aiosmtpd logs dropped sessions loudly
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)


_silence_asyncio()

__all__ = ["Received", "SMTPTestServer", "free_port"]
