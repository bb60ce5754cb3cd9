"""One document, one send, unless asked; test mode; scheduled send — through the
command line (in process), with the demo installation and a real aiosmtpd server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailing.demo import DEMO_USER, load_demo
from store.records import Profile
from store.spool import Spool
from store.store import Store
from tests.send_support import message_ids
from tests.smtp_server import SMTPTestServer
from tui.cli import main

MONTH = ["--type", "down_payment", "--admin", "HOLT", "--from", "2026-11-01", "--to", "2026-11-30"]


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
        assert code in (0, 1), err
        return json.loads(out)

    def create(self, *extra: str) -> str:
        code, out, err = self("batch", "create", *MONTH, *extra)
        assert code == 0, err
        return out.strip().splitlines()[-1]

    def approve_and_send(self, batch_id: str) -> None:
        code, _, err = self("batch", "approve", batch_id, user="boss")
        assert code == 0, err
        code, out, err = self("send", batch_id, user="carol")
        assert code == 0, out + err


def demo_home(tmp_path: Path, server: SMTPTestServer) -> Path:
    home = tmp_path / "home"
    store = Store(home, DEMO_USER)
    load_demo(store)
    fields = server.profile_fields(tmp_path)
    with store.transaction() as tx:
        for p in tx.all(Profile):
            tx.put(Profile.parse({**p.dump(), **fields, "outbox_dir": ""}))
    return home


def numbers_in(home: Path, batch_id: str, state: str | None = None) -> set[str]:
    batch = Spool(home).batch(batch_id)
    refs = batch.items(state) if state else [batch.locate(i) for i in batch.all_items()]
    return {batch.meta(r.item)["document"]["number"] for r in refs}


def test_a_second_batch_over_the_same_month_holds_none_of_the_sent_documents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SMTPTestServer(security="none") as server:
        home = demo_home(tmp_path, server)
        cli = CLI(home, capsys)
        first = cli.create()
        month = numbers_in(home, first)
        assert len(month) == 4

        # While the first batch is open, a second one would hold the same documents.
        code, _, err = cli("batch", "create", *MONTH)
        assert code == 2
        assert "3 waiting in an open batch" in err and first in err and "Traceback" not in err
        assert "1 on an earlier print list" in err

        cli.approve_and_send(first)
        sent = numbers_in(home, first, "sent")
        assert sent and len(server.messages) == len(sent)

        printed = numbers_in(home, first, "print")
        assert sent | printed == month and printed, "the demo month has one to print"

        # Once sent (or printed): left out, and said so.
        code, _, err = cli("batch", "create", *MONTH)
        assert code == 2 and "Traceback" not in err
        assert f"{len(sent)} sent before" in err and "1 on an earlier print list" in err
        assert "--include-sent" in err

        # On purpose: --include-sent puts them in, each marked with its first send.
        third = cli.create("--include-sent")
        assert numbers_in(home, third) == month
        shown = cli.json("batch", "show", third)
        marked = {r["number"]: r for r in shown["items"] if r["sent_before"]}
        assert set(marked) == sent
        for row in marked.values():
            assert row["sent_before"]["batch"] == first
            assert row["note"].startswith("sent before on 20")
        code, out, _ = cli("batch", "show", third)
        assert "sent before on" in out and f"(batch {first})" in out
        # The queue row and the preview say so too.
        from screens.preview import load_queued
        from screens.widgets.spool_view import BatchView

        view = BatchView.open(home, third)
        notes = {view.meta(r.item)["document"]["number"]: view.row(r).note for r in view.refs()}
        assert all(notes[n].startswith("sent before on 20") for n in sent)
        item = next(r["item"] for r in marked.values())
        preview_notes = " ".join(load_queued(home, third, item).notes)
        assert "Sent before on" in preview_notes and f"(batch {first}," in preview_notes
        cli("batch", "cancel", third)

        # Every document knows when, in which batch and with which Message-ID it went.
        number = sorted(sent)[0]
        history = cli.json("sending", "history", "down_payment", number, "--admin", "HOLT")
        assert [h["batch"] for h in history["sent"]] == [first]
        mid = history["sent"][0]["message_id"]
        assert mid in {message_ids(m.data) for m in server.messages}

        # `mailroom resend TYPE NUMBER`: a one-message batch, for a deliberate resend;
        # to recipients who have it only when asked (--everyone), and recorded so.
        code, out, err = cli("resend", "down_payment", number, "--admin", "HOLT")
        assert code == 2 and "got it before" in err
        code, out, err = cli("resend", "down_payment", number, "--admin", "HOLT", "--everyone")
        assert code == 0, err
        again = out.strip()
        assert numbers_in(home, again) == {number}
        assert "sent before on" in err
        before = len(server.messages)
        cli.approve_and_send(again)
        assert len(server.messages) == before + 1
        history = cli.json("sending", "history", "down_payment", number, "--admin", "HOLT")
        assert [h["batch"] for h in history["sent"]] == [first, again]
        # A new message (its own Message-ID) for the same document.
        assert history["sent"][1]["message_id"] == message_ids(server.messages[-1].data) != mid
        assert number.encode() in server.messages[-1].data


def test_test_mode_sends_everything_to_one_address_and_counts_nothing_as_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SMTPTestServer(security="none") as server:
        home = demo_home(tmp_path, server)
        cli = CLI(home, capsys)
        code, _, err = cli("sending", "redirect", "not an address")
        assert code == 2
        assert "sending redirect address" in err and "'not an address'" in err
        code, out, _ = cli("sending", "redirect", "test@office.example")
        assert code == 0 and "TEST MODE" in out
        assert "TEST MODE: every message goes to test@office.example" in cli("sending", "status")[1]

        first = cli.create()
        batch = Spool(home).batch(first)
        customers = {
            a for i in batch.all_items() for a in batch.meta(i).get("envelope", {}).get("rcpts", [])
        }
        assert customers and "test@office.example" not in customers
        cli.approve_and_send(first)
        sent = batch.items("sent")
        assert sent and len(server.messages) == len(sent)
        # Every message to the one address, in the envelope only; bytes as approved.
        assert all(m.rcpt_tos == ["test@office.example"] for m in server.messages)
        approved = {batch.read(r.item, "email", "sent") for r in sent}
        assert {m.data for m in server.messages} == approved
        assert not any(b"test@office.example" in m.data for m in server.messages)
        # The archive says so; batch show says so.
        records = [json.loads(p.read_text()) for p in (home / "archive").rglob("record.json")]
        assert len(records) == len(sent)
        assert all(r["redirected_to"] == "test@office.example" for r in records)
        rows = cli.json("batch", "show", first)["items"]
        assert all(
            r["redirected_to"] == "test@office.example" for r in rows if r["state"] == "sent"
        )
        # In words that are true: sent to the test address, not "sent".
        code, out, _ = cli("batch", "show", first)
        assert f"{len(sent)} sent to the test address" in out
        assert "sent to the test address test@office.example, not to the customer" in out
        from mailing.batches import document_states
        from screens.widgets.spool_batches import summarize_batch
        from screens.widgets.spool_view import BatchView

        assert f"sent to the test address {len(sent)}" in summarize_batch(batch).label()
        view = BatchView.open(home, first)
        view.events.update()
        assert "sent to the test address only" in view.row(sent[0]).label(width=200)
        assert not any(shown == "sent" for shown, _ in document_states(home).values())

        # Not sent to the customer: a real batch afterwards holds the same documents.
        code, out, _ = cli("sending", "redirect", "off")
        assert code == 0 and "off" in out
        second = cli.create()
        assert numbers_in(home, second) == numbers_in(home, first, "sent")
        before = len(server.messages)
        cli.approve_and_send(second)
        got = [r for m in server.messages[before:] for r in m.rcpt_tos]
        assert "test@office.example" not in got and set(got) == customers


def test_a_scheduled_batch_goes_only_when_due(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SMTPTestServer(security="none") as server:
        home = demo_home(tmp_path, server)
        cli = CLI(home, capsys)
        batch_id = cli.create()
        code, out, err = cli("batch", "approve", batch_id, "--not-before", "2999-01-01T07:00")
        assert code == 0, err
        assert "goes out with `mailroom send --due` from 2999-01-01T07:00" in out
        code, out, err = cli("send", "--due")
        assert code == 0 and not server.messages
        assert f"batch {batch_id} waits until 2999-01-01T07:00" in out
        code, _, err = cli("send", batch_id)
        assert code == 2 and "may not go out before 2999-01-01T07:00" in err
        code, _, err = cli("batch", "schedule", batch_id, "tomorrow-ish")
        assert code == 2 and "not before" in err and "tomorrow-ish" in err
        # The time comes (set in the past): --due sends it.
        assert cli("batch", "schedule", batch_id, "2020-01-01T07:00")[0] == 0
        code, out, err = cli("send", "--due")
        assert code == 0, out + err
        assert len(server.messages) == len(Spool(home).batch(batch_id).items("sent")) > 0


def test_the_documented_systemd_unit_and_cron_line_run_send_due() -> None:
    import re
    import shlex

    from tests.conftest import ROOT
    from tui.cli import build_parser

    unit = (ROOT / "docs" / "mailroom-send.service").read_text()
    timer = (ROOT / "docs" / "mailroom-send.timer").read_text()
    guide = (ROOT / "docs" / "scheduled-sending.md").read_text()
    assert "OnCalendar=*:0/5" in timer and "WantedBy=timers.target" in timer
    assert "mailroom-send.service" in guide and "mailroom-send.timer" in guide
    commands = re.findall(r"^ExecStart=\S*mailroom (.+)$", unit, re.M)
    cron = re.findall(r"^\*/5 .*?/mailroom (.*send --due)", guide, re.M)
    home = "--home /srv/mailroom"
    assert commands == [f"{home} send --due"]
    assert cron == [f"{home} --passphrase-file /etc/mailroom/passphrase send --due"]
    args = build_parser().parse_args(shlex.split(commands[0]))
    assert args.due and args.batch_id is None and args.handler.__name__ == "cmd_send"
