"""A report must prove itself, and each message is read on its own — against a real
Dovecot and a real aiosmtpd.

- A report naming an invoice (by envelope id or Message-ID) but about another
  recipient (a customer's forward to a dead address) changes nothing: it is an
  unmatched report, listed with the reason.
- A "report" from an ordinary sender (eve@evil.example) is not one.
- A message without From, one nested 3,000 MIME levels deep and one whose envelope id
  holds ``../`` are filed in "Mailroom unreadable" (with a note why) or listed as
  unmatched; the reports after them are still read, and the next fetch goes on.
- Two fetches at once (two processes) record each report once.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mailing.sending import SendOptions, send
from store.secrets import set_secret
from tests import bounce_samples as samples
from tests.conftest import PYTHON, cli_env
from tests.imap_server import PASSWORD, USER, DovecotServer
from tests.send_support import make_store, spool_batch
from tests.smtp_server import SMTPTestServer
from tui.cli import main

CUSTOMER = "klant@example.com"
DEAD = "oud-adres@forward.example"


def cli(home: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--home", str(home), "--user", "alice", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _setup(tmp_path: Path, capsys: Any, smtp: SMTPTestServer, imap: DovecotServer, n: int) -> Any:
    home = tmp_path / "home"
    store = make_store(home, smtp.profile_fields(tmp_path), auth="password", username=USER)
    set_secret("P", "password", PASSWORD)
    code, _, err = cli(
        home, capsys, "bounces", "setup", "P", "--imap-server", imap.host,
        "--imap-port", str(imap.port),
    )  # fmt: skip
    assert code == 0, err
    batch = spool_batch(store, n, [CUSTOMER])
    assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == n
    envids = [m["ENVID"] for m in smtp.dsn_mail]
    mids = [m.data.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode() for m in smtp.messages]
    return home, store, batch, envids, mids


def _states(home: Path, capsys: Any, batch_id: str) -> dict[str, str]:
    code, out, _ = cli(home, capsys, "batch", "show", batch_id, "--json")
    return {r["item"]: r["state"] for r in json.loads(out)["items"]}


def _forged(mid: str, rcpt: str) -> bytes:
    """A "bounce" written by anyone: an ordinary sender, a plausible body."""
    raw = samples.postfix_dsn("x", mid, rcpt)
    raw = raw.replace(b"Return-Path: <>\r\n", b"Return-Path: <eve@evil.example>\r\n")
    return raw.replace(
        b"From: MAILER-DAEMON@mail.sender.example (Mail Delivery System)",
        b"From: Eve <eve@evil.example>",
    )


def _deep(levels: int) -> bytes:
    head = b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
    head += b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    body = b"".join(
        b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i, i + 1)
        for i in range(levels)
    )
    return head + body


def test_a_report_must_prove_itself_and_a_bad_message_stops_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        SMTPTestServer(security="starttls", users={USER: PASSWORD}, dsn=True) as smtp,
        DovecotServer(ca=smtp.ca) as imap,
    ):
        home, _, batch, envids, mids = _setup(tmp_path, capsys, smtp, imap, 3)
        # 1. Names invoice 1 by its envelope id, but about the customer's dead forward.
        imap.append("INBOX", samples.postfix_dsn(envids[0], mids[0], DEAD))
        # 2. Forged: from eve, quoting invoice 2's Message-ID and the right recipient.
        imap.append("INBOX", _forged(mids[1], CUSTOMER))
        # 3. Unreadable: no From at all (the detector cannot take it).
        imap.append("INBOX", b"To: office@holtkamp.example\r\nSubject: hi\r\n\r\nbody\r\n")
        # 4. Unreadable: 3,000 MIME levels deep.
        imap.append("INBOX", _deep(3000))
        # 5. An envelope id that climbs out of the spool: names nothing.
        imap.append("INBOX", samples.postfix_dsn("mailroom.../../etc.passwd", "<x@y>", CUSTOMER))
        # 6. Larger than any report (11 MB): not even downloaded whole.
        imap.append("INBOX", _forged("<x@y>", CUSTOMER) + b"A" * (11 * 1024 * 1024))
        # 7. A genuine report about invoice 3 after them all: still read.
        imap.append("INBOX", samples.postfix_dsn(envids[2], mids[2], CUSTOMER))

        code, out, err = cli(home, capsys, "bounces", "fetch", "--json")
        assert code == 0, err
        got = json.loads(out)
        assert got["messages_read"] == 7
        assert [b["item"] for b in got["bounces"]] == ["00003-F3"]
        assert got["unmatched_reports"] == 3
        assert len(got["unreadable"]) == 3
        assert _states(home, capsys, batch.id) == {
            "00001-F1": "sent", "00002-F2": "sent", "00003-F3": "bounced",
        }  # fmt: skip

        code, out, _ = cli(home, capsys, "bounces", "list", "--unmatched", "--json")
        unmatched = json.loads(out)
        reasons = [u["reason"] for u in unmatched]
        assert any(DEAD in r and "not one of its recipients" in r and CUSTOMER in r
                   for r in reasons), reasons  # fmt: skip
        assert any("eve@evil.example" in r and "not sent as a delivery report" in r
                   for r in reasons), reasons  # fmt: skip
        assert any("names no message Mailroom sent" in r for r in reasons), reasons
        code, out, _ = cli(home, capsys, "bounces", "list", "--unmatched")
        assert code == 0 and "eve@evil.example" in out

        # The unreadable two are in their folder, each followed by a note saying why.
        folder = imap.folder("Mailroom unreadable")
        assert len(folder) == 6
        notes = [m for m in folder if b"Why Mailroom did not read" in m]
        assert len(notes) == 3
        assert any(b"larger than a delivery report can be" in m for m in notes)
        assert any(b"delivery-report reader could not read it" in m for m in notes)
        assert any(b"parts within parts" in m for m in notes)
        code, out, _ = cli(home, capsys, "bounces", "list", "--unreadable")
        assert code == 0 and "parts within parts" in out
        # The inbox keeps the unmatched three (for a person); the bounce was filed.
        assert len(imap.folder("INBOX")) == 3 and len(imap.folder("Mailroom bounces")) == 1

        # The next fetch goes on: nothing read twice, no error.
        code, out, err = cli(home, capsys, "bounces", "fetch", "--json")
        assert code == 0, err
        assert json.loads(out)["messages_read"] == 0


def test_two_fetches_at_once_record_each_report_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        SMTPTestServer(security="starttls", users={USER: PASSWORD}, dsn=True) as smtp,
        DovecotServer(ca=smtp.ca) as imap,
    ):
        home, _, batch, envids, mids = _setup(tmp_path, capsys, smtp, imap, 4)
        for envid, mid in zip(envids, mids, strict=True):
            imap.append("INBOX", samples.postfix_dsn(envid, mid, CUSTOMER))
            # The same report twice in the mailbox (a second copy, as a relay may send).
            imap.append("INBOX", samples.postfix_dsn(envid, mid, CUSTOMER))
        cmd = [PYTHON, "-m", "tui", "--home", str(home), "--user", "alice", "bounces",
               "fetch", "--json"]  # fmt: skip
        procs = [
            subprocess.Popen(cmd, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [e.decode() for _, e in outs]
        reads = [json.loads(o)["messages_read"] for o, _ in outs]
        assert sum(reads) == 8  # each message read by one of the two
        recorded = [
            json.loads(line)
            for line in (batch.path / "events.jsonl").read_text().splitlines()
            if '"bounced"' in line
        ]
        assert sorted(e["item"] for e in recorded) == ["00001-F1", "00002-F2", "00003-F3",
                                                       "00004-F4"]  # fmt: skip
        assert set(_states(home, capsys, batch.id).values()) == {"bounced"}


def test_a_utf8_mailbox_password_logs_in_and_a_wrong_one_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "Pöstbüß-€-密码"
    with DovecotServer(password=secret) as imap:
        home = tmp_path / "home"
        make_store(
            home,
            {"server": "127.0.0.1", "port": 2525, "ca_file": str(imap.ca_file)},
            auth="password",
            username=USER,
            imap_server=imap.host,
            imap_port=imap.port,
        )
        set_secret("P", "password", secret)
        imap.append("INBOX", samples.ordinary_mail())
        code, out, err = cli(home, capsys, "bounces", "fetch", "--json")
        assert code == 0, err
        assert json.loads(out)["messages_read"] == 1
        set_secret("P", "password", "Fälsch-ÿø")
        code, out, err = cli(home, capsys, "bounces", "fetch")
        assert code == 2 and "the server refused the login" in err
        assert not set("äÿø") & set(out + err) and "Traceback" not in err
