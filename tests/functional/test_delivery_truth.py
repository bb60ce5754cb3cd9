"""Per-recipient outcome against real aiosmtpd servers: a 4xx for one recipient is
retried for that one only, with the same bytes, and nobody gets a message twice; the
server's DSN is asked for with an envelope id that names the item."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from mailing.sending import SendOptions, send
from tests.send_support import make_store, message_ids, spool_batch
from tests.smtp_server import SMTPTestServer

RCPTS = ["a@example.com", "b@example.com", "c@example.com"]


def events(batch_path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (batch_path / "events.jsonl").read_text().splitlines()]


def deliveries(server: SMTPTestServer) -> Counter[tuple[str, str]]:
    """(recipient, Message-ID) -> how many times the server took it."""
    return Counter((r, message_ids(m.data)) for m in server.messages for r in m.rcpt_tos)


def test_451_for_one_of_three_is_retried_for_that_one_only_and_nobody_twice(
    tmp_path: Path,
) -> None:
    with SMTPTestServer(
        security="none", rcpt_answers={"b@example.com": "451 4.2.0 mailbox busy"}
    ) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 2, RCPTS)
        waits: list[float] = []

        def sleep(s: float) -> None:
            waits.append(s)
            server.rcpt_answers.clear()  # the mailbox is free again during the back-off

        report = send(store, "carol", batch.id, SendOptions(backoff=(0.5, 2.0), sleep=sleep))
        assert report.count("sent") == 2 and report.retries == 1
        assert waits == [0.5]
        assert [m.rcpt_tos for m in server.messages] == [
            ["a@example.com", "c@example.com"],
            ["b@example.com"],
            ["a@example.com", "b@example.com", "c@example.com"],
        ]
        # The retry carried the approved bytes, unchanged.
        approved = (batch.path / "sent" / "00001-F1.eml").read_bytes()
        assert server.messages[0].data == server.messages[1].data == approved
        got = deliveries(server)
        assert set(got.values()) == {1} and len(got) == 6
        sent = [e for e in events(batch.path) if e["event"] == "sent"]
        assert sent[0]["accepted"] == ["a@example.com", "c@example.com", "b@example.com"]
        replies = [e for e in events(batch.path) if e["event"] == "recipients"]
        assert replies[0]["refused"] == {"b@example.com": [451, "4.2.0 mailbox busy"]}


def test_a_4xx_outlasting_the_backoff_waits_and_the_next_send_offers_only_the_waiting(
    tmp_path: Path,
) -> None:
    with SMTPTestServer(
        security="none", rcpt_answers={"c@example.com": "452 4.2.2 mailbox full"}
    ) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 1, RCPTS)
        report = send(store, "carol", batch.id, SendOptions(backoff=(0.0,)))
        assert report.count("deferred") == 1 and report.count("sent") == 0
        detail = report.outcomes[0].detail
        assert "c@example.com (452 4.2.2 mailbox full)" in detail
        assert "delivered to a@example.com, b@example.com" in detail
        assert batch.counts()["approved"] == 1
        # A later run (a new process would read the same log) offers it to c only.
        server.rcpt_answers.clear()
        report = send(store, "carol", batch.id, SendOptions(backoff=(0.0,)))
        assert report.count("sent") == 1
        assert [m.rcpt_tos for m in server.messages] == [
            ["a@example.com", "b@example.com"],
            ["c@example.com"],
        ]
        assert set(deliveries(server).values()) == {1}
        assert batch.counts()["sent"] == 1


def test_a_permanent_and_a_temporary_refusal_the_waiting_one_is_retried_the_item_fails(
    tmp_path: Path,
) -> None:
    with SMTPTestServer(
        security="none",
        rcpt_answers={
            "b@example.com": "550 5.1.1 no such user",
            "c@example.com": "450 4.2.1 try later",
        },
    ) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 1, RCPTS)

        def sleep(s: float) -> None:
            server.rcpt_answers.pop("c@example.com", None)

        report = send(store, "carol", batch.id, SendOptions(backoff=(0.1,), sleep=sleep))
        assert report.count("failed") == 1
        assert [m.rcpt_tos for m in server.messages] == [["a@example.com"], ["c@example.com"]]
        detail = report.outcomes[0].detail
        assert "b@example.com (550 5.1.1 no such user)" in detail
        assert "only for a@example.com, c@example.com" in detail
        ev = [e for e in events(batch.path) if e["event"] == "recipients-refused"][0]
        assert ev["refused"] == {"b@example.com": [550, "5.1.1 no such user"]}
        # An admin's resend offers it to the refused address only (a, c have it).
        from mailing.sending import resend

        server.rcpt_answers.clear()
        resend(store, "bob", batch.id, "00001-F1")
        assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == 1
        assert server.messages[-1].rcpt_tos == ["b@example.com"]
        assert set(deliveries(server).values()) == {1}


def test_dsn_is_asked_for_with_an_envelope_id_naming_the_item(tmp_path: Path) -> None:
    for pipelining in (False, True):
        with SMTPTestServer(security="none", dsn=True, pipelining=pipelining) as server:
            store = make_store(tmp_path / f"home{pipelining}", server.profile_fields(tmp_path))
            batch = spool_batch(store, 3, ["a@example.com"], bcc=["archive@office.example"])
            assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == 3
            assert server.dsn_mail == [
                {"ENVID": f"mailroom.{batch.id}.0000{i}-F{i}", "RET": "HDRS"} for i in (1, 2, 3)
            ]
            assert server.dsn_rcpt[:2] == [
                ("a@example.com", {"NOTIFY": "FAILURE,DELAY", "ORCPT": "rfc822;a@example.com"}),
                (
                    "archive@office.example",
                    {"NOTIFY": "FAILURE,DELAY", "ORCPT": "rfc822;archive@office.example"},
                ),
            ]
            assert len(server.dsn_rcpt) == 6 and len(server.messages) == 3
            if pipelining:
                assert server.chained >= 1  # DSN parameters ride in the pipelined group too
            sent = [e for e in events(batch.path) if e["event"] == "sent"]
            assert sent[0]["envid"] == f"mailroom.{batch.id}.00001-F1"


def test_no_dsn_parameters_to_a_server_that_does_not_offer_dsn(tmp_path: Path) -> None:
    with SMTPTestServer(security="none") as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 1)
        assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == 1
        assert not any("ENVID" in o for o in server.messages[0].mail_options)


def test_envelope_ids_are_xtext_and_read_back() -> None:
    from mailing.transports.dsn import envelope_id, parse_envelope_id, unxtext, xtext

    assert xtext("a+b=c d\u00e9") == "a+2Bb+3Dc+20d+C3+A9"
    assert unxtext(xtext("a+b=c d\u00e9")) == "a+b=c d\u00e9"
    envid = envelope_id("20261201-091403-ab12", "00007-F2026+7")
    assert parse_envelope_id(xtext(envid)) == ("20261201-091403-ab12", "00007-F2026+7")
    assert parse_envelope_id("other-system-42") is None


def test_test_mode_sends_to_the_one_address_and_says_so(tmp_path: Path) -> None:
    from mailing.changes import set_redirect

    with SMTPTestServer(security="none", dsn=True) as server:
        store = make_store(tmp_path / "home", server.profile_fields(tmp_path))
        batch = spool_batch(store, 2, RCPTS, bcc=["archive@office.example"])
        set_redirect(store, "demo", "test@office.example")
        dry = send(store, "carol", batch.id, SendOptions(dry_run=True))
        assert "test@office.example only (test mode; not to a@example.com" in dry.outcomes[0].detail
        report = send(store, "carol", batch.id, SendOptions(backoff=(0.0,)))
        assert report.count("sent") == 2
        assert [m.rcpt_tos for m in server.messages] == [["test@office.example"]] * 2
        assert "redirected to test@office.example (test mode)" in report.outcomes[0].detail
        sent = [e for e in events(batch.path) if e["event"] == "sent"]
        assert all(e["redirected_to"] == "test@office.example" for e in sent)
