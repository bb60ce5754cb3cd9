"""A genuine delivery report, end to end: the demo office sends a month of down payment
invoices through a real Postfix (STARTTLS, login checked by Dovecot) that delivers one
customer's domain locally and relays the others to a closed port. Postfix returns those
two with its own RFC 3464 report to the office's mailbox, which a real Dovecot serves;
`mailroom bounces fetch` reads it there and the two items end ``bounced`` with Postfix's
reason, in `batch show --json` and in the queue, while the delivered one stays ``sent``."""

from __future__ import annotations

import email
import email.policy
import json
import time
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from mailing.demo import DEMO_USER, load_demo
from mailing.transports.dsn import envelope_id
from store.records import Profile
from store.secrets import set_secret
from store.store import Store
from tests.imap_server import PASSWORD, USER, DovecotServer
from tests.postfix_server import PostfixServer, maildir_messages
from tui.cli import main

MONTH = ["--type", "down_payment", "--admin", "HOLT", "--from", "2026-11-01", "--to", "2026-11-30"]
SENDER = "facturen@holtkamp.example"  # the HOLT profile's sender: the reports come back here
ARCHIVE = "archief@holtkamp.example"  # the HOLT profile's Bcc to itself
DELIVERED = "piet@vermeulen-holt.example"  # a domain Postfix delivers itself
REFUSED = ("k.mueller@mueller-holt.example", "info@jansen-holt.example")  # relayed, refused


class CLI:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.home = home
        self.capsys = capsys

    def __call__(self, *args: str, user: str = DEMO_USER) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--home", str(self.home), "--user", user, *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


def wait_for_messages(folder: Path, count: int, mta: PostfixServer) -> list[bytes]:
    """The messages in a Maildir once there are ``count`` (bounded wait, polling)."""
    deadline = time.monotonic() + 60
    while len(found := maildir_messages(folder)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} messages came\n{mta.log()}")
        time.sleep(0.05)  # polling the Maildir, not a fixed wait
    return found


def delivery_status(raw: bytes) -> tuple[str, dict[str, str]]:
    """(Original-Envelope-Id, Final-Recipient -> Diagnostic-Code) of a report."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    envid, diags = "", {}
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            for block in part.get_payload():
                assert isinstance(block, Message)
                if block["Original-Envelope-Id"]:
                    envid = str(block["Original-Envelope-Id"]).strip()
                if block["Final-Recipient"]:
                    rcpt = str(block["Final-Recipient"]).split(";")[1].strip()
                    diags[rcpt] = " ".join(str(block["Diagnostic-Code"]).split())
    return envid, diags


def test_a_genuine_postfix_report_ends_the_item_bounced_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with DovecotServer() as imap:
        mail = imap.root / "mail"
        office, customer, archive = mail / USER, mail / "piet", mail / "archief"
        local = {SENDER: office, DELIVERED: customer, ARCHIVE: archive}
        with PostfixServer(local=local, ca=imap.ca, dovecot_auth=imap.root / "run/auth-client") as mta:  # fmt: skip
            home = tmp_path / "home"
            store = Store(home, DEMO_USER)
            load_demo(store)
            with store.transaction() as tx:
                holt = tx.get(Profile, "HOLT")
                fields = mta.profile_fields(ca_file=str(imap.ca_file), username=USER)
                tx.put(Profile.parse({**holt.dump(), **fields, "outbox_dir": ""}))
            set_secret("HOLT", "password", PASSWORD)
            cli = CLI(home, capsys)
            code, _, err = cli(
                "bounces", "setup", "HOLT", "--imap-server", imap.host,
                "--imap-port", str(imap.port),
            )  # fmt: skip
            assert code == 0, err

            code, out, err = cli("batch", "create", *MONTH)
            assert code == 0, err
            batch = out.strip().splitlines()[-1]
            code, _, err = cli("batch", "approve", batch, user="boss")
            assert code == 0, err
            code, out, err = cli("send", batch, user="carol")
            assert code == 0, out + err
            items = {r["to"][0]: r["item"] for r in cli.json("batch", "show", batch)["items"]
                     if r["to"]}  # fmt: skip
            assert sorted(items) == sorted([DELIVERED, *REFUSED])

            # Postfix took all three (so they are sent), delivered one and the archive
            # copies, and wrote a report for each of the two it could not relay.
            reports = wait_for_messages(office, 2, mta)
            (invoice,) = wait_for_messages(customer, 1, mta)
            got_invoice = email.message_from_bytes(invoice, policy=email.policy.default)
            assert DELIVERED in str(got_invoice["To"])
            assert any(p.get_content_type() == "application/pdf" for p in got_invoice.walk())
            assert len(wait_for_messages(archive, 3, mta)) == 3
            refused = f"connect to 127.0.0.1[127.0.0.1]:{mta.closed_port}: Connection refused"
            by_rcpt = {}
            for raw in reports:
                assert b"From: Mail Delivery System <MAILER-DAEMON@mx.office.example>" in raw
                envid, diags = delivery_status(raw)
                ((rcpt, diag),) = diags.items()
                assert diag == f"X-Postfix; {refused}"
                # Postfix kept our RFC 3461 envelope id: it names the batch and item.
                assert envid == envelope_id(batch, items[rcpt])
                by_rcpt[rcpt] = envid
            assert sorted(by_rcpt) == sorted(REFUSED)

            fetched = cli.json("bounces", "fetch", "--profile", "HOLT")
            assert fetched["delivery_reports"] == 2 and fetched["unmatched_reports"] == 0
            got = {b["item"]: b for b in fetched["bounces"]}
            assert sorted(got) == sorted(items[r] for r in REFUSED)
            for rcpt in REFUSED:
                bounce = got[items[rcpt]]
                assert bounce["recipient"] == rcpt and bounce["matched_by"] == "envelope id"
                assert refused in bounce["reason"]

            # batch show --json: bounced with Postfix's reason; the delivered one is sent.
            rows = {r["item"]: r for r in cli.json("batch", "show", batch)["items"]}
            assert rows[items[DELIVERED]]["state"] == "sent"
            assert "bounce" not in rows[items[DELIVERED]] or not rows[items[DELIVERED]]["bounce"]
            for rcpt in REFUSED:
                row = rows[items[rcpt]]
                assert row["state"] == "bounced"
                assert refused in row["bounce"]["reason"]
                assert f"for {rcpt}" in row["error"]

            # The queue's rows and its preview say the same, in its words.
            from screens.preview import load_queued
            from screens.widgets.spool_view import BatchView

            view = BatchView.open(home, batch)
            view.events.update()
            rows_on_screen = {ref.item: view.row(ref) for ref in view.refs("bounced")}
            assert sorted(rows_on_screen) == sorted(items[r] for r in REFUSED)
            for rcpt in REFUSED:
                line = rows_on_screen[items[rcpt]].label(width=200)
                assert line.startswith("bounced ") and f"bounced (hard) for {rcpt}" in line
                notes = load_queued(home, batch, items[rcpt]).notes
                assert any(n.startswith("A delivery report came back") and refused in n
                           for n in notes)  # fmt: skip
            assert [ref.item for ref in view.refs("sent")] == [items[DELIVERED]]

            # sending history says what happened: bounced on DATE for ADDRESS, not "never sent".
            number = rows[items[REFUSED[0]]]["number"]
            code, out, _ = cli("sending", "history", "down_payment", number, "--admin", "HOLT")
            assert code == 0 and "never sent" not in out, out
            assert "bounced on 20" in out and f"for {REFUSED[0]}: " in out and refused in out

            # The reports were filed away in the mailbox, not to be read twice.
            assert len(imap.folder("Mailroom bounces")) == 2
            assert cli.json("bounces", "fetch")["bounces"] == []
