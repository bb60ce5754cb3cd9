"""Before a profile's first claim, and when its server cannot be reached.

- **Log in first.** A run connects and logs in for a profile (unlocking its secret)
  *before* it claims the profile's first message. A failure to do so leaves every
  message approved and says why: a locked secrets file raises its own sentence
  before anything is claimed; a refused login, a TLS or configuration problem
  pauses the profile for the run.
- **Bounded tries.** After :data:`MAX_CONNECT_FAILURES` failures in a row to reach
  the server (connection refused, timeout, dropped, 4xx greeting), the run stops
  trying that profile: its messages stay approved (or deferred), and the profile is
  not tried again by ``mailroom send --due`` / ``send`` of every batch before
  :data:`COOL_DOWN` has passed (``<data folder>/send-cooldown/<profile>.json``);
  the sentence says when. ``mailroom send BATCH``, an admin's explicit send, tries
  at once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from store.db import atomic_write_bytes
from store.permissions import make_dirs

if TYPE_CHECKING:
    from mailing.sending.send_state import ProfileState, SendOptions, SendReport
    from mailing.transports import TransportError

MAX_CONNECT_FAILURES = 3
COOL_DOWN = dt.timedelta(minutes=10)
FOLDER = "send-cooldown"


def _file(home: Path, code: str) -> Path:
    return home / FOLDER / f"{code}.json"


def cooling_down(home: Path, code: str) -> str | None:
    """Why the profile is not tried now (and until when), or None."""
    try:
        data = json.loads(_file(home, code).read_bytes())
        until = dt.datetime.fromisoformat(str(data["until"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if until <= dt.datetime.now(dt.UTC):
        return None
    local = until.astimezone().strftime("%H:%M")
    return (
        f"its server could not be reached ({data.get('why', '')}); it is not tried again "
        f"before {local} (or send one batch now with `mailroom send BATCH`)"
    )


def _trip(home: Path, st: ProfileState, report: SendReport, exc: TransportError) -> None:
    until = dt.datetime.now(dt.UTC) + COOL_DOWN
    why = exc.diagnosis.title
    path = _file(home, st.profile.code)
    make_dirs(path.parent)
    atomic_write_bytes(path, json.dumps({"until": until.isoformat(), "why": why}).encode())
    n = st.network_failures
    times = {1: "once", 2: "twice"}.get(n, f"{n} times in a row")
    st.paused = (
        f"the server {st.profile.server}:{st.profile.port} could not be reached "
        f"{times} ({why}); its messages stay approved and "
        f"are tried again after {until.astimezone().strftime('%H:%M')}"
    )
    report.paused_profiles[st.profile.code] = st.paused
    st.close()


def _clear(home: Path, code: str) -> None:
    try:
        _file(home, code).unlink()
    except FileNotFoundError:
        pass


def stop_asked(opts: SendOptions) -> bool:
    return opts.should_stop is not None and bool(opts.should_stop())


def interruptible(opts: SendOptions) -> Callable[[float], None]:
    """``opts.sleep``, woken every 0.1 s to ask ``opts.should_stop`` (SIGTERM, Ctrl-C,
    Stop): a run in a back-off wait of minutes stops within a fraction of a second."""
    import time

    sleep, should_stop = opts.sleep, opts.should_stop
    if should_stop is None or sleep is not time.sleep:
        return sleep

    def wait(seconds: float) -> None:
        end = time.monotonic() + seconds
        while not should_stop():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.1))

    return wait


def network_failure(home: Path, st: ProfileState, report: SendReport, exc: TransportError) -> bool:
    """Count one failure to reach the server; True when the breaker tripped."""
    st.network_failures += 1
    if st.network_failures >= MAX_CONNECT_FAILURES:
        _trip(home, st, report, exc)
        return True
    return False


def log_in_first(
    st: ProfileState,
    opts: SendOptions,
    report: SendReport,
    home: Path,
    *,
    respect_cool_down: bool,
) -> None:
    """Connect and log in before the profile's first claim; on failure the profile is
    paused for the run (``st.paused`` says why) and nothing of it is claimed."""
    from mailing.transports import TransportError

    code = st.profile.code
    if respect_cool_down:
        why = cooling_down(home, code)
        if why is not None:
            st.paused = why
            report.paused_profiles[code] = why
            return
    attempt = 0
    while True:
        try:
            st.get().open()
        except TransportError as exc:
            st.close()
            if exc.kind not in ("network", "temporary"):
                # A refused login, TLS, configuration: every try would fail alike.
                st.paused = f"{exc} Nothing was sent; its messages stay approved."
                report.paused_profiles[code] = st.paused
                return
            if network_failure(home, st, report, exc) or attempt >= len(opts.backoff):
                if not st.paused:
                    _trip(home, st, report, exc)
                return
            opts.sleep(opts.backoff[attempt])
            attempt += 1
            if stop_asked(opts):
                report.stopped = True
                st.paused = "stopped on request before anything was sent"
                return
            continue
        st.network_failures = 0
        _clear(home, code)
        return
