"""Templates pane, ctrl+o: an image goes through the same door as `mailroom templates
image add` — a file that is no image is refused in words, and nothing is added."""

from __future__ import annotations

from pathlib import Path

from store.records import Template
from store.store import Store
from tests.functional.tui.helpers import (
    SIZE,
    make_app,
    screen_text,
    seed,
    settle,
    type_text,
    wait_for,
)


async def test_a_file_that_is_no_image_is_refused_in_words(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    notes = tmp_path / "logo.png"
    notes.write_text("not a picture at all\n")
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
        await type_text(pilot, str(notes))
        await pilot.press("enter")
        text = await wait_for(pilot, "Not added")
        flat = " ".join(text.split())
        assert "is not an image a mail client shows" in flat, text
        assert "PNG, JPEG, GIF or WebP" in flat, text
        await pilot.press("escape")
        await settle(pilot)
        assert "logo.png" not in screen_text(app)
        assert "* unsaved changes" not in screen_text(app)
    assert Store(home).get(Template, "INV-NL").images == []
