"""At 80x24, what an administrator who lives in the TUI relies on: the focus can be seen,
keys typed while something loads land where aimed, plain words, where mail goes, an
honest quit, and F1 per screen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual import events

from mailing.demo import load_demo
from screens.widgets.paged_list import PagedList
from store.records import Profile, Template
from store.store import Store
from tests.functional.tui.helpers import (
    SIZE,
    make_app,
    screen_text,
    seed,
    settle,
    type_text,
    wait_focus,
    wait_for,
    wait_until,
)
from tests.send_support import make_store, spool_batch

OUTBOX = {"system": "outbox", "outbox_dir": "outbox", "auth": "none"}


def typed_at_once(app: Any, *keys: str) -> None:
    """Keys arriving faster than the app can follow: all queued before any is handled."""
    for key in keys:
        char = key if len(key) == 1 else None
        app.post_message(events.Key(key, char))


def marked_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "▸" in line]


async def test_the_focused_field_and_its_label_are_marked(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    async with make_app(home).run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await wait_focus(pilot, "f-code")
        text = screen_text(pilot.app)
        assert len(marked_lines(text)) == 1 and "▸ Code" in marked_lines(text)[0]
        await pilot.press("tab")
        await wait_focus(pilot, "f-description")
        text = screen_text(pilot.app)
        assert len(marked_lines(text)) == 1 and "▸ Description" in marked_lines(text)[0]
        # A checkbox reads without colour, and keeps its label when it has the focus.
        assert "[x] Send HTML" in text
        pilot.app.query_one("#f-html").focus()
        await wait_focus(pilot, "f-html")
        await pilot.press("space")
        text = await wait_for(pilot, "[ ] Send HTML")
        assert "[x] Send HTML" not in text


async def test_tab_leaves_the_template_body_and_ctrl_bracket_indents(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await wait_focus(pilot, "f-code")
        app.query_one("#f-body").focus()
        await wait_focus(pilot, "f-body")
        await pilot.press("ctrl+right_square_bracket")
        await type_text(pilot, "Hi")
        await pilot.press("tab")
        await wait_until(
            pilot, lambda: app.focused is not None and app.focused.id != "f-body", "Tab"
        )
        assert app.query_one("#f-body").text == "  Hi"
        await pilot.press("f1")
        text = await wait_for(pilot, "Keys of the Templates pane")
        assert "ctrl+]" not in text or "Indent" in text


async def test_keys_typed_while_a_dialog_or_pane_loads_land_where_aimed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await wait_focus(pilot, "f-code")
        await pilot.press("tab")
        await wait_focus(pilot, "f-description")
        # F3 opens the Templates pane for the first time; ctrl+n and a code are typed
        # before it is there. They go to the new template, not to the profile's field.
        typed_at_once(app, "f3", "ctrl+n", "N", "E", "W")
        await wait_until(
            pilot,
            lambda: app.query_one("#pane-templates").query_one("#f-code").value == "NEW",
            "the code typed during loading in the template's Code",
        )
        assert app.query_one("#pane-profiles").query_one("#f-description").value == ""
        # In the template's subject, ctrl+g opens the field picker; what is typed at
        # once goes into its filter, not into the subject.
        app.query_one("#f-subject").focus()
        await wait_focus(pilot, "f-subject")
        typed_at_once(app, "ctrl+g", "r", "e", "l")
        text = await wait_for(pilot, "Insert a field of the sales invoice into subject")
        await wait_until(pilot, lambda: app.screen.query_one("#filter").value == "rel", "filter")
        await pilot.press("escape")
        await settle(pilot)
        assert app.query_one("#f-subject").value == ""
        assert "type to filter" not in text or "rel" in screen_text(app)


async def test_plain_words_in_documents_preview_and_trace(tmp_path: Path) -> None:
    from tui.app import MailroomApp

    store = Store(tmp_path / "home", "demo")
    load_demo(store)
    app = MailroomApp(store, "demo", first_pane="documents")
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, "110 shown")
        assert "Sales invoice" in text and "sales_invoice" not in text
        await pilot.press("enter")
        text = await wait_for(pilot, "Resolution trace")
        shown = text.replace("HOLT-NL-sales_invoice", "")  # a template's code is data
        for identifier in ("sales_invoice", "[sender.", "[recipients.", "not_opted_in"):
            assert identifier not in shown, identifier
        assert "Sender from" in text or "Sender:" in text
        assert "Sales invoice F" in text


async def test_approve_dialog_says_where_mail_goes_and_counts_warnings_once(
    tmp_path: Path,
) -> None:
    from tui.app import MailroomApp

    store = make_store(tmp_path / "home", OUTBOX)
    batch = spool_batch(store, 5, approve=False)
    profile = next(p for p in store.all(Profile) if p.system == "outbox")
    for item in ("00002-F2", "00004-F4"):  # two messages whose resolution warned
        side_car = batch.path / "meta" / f"{item}.json"
        data = json.loads(side_car.read_text())
        data["warnings"] = ["the relation has two main contacts; the first was used"]
        side_car.write_text(json.dumps(data))
    async with MailroomApp(store, "alice", first_pane="queue").run_test(size=SIZE) as pilot:
        await wait_for(pilot, batch.id)
        await pilot.press("enter")
        text = await wait_for(pilot, "Mail goes: 5 via")
        assert f"via {profile.code} (folder" in text
        await pilot.press("a")
        text = await wait_for(pilot, "Dry run: what approving leads to")
        assert f"Goes out: 5 via {profile.code} (folder" in text
        assert "2 items with warnings" in text
        await pilot.press("n")
        await pilot.press("w")
        text = await wait_for(pilot, "warnings only")
        assert pilot.app.query_one("#items", PagedList).total == 2
        assert "1-2 of 2" in text


async def test_f1_lists_this_panes_keys_in_words(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    Store(home).put(Template(code="X", name="x", subject="s", body="b"))
    app = make_app(home, first_pane="documents")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        text = await wait_for(pilot, "Keys of the Documents pane")
        help_text = str(app.screen.query_one("#help-text").render())
        assert "Build a batch of the marked documents" in help_text
        assert "Space" in help_text and "Enter" in help_text
        assert "/ " in help_text and "Go to the filters" in help_text
        assert "slash" not in help_text and "id:" not in help_text
        assert "pane.profiles" not in help_text
        assert "F2" in help_text and "Show the Profiles pane" in help_text
        await pilot.press("escape")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f1")
        await wait_for(pilot, "Keys of the Profiles pane")
        help_text = str(app.screen.query_one("#help-text").render())
        assert "Save the record" in help_text
        assert "Build a batch" not in help_text
        assert text


async def test_below_80x24_a_notice_says_how_big_the_window_must_be(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home, first_pane="documents")
    async with app.run_test(size=(60, 20)) as pilot:
        text = await wait_for(pilot, "Make the window at least 80×24 (it is 60×20 now).")
        assert "F2 Prof" not in text
        await pilot.resize_terminal(80, 24)
        text = await wait_for(pilot, "F2 Prof")
        assert "Make the window" not in text
        # At 80x24 the footer shows every key of the pane in full, Help included.
        footer = text.rstrip().splitlines()[-1]
        assert footer.rstrip().endswith("f1 Help"), footer


async def test_f8_right_after_dropping_a_new_template_opens_the_queue(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await wait_focus(pilot, "f-code")
        await type_text(pilot, "DRAFT")
        await pilot.press("ctrl+n")
        await wait_for(pilot, "Please confirm")
        typed_at_once(app, "y", "f8")  # the Queue is built for the first time here
        text = await wait_for(pilot, "Choose a batch and press Enter.")
        assert "Something went wrong" not in text and "NoMatches" not in text
        assert "Queue" in text


async def test_a_language_codes_reminder_list_offers_only_reminder_templates(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    store = Store(home)
    seed(store)
    store.put_many(
        [
            Template(code="REM-NL", name="Herinnering", object="reminder", subject="s", body="b"),
            Template(
                code="DP-NL", name="Aanbetaling", object="down_payment", subject="s", body="b"
            ),
        ]
    )
    app = make_app(home, first_pane="language_codes")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        app.query_one("#f-tpl_reminder").focus()
        await wait_focus(pilot, "f-tpl_reminder")
        await pilot.press("enter")
        text = await wait_for(pilot, "REM-NL  Herinnering")
        assert "DP-NL" not in text and "INV-NL" not in text
        assert "▸ Reminder" in text


async def test_a_picked_amount_is_previewed_with_its_currency(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await wait_focus(pilot, "f-code")
        await type_text(pilot, "T1")
        app.query_one("#f-subject").focus()
        await wait_focus(pilot, "f-subject")
        await type_text(pilot, "Total ")
        await pilot.press("ctrl+g")
        await wait_for(pilot, "Insert a field of the sales invoice")
        await type_text(pilot, "total")
        await pilot.press("enter")
        await wait_focus(pilot, "f-subject")
        assert app.query_one("#f-subject").value == "Total {{ total|money }}"
        await pilot.press("ctrl+t")
        text = await wait_for(pilot, "Preview (text)")
        text = await wait_for(pilot, "Subject:")
        subject = next((ln for ln in text.splitlines() if "Subject:" in ln), text)
        assert "€" in subject or "EUR" in subject, subject


def test_time_left_follows_the_recent_rate_of_a_rate_limited_send() -> None:
    from screens.queue_send import progress_line

    # 10 went out in a first burst; lately 6 a minute: 82 left take 13:40, not seconds.
    line = progress_line(10, 92, 20.0, "sending", rate=0.1)
    assert "6.0 msg/min" in line and "13:40 left" in line


PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def test_a_template_image_is_added_with_keys_and_saved_through_the_door(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG_1X1)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("enter")  # open INV-NL
        await wait_for(pilot, "Templates: INV-NL")
        await pilot.press("ctrl+o")
        await wait_for(pilot, "Attachments and images")
        await type_text(pilot, "image")
        await pilot.press("enter")
        await wait_for(pilot, "Which image?")
        await type_text(pilot, str(logo))
        await pilot.press("enter")
        app.query_one("#f-body").focus()
        await wait_focus(pilot, "f-body")
        await pilot.press("end")
        app.query_one("#f-body").insert('<img src="cid:logo.png">')
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: [i.name for i in Store(home).get(Template, "INV-NL").images] == ["logo.png"],
            "the image saved with the template",
        )
        text = screen_text(app)
        assert "Not saved" not in text


async def test_a_documents_own_attachment_is_added_with_e_and_goes_with_its_message(
    tmp_path: Path,
) -> None:
    from store.records import Document
    from tui.app import MailroomApp

    store = Store(tmp_path / "home", "demo")
    load_demo(store)
    note = tmp_path / "werkbon.txt"
    note.write_text("Werkbon 17: twee uur, onderdelen.\n")
    app = MailroomApp(store, "demo", first_pane="documents")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "110 shown")
        key = app.query_one("#docs", PagedList).highlighted_key
        assert key is not None
        await pilot.press("e")
        await wait_for(pilot, "E-mail attachments of sales invoice")
        await pilot.press("enter")  # the first choice: add a file
        await wait_for(pilot, "Attach which file to")
        await type_text(pilot, str(note))
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: (
                [a.name for a in Store(store.home).get(Document, key).attachments]
                == ["werkbon.txt"]
            ),
            "the attachment saved with the document",
        )
        # The message the preview composes (the batch's own path) carries it.
        await pilot.press("enter")
        await wait_for(pilot, "Resolution trace")
        data = getattr(app.screen, "data", None)
        assert data is not None and data.raw is not None
        assert b'filename="werkbon.txt"' in data.raw or b"filename=werkbon.txt" in data.raw
