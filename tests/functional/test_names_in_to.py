"""Names reach To and Cc: the contact's name, the relation's name for its business
e-mail, RFC 2047-encoded where needed; `mailroom mail --to 'Name <address>'` — read
back from what a real aiosmtpd server received, with the email package."""

from __future__ import annotations

import email
import email.policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.functional.test_manual import setup
from tests.functional.test_one_send import CLI, demo_home
from tests.smtp_server import SMTPTestServer
from tui.cli import main


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _mailboxes(msg: EmailMessage, header: str) -> list[Address]:
    return list(msg[header].addresses) if msg[header] else []


def test_a_contacts_name_and_a_relations_name_reach_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SMTPTestServer(security="none") as smtp:
        home = demo_home(tmp_path, smtp)
        # A contact's name with a comma, quotes and non-ASCII letters.
        from store.records import Relation
        from store.store import Store

        store = Store(home)
        with store.transaction() as tx:
            rel = None
            for r in tx.all(Relation):
                if r.code == "D1009" and r.administration == "HOLT":
                    rel = r
            assert rel is not None
            contacts = [c.model_copy(update={"name": 'Amrani, Fatima "Fa" él'})
                        if c.email.startswith("fatima@") else c for c in rel.contacts]  # fmt: skip
            tx.put(rel.model_copy(update={"contacts": contacts}))
        cli = CLI(home, capsys)
        code, out, err = cli("batch", "create", "--type", "sales_invoice", "--admin", "HOLT")
        assert code == 0, err
        batch = out.strip().splitlines()[-1]
        assert cli("batch", "approve", batch, user="boss")[0] == 0
        cli("send", batch, user="carol")
        shown: dict[str, str] = {}
        for m in smtp.messages:
            msg = _parse(m.data)
            for a in (*_mailboxes(msg, "To"), *_mailboxes(msg, "Cc")):
                shown[a.addr_spec] = a.display_name
        # A main contact (non-ASCII: RFC 2047 on the wire) and a business e-mail.
        assert shown.get("administratie@devries-holt.example") == "Marja de Vries", shown
        assert shown.get("fatima@hethoekje-holt.example") == 'Amrani, Fatima "Fa" él', shown
        assert shown.get("info@knipengo-holt.example") == "Kapsalon Knip & Go", shown
        raw = next(m.data for m in smtp.messages if b"fatima@" in m.data)
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert b"=?utf-8?" in head.lower() and raw.isascii()
        # Per-type addresses carry no name.
        assert shown.get("facturen@jansen-holt.example") == ""


def test_mail_takes_name_and_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SMTPTestServer(security="starttls") as server:
        home = tmp_path / "home"
        setup(home, server, tmp_path)
        from mailing.identity import mark_demo

        mark_demo(home)  # alice is a name here, not a login
        body = tmp_path / "body.txt"
        body.write_text("Zie bijlage.\n")
        capsys.readouterr()
        code = main(
            [
                "--home", str(home), "--user", "alice", "mail",
                "--to", "Jan de Vries <jan@x.nl>",
                "--cc", '"Vries, Anna de" <anna@x.nl>, Zoë Ümit <zoe@x.nl>',
                "--subject", "Hallo", "--body-file", str(body),
            ]
        )  # fmt: skip
        out, err = capsys.readouterr()
        assert code == 0, out + err
        (got,) = server.messages
    msg = _parse(got.data)
    assert [(a.display_name, a.addr_spec) for a in _mailboxes(msg, "To")] == [
        ("Jan de Vries", "jan@x.nl")
    ]
    assert [(a.display_name, a.addr_spec) for a in _mailboxes(msg, "Cc")] == [
        ("Vries, Anna de", "anna@x.nl"),
        ("Zoë Ümit", "zoe@x.nl"),
    ]
    assert {"jan@x.nl", "anna@x.nl", "zoe@x.nl"} <= set(got.rcpt_tos)
    # A name with a line break cannot smuggle a header in.
    code = main(["--home", str(home), "--user", "alice", "mail", "--to",
                 "Eve\r\nBcc: x@evil.example <eve@x.nl>", "--subject", "x", "--body-file", str(body)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err, err
