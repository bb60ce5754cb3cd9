"""The archive of a send: what was received, kept once, without parsing the message again.

Demo invoices are built (the real batch build, PDFs on letterhead), approved and sent
to a real aiosmtpd server; the archive is then compared with what the server got.
"""

from __future__ import annotations

import binascii
import email
import email.policy
import json
import os
from email.message import EmailMessage
from pathlib import Path

from mailing.batches import build_batch
from mailing.config import ConfigSnapshot, load_documents
from mailing.demo import DEMO_USER, load_demo
from mailing.sending import SendOptions, archive_batch, archived_items, send
from mailing.sending.archive import DONE_FILE
from mailing.sending.archive_files import archive_files
from store.records import Profile
from store.spool import Batch, Spool
from store.store import Store
from tests.smtp_server import SMTPTestServer


def _sent_batch(tmp_path: Path, server: SMTPTestServer) -> tuple[Store, Batch]:
    store = Store(tmp_path / "home", DEMO_USER)
    load_demo(store)
    fields = server.profile_fields(tmp_path)
    with store.transaction() as tx:
        for p in tx.all(Profile):
            tx.put(Profile.parse({**p.dump(), **fields, "outbox_dir": ""}))
    cfg = ConfigSnapshot.load(store)
    numbers = [
        d.number
        for d in load_documents(store)
        if d.type == "sales_invoice"
        and "sales_invoice" in cfg.relations[(d.administration, d.relation)].opt_in
    ][:12]
    batch = build_batch(store, DEMO_USER, "sales_invoice", numbers=numbers, workers=1)
    batch.approve(None, "boss")
    report = send(store, "carol", batch.id, SendOptions())
    assert report.count("sent") == batch.counts()["sent"] > 0, report.summary()
    return store, batch


def _received(server: SMTPTestServer) -> dict[str, EmailMessage]:
    out = {}
    for m in server.messages:
        msg = email.message_from_bytes(m.data, _class=EmailMessage, policy=email.policy.default)
        out[str(msg["Message-ID"])] = msg
    return out


def _records(home: Path) -> dict[str, tuple[Path, dict[str, object]]]:
    out = {}
    for path in (home / "archive").rglob("record.json"):
        record = json.loads(path.read_text("utf-8"))
        out[str(record["item"])] = (path.parent, record)
    return out


def test_archive_keeps_what_the_server_received_linked_and_the_pdf_once(tmp_path: Path) -> None:
    with SMTPTestServer(security="none") as server:
        store, batch = _sent_batch(tmp_path, server)
    received = _received(server)
    records = _records(store.home)
    sent = [r.item for r in batch.items("sent")]
    assert set(records) == set(sent) == archived_items(batch)
    for item in sent:
        folder, record = records[item]
        msg = received[str(record["message_id"])]
        spool_file = batch.file_of(item, "email", "sent")
        eml = folder / "message.eml"
        # the bytes the server received, as a second name of the spool's sent file
        assert eml.read_bytes() == server.messages[list(received).index(msg["Message-ID"])].data
        assert os.path.samefile(eml, spool_file)
        # every attachment, decoded, equal to what the customer's mail client reads
        got = {p.get_filename(): p.get_payload(decode=True) for p in msg.iter_attachments()}
        assert record["attachments"] == list(got)
        # the build noted where each attachment's base64 lies: no parse was needed
        raw = spool_file.read_bytes()
        for entry, payload in zip(batch.meta(item)["attachments"], got.values(), strict=True):
            start, end = entry["at"]
            assert binascii.a2b_base64(raw[start:end]) == payload
        # the send wrote one folder, the message and the record, nothing decoded
        assert sorted(p.name for p in folder.iterdir()) == ["message.eml", "record.json"]
        # asked for, every attachment comes out of message.eml as the customer got it
        files = archive_files(folder)
        for name, payload in got.items():
            assert files.attachments[name].read_bytes() == payload
            assert (folder / "attachments" / name).read_bytes() == payload
        # the copy document is the PDF that was sent, stored once (one file, two names)
        pdf_name = next(n for n in got if n.endswith(".pdf"))
        copy = folder / str(record["copy_document"])
        assert files.copy_document == copy
        assert copy.name == f"copy-{pdf_name}"
        assert os.path.samefile(copy, folder / "attachments" / pdf_name)
        assert copy.read_bytes().startswith(b"%PDF-")
        # asked again: the same files, nothing written twice
        inodes = {p: p.stat().st_ino for p in folder.rglob("*")}
        assert archive_files(folder) == files
        assert {p: p.stat().st_ino for p in folder.rglob("*")} == inodes
        assert record["server_reply"] and record["accepted"]
        assert not list(folder.rglob("*.tmp"))


def test_a_message_built_before_spans_were_kept_is_archived_the_same(tmp_path: Path) -> None:
    with SMTPTestServer(security="none") as server:
        store, batch = _sent_batch(tmp_path, server)
    before = _records(store.home)
    item = batch.items("sent")[0].item
    folder, record = before[item]
    files = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    # An older side-car (no "at" for its attachments) and an archive cut short by a
    # crash before the item was listed: the next run parses that one message instead.
    meta = batch.meta(item)
    for entry in meta["attachments"]:
        entry.pop("at")
    batch.write_meta(item, meta)  # its own side-car file: it wins over the build's pack
    assert "at" not in Spool(store.home).batch(batch.id).meta(item)["attachments"][0]
    (folder / "record.json").unlink()
    done = batch.path / DONE_FILE
    done.write_text("".join(f"{i}\n" for i in archived_items(batch) - {item}), "utf-8")

    assert archive_batch(store, batch) == 1
    after = _records(store.home)
    assert after.keys() == before.keys() and after[item][0] == folder  # same folder, no .2
    again = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert again.keys() == files.keys()
    assert again[Path("message.eml")] == files[Path("message.eml")]
    assert after[item][1] == {**record, "parts": None}  # no spans: the message is parsed
    assert item in archived_items(batch)
    # its attachments, taken out by parsing the message, are those the spans gave
    other = next(i for i in before if i != item)
    for one in (item, other):
        files = archive_files(before[one][0])
        assert files.copy_document is not None
        assert files.copy_document.read_bytes().startswith(b"%PDF-")
    assert archive_batch(store, batch) == 0  # nothing twice


def test_the_archive_pane_shows_the_copy_document_taken_out_of_the_message(
    tmp_path: Path,
) -> None:
    from screens.archive import load_archived

    with SMTPTestServer(security="none") as server:
        store, batch = _sent_batch(tmp_path, server)
    folder, record = next(iter(_records(store.home).values()))
    assert not (folder / "attachments").exists()  # the send left the parts in the message
    rel = folder.relative_to(store.home / "archive").as_posix()
    data = load_archived(store.home, rel)
    copy = folder / str(record["copy_document"])
    assert f"Copy document: {copy}" in data.notes
    assert copy.read_bytes().startswith(b"%PDF-")
    for name in record["attachments"]:
        size = (folder / "attachments" / name).stat().st_size
        assert any(n.startswith(f"Attachment: {name} ") for n in data.notes)
        assert size > 0
