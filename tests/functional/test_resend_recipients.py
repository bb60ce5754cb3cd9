"""A resend goes to whoever did not get the document; to everyone again only when
asked, and recorded so — with the demo office and a real aiosmtpd server.

Jansen's sales invoices go To facturen@ and Cc controller@. The server refuses the
Cc, so the invoice is ``failed`` though facturen@ has it. The next `batch create`
puts the invoice in again (it does not count as sent), and its message goes to the
Cc only; `mailroom resend` of a document everyone has is refused with a sentence,
and `--everyone` sends it to all, flagged in the batch.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from store.spool import Spool
from tests.functional.test_one_send import CLI, demo_home
from tests.smtp_server import SMTPTestServer

TO = "facturen@jansen-holt.example"
CC = "controller@jansen-holt.example"
SALES = ["--type", "sales_invoice", "--admin", "HOLT"]


def _send(cli: CLI, batch_id: str) -> None:
    assert cli("batch", "approve", batch_id, user="boss")[0] == 0
    cli("send", batch_id, user="carol")


def test_a_resend_after_a_refused_cc_goes_to_the_cc_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SMTPTestServer(security="none", rcpt_answers={CC: "550 5.1.1 <x>: no such user"}) as smtp:
        home = demo_home(tmp_path, smtp)
        cli = CLI(home, capsys)
        code, out, err = cli("batch", "create", *SALES)
        assert code == 0, err
        first = out.strip().splitlines()[-1]
        _send(cli, first)
        batch = Spool(home).batch(first)
        jansen = [r.item for r in batch.items("failed") if TO in batch.meta(r.item)["recipients"]["to"]]  # fmt: skip
        assert jansen, "the invoice to Jansen failed on its Cc"
        got_to = sum(1 for m in smtp.messages if TO in m.rcpt_tos)
        assert got_to == len(jansen)

        # The Cc is fine again (the address was corrected on the server's side).
        smtp.rcpt_answers.clear()
        code, out, err = cli("batch", "create", *SALES)
        assert code == 0, err
        second = out.strip().splitlines()[-1]
        rows = cli.json("batch", "show", second)["items"]
        again = [r for r in rows if r["kind"] == "email" and TO in r["to"]]
        assert len(again) == len(jansen)
        _send(cli, second)
        per_rcpt = collections.Counter(r for m in smtp.messages for r in m.rcpt_tos)
        assert per_rcpt[TO] == len(jansen), per_rcpt  # never twice
        assert per_rcpt[CC] == len(jansen), per_rcpt  # now once
        states = {r["item"]: r["state"] for r in cli.json("batch", "show", second)["items"]}
        assert {states[r["item"]] for r in again} == {"sent"}

        # A resend of a document everyone has: refused, in a sentence.
        number = again[0]["number"]
        code, _, err = cli("resend", "sales_invoice", number, "--admin", "HOLT")
        assert code == 2 and "got it before" in err and "--everyone" in err, err
        # On purpose, to everyone: recorded as such, and sent to both.
        code, out, err = cli("resend", "sales_invoice", number, "--admin", "HOLT", "--everyone")
        assert code == 0, err
        third = out.strip().splitlines()[-1]
        info = json.loads((Spool(home).batch(third).path / "batch.json").read_text())
        assert info["to_everyone"] is True and info["resend"] is True
        before = len(smtp.messages)
        _send(cli, third)
        assert sorted(r for m in smtp.messages[before:] for r in m.rcpt_tos if r in (TO, CC)) == [
            CC,
            TO,
        ]
