"""The kill test again, against a server that offers PIPELINING.

With PIPELINING the transport writes the next message's MAIL FROM, RCPT TO and
DATA together with the current message's final dot; a kill between the two must
still lose nothing and duplicate only messages shown as ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tests.functional.test_send_kill
from tests.functional.test_send_kill import *  # noqa: F403  (collected again, with pipelining)
from tests.smtp_server import SMTPTestServer

# Slow (real processes, kills, hundreds of messages): `pytest -m 'not slow'` skips it
# in the developers' quick loop; CI runs everything.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _pipelining(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(SMTPTestServer, "PIPELINING", True)
    # Pipelined sending is fast enough that the kills at random moments (up to
    # 0.45 s each) would use up 1,000 messages before the 30th kill.
    monkeypatch.setattr(tests.functional.test_send_kill, "N_MESSAGES", 2500)
    yield
