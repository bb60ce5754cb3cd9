"""One line of the doctor's checklist (``mailing.checks.doctor``): OK, or what is wrong and its fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    what: str  # "Data folder", "Profile HOLT"
    ok: bool
    detail: str  # what was found (OK) or what is wrong
    fix: str = ""  # the one command (or step) that fixes it

    def line(self) -> str:
        if self.ok:
            return f"OK    {self.what}: {self.detail}"
        return f"FIX   {self.what}: {self.detail}" + (
            f"\n        -> {self.fix}" if self.fix else ""
        )
