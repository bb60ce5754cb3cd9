"""A batch whose batch.json cannot be read hides which documents it sent: `batch create`
refuses rather than risk sending an invoice a second time, says which batch and what to
do, and builds again once the batch is whole. With the demo office and a real aiosmtpd
server."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from store.spool import Spool
from tests.functional.test_one_send import CLI, demo_home
from tests.send_support import message_ids
from tests.smtp_server import SMTPTestServer

SALES = ["--type", "sales_invoice", "--admin", "HOLT"]


def batches(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "spool").iterdir() if not p.name.startswith("."))


def test_a_damaged_batch_stops_the_next_build_until_it_is_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SMTPTestServer(security="none") as smtp:
        home = demo_home(tmp_path, smtp)
        cli = CLI(home, capsys)
        code, out, err = cli("batch", "create", *SALES)
        assert code == 0, err
        first = out.strip().splitlines()[-1]
        assert cli("batch", "approve", first, user="boss")[0] == 0
        assert cli("send", first, user="carol")[0] == 0
        sent = len(smtp.messages)
        assert sent > 0
        batch_json = Spool(home).batch(first).path / "batch.json"
        whole = batch_json.read_bytes()
        batch_json.write_bytes(b"{this is not json")  # a disk error, an editor's slip
        before = batches(home)

        code, out, err = cli("batch", "create", *SALES)
        assert code == 2, out + err
        flat = " ".join(err.split())
        assert f"the batch in spool/{first} is damaged" in flat
        assert "could send a document a second time" in flat
        assert "Put its batch.json back from a backup" in flat
        assert "Traceback" not in err
        assert batches(home) == before  # nothing built

        batch_json.write_bytes(whole)  # put back: every invoice of the month was sent
        code, out, err = cli("batch", "create", *SALES)
        assert code == 2, out + err  # nothing left to send, said as before
        assert "sent before" in " ".join((out + err).split())
        assert batches(home) == before
    received = collections.Counter(message_ids(m.data) for m in smtp.messages)
    assert len(smtp.messages) == sent and max(received.values()) == 1
