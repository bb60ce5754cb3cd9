"""Stopping a send (Stop in the Queue pane sends SIGTERM; a closed terminal sends SIGHUP).

The sender finishes the message in flight, puts the rest back to approved, and
says so; nothing is lost, nothing is sent twice, and a later send sends the rest.
"""

from __future__ import annotations

import collections
import signal
import subprocess
import time
from pathlib import Path

import pytest

from store.spool import Spool
from tests.conftest import PYTHON, cli_env
from tests.send_support import make_store, message_ids, spool_batch
from tests.smtp_server import SMTPTestServer

# Slow (real processes, kills, hundreds of messages): `pytest -m 'not slow'` skips it
# in the developers' quick loop; CI runs everything.
pytestmark = pytest.mark.slow

N = 1500


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_stop_request_finishes_in_flight_and_keeps_the_rest_approved(
    tmp_path: Path, sig: signal.Signals
) -> None:
    home = tmp_path / "home"
    with SMTPTestServer(security="none") as server:
        store = make_store(home, server.profile_fields(tmp_path))
        batch = spool_batch(store, N)
        cmd = [PYTHON, "-m", "tui", "--home", str(home), "--user", "alice", "send", batch.id]
        proc = subprocess.Popen(cmd, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Until 50 went out: given up only when the sender ended first, or when nothing
        # arrived for 120 s (a hang), never at a fixed time a busy machine can pass.
        seen, changed = 0, time.monotonic()
        while len(server.messages) < 50:
            assert proc.poll() is None, proc.communicate()[1].decode()
            if len(server.messages) != seen:
                seen, changed = len(server.messages), time.monotonic()
            assert time.monotonic() - changed < 120, "sending did not start"
            time.sleep(0.005)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 3, err.decode()
        assert f"stopped on request ({sig.name})" in out.decode()
        counts = Spool(home).batch(batch.id).counts()
        assert counts["sending"] == 0 and counts["unknown"] == 0, counts
        assert counts["sent"] + counts["approved"] == N, counts
        assert counts["approved"] > 0, "it stopped before the end"
        assert len(server.messages) == counts["sent"]
        # A later send sends the rest, each message once.
        rest = subprocess.run(cmd, env=cli_env(), capture_output=True, timeout=120)
        assert rest.returncode == 0, rest.stderr.decode()
        received = collections.Counter(message_ids(m.data) for m in server.messages)
    assert len(received) == N
    assert max(received.values()) == 1
