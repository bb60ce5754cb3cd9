"""The state of one render: its locale, its deadline and the loop turns so far."""

from __future__ import annotations

import contextvars
import time
from dataclasses import dataclass

from mailing.render.limits import MAX_SECONDS, _Limit


@dataclass
class _RenderState:
    locale: str
    deadline: float
    iterations: int = 0


_STATE: contextvars.ContextVar[_RenderState | None] = contextvars.ContextVar(
    "mailroom_render_state", default=None
)


def _tick() -> None:
    st = _STATE.get()
    if st is not None and time.monotonic() > st.deadline:
        raise _Limit(f"it took longer than {MAX_SECONDS:g} seconds to render")
