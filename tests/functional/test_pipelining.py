"""The SMTP transport and the send engine with ESMTP PIPELINING (RFC 2920).

When the server offers PIPELINING, MAIL FROM, every RCPT TO and DATA go out in
one write. Every transport and engine test runs again here against a server that
offers it — refusals per recipient, 421/451/550/535, drops at MAIL, RCPT and
after DATA, reconnects — and must give the same outcomes as without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailing.transports import open_transport
from store.records import Profile
from store.secrets import set_secret
from tests.functional.test_engine import *  # noqa: F403  (collected again, with pipelining)
from tests.functional.test_transport_smtp import *  # noqa: F403
from tests.functional.test_transport_smtp import PASSWORD, USER, message
from tests.smtp_server import SMTPTestServer


@pytest.fixture(autouse=True)
def _pipelining(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(SMTPTestServer, "PIPELINING", True)
    yield


def _profile(srv: SMTPTestServer, tmp_path: Path) -> Profile:
    return Profile.parse(
        {"code": "MAIN", "sender": USER, "username": USER, **srv.profile_fields(tmp_path)}
    )


def test_commands_are_pipelined_and_the_bytes_arrive_intact(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    raw = message() + b".\r\n..\r\n.leading dot\r\n"
    rcpts = ["a@example.org", "b@example.org", "c@example.org"]
    with SMTPTestServer(users={USER: PASSWORD}) as srv:
        with open_transport(_profile(srv, tmp_path), tmp_path) as transport:
            for _ in range(3):
                result = transport.send(raw, USER, rcpts)
        assert srv.pipelined == 9  # every RCPT was read with DATA already sent
        assert srv.connections == 1
        assert [m.data for m in srv.messages] == [raw] * 3  # dot-stuffing undone exactly
        assert [m.rcpt_tos for m in srv.messages] == [rcpts] * 3
    assert result.accepted == rcpts and result.refused == {}


def test_without_pipelining_commands_go_one_by_one(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(users={USER: PASSWORD}, pipelining=False) as srv:
        with open_transport(_profile(srv, tmp_path), tmp_path) as transport:
            transport.send(message(), USER, ["a@example.org", "b@example.org"])
        assert srv.pipelined == 0 and len(srv.messages) == 1


def test_a_server_closing_at_one_recipient_is_a_temporary_failure(tmp_path: Path) -> None:
    from mailing.transports import TransportError

    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(
        users={USER: PASSWORD}, rcpt_answers={"b@example.org": "421 4.3.2 closing"}
    ) as srv:
        with open_transport(_profile(srv, tmp_path), tmp_path) as transport:
            with pytest.raises(TransportError) as info:
                transport.send(message(), USER, ["a@example.org", "b@example.org"])
            # the next message goes out on a new connection
            transport.send(message(), USER, ["a@example.org"])
        assert [m.rcpt_tos for m in srv.messages] == [["a@example.org"]]
    assert info.value.kind == "temporary" and info.value.code == 421
    assert info.value.refused == {"b@example.org": (421, "4.3.2 closing")}


def test_the_next_envelope_goes_out_with_the_end_of_a_message(tmp_path: Path) -> None:
    from mailing.sending import SendOptions, send
    from tests.send_support import make_store, message_ids, spool_batch

    with SMTPTestServer(security="none") as srv:
        store = make_store(tmp_path / "home", srv.profile_fields(tmp_path))
        batch = spool_batch(store, 10)
        report = send(store, "carol", batch.id, SendOptions(backoff=(0.01,)))
        assert report.count("sent") == 10 and srv.connections == 1
        assert srv.chained >= 5  # one write: message, final dot, next MAIL/RCPT/DATA
        ids = [message_ids(m.data) for m in srv.messages]
        assert ids == [f"<batchtest.{i}@sender.example>" for i in range(1, 11)]


def test_an_announced_message_that_is_not_sent_is_never_delivered(tmp_path: Path) -> None:
    set_secret("MAIN", "password", PASSWORD)
    with SMTPTestServer(users={USER: PASSWORD}) as srv:
        transport = open_transport(_profile(srv, tmp_path), tmp_path)
        transport.announce(message("next@example.org"), USER, ["next@example.org"])
        transport.send(message(), USER, ["a@example.org"])
        # the engine changes its mind (a pause): another message, then the end
        transport.send(message(), USER, ["b@example.org"])
        transport.announce(message("never@example.org"), USER, ["never@example.org"])
        transport.send(message(), USER, ["c@example.org"])
        transport.close()
        assert [m.rcpt_tos for m in srv.messages] == [
            ["a@example.org"],
            ["b@example.org"],
            ["c@example.org"],
        ]
        assert srv.connections == 2  # the unused announcement cost one reconnect


@pytest.mark.parametrize(
    ("lost", "enhanced"),
    [
        # The end of message 3's reply: message 4's MAIL reply would be read as it.
        ({"250 2.0.0 OK queued": 3}, True),
        # Message 3's RCPT reply (each message has a MAIL and a RCPT "250 OK"): its
        # DATA's 354 would be read as the recipient's.
        ({"250 OK": 6}, False),
    ],
)
def test_a_lost_reply_makes_that_message_unknown_never_another_ones_outcome(
    tmp_path: Path, lost: dict[str, int], enhanced: bool
) -> None:
    """A server loses one reply of a pipelined exchange: the message whose reply it
    was is ``unknown`` (it may have arrived), the others are sent, once each."""
    from mailing.sending import SendOptions, send
    from store.spool import Spool
    from tests.send_support import make_store, message_ids, spool_batch

    with SMTPTestServer(security="none", enhanced=enhanced, swallow=lost) as srv:
        store = make_store(tmp_path / "home", srv.profile_fields(tmp_path))
        batch = spool_batch(store, 6)
        report = send(store, "carol", batch.id, SendOptions(backoff=(0.01,)))
        b = Spool(store.home).batch(batch.id)
        assert [r.item for r in b.items("unknown")] == ["00003-F3"], report.outcomes
        assert report.count("sent") == 5 and report.count("failed") == 0, report.outcomes
        events = [e for e in b.events() if e.get("item") == "00003-F3"]
        assert any("did not line up" in str(e.get("error")) for e in events), events
        got = [message_ids(m.data) for m in srv.messages]
        assert len(got) == len(set(got))  # nothing twice
        assert {f"<batchtest.{i}@sender.example>" for i in (1, 2, 4, 5, 6)} <= set(got)
