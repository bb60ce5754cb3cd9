"""Nothing is claimed before the sender can log in, and a run is bounded — with real
servers (aiosmtpd with AUTH over STARTTLS, a trustme CA), the real encrypted secrets
file, and real `mailroom` processes signalled in a back-off wait.

- A cron `send --due` that cannot unlock the secrets exits 2 with a sentence and
  claims nothing: run three times, every message is still approved (never
  ``unknown``); once unlocked, each goes out once.
- A UTF-8 password logs in (AUTH PLAIN carries UTF-8, RFC 4616); a wrong one pauses
  the profile with every message approved, and no character of it is shown.
- A server that cannot be reached: a few tries, then the profile is left alone, the
  run says until when, the messages stay approved; the next `send --due` does not
  try it; `send BATCH` does.
- SIGTERM in a back-off wait (a 451 to each try, a server that hangs up at once)
  ends the run within 2 s; the message stays approved.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from mailing.sending import SendOptions, send
from store.secrets import set_secret
from store.spool import Spool
from tests.conftest import PYTHON, cli_env
from tests.secrets_support import PASSPHRASE, forget_unlock, real_secrets  # noqa: F401
from tests.send_support import make_store, spool_batch
from tests.smtp_server import SMTPTestServer, free_port

LOGIN = "kantoor@holtkamp.example"
UTF8_PASSWORD = "Wachtwoord-ßüé€-密码"


def _mailroom(home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), "--user", "alice", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=timeout,
    )


def _counts(home: Path, batch_id: str) -> dict[str, int]:
    return {k: v for k, v in Spool(home).batch(batch_id).counts().items() if v}


def test_a_utf8_password_logs_in_and_a_wrong_one_claims_nothing_and_shows_nothing(
    tmp_path: Path,
) -> None:
    with SMTPTestServer(users={LOGIN: UTF8_PASSWORD}) as server:
        home = tmp_path / "home"
        store = make_store(home, server.profile_fields(tmp_path), auth="password", username=LOGIN)
        set_secret("P", "password", UTF8_PASSWORD)
        batch = spool_batch(store, 3)
        assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == 3
        assert server.auth_attempts[0][1:] == (LOGIN, True)
        assert len(server.messages) == 3

        set_secret("P", "password", "Verkeerd-wachtwoord-ÿø")
        batch2 = spool_batch(store, 3)
        done = _mailroom(home, "send", batch2.id)
        told = done.stdout + done.stderr
        assert done.returncode == 1, told
        assert "profile P paused" in told and "Traceback" not in told
        assert not set("ÿø") & set(told), told
        assert _counts(home, batch2.id) == {"approved": 3}
        assert len(server.messages) == 3


def test_a_cron_send_without_the_passphrase_claims_nothing(
    tmp_path: Path,
    real_secrets: None,  # noqa: F811
) -> None:
    with SMTPTestServer(users={LOGIN: UTF8_PASSWORD}) as server:
        home = tmp_path / "home"
        store = make_store(home, server.profile_fields(tmp_path), auth="password", username=LOGIN)
        from mailing.changes.secrets import create_secrets_file

        create_secrets_file(PASSPHRASE)
        set_secret("P", "password", UTF8_PASSWORD)
        forget_unlock()
        batch = spool_batch(store, 3)
        for _ in range(3):  # three cron runs without the passphrase
            done = _mailroom(home, "send", "--due")
            assert done.returncode == 2, done.stdout + done.stderr
            assert "locked" in done.stderr and "Traceback" not in done.stderr
            assert _counts(home, batch.id) == {"approved": 3}
        assert server.messages == [] and server.auth_attempts == []
        passphrase = tmp_path / "pass"
        passphrase.write_text(PASSPHRASE)
        passphrase.chmod(0o600)
        done = _mailroom(home, "--passphrase-file", str(passphrase), "send", "--due")
        assert done.returncode == 0, done.stdout + done.stderr
        assert _counts(home, batch.id) == {"sent": 3}
        assert len(server.messages) == 3


def test_an_unreachable_server_is_left_alone_and_the_run_says_until_when(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()  # nobody listens here
    store = make_store(
        home, {"server": "127.0.0.1", "port": port, "security": "none", "timeout_seconds": 5.0}
    )
    batch = spool_batch(store, 5)
    backoff = {"MAILROOM_SEND_BACKOFF": "0.2,0.2,0.2"}
    started = time.monotonic()
    done = _mailroom(home, "send", "--due", env=backoff)
    took = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    assert "could not be reached 3 times in a row" in done.stderr
    assert "tried again after" in done.stderr
    assert took < 30, took
    assert _counts(home, batch.id) == {"approved": 5}
    events = (Spool(home).batch(batch.id).path / "events.jsonl").read_text()
    assert '"claimed"' not in events
    # The next scheduled run does not try it (and says until when); `send BATCH` does.
    done = _mailroom(home, "send", "--due", "--json", env=backoff)
    summary = json.loads(done.stdout)
    assert "not tried again before" in summary["paused_profiles"]["P"]
    done = _mailroom(home, "send", batch.id, env=backoff)
    assert "could not be reached 3 times in a row" in done.stderr
    assert _counts(home, batch.id) == {"approved": 5}


def _wait_for(check, what: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        if proc.poll() is not None:
            raise AssertionError(f"the sender ended before {what}: {proc.communicate()}")
        assert time.monotonic() < deadline, f"no {what}"
        time.sleep(0.02)  # polling for the condition


@pytest.mark.parametrize(
    ("where", "sig"),
    [
        ("a 451 to each try", signal.SIGTERM),
        ("a server that hangs up at once", signal.SIGTERM),
        ("a server that hangs up at once", signal.SIGINT),  # Ctrl-C
    ],
)
def test_sigterm_in_a_back_off_wait_ends_the_run_within_two_seconds(
    tmp_path: Path, where: str, sig: signal.Signals
) -> None:
    home = tmp_path / "home"
    env = {"MAILROOM_SEND_BACKOFF": "60,60,60"}
    if where.startswith("a 451"):
        server = SMTPTestServer(security="none", answers={"MAIL": "451 4.3.0 try later"})
        server.start()
        fields = server.profile_fields(tmp_path)
        tried = lambda: '"retry_in"' in events.read_text() if events.exists() else False  # noqa: E731
    else:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        accepted: list[int] = []

        def hang_up() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                accepted.append(1)
                conn.close()

        threading.Thread(target=hang_up, daemon=True).start()
        fields = {"server": "127.0.0.1", "port": listener.getsockname()[1], "security": "none"}
        tried = lambda: bool(accepted)  # noqa: E731
    try:
        store = make_store(home, fields)
        batch = spool_batch(store, 2)
        events = Spool(home).batch(batch.id).path / "events.jsonl"
        cmd = [PYTHON, "-m", "tui", "--home", str(home), "--user", "alice", "send", batch.id]
        proc = subprocess.Popen(
            cmd, env=cli_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        _wait_for(tried, "first try", proc)
        asked = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        assert time.monotonic() - asked < 2.0
        assert proc.returncode == 3, err.decode()
        assert f"stopped on request ({sig.name})" in out.decode()
        counts = _counts(home, batch.id)
        assert counts == {"approved": 2}, counts
    finally:
        if where.startswith("a 451"):
            server.stop()
        else:
            listener.close()
