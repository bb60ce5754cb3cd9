"""A real IMAP server for tests: Dovecot (Debian ``dovecot-imapd``), started in the
foreground with a throw-away configuration on a free loopback port.

    with DovecotServer() as imap:
        imap.append("INBOX", raw_bytes)          # put a message in the mailbox
        profile fields: imap.profile_fields()   # imap_server, imap_port, ca_file
        imap.folder("Mailroom bounces")         # the messages in a folder, as bytes

Implicit TLS (IMAPS) with a certificate for 127.0.0.1 from a trustme CA
(``imap.ca_file``); one user (``user``, default ``USER``, password ``PASSWORD``: a
static passdb); mail in a Maildir under a temporary folder. With ``tokens={user:
access token}`` it also takes XOAUTH2 (Office 365's login): Dovecot's oauth2 passdb
asks a small HTTP introspection endpoint in this process whether the token is valid
(``imap.introspected`` lists the tokens it was asked about). ``tests/run`` installs
Dovecot; without it these tests fail, they are not skipped.
"""

from __future__ import annotations

import imaplib
import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import trustme

from tests.smtp_server import free_port

USER = "office@holtkamp.example"
PASSWORD = "imap-s3cret"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


class DovecotServer:
    def __init__(
        self,
        *,
        ca: trustme.CA | None = None,
        tokens: dict[str, str] | None = None,
        user: str = USER,
        password: str = PASSWORD,
    ) -> None:
        self.ca = ca or trustme.CA()
        self.user = user
        self.password = password  # no spaces (a static passdb's argument)
        self.tokens = dict(tokens or {})
        self.introspected: list[str] = []
        self._http: ThreadingHTTPServer | None = None
        self.host = "127.0.0.1"
        self.port = free_port()
        # Under /tmp, not pytest's 0700 folder: Dovecot's mail processes run as another
        # user when the tests run as root.
        self.root = Path(tempfile.mkdtemp(prefix="mailroom-dovecot-"))
        os.chmod(self.root, 0o755)
        self.ca_file = self.root / "ca.pem"
        self.ca_file.write_bytes(self.ca.cert_pem.bytes())
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------ life cycle

    def _config(self) -> Path:
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        cert_file = self.root / "cert.pem"
        key_file = self.root / "key.pem"
        cert.cert_chain_pems[0].write_to_path(str(cert_file))
        cert.private_key_pem.write_to_path(str(key_file))
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(mode=0o755)
        if os.geteuid() == 0:
            mail_user = pwd.getpwnam("nobody")
            internal = "dovecot"
            login = "dovenull"
        else:
            mail_user = pwd.getpwuid(os.geteuid())
            internal = login = mail_user.pw_name
        os.chown(self.root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        oauth = ""
        if self.tokens:
            self._http = _introspection_server(self)
            ext = self.root / "oauth2.conf.ext"
            ext.write_text(
                "introspection_mode = post\n"
                f"introspection_url = http://127.0.0.1:{self._http.server_port}/introspect\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
            )
            oauth = f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {ext}
}}
"""
        conf = self.root / "dovecot.conf"
        conf.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert_file}
ssl_key = <{key_file}
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.tokens else ""}
auth_failure_delay = 0
mail_location = maildir:{self.root}/mail/%u
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
{oauth}
passdb {{
  driver = static
  mechanisms = plain login
  args = user={self.user} password={self.password}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={self.root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""
        )
        return conf

    def start(self) -> DovecotServer:
        conf = self._config()
        self._proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while True:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"dovecot did not start: {err}{self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dovecot is not listening: {self.log()}") from None
                time.sleep(0.05)  # polling for the port, not a fixed wait
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log(self) -> str:
        try:
            return (self.root / "dovecot.log").read_text()
        except OSError:
            return ""

    # ------------------------------------------------------------ the mailbox

    def client(self) -> imaplib.IMAP4_SSL:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        conn = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=ctx, timeout=10)
        if self.password.isascii():
            conn.login(self.user, self.password)
        else:
            token = b"\0" + self.user.encode() + b"\0" + self.password.encode()
            conn.authenticate("PLAIN", lambda _: token)
        return conn

    def append(self, folder: str, raw: bytes) -> None:
        conn = self.client()
        try:
            conn.create(f'"{folder}"')  # "already exists" is fine
            typ, data = conn.append(f'"{folder}"', None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def folder(self, folder: str) -> list[bytes]:
        """Every message in ``folder`` (empty when it does not exist)."""
        conn = self.client()
        try:
            typ, _ = conn.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            typ, data = conn.uid("SEARCH", None, "ALL")
            out = []
            for uid in data[0].split():
                typ, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
                for part in parts:
                    if isinstance(part, tuple):
                        out.append(part[1])
            return out
        finally:
            conn.logout()

    def profile_fields(self) -> dict[str, object]:
        return {
            "imap_server": self.host,
            "imap_port": self.port,
            "ca_file": str(self.ca_file),
            "username": self.user,
        }


def _introspection_server(imap: DovecotServer) -> ThreadingHTTPServer:
    """RFC 7662 token introspection, as Dovecot's oauth2 passdb asks it."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(size).decode())
            token = form.get("token", [""])[0]
            imap.introspected.append(token)
            user = next((u for u, t in imap.tokens.items() if t == token), None)
            body = json.dumps({"active": True, "username": user} if user else {"active": False})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
