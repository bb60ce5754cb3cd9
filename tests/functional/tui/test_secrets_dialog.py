"""The passphrase dialog with the real encrypted secrets file, and no terminal prompt ever.

No D-Bus session and no keyring named: as on a server over SSH. A password typed in
the Profiles pane goes into the secrets file created through the TUI's own dialog;
the test mail logs in with it; after a restart the dialog unlocks the file (a wrong
passphrase is told in the dialog) and the next mail logs in again. Then the data
folder holds neither the password nor the passphrase in clear.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mailing.changes import save_profile
from store.records import Profile
from store.store import Store
from tests.conftest import PYTHON, cli_env
from tests.functional.tui.helpers import (
    SIZE,
    focused,
    make_app,
    screen_text,
    type_text,
    wait_focus,
    wait_for,
)
from tests.secrets_support import (
    PASSPHRASE,
    PASSWORD,
    files_containing,
    forget_unlock,
    real_secrets,
)
from tests.smtp_server import SMTPTestServer

__all__ = ["real_secrets"]
pytestmark = pytest.mark.usefixtures("real_secrets")
LOGIN = "office@holt.example"


async def _to_password_field(pilot: Pilot[int]) -> None:
    for _ in range(40):
        if focused(pilot.app) == "f-password":
            return
        await pilot.press("tab")
    raise AssertionError("the password field was never reached")


async def _send_test_mail(pilot: Pilot[int]) -> None:
    await pilot.press("ctrl+t")
    await wait_for(pilot, "Send a test mail from profile MAIN")
    await pilot.press("enter")
    await wait_for(pilot, "Test mail sent", tries=300)
    await pilot.press("enter")


async def test_password_through_the_dialog_send_restart_unlock_send(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert "DBUS_SESSION_BUS_ADDRESS" not in os.environ
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        store = Store(home, "tester")
        profile = Profile.parse(
            {"code": "MAIN", "sender": LOGIN, "username": LOGIN, **server.profile_fields(tmp_path)}
        )
        save_profile(store, profile, None, "")

        app = make_app(home)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, "MAIN")
            await pilot.press("enter")  # open MAIN from the list
            await _to_password_field(pilot)
            await type_text(pilot, PASSWORD)
            await pilot.press("ctrl+s")
            text = await wait_for(pilot, "Create the secrets file")
            assert "encrypted file in the data folder" in text
            await wait_focus(pilot, "passphrase")
            await type_text(pilot, PASSPHRASE)
            await pilot.press("enter")
            await wait_focus(pilot, "passphrase-again")
            await type_text(pilot, PASSPHRASE)
            await pilot.press("enter")
            await wait_for(pilot, "stored (type to replace)")  # the placeholder of a stored one
            assert PASSPHRASE not in screen_text(app) and PASSWORD not in screen_text(app)
            await _send_test_mail(pilot)

        forget_unlock()  # a restart: the key was in that process's memory only
        app = make_app(home)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, "Unlock the secrets file")
            await wait_focus(pilot, "passphrase")
            await type_text(pilot, "not-the-passphrase")
            await pilot.press("enter")
            await wait_for(pilot, "That passphrase does not open the secrets file")
            await pilot.press("escape")  # not now: the file stays locked
            await wait_for(pilot, "MAIN")
            assert "Unlock the secrets file" not in screen_text(app)
            await pilot.press("enter")
            # The test mail needs the password: the dialog asks before anything is sent.
            await pilot.press("ctrl+t")
            await wait_for(pilot, "Send a test mail from profile MAIN")
            await pilot.press("enter")
            await wait_for(pilot, "Unlock the secrets file")
            assert server.messages[1:] == []
            await wait_focus(pilot, "passphrase")
            await type_text(pilot, PASSPHRASE)
            await pilot.press("enter")
            await wait_for(pilot, "Test mail sent", tries=300)
            await pilot.press("enter")

    assert [m.login for m in server.messages] == [LOGIN, LOGIN]
    assert (home / "secrets.enc").exists()
    crash = home / "crash-reports"
    assert files_containing([home, crash, tmp_path], PASSWORD, PASSPHRASE) == []


def _read_until(fd: int, proc: subprocess.Popen[bytes], needle: bytes, seen: bytearray) -> None:
    """Read the pty until ``needle`` shows: given up when the program ended, or drew
    nothing for 90 s (a hang; a busy machine only draws slower), not at a fixed time."""
    quiet_since = time.monotonic()
    end = quiet_since + 900  # one that draws forever and never shows it: a hang too
    while needle not in seen:
        now = time.monotonic()
        if proc.poll() is not None or now - quiet_since > 90 or now > end:
            raise AssertionError(f"{needle!r} never appeared; the screen had:\n{seen[-3000:]!r}")
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            quiet_since = time.monotonic()


def test_no_terminal_prompt_while_the_tui_runs(tmp_path: Path) -> None:
    """A locked secrets file at start: the TUI's dialog, never a prompt on the terminal."""
    home = tmp_path / "home"
    Store(home, "tester")
    from mailing.changes.secrets import create_secrets_file

    create_secrets_file(PASSPHRASE)
    primary, secondary = pty.openpty()
    env = cli_env({"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"})
    proc = subprocess.Popen(
        [PYTHON, "-m", "tui", "--home", str(home)],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        start_new_session=True,
    )
    os.close(secondary)
    seen = bytearray()
    try:
        _read_until(primary, proc, b"Unlock the secrets file", seen)
        os.write(primary, PASSPHRASE.encode() + b"\r")
        _read_until(primary, proc, b"Profiles", seen)
        os.write(primary, b"\x11")  # ctrl+q
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(primary, 65536)
                except OSError:
                    break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        os.close(primary)
    text = bytes(seen)
    for prompt in (b"Passphrase of the secrets file", b"Please enter password", b"Password:"):
        assert prompt not in text
    assert PASSPHRASE.encode() not in text  # typed into a masked field, never echoed
    assert proc.returncode == 0


async def test_the_queue_sends_with_the_unlocked_file_through_its_detached_sender(
    tmp_path: Path,
) -> None:
    """The sender runs as its own `mailroom send` process: the TUI hands it the key of
    the unlocked secrets file through a pipe (no prompt, no file, no environment value)."""
    from mailing.batches import build_batch
    from mailing.changes import change_items, store_password
    from mailing.changes.secrets import create_secrets_file
    from mailing.demo import load_demo
    from tui.app import MailroomApp

    home = tmp_path / "home"
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        store = Store(home, "demo")
        load_demo(store)
        create_secrets_file(PASSPHRASE)
        changed = []
        for code in ("SYSTEM", "HOLT", "DEBITEUREN", "PERSONAL-DEMO"):
            data = store.get(Profile, code).dump()
            data.update(server.profile_fields(tmp_path, username=LOGIN), outbox_dir="")
            changed.append(Profile.parse(data))
            store_password(code, PASSWORD)
        store.put_many(changed)
        numbers = ["F20260001", "F20260002", "F20260003"]
        batch = build_batch(store, "demo", "sales_invoice", administration="HOLT", numbers=numbers)
        approved, _ = change_items(store, "demo", batch.id, "approve", None)
        assert approved
        forget_unlock()  # the TUI starts as after a reboot: the file is locked

        app = MailroomApp(store, "demo", first_pane="queue")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, "Unlock the secrets file")
            await type_text(pilot, PASSPHRASE)
            await pilot.press("enter")
            await wait_for(pilot, batch.id)
            await pilot.press("enter")
            await wait_for(pilot, f"approved {len(approved)}")
            await pilot.press("s")
            await wait_for(pilot, "Send the")
            await pilot.press("y")
            text = await wait_for(pilot, "Sending done", tries=600)
            assert f"{len(approved)} sent, 0 failed" in text, text

    assert len(server.messages) == len(approved)
    assert {m.login for m in server.messages} == {LOGIN}
    logs = list((home / "spool").rglob("send.log"))
    assert logs
    assert files_containing([home, tmp_path], PASSWORD, PASSPHRASE) == []
