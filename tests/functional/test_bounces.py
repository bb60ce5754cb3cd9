"""Bounce intake against a real Dovecot and a real aiosmtpd: messages go out with DSN,
delivery reports in the shapes of Postfix, Exchange Online, Gmail and qmail come back
to the profile's mailbox, and `mailroom bounces fetch` marks each item bounced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailing.sending import SendOptions, send
from store.records import Profile
from store.secrets import set_secret
from tests import bounce_samples as samples
from tests.imap_server import PASSWORD, USER, DovecotServer
from tests.send_support import make_store, spool_batch
from tests.smtp_server import SMTPTestServer
from tui.cli import main

CUSTOMER = "klant@example.com"
OFFICE = "archief@office.example"


def cli(home: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--home", str(home), "--user", "alice", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_reports_come_back_and_the_items_end_bounced_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        SMTPTestServer(security="starttls", users={USER: PASSWORD}, dsn=True) as smtp,
        DovecotServer(ca=smtp.ca) as imap,
    ):
        home = tmp_path / "home"
        store = make_store(home, smtp.profile_fields(tmp_path), auth="password", username=USER)
        set_secret("P", "password", PASSWORD)
        code, out, err = cli(
            home, capsys, "bounces", "setup", "P", "--imap-server", imap.host,
            "--imap-port", str(imap.port),
        )  # fmt: skip
        assert code == 0, err
        # The IMAP server's certificate is from the same CA as the profile's ca_file.
        profile = store.find(Profile, "P")
        assert profile is not None and profile.imap_port == imap.port
        batch = spool_batch(store, 5, [CUSTOMER], bcc=[OFFICE])
        assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == 5
        envids = [m["ENVID"] for m in smtp.dsn_mail]
        mids = [m.data.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode() for m in smtp.messages]

        imap.append("INBOX", samples.ordinary_mail())
        imap.append("INBOX", samples.postfix_dsn(envids[0], mids[0], CUSTOMER))
        imap.append("INBOX", samples.exchange_online_ndr(mids[1], CUSTOMER))
        imap.append("INBOX", samples.qmail_failure(mids[2], CUSTOMER))
        imap.append("INBOX", samples.gmail_delay(mids[3], CUSTOMER))
        # Only the office's own Bcc copy bounced: the customer has the invoice.
        imap.append("INBOX", samples.postfix_dsn(envids[4], mids[4], OFFICE))
        # A report about a message Mailroom never sent: not ours, left alone.
        imap.append("INBOX", samples.postfix_dsn("other-system-42", "<x1@elsewhere>", CUSTOMER))

        code, out, err = cli(home, capsys, "bounces", "fetch", "--json")
        assert code == 0, err
        fetched = json.loads(out)
        assert fetched["messages_read"] == 7 and fetched["delivery_reports"] == 6
        assert fetched["unmatched_reports"] == 1 and fetched["filed"] == 5
        got = {b["item"]: b for b in fetched["bounces"]}
        assert sorted(got) == ["00001-F1", "00002-F2", "00003-F3"]
        assert got["00001-F1"]["matched_by"] == "envelope id"
        assert {got[i]["matched_by"] for i in ("00002-F2", "00003-F3")} == {"Message-ID"}
        assert [got[i]["kind"] for i in sorted(got)] == ["hard", "hard", "hard"]
        assert got["00001-F1"]["reason"].startswith("550 5.1.1 <klant@example.com>: Recipient")
        assert "RESOLVER.ADR.RecipientNotFound" in got["00002-F2"]["reason"]
        assert got["00003-F3"]["reason"] == "550 5.1.1 <klant@example.com>... User unknown"
        # Gmail's "Delivery Status Notification (Delay)": a note, the item stays sent.
        (delay,) = fetched["delays"]
        assert delay["item"] == "00004-F4" and "452 4.2.2" in delay["reason"]

        # batch show --json: state word, kind and reason; the "bounced" filter.
        code, out, _ = cli(home, capsys, "batch", "show", batch.id, "--json")
        rows = {r["item"]: r for r in json.loads(out)["items"]}
        assert [rows[i]["state"] for i in sorted(rows)] == ["bounced"] * 3 + ["sent"] * 2
        assert rows["00001-F1"]["bounce"]["kind"] == "hard"
        assert "User unknown" in rows["00001-F1"]["bounce"]["reason"]
        assert "bounced (hard) for klant@example.com" in rows["00001-F1"]["error"]
        assert "delayed at the customer's server" in rows["00004-F4"]["note"]
        code, out, _ = cli(home, capsys, "batch", "show", batch.id, "--state", "bounced")
        assert code == 0 and out.count("bounced") >= 3 and "00005-F5" not in out

        # The queue shows it in its state words.
        from screens.widgets.spool_view import BatchView

        view = BatchView.open(home, batch.id)
        view.events.update()
        labels = [view.row(r).label() for r in view.refs("bounced")]
        assert len(labels) == 3 and all(label.startswith("bounced") for label in labels)

        # The archive record of the send says so.
        records = [json.loads(p.read_text()) for p in (home / "archive").rglob("record.json")]
        bounced = {r["item"]: r.get("bounces") for r in records}
        assert bounced["00001-F1"][0]["kind"] == "hard" and not bounced.get("00005-F5")

        # The processed reports were filed away; the rest stayed in the inbox.
        assert len(imap.folder("Mailroom bounces")) == 5
        inbox = imap.folder("INBOX")
        assert len(inbox) == 2
        assert any(b"Thank you, we will pay" in m for m in inbox)
        # Read again: nothing twice; only what came in since is read.
        code, out, _ = cli(home, capsys, "bounces", "fetch", "--json")
        again = json.loads(out)
        assert again["bounces"] == [] and again["messages_read"] == 0
        imap.append("INBOX", samples.postfix_dsn(envids[4], mids[4], CUSTOMER))
        code, out, _ = cli(home, capsys, "bounces", "fetch", "--json")
        again = json.loads(out)
        assert again["messages_read"] == 1 and [b["item"] for b in again["bounces"]] == ["00005-F5"]
        assert sum(1 for e in _events(batch.path) if e.get("event") == "bounced") == 4


def test_a_wrong_password_or_an_untrusted_certificate_is_said_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with DovecotServer() as imap:
        home = tmp_path / "home"
        ca_file = tmp_path / "office-ca.pem"
        ca_file.write_bytes(imap.ca_file.read_bytes())
        make_store(
            home,
            {"server": "127.0.0.1", "port": 2525, "ca_file": str(ca_file)},
            auth="password",
            username=USER,
            imap_server=imap.host,
            imap_port=imap.port,
        )
        set_secret("P", "password", "not-the-password")
        code, _, err = cli(home, capsys, "bounces", "fetch", "--profile", "P")
        assert code == 2 and "the server refused the login" in err
        assert "not-the-password" not in err and "Traceback" not in err
        set_secret("P", "password", PASSWORD)
        assert cli(home, capsys, "bounces", "fetch")[0] == 0
    # Another CA than the server's: refused, nothing read.
    with DovecotServer() as other:
        from mailing.changes import update_profile
        from store.store import Store

        update_profile(Store(home), "P", {"imap_port": other.port})
        code, _, err = cli(home, capsys, "bounces", "fetch")
        assert code == 2 and "certificate is not trusted" in err


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (path / "events.jsonl").read_text().splitlines()]
