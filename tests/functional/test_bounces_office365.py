"""Bounce intake for an Office 365 profile: the mailbox is read with XOAUTH2 and a
token for IMAP from the profile's sign-in (msal against a local fake of the identity
endpoints), against a real Dovecot that checks the token by introspection."""

from __future__ import annotations

import json
import traceback
from pathlib import Path

import pytest

from mailing.bounces import fetch_bounces
from mailing.changes import update_profile
from mailing.sending import SendOptions, send
from mailing.transports.office365 import IMAP_SCOPES
from store.errors import MailroomError
from store.spool import Spool
from tests import bounce_samples as samples
from tests.functional.test_transport_office365 import (
    CLIENT_ID,
    HOST,
    TENANT,
    USER,
    FakeIdentity,
    sign_in,
)
from tests.imap_server import DovecotServer
from tests.send_support import make_store, spool_batch

CUSTOMER = "klant@example.com"


def test_an_office365_mailbox_is_read_with_xoauth2_and_an_imap_token(tmp_path: Path) -> None:
    idp = FakeIdentity()
    # The sign-in issues at-1 (sending); reading the mailbox asks for IMAP: at-2.
    with DovecotServer(user=USER, tokens={USER: "at-2-EwBgA8l6BAAU"}) as imap:
        ca_file = tmp_path / "ca.pem"
        ca_file.write_bytes(imap.ca_file.read_bytes())
        store = make_store(
            tmp_path / "home",
            {"system": "outbox", "outbox_dir": "outbox", "ca_file": str(ca_file)},
            auth="oauth2-office365",
            username=USER,
            oauth_client_id=CLIENT_ID,
            oauth_tenant=TENANT,
            oauth_authority=HOST,
            imap_server=imap.host,
            imap_port=imap.port,
        )
        profile = update_profile(store, "P", {})
        sign_in(profile, store.home, idp)
        device = [f for m, u, f in idp.requests if u.endswith("/devicecode")]
        assert IMAP_SCOPES[0] in device[0]["scope"]  # consented at sign-in

        batch = spool_batch(store, 1, [CUSTOMER])
        assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == 1
        imap.append(
            "INBOX",
            samples.exchange_online_ndr("<batchtest.1@sender.example>", CUSTOMER),
        )
        found = fetch_bounces(store, "P", http_client=idp)
        assert found.reports == 1, found
        assert [(b.item, b.kind) for b in found.bounces] == [("00001-F1", "hard")]
        assert imap.introspected == ["at-2-EwBgA8l6BAAU"]
        refresh = [f for m, u, f in idp.requests if f.get("grant_type") == "refresh_token"]
        assert IMAP_SCOPES[0] in refresh[-1]["scope"]
        assert Spool(store.home).batch(batch.id).counts()["bounced"] == 1
        assert len(imap.folder("Mailroom bounces")) == 1

        # A token the mailbox refuses: said in words, the token in no message or trace.
        imap.tokens[USER] = "something-else"
        with pytest.raises(MailroomError) as info:
            fetch_bounces(store, "P", http_client=idp)
        text = str(info.value)
        assert "refused the Office 365 sign-in" in text and "mailroom profile login P" in text
        trace = "".join(traceback.format_exception(info.value))
        for token in idp.issued:
            assert token not in text and token not in trace
        assert json.dumps(info.value.value) and "at-" not in str(info.value.value)
