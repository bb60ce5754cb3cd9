"""Helpers for Pilot tests: the text on screen, typing, waiting for workers."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from textual import events
from textual.app import App
from textual.pilot import Pilot

from store.store import Store


def screen_text(app: App[Any]) -> str:
    """What a user sees now, as plain text (all screens, modals on top)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


SIZE = (80, 24)


_KEY_NAMES = {
    " ": "space",
    "/": "slash",
    ".": "full_stop",
    "@": "at",
    "-": "minus",
    "_": "underscore",
}


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type ``text`` key by key (Pilot takes key names: a space is "space")."""
    await pilot.press(*[_KEY_NAMES.get(ch, ch) for ch in text])


_BURST_KEYS: dict[str, str | None] = {
    "tab": "\t",
    "space": " ",
    "enter": "\r",
    "ctrl+s": "\x13",
    "ctrl+n": "\x0e",
    "down": None,
    "f5": None,
}


def burst(app: App[Any], *parts: str) -> None:
    """Post every key at once, without waiting in between: a burst from the terminal
    (over SSH, tmux's send-keys, a fast typist). A part is a key name (tab, ctrl+s,
    down) or text typed as it is."""
    for part in parts:
        if part in _BURST_KEYS:
            keys: list[tuple[str, str | None]] = [(part, _BURST_KEYS[part])]
        else:
            keys = [("space" if ch == " " else ch, ch) for ch in part]
        for key, char in keys:
            app.post_message(events.Key(key, char))


# A wait ends when its condition holds. It gives up only when the app has stopped
# making progress: after at least ``tries`` looks, the screen unchanged for STALL
# seconds. Each look first waits on Textual's own events (the workers complete, the
# message queue idle: ``settle``). A busy machine slows the app down; it does not make
# a wait fail, as a count of fixed pauses did. A screen that changes forever (a hang
# that ticks) still ends at ten times STALL.
STALL = 60.0
POLL = 0.05


async def _wait(pilot: Pilot[Any], holds: Callable[[str], bool], what: str, tries: int) -> str:
    seen, changed = "", time.monotonic()
    end = changed + 10 * STALL
    looks = 0
    while True:
        await settle(pilot)
        text = screen_text(pilot.app)
        if holds(text):
            return text
        looks += 1
        if text != seen:
            seen, changed = text, time.monotonic()
        stalled = looks >= tries and time.monotonic() - changed > STALL
        if stalled or time.monotonic() > end:
            raise AssertionError(f"{what} (the screen unchanged for {STALL:.0f} s):\n{text}")
        await pilot.pause(POLL)


async def wait_for(pilot: Pilot[Any], what: str, tries: int = 100) -> str:
    """Wait until ``what`` is on screen; return the screen's text."""
    return await _wait(pilot, lambda text: what in text, f"{what!r} never appeared", tries)


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds (checked after the app settles each time)."""
    await _wait(pilot, lambda _text: condition(), f"{what} never happened", 100)


async def wait_focus(pilot: Pilot[Any], widget_id: str) -> None:
    """Wait until the widget with ``widget_id`` has the focus."""
    await wait_until(pilot, lambda: focused(pilot.app) == widget_id, f"focus on {widget_id}")


async def clear_and_type(pilot: Pilot[Any], text: str) -> None:
    """Empty the focused input (home, ctrl+k), then type ``text``."""
    await pilot.press("home", "ctrl+k")
    await type_text(pilot, text)


def focused(app: App[Any]) -> str:
    return app.focused.id or "" if app.focused is not None else ""


async def press(pilot: Pilot[Any], *keys: str, times: int = 1) -> None:
    for _ in range(times):
        await pilot.press(*keys)


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and the screen catch up."""
    # Bounded: a worker that never ends (a bug) must fail the wait by its own
    # deadline, not hang the test for ever.
    try:
        await asyncio.wait_for(pilot.app.workers.wait_for_complete(), STALL)
    except TimeoutError:
        pass
    await pilot.pause()
    await pilot.pause()


def make_app(home: Path, user: str = "tester", **kw: Any) -> Any:
    from tui.app import MailroomApp

    return MailroomApp(Store(home, user), user, **kw)


def focused_id(app: App[Any]) -> str | None:
    return app.focused.id if app.focused is not None else None


def lines_with(text: str, needles: Iterable[str]) -> list[str]:
    return [line for line in text.splitlines() if any(n in line for n in needles)]


def seed(store: Store, relations: int = 3) -> None:
    """A small installation: one administration, an outbox system profile, two
    language codes, a template and ``relations`` customers."""
    from store.records import (
        Administration,
        LanguageCode,
        Profile,
        Relation,
        SystemSettings,
        Template,
    )

    records: list[Any] = [
        Administration(code="HOLT", name="Holtkamp B.V.", email="info@holtkamp.example"),
        Profile(
            code="OUTBOX",
            description="Try-out folder",
            system="outbox",
            sender="info@holtkamp.example",
            auth="none",
            outbox_dir="outbox",
        ),
        SystemSettings(profile="OUTBOX"),
        Template(code="INV-NL", name="Factuur", subject="Factuur {{ number }}", body="<p>Hi</p>"),
        LanguageCode(administration="HOLT", code="NL", description="Nederlands"),
        LanguageCode(administration="HOLT", code="EN", description="English", locale="en_GB"),
    ]
    for i in range(relations):
        records.append(
            Relation(
                administration="HOLT",
                code=f"C{i:05d}",
                name=f"Customer {i:05d} B.V.",
                business_email=f"info{i}@customer.example",
                opt_in=["sales_invoice", "reminder"],
            )
        )
    store.put_many(records)
