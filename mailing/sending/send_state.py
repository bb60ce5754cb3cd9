"""What one run of the sender keeps: its options, its report, each profile's state.

Split from :mod:`mailing.sending.engine` (which runs the batches) and
:mod:`mailing.sending.send_item` (which sends one message); both use these.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.errors import MailroomError
from store.records import Profile

if TYPE_CHECKING:
    from mailing.transports import Transport

# Seconds to wait before each retry of a temporary failure; the number of
# retries is the length. MAILROOM_SEND_BACKOFF="0.01,0.02" overrides it (tests).
DEFAULT_BACKOFF: tuple[float, ...] = (5.0, 30.0, 120.0)
# After this many messages of one profile in a row were deferred (temporary
# failures that outlasted the back-off), the profile is paused for this run.
MAX_DEFERRED_IN_A_ROW = 3

TransportFactory = Callable[[Profile, Path], "Transport"]


def backoff_from_env() -> tuple[float, ...]:
    raw = os.environ.get("MAILROOM_SEND_BACKOFF", "")
    if not raw:
        return DEFAULT_BACKOFF
    try:
        return tuple(float(x) for x in raw.split(",") if x.strip())
    except ValueError:
        raise MailroomError(
            f"MAILROOM_SEND_BACKOFF={raw!r} is not a list of seconds.",
            field="MAILROOM_SEND_BACKOFF",
            value=raw,
            fix="use comma-separated numbers such as 5,30,120, or unset it.",
        ) from None


@dataclass
class Progress:
    batch: str
    done: int
    total: int
    sent: int
    failed: int
    deferred: int


@dataclass
class SendOptions:
    backoff: tuple[float, ...] = field(default_factory=backoff_from_env)
    dry_run: bool = False
    transport_factory: TransportFactory | None = None
    progress: Callable[[Progress], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    archive: bool = True
    # Asked between two messages; True stops the run: the message in flight is
    # finished, the rest stays approved (Stop in the TUI, SIGTERM or SIGHUP on the CLI).
    should_stop: Callable[[], bool] | None = None
    # A run over every batch (`send`, `send --due`) leaves a profile whose server could
    # not be reached alone for a while; `send BATCH` tries at once (mailing/sending/send_breaker.py).
    respect_cool_down: bool = True


@dataclass
class ItemOutcome:
    batch: str
    item: str
    outcome: str  # sent | failed | deferred | unknown | refused | paused | stopped | would-send
    detail: str = ""


@dataclass
class SendReport:
    found_unknown: list[tuple[str, str]] = field(default_factory=list)
    outcomes: list[ItemOutcome] = field(default_factory=list)
    paused_profiles: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    stopped: bool = False
    # Batches left for later: (batch, its "not before" time).
    not_due: list[tuple[str, str]] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    def summary(self) -> dict[str, Any]:
        kinds = (
            "sent",
            "failed",
            "deferred",
            "unknown",
            "refused",
            "paused",
            "stopped",
            "would-send",
        )
        return {
            **{k: self.count(k) for k in kinds},
            "retries": self.retries,
            "found_unknown": [f"{b}/{i}" for b, i in self.found_unknown],
            "paused_profiles": self.paused_profiles,
            "stopped_on_request": self.stopped,
            "not_yet_due": [{"batch": b, "not_before": t} for b, t in self.not_due],
        }


class ProfileState:
    """One profile's connection, rate limit and pause during a run."""

    def __init__(self, profile: Profile, factory: TransportFactory, home: Path) -> None:
        self.profile = profile
        self._factory = factory
        self._home = home
        self.home = home
        self.transport: Transport | None = None
        self.interval = 60.0 / profile.rate_per_minute if profile.rate_per_minute else 0.0
        self.next_at = 0.0
        self.paused: str | None = None
        self.deferred_in_a_row = 0
        self.network_failures = 0  # in a row; mailing/sending/send_breaker.py

    def get(self) -> Transport:
        if self.transport is None:
            self.transport = self._factory(self.profile, self._home)
        return self.transport

    def wait_turn(self, sleep: Callable[[float], None]) -> None:
        if self.interval:
            now = time.monotonic()
            if now < self.next_at:
                sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
