"""A real MTA for tests: a private Postfix instance (Debian ``postfix``) with its own
configuration, queue and data folders in a temporary folder, on a free loopback port.

    with DovecotServer() as imap:
        office = imap.root / "mail" / imap.user          # the Maildir Dovecot serves
        auth = imap.root / "run/auth-client"             # Dovecot's auth socket
        with PostfixServer(local={SENDER: office}, ca=imap.ca, dovecot_auth=auth) as mta:
            mta.profile_fields(ca_file=..., username=...)  # smtp, STARTTLS, password
            mta.closed_port                   # the relay host's port, held closed
            mta.log()                         # Postfix's maillog, for failure messages

With ``ca``, Postfix offers STARTTLS with a certificate for 127.0.0.1 from that CA;
with ``dovecot_auth`` also SMTP AUTH (after STARTTLS only), checked by Dovecot against
its users, and relaying needs that login (the socket is given to the postfix user, as
Dovecot's documented ``unix_listener`` set-up for Postfix does). Without them: plain
SMTP, relaying for 127.0.0.0/8.

Mail for the addresses in ``local`` (address -> Maildir folder) is delivered by
Postfix's ``virtual`` agent into that Maildir (for example the one Dovecot serves, so
the delivery reports Postfix writes can be read back over IMAP). Mail for every other
domain goes to the relay host ``[127.0.0.1]:closed_port``, a port held closed;
with ``maximal_queue_lifetime = 0`` the first refused connection returns the message
at once with Postfix's own delivery status notification (RFC 3464), to the envelope
sender. The machine's own Postfix (``/etc/postfix``) is never touched: every command
here runs with ``-c`` on the private configuration folder. The instance is stopped,
and its process group killed, when the ``with`` block ends, even after a failure.

Postfix needs root to start (tests run as root here and in CI); ``tests/run`` installs
it. Without it these tests fail, they are not skipped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme

from tests.smtp_server import free_port

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
MYHOSTNAME = "mx.office.example"

# Only the services this instance uses, none chrooted (the chroot would need copies of
# /etc files in the queue folder).
MASTER_CF = """\
{listen} inet n - n - - smtpd
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PostfixServer:
    def __init__(
        self,
        *,
        local: dict[str, Path],
        ca: trustme.CA | None = None,
        dovecot_auth: Path | None = None,
        mail_user: str | None = None,
        queue_lifetime: str = "0",
        delay_warning: str = "0h",
    ) -> None:
        """``local``: address -> Maildir folder Postfix delivers that address's mail to;
        ``ca``: offer STARTTLS with a certificate for 127.0.0.1 from this CA;
        ``dovecot_auth``: Dovecot's ``auth-client`` socket, for SMTP AUTH (only after
        STARTTLS) against Dovecot's users; relaying then needs the login;
        ``mail_user``: the owner of the Maildirs (default: ``nobody``, as Dovecot's);
        ``queue_lifetime``: how long a message the relay refuses stays queued (Postfix's
        ``maximal_queue_lifetime``; "0": returned at the first refusal);
        ``delay_warning``: after how long a queued message's sender gets Postfix's
        "Delayed Mail (still being retried)" report (``delay_warning_time``; "0h": never)."""
        if dovecot_auth is not None and ca is None:
            raise ValueError("SMTP AUTH is offered only after STARTTLS: give a ca too")
        self.ca = ca
        self.dovecot_auth = dovecot_auth
        if not local:
            raise ValueError("at least one local address is needed for the reports")
        self.local = {a.lower(): Path(p) for a, p in local.items()}
        self.host = "127.0.0.1"
        self.port = free_port()
        # The relay host's port: bound here and never listened on, so that a connection
        # is refused and no other server (of a test running alongside) can take it.
        self._closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._closed.bind(("127.0.0.1", 0))
        self.closed_port = int(self._closed.getsockname()[1])
        self.queue_lifetime = queue_lifetime
        self.delay_warning = delay_warning
        self.root = Path(tempfile.mkdtemp(prefix="mailroom-postfix-"))
        os.chmod(self.root, 0o755)
        self.config_dir = self.root / "etc"
        self.mail_user = pwd.getpwnam(mail_user or "nobody")
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------ life cycle

    def _configure(self) -> None:
        # Modes set explicitly: another test may have left a umask of 077 in this process,
        # and Postfix's daemons (the postfix user) must reach these folders.
        for folder in (self.config_dir, self.root / "queue"):
            folder.mkdir()
            os.chmod(folder, 0o755)
        data = self.root / "data"
        data.mkdir()
        os.chmod(data, 0o700)
        postfix_user = pwd.getpwnam("postfix")
        os.chown(data, postfix_user.pw_uid, postfix_user.pw_gid)
        # One base folder for the virtual agent: the Maildirs' common parent.
        base = Path(os.path.commonpath([str(p.parent) for p in self.local.values()]))
        mailboxes = {a: f"{p.relative_to(base)}/" for a, p in self.local.items()}
        for folder in self.local.values():
            folder.parent.mkdir(parents=True, exist_ok=True)
        domains = sorted({a.rsplit("@", 1)[1] for a in self.local})
        inline = ", ".join(f"{a}={m}" for a, m in sorted(mailboxes.items()))
        uid, gid = self.mail_user.pw_uid, self.mail_user.pw_gid
        tls = "smtpd_tls_security_level = none\n"
        if self.ca is not None:
            cert = self.ca.issue_cert("127.0.0.1", "localhost")
            cert_file, key_file = self.config_dir / "cert.pem", self.config_dir / "key.pem"
            cert.cert_chain_pems[0].write_to_path(str(cert_file))
            cert.private_key_pem.write_to_path(str(key_file))
            os.chmod(key_file, 0o600)
            tls = (
                "smtpd_tls_security_level = may\n"
                f"smtpd_tls_cert_file = {cert_file}\n"
                f"smtpd_tls_key_file = {key_file}\n"
                "smtpd_tls_auth_only = yes\n"
            )
        relay = "permit_mynetworks"
        if self.dovecot_auth is not None:
            tls += (
                "smtpd_sasl_auth_enable = yes\n"
                "smtpd_sasl_type = dovecot\n"
                f"smtpd_sasl_path = {self.dovecot_auth}\n"
            )
            relay = "permit_sasl_authenticated"
            # Postfix's smtpd runs as the postfix user: the socket is made its own, as
            # Dovecot's documented `unix_listener ... { user = postfix }` would.
            os.chown(self.dovecot_auth, postfix_user.pw_uid, postfix_user.pw_gid)
        (self.config_dir / "main.cf").write_text(
            f"""\
compatibility_level = 3.6
queue_directory = {self.root}/queue
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
maillog_file = {self.root}/maillog
maillog_file_prefixes = {self.root}
myhostname = {MYHOSTNAME}
mydomain = office.example
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = {relay}, reject_unauth_destination
smtpd_peername_lookup = no
smtp_tls_security_level = none
{tls}alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
relayhost = [127.0.0.1]:{self.closed_port}
smtp_connect_timeout = 5s
maximal_queue_lifetime = {self.queue_lifetime}
bounce_queue_lifetime = 0
delay_warning_time = {self.delay_warning}
virtual_mailbox_domains = {", ".join(domains)}
virtual_mailbox_base = {base}
virtual_mailbox_maps = inline:{{ {inline} }}
virtual_minimum_uid = 1
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
"""
        )
        (self.config_dir / "master.cf").write_text(
            MASTER_CF.format(listen=f"{self.host}:{self.port}")
        )
        for conf in ("main.cf", "master.cf"):
            os.chmod(self.config_dir / conf, 0o644)

    def start(self) -> PostfixServer:
        try:
            self._configure()
            # start-fg runs Postfix's own integrity check (`postfix check`: it creates
            # the queue folders with their owners) and keeps the master in the
            # foreground, in a session of its own: stop() can end the whole process
            # group whatever happened. Postfix's complaints are in its maillog.
            self._proc = subprocess.Popen(
                [POSTFIX, "-c", str(self.config_dir), "start-fg"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
                umask=0o022,  # Postfix's own, not whatever this test process has
            )
            deadline = time.monotonic() + 60
            while True:
                if self._proc.poll() is not None:
                    err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                    raise RuntimeError(f"postfix did not start: {err}{self.log()}")
                try:
                    # Postfix's own greeting, not whatever else might hold the port.
                    with socket.create_connection((self.host, self.port), timeout=5) as probe:
                        if probe.recv(512).startswith(f"220 {MYHOSTNAME}".encode()):
                            break
                        raise RuntimeError(f"another server answers on port {self.port}")
                except (ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"postfix is not listening: {self.log()}") from None
                    time.sleep(0.05)  # polling for the port, not a fixed wait
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                subprocess.run(
                    [POSTFIX, "-c", str(self.config_dir), "stop"],
                    capture_output=True,
                    timeout=60,
                )
                try:
                    self._proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    pass
            # Whatever is left of the instance (master's children): the process group.
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._proc.wait()
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None
        self._closed.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostfixServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def flush(self) -> None:
        """Try every queued message again now (``postqueue -f``), as the queue manager
        would after its back-off."""
        subprocess.run(
            [shutil.which("postqueue") or "/usr/sbin/postqueue", "-c", str(self.config_dir), "-f"],
            capture_output=True,
            timeout=60,
            check=True,
        )

    def open_relay(self) -> Any:
        """The relay host comes up: an SMTP server (aiosmtpd, plain) now listens on
        ``closed_port``. Returns it; start it with ``with``."""
        from tests.smtp_server import SMTPTestServer

        self._closed.close()
        return SMTPTestServer(security="none", port=self.closed_port)

    def log(self) -> str:
        try:
            return (self.root / "maillog").read_text()
        except OSError:
            return ""

    def profile_fields(self, **overrides: Any) -> dict[str, Any]:
        """Profile fields that reach this Postfix: STARTTLS when it has a ``ca`` (the
        profile's ``ca_file`` is left to the caller), a password login when it asks
        Dovecot."""
        fields: dict[str, Any] = {
            "system": "smtp",
            "server": self.host,
            "port": self.port,
            "security": "starttls" if self.ca is not None else "none",
            "timeout_seconds": 10.0,
            "auth": "password" if self.dovecot_auth is not None else "none",
        }
        fields.update(overrides)
        return fields


def maildir_messages(folder: Path) -> list[bytes]:
    """The messages delivered into a Maildir (new/ and cur/), oldest name first."""
    out: list[bytes] = []
    for sub in ("new", "cur"):
        d = folder / sub
        if d.is_dir():
            out.extend(p.read_bytes() for p in sorted(d.iterdir()) if p.is_file())
    return out
