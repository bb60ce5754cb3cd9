"""`mailroom templates image add|remove|list`: a template's images (SPEC §2) through the
one door, from the real command line; the message then carries the image as a ``cid:``
part that its HTML refers to."""

from __future__ import annotations

import email
import email.policy
import json
import re
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from mailing.changes import save_record
from mailing.demo import load_demo
from store.records import Template
from store.store import Store
from tests.functional.test_preview_cli import mailroom

TEMPLATE = "HOLT-NL-sales_invoice"  # the template of HOLT's sales invoice F20260001
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
GIF_1X1 = bytes.fromhex(
    "47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b"
)


def image_names(home: Path) -> list[str]:
    return [i.name for i in Store(home).get(Template, TEMPLATE).images]


def test_an_image_added_by_command_travels_as_a_cid_part_of_the_message(tmp_path: Path) -> None:
    home = tmp_path / "h"
    load_demo(Store(home))
    logo = tmp_path / "Logo Holtkamp.png"
    logo.write_bytes(PNG_1X1)
    stamp = tmp_path / "stamp.gif"
    stamp.write_bytes(GIF_1X1)

    run = mailroom(home, "templates", "image", "add", TEMPLATE, str(logo), "--name", "logo.png")
    assert run.returncode == 0, run.stderr
    assert 'src="cid:logo.png"' in run.stdout
    run = mailroom(home, "templates", "image", "add", TEMPLATE, str(stamp))
    assert run.returncode == 0, run.stderr
    assert image_names(home) == ["logo.png", "stamp.gif"]

    run = mailroom(home, "templates", "image", "list", TEMPLATE)
    assert run.returncode == 0, run.stderr
    assert "logo.png" in run.stdout and "image/png" in run.stdout
    assert "stamp.gif" in run.stdout and "image/gif" in run.stdout
    listed = json.loads(mailroom(home, "templates", "image", "list", TEMPLATE, "--json").stdout)
    assert [(i["name"], i["size"]) for i in listed] == [
        ("logo.png", len(PNG_1X1)),
        ("stamp.gif", len(GIF_1X1)),
    ]

    # The HTML shows the logo (a body edited as the Templates pane saves it: the door).
    store = Store(home)
    template = store.get(Template, TEMPLATE)
    body = '<p><img src="cid:logo.png" alt="Holtkamp"></p>' + template.body
    save_record(store, template.model_copy(update={"body": body}), TEMPLATE)

    eml = tmp_path / "out.eml"
    run = mailroom(
        home, "preview", "sales_invoice", "F20260001", "--admin", "HOLT", "--eml", str(eml)
    )
    assert run.returncode == 0, run.stderr
    msg = cast(
        EmailMessage, email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    )
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()
    cids = re.findall(r'src="cid:([^"]+)"', html)
    assert len(cids) == 1 and cids[0] != "logo.png"  # rewritten to a Content-ID
    parts = {str(p.get("Content-ID", "")).strip("<>"): p for p in msg.walk()}
    image = parts[cids[0]]
    assert image.get_content_type() == "image/png"
    assert image.get_payload(decode=True) == PNG_1X1
    # Only the image the HTML shows travels; the stamp is not referred to.
    assert not any(p.get_content_type() == "image/gif" for p in msg.walk())

    run = mailroom(home, "templates", "image", "remove", TEMPLATE, "stamp.gif")
    assert run.returncode == 0, run.stderr
    assert image_names(home) == ["logo.png"]
    # The logo is still in the HTML: removing it would break every message.
    run = mailroom(home, "templates", "image", "remove", TEMPLATE, "logo.png")
    assert run.returncode == 2, run.stdout
    assert "body of template HOLT-NL-sales_invoice still show logo.png" in run.stderr
    assert "Fix: take that <img> out of the template first" in run.stderr
    assert image_names(home) == ["logo.png"]


def test_wrong_input_is_told_in_words_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "h"
    load_demo(Store(home))
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG_1X1)
    assert mailroom(home, "templates", "image", "add", TEMPLATE, str(logo)).returncode == 0
    text_file = tmp_path / "terms.png"
    text_file.write_text("Algemene voorwaarden\n")
    huge = tmp_path / "poster.png"
    huge.write_bytes(PNG_1X1 + bytes(2_100_000))

    cases = [
        (("add", "HOLT-NL-salesinvoice", str(logo)), ["no template 'HOLT-NL-salesinvoice'"]),
        (("add", TEMPLATE, str(text_file)), ["not an image", "PNG, JPEG, GIF or WebP"]),
        (("add", TEMPLATE, str(huge)), ["2.1 MB", "at most 2 MB"]),
        (("add", TEMPLATE, str(logo)), ["already has an image named 'logo.png'", "--name"]),
        (("add", TEMPLATE, str(logo), "--name", "my logo"), ["cid:my logo", "no spaces"]),
        (("add", TEMPLATE, str(tmp_path / "missing.png")), ["cannot be read"]),
        (("remove", TEMPLATE, "banner.png"), ["no image named 'banner.png'", "logo.png"]),
        (("list", "NOPE"), ["no template 'NOPE'"]),
    ]
    for args, words in cases:
        run = mailroom(home, "templates", "image", *args)
        said = run.stdout + run.stderr
        assert run.returncode == 2, (args, said)
        assert "Traceback" not in said
        for w in words:
            assert w in said, (args, said)
        assert "Fix:" in said, said
    assert image_names(home) == ["logo.png"]
