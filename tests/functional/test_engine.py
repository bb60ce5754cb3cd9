"""The send engine against a real aiosmtpd server: faults, refusals, the one-sender rule."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from mailing.sending import SendingPausedError, SendOptions, mark_sent, resend, send
from store.records import LanguageCode, StoredFileRef, Template
from store.secrets import set_secret
from store.spool import SenderBusyError, Spool
from tests.send_support import make_store, message_ids, spool_batch
from tests.smtp_server import SMTPTestServer

FAST = (0.01, 0.01, 0.01)


def opts(**kw: object) -> SendOptions:
    return SendOptions(backoff=kw.pop("backoff", FAST), **kw)  # type: ignore[arg-type]


def events(batch_path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (batch_path / "events.jsonl").read_text().splitlines()]


def test_sends_each_approved_message_once_over_one_connection(tmp_path: Path) -> None:
    with SMTPTestServer(security="starttls") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 20)
        report = send(store, "carol", batch.id, opts())
        assert report.count("sent") == 20
        assert server.connections == 1
        ids = [message_ids(m.data) for m in server.messages]
        assert sorted(ids) == sorted({f"<batchtest.{i}@sender.example>" for i in range(1, 21)})
        assert all(m.tls for m in server.messages)
        # bytes on the wire are the approved bytes
        assert server.messages[0].data == (batch.path / "sent" / "00001-F1.eml").read_bytes()
        assert batch.counts()["sent"] == 20 and batch.counts()["approved"] == 0
        # a second send sends nothing more
        assert send(store, "carol", batch.id, opts()).count("sent") == 0
        assert len(server.messages) == 20
        sent = [e for e in events(batch.path) if e.get("event") == "sent"]
        assert len(sent) == 20 and all("250" in str(e["reply"]) for e in sent)


def test_temporary_451_is_retried_then_sent(tmp_path: Path) -> None:
    with SMTPTestServer(security="none", answers={"DATA": "451 4.3.0 try again later"}) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 3)
        waits: list[float] = []

        def sleep(s: float) -> None:
            waits.append(s)
            server.answers.pop("DATA", None)  # the server recovers during the back-off

        report = send(store, "carol", batch.id, SendOptions(backoff=(0.5, 2.0), sleep=sleep))
        assert report.count("sent") == 3 and report.retries == 1
        assert waits == [0.5]
        assert len(server.messages) == 3
        failed = [e for e in events(batch.path) if e.get("event") == "attempt-failed"]
        assert failed[0]["code"] == 451 and failed[0]["kind"] == "temporary"


def test_421_closing_is_retried_on_a_new_connection(tmp_path: Path) -> None:
    with SMTPTestServer(security="none", answers={"MAIL": "421 4.3.2 shutting down"}) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 2)

        def sleep(s: float) -> None:
            server.answers.pop("MAIL", None)

        report = send(store, "carol", batch.id, SendOptions(backoff=(0.1,), sleep=sleep))
        assert report.count("sent") == 2
        assert server.connections >= 2  # reconnected after the 421
        assert len(server.messages) == 2


def test_temporary_failure_outlasting_backoff_is_deferred_not_lost(tmp_path: Path) -> None:
    with SMTPTestServer(security="none", answers={"DATA": "451 4.3.0 busy"}) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 5)
        report = send(store, "carol", batch.id, opts(backoff=(0.0, 0.0)))
        # three deferred in a row pause the profile; the rest wait
        assert report.count("deferred") == 3 and report.count("paused") == 2
        assert "P" in report.paused_profiles
        assert batch.counts()["approved"] == 5 and not server.messages
        server.answers.clear()
        report = send(store, "carol", batch.id, opts())
        assert report.count("sent") == 5 and len(server.messages) == 5


def test_550_for_one_customer_of_three_fails_the_item_and_records_each_reply(
    tmp_path: Path,
) -> None:
    rcpts = ["a@example.com", "b@example.com", "c@example.com"]
    with SMTPTestServer(
        security="none", rcpt_answers={"b@example.com": "550 5.1.1 no such user"}
    ) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 2, rcpts)
        report = send(store, "carol", batch.id, opts())
        # Not "sent": b, a customer's address, did not get it.
        assert report.count("failed") == 2 and report.count("sent") == 0
        assert report.retries == 0
        assert [m.rcpt_tos for m in server.messages] == [["a@example.com", "c@example.com"]] * 2
        assert "b@example.com (550 5.1.1 no such user)" in report.outcomes[0].detail
        assert batch.counts()["failed"] == 2
        ev = [e for e in events(batch.path) if e.get("event") == "recipients-refused"]
        assert ev[0]["refused"] == {"b@example.com": [550, "5.1.1 no such user"]}
        assert ev[0]["accepted"] == ["a@example.com", "c@example.com"]


def test_the_offices_own_bcc_accepted_is_not_delivery(tmp_path: Path) -> None:
    """SPEC §1 recommends a Bcc to self with Office 365; when the server refuses the
    customer but takes the Bcc, the invoice did not reach the customer."""
    with SMTPTestServer(
        security="none", rcpt_answers={"klant@example.com": "550 5.1.1 mailbox unavailable"}
    ) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 1, ["klant@example.com"], bcc=["archief@office.example"])
        report = send(store, "carol", batch.id, opts())
        assert report.count("failed") == 1 and report.count("sent") == 0
        assert [m.rcpt_tos for m in server.messages] == [["archief@office.example"]]
        detail = report.outcomes[0].detail
        assert "klant@example.com (550 5.1.1 mailbox unavailable)" in detail
        assert "only for archief@office.example" in detail
        assert batch.counts()["failed"] == 1


def test_a_refused_bcc_alone_does_not_fail_the_message(tmp_path: Path) -> None:
    with SMTPTestServer(
        security="none", rcpt_answers={"archief@office.example": "550 5.1.1 unknown"}
    ) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 1, ["klant@example.com"], bcc=["archief@office.example"])
        report = send(store, "carol", batch.id, opts())
        assert report.count("sent") == 1
        assert "archief@office.example" in report.outcomes[0].detail
        assert [m.rcpt_tos for m in server.messages] == [["klant@example.com"]]


def test_550_for_every_recipient_fails_at_once(tmp_path: Path) -> None:
    with SMTPTestServer(
        security="none", rcpt_answers={"x@example.com": "550 5.1.1 unknown"}
    ) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 2, ["x@example.com"])
        report = send(store, "carol", batch.id, opts())
        assert report.count("failed") == 2 and report.retries == 0
        assert batch.counts()["failed"] == 2 and not server.messages


def test_535_pauses_the_profile_after_the_first_message(tmp_path: Path) -> None:
    with SMTPTestServer(security="starttls", users={"me": "right"}) as server:
        store = make_store(
            tmp_path / "home", server.profile_fields(tmp_path), auth="password", username="me"
        )
        set_secret("P", "password", "wrong")
        batch = spool_batch(store, 4)
        report = send(store, "carol", batch.id, opts())
        assert "P" in report.paused_profiles
        assert report.count("paused") == 4 and report.count("sent") == 0
        assert len(server.auth_attempts) == 1  # tried once, not once per message
        assert batch.counts()["approved"] == 4  # nothing lost: sent after the fix
        set_secret("P", "password", "right")
        assert send(store, "carol", batch.id, opts()).count("sent") == 4
        assert len(server.messages) == 4


def test_drop_before_the_reply_to_data_is_unknown_never_resent_automatically(
    tmp_path: Path,
) -> None:
    with SMTPTestServer(security="none", drop={"DATA"}) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 2)
        report = send(store, "carol", batch.id, opts())
        assert report.count("unknown") == 2
        assert batch.counts()["unknown"] == 2
        server.drop.clear()
        assert send(store, "carol", batch.id, opts()).count("sent") == 0
        # the admin checks and decides: one re-sent (same Message-ID), one confirmed
        resend(store, "dave", batch.id, "00001-F1")
        mark_sent(store, "dave", batch.id, "F2")
        assert send(store, "carol", batch.id, opts()).count("sent") == 1
        assert [message_ids(m.data) for m in server.messages] == ["<batchtest.1@sender.example>"]
        assert batch.counts()["sent"] == 2
        marked = [e for e in events(batch.path) if e.get("event") == "marked-sent"]
        assert marked[0]["by"] == "dave"


def test_drop_at_mail_is_retried(tmp_path: Path) -> None:
    with SMTPTestServer(security="none", drop={"MAIL"}) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 2)

        def sleep(s: float) -> None:
            server.drop.clear()

        report = send(store, "carol", batch.id, SendOptions(backoff=(0.1,), sleep=sleep))
        assert report.count("sent") == 2 and report.retries == 1
        assert len(server.messages) == 2


def test_changed_bytes_after_approval_are_refused(tmp_path: Path) -> None:
    with SMTPTestServer(security="none") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 3)
        f = batch.path / "approved" / "00002-F2.eml"
        f.write_bytes(f.read_bytes().replace(b"Invoice number 2", b"Invoice number 9"))
        report = send(store, "carol", batch.id, opts())
        assert report.count("sent") == 2
        refused = [o for o in report.outcomes if o.outcome == "refused"]
        assert (
            refused[0].item == "00002-F2" and "changed after it was approved" in refused[0].detail
        )
        assert len(server.messages) == 2


def test_changed_template_or_letterhead_after_approval_is_refused_with_reason(
    tmp_path: Path,
) -> None:
    with SMTPTestServer(security="none") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 2)
        tpl = store.get(Template, "INV-NL")
        tpl.subject = "Your invoice {{ number }}"
        store.put(tpl)
        dry = send(store, "carol", batch.id, opts(dry_run=True))
        assert dry.count("refused") == 2
        report = send(store, "carol", batch.id, opts())
        assert report.count("refused") == 2 and not server.messages
        assert "template 'INV-NL' was changed" in report.outcomes[0].detail
        ev = [e for e in events(batch.path) if e.get("event") == "refused"]
        assert "template 'INV-NL' was changed" in str(ev[0]["error"])

        batch2 = spool_batch(store, 1)
        lang = store.get(LanguageCode, "A/NL")
        ref = store.files.add_bytes("lh.pdf", b"%PDF-1.4 new letterhead")
        lang.first_background = StoredFileRef(**ref.model_dump())
        store.put(lang)
        report = send(store, "carol", batch2.id, opts())
        assert report.count("refused") == 1
        assert "first background (letterhead)" in report.outcomes[0].detail
        assert not server.messages


def test_sending_paused_is_refused(tmp_path: Path) -> None:
    with SMTPTestServer(security="none") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 1)
        with store.transaction() as tx:
            s = tx.system()
            s.sending_paused = True
            s.paused_reason = "month-end check"
            tx.put(s)
        with pytest.raises(SendingPausedError, match="month-end check"):
            send(store, "carol", batch.id, opts())
        assert not server.messages and batch.counts()["approved"] == 1


def test_a_second_sender_is_told_who_is_sending(tmp_path: Path) -> None:
    with SMTPTestServer(security="none") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 1)
        spool = Spool(store.home)
        holding = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with spool.sender_lock("erin"):
                holding.set()
                release.wait(10)

        t = threading.Thread(target=hold)
        t.start()
        holding.wait(5)
        try:
            with pytest.raises(SenderBusyError, match="user erin, process"):
                send(store, "carol", batch.id, opts())
            assert spool.sender() is not None
        finally:
            release.set()
            t.join()
        assert spool.sender() is None
        assert send(store, "carol", batch.id, opts()).count("sent") == 1


def test_rate_limit_spaces_the_messages(tmp_path: Path) -> None:
    with SMTPTestServer(security="none") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path), rate_per_minute=600)
        batch = spool_batch(store, 4)
        started = time.monotonic()
        report = send(store, "carol", batch.id, opts())
        elapsed = time.monotonic() - started
        assert report.count("sent") == 4
        # 600/min = one per 0.1 s: three intervals after the first message
        assert elapsed >= 0.29


def test_sending_leftover_goes_to_unknown_at_start(tmp_path: Path) -> None:
    with SMTPTestServer(security="none") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 3)
        # as a crash would leave it
        batch.move("00002-F2", "email", "approved", "sending")
        report = send(store, "carol", None, opts())
        assert report.found_unknown == [(batch.id, "00002-F2")]
        assert report.count("sent") == 2
        assert batch.counts()["unknown"] == 1
        assert "<batchtest.2@sender.example>" not in [message_ids(m.data) for m in server.messages]


def test_claimed_but_never_offered_goes_back_to_approved_offered_goes_to_unknown(
    tmp_path: Path,
) -> None:
    from store.spool import boot_id

    with SMTPTestServer(security="none") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 3)
        # as a killed sender leaves it: 1 offered, 2 only claimed, 3 claimed before a reboot
        for item in ("00001-F1", "00002-F2", "00003-F3"):
            batch.move(item, "email", "approved", "sending")
            batch.log({"item": item, "event": "claimed", "state": "sending", "boot_id": boot_id()})
        batch.log({"item": "00001-F1", "event": "attempt", "state": "sending"})
        batch.log({"item": "00003-F3", "event": "claimed", "state": "sending", "boot_id": "old"})
        batch.close()
        report = send(store, "carol", batch.id, opts())
        assert sorted(report.found_unknown) == [(batch.id, "00001-F1"), (batch.id, "00003-F3")]
        assert [message_ids(m.data) for m in server.messages] == ["<batchtest.2@sender.example>"]


def test_a_kill_between_the_outcome_and_its_rename_is_completed_with_the_reply(
    tmp_path: Path,
) -> None:
    """The sender writes an item's outcome (the server's reply) before moving it out
    of sending/; a kill between the two leaves the item there with that outcome as its
    last event, and the next start completes the move: sent with its reply (also in
    the archive), failed with its refusal. None of them is offered again."""
    from mailing.sending import archived_items

    with SMTPTestServer(security="none") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 3)
        for item in ("00001-F1", "00002-F2"):
            batch.move(item, "email", "approved", "sending")
            batch.log({"item": item, "event": "attempt", "state": "sending"})
        reply = "250 2.0.0 Ok: queued as 1A2B3C"
        batch.log(
            {
                "item": "00001-F1",
                "event": "sent",
                "state": "sent",
                "reply": reply,
                "accepted": ["customer1@example.test"],
                "refused": {},
            }
        )
        refusal = "The server refused customer2@example.test (550 no such user)"
        batch.log(
            {"item": "00002-F2", "event": "recipients-refused", "state": "failed", "error": refusal}
        )
        batch.close()
        report = send(store, "carol", batch.id, opts())
        assert report.found_unknown == []
        # only the third was offered by this run
        assert [message_ids(m.data) for m in server.messages] == ["<batchtest.3@sender.example>"]
        assert batch.counts()["sent"] == 2 and batch.counts()["failed"] == 1
        assert batch.counts()["sending"] == 0
        sent = {e["item"]: e for e in events(batch.path) if e.get("event") == "sent"}
        assert sent["00001-F1"]["reply"] == reply
        assert archived_items(batch) == {"00001-F1", "00003-F3"}
        records = {
            json.loads(p.read_bytes())["item"]: json.loads(p.read_bytes())
            for p in (tmp_path / "home" / "archive").rglob("record.json")
        }
        assert records["00001-F1"]["server_reply"] == reply
        assert (batch.path / "failed" / "00002-F2.eml").exists()
