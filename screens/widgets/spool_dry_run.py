"""What approving would lead to: messages to mail, documents to print, warnings.

No Textual here: the Queue pane shows it before an approval. It reads the side-cars
of the drafts (or of the items chosen) once, through the pane's ``BatchView``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mailing import words
from mailing.names import human_size

if TYPE_CHECKING:
    from screens.widgets.spool_view import BatchView


@dataclass
class DryRun:
    mailed: int = 0
    printed: int = 0
    print_reasons: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    warnings: int = 0
    total_bytes: int = 0
    already: dict[str, int] = field(default_factory=dict)
    profiles: dict[str, int] = field(default_factory=dict)  # profile code -> messages
    drafts: list[str] = field(default_factory=list)  # the items approving would move

    def text(self) -> str:
        lines = [
            f"{words.count(self.mailed, 'message')} will be mailed ({human_size(self.total_bytes)} in all).",
            f"{words.count(self.printed, 'document')} go to print"
            + (
                ": " + ", ".join(f"{n} {why}" for why, n in sorted(self.print_reasons.items()))
                if self.print_reasons
                else "."
            ),
            f"{words.count(self.warnings, 'item')} with warnings (w in the queue shows them).",
        ]
        if self.failed:
            lines.append(f"{self.failed:,} could not be built or are too large (failed).")
        other = {k: v for k, v in self.already.items() if v}
        if other:
            lines.append(
                "Already: "
                + ", ".join(f"{v} {words.item_state(k)}" for k, v in other.items())
                + "."
            )
        return "\n".join(lines)


PRINT_REASON_TEXT = words.PRINT_REASONS


def dry_run(view: BatchView, items: Iterable[str] | None = None) -> DryRun:
    """What approving (all drafts, or ``items``) would lead to; reads the side-cars."""
    out = DryRun()
    # Only drafts are approved: a chosen item already approved, sent or held is counted
    # under "Already", so the dry run's count is the approval's count.
    wanted = None if items is None else set(items)
    mail_refs = [
        r for r in view.refs("draft") if r.kind == "email" and (wanted is None or r.item in wanted)
    ]
    for ref in mail_refs:
        meta = view.meta(ref.item)
        out.mailed += 1
        out.drafts.append(ref.item)
        out.total_bytes += int(meta.get("size") or 0)
        code = str(meta.get("profile") or "?")
        out.profiles[code] = out.profiles.get(code, 0) + 1
    # One count everywhere: the items the w filter shows (of those chosen).
    warned = view.warned()
    out.warnings = len(warned) if items is None else len(warned & set(items))
    for ref in view.refs("print"):
        out.printed += 1
        reason = str(view.meta(ref.item).get("reason") or "?")
        text = PRINT_REASON_TEXT.get(reason, reason)
        out.print_reasons[text] = out.print_reasons.get(text, 0) + 1
    out.failed = len(view.names("failed"))
    for st in ("approved", "sent", "held", "unknown"):
        names = view.names(st)
        if wanted is not None:  # file names: ``<item>.<ext>``
            names = [n for n in names if n[: n.rfind(".")] in wanted]
        out.already[st] = len(names)
    return out
