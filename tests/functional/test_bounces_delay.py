"""Delay is not failure, with a genuine Postfix: a relay that is down makes Postfix
write its "Delayed Mail (still being retried)" report (``delay_warning_time``,
``Action: delayed``); the relay then comes up and Postfix delivers. Through all of
it the items stay ``sent``, the delay is a note (batch show, the queue, sending
history), and `batch create` over the month puts nothing in again: the customer
gets the invoice once."""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path

import pytest

from mailing.demo import DEMO_USER, load_demo
from store.records import Profile
from store.secrets import set_secret
from store.store import Store
from tests.functional.test_bounces_postfix import ARCHIVE, CLI, DELIVERED, MONTH, REFUSED, SENDER
from tests.imap_server import PASSWORD, USER, DovecotServer
from tests.postfix_server import PostfixServer, maildir_messages


def wait_flushing(folder: Path, count: int, mta: PostfixServer) -> list[bytes]:
    """The messages in a Maildir once there are ``count``; meanwhile Postfix is asked
    to try its queue again (as its queue manager would after its back-off)."""
    deadline = time.monotonic() + 90
    while len(found := maildir_messages(folder)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} messages came\n{mta.log()}")
        mta.flush()
        time.sleep(0.2)  # polling the Maildir between two flushes, not a fixed wait
    return found


def test_a_genuine_delay_report_is_a_note_and_the_invoice_goes_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with DovecotServer() as imap:
        mail = imap.root / "mail"
        office, customer, archive = mail / USER, mail / "piet", mail / "archief"
        local = {SENDER: office, DELIVERED: customer, ARCHIVE: archive}
        with PostfixServer(
            local=local,
            ca=imap.ca,
            dovecot_auth=imap.root / "run/auth-client",
            queue_lifetime="1d",
            delay_warning="1s",
        ) as mta:
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
            assert cli("batch", "approve", batch, user="boss")[0] == 0
            code, out, err = cli("send", batch, user="carol")
            assert code == 0, out + err
            items = {r["to"][0]: r["item"] for r in cli.json("batch", "show", batch)["items"]
                     if r["to"]}  # fmt: skip

            # The relay is down: Postfix keeps the two and, after delay_warning_time,
            # tells the sender with its own RFC 3464 delay report.
            reports = wait_flushing(office, 2, mta)
            for raw in reports:
                msg = email.message_from_bytes(raw, policy=email.policy.compat32)
                assert "Delayed Mail (still being retried)" in str(msg["Subject"])
                assert b"Action: delayed" in raw and b"Status: 4.4.1" in raw

            fetched = cli.json("bounces", "fetch", "--profile", "HOLT")
            assert fetched["delivery_reports"] == 2 and fetched["unmatched_reports"] == 0
            assert fetched["bounces"] == []
            delays = {d["item"]: d for d in fetched["delays"]}
            assert sorted(delays) == sorted(items[r] for r in REFUSED)
            refused = f"127.0.0.1[127.0.0.1]:{mta.closed_port}"
            for rcpt in REFUSED:
                assert delays[items[rcpt]]["recipient"] == rcpt
                assert refused in delays[items[rcpt]]["reason"]

            # Still sent; the delay is a note, in batch show, the queue and history.
            rows = {r["item"]: r for r in cli.json("batch", "show", batch)["items"]
                    if r["kind"] == "email"}  # fmt: skip
            assert {r["state"] for r in rows.values()} == {"sent"}
            for rcpt in REFUSED:
                row = rows[items[rcpt]]
                assert row["bounce"] is None
                assert row["delayed"] and row["delayed"][0]["recipient"] == rcpt
                assert "delayed at the customer's server" in row["note"]
            assert not rows[items[DELIVERED]]["delayed"]
            code, out, _ = cli("batch", "show", batch)
            assert code == 0 and out.count("delayed at the customer's server") == 2

            from screens.preview import load_queued
            from screens.widgets.spool_view import BatchView

            view = BatchView.open(home, batch)
            view.events.update()
            assert sorted(ref.item for ref in view.refs("sent")) == sorted(items.values())
            labels = {ref.item: view.row(ref).label(width=200) for ref in view.refs("sent")}
            for rcpt in REFUSED:
                assert labels[items[rcpt]].startswith("sent ")
                assert "delayed at the customer's server" in labels[items[rcpt]]
            assert "delayed" not in labels[items[DELIVERED]]
            for rcpt in REFUSED:
                notes = load_queued(home, batch, items[rcpt]).notes
                assert any("delayed at the customer's server" in n for n in notes), notes

            number = rows[items[REFUSED[0]]]["number"]
            code, out, _ = cli("sending", "history", "down_payment", number, "--admin", "HOLT")
            assert code == 0 and "never sent" not in out
            assert "  sent " in out and "delayed at the customer's server" in out

            # batch create over the month: nothing to send again.
            code, out, err = cli("batch", "create", *MONTH)
            assert code == 2 and "3 sent before" in err and "Nothing was built" in err, err

            # The relay comes up; Postfix delivers both, once each.
            with mta.open_relay() as relay:
                deadline = time.monotonic() + 90
                while len(relay.messages) < 2:
                    assert time.monotonic() < deadline, mta.log()
                    mta.flush()
                    time.sleep(0.2)  # polling the relay between two flushes
                assert sorted(r for m in relay.messages for r in m.rcpt_tos) == sorted(REFUSED)
            again = cli.json("bounces", "fetch", "--profile", "HOLT")
            assert again["bounces"] == [] and again["delays"] == []
            rows = {r["item"]: r for r in cli.json("batch", "show", batch)["items"]
                    if r["kind"] == "email"}  # fmt: skip
            assert {r["state"] for r in rows.values()} == {"sent"}
