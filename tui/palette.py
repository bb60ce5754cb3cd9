"""The command palette's commands, built from what is in the data folder now."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from screens.widgets.pane import Pane
    from store.store import Store
    from tui.panes import PaneSpec

MAX_RELATION_HITS = 20


class PaletteHost(Protocol):
    """What the palette uses of the app (``tui.app.MailroomApp``, which imports this module)."""

    store: Store
    panes: tuple[PaneSpec, ...]

    def show_pane(self, pane_id: str) -> Pane | None: ...


class MailroomCommands(Provider):
    """New profile, test profile X, go to relation Y, open batch Z, show pane P."""

    @property
    def mailroom(self) -> PaletteHost:
        return cast("PaletteHost", self.app)

    def _static_commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app = self.mailroom
        out: list[tuple[str, Callable[[], Any], str]] = []
        for spec in app.panes:
            out.append(
                (
                    f"Show {spec.title}",
                    partial(app.show_pane, spec.id),
                    spec.key.upper() or "from Settings (F6), ctrl+o",
                )
            )
        out.append(
            (
                "Set-up guide",
                getattr(app, "open_guide", lambda: None),
                "A new office step by step: administration, profile, templates, ...",
            )
        )
        out.append(("New profile", partial(self._new, "profiles"), "Start a new e-mail profile"))
        out.append(("New template", partial(self._new, "templates"), "Start a new template"))
        out.append(
            ("New language code", partial(self._new, "language_codes"), "Start a language code")
        )
        out.append(("New relation", partial(self._new, "relations"), "Start a new relation"))
        try:
            from store.records import Profile

            for profile in app.store.all(Profile):
                out.append(
                    (
                        f"Test profile {profile.code}",
                        partial(self._test_profile, profile.code),
                        f"Send a test mail from {profile.sender or profile.code}",
                    )
                )
                if profile.imap_server:
                    out.append(
                        (
                            f"Fetch bounces of profile {profile.code}",
                            partial(self._fetch_bounces, profile.code),
                            f"Read delivery reports from {profile.imap_server}",
                        )
                    )
            out.append(
                (
                    "Unmatched delivery reports",
                    self._unmatched_reports,
                    "Reports that proved nothing and changed nothing, and why",
                )
            )
            for batch_id in _batch_ids(app):
                out.append(
                    (
                        f"Open batch {batch_id}",
                        partial(self._open_batch, batch_id),
                        "Show the batch in the queue",
                    )
                )
        except Exception:  # a damaged data file: the palette still offers the panes
            return out
        return out

    async def discover(self) -> Hits:
        for name, run, help_text in self._static_commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._static_commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
        # Relations: thousands of them, so match on the raw rows and stop early.
        words = query.lower().removeprefix("go to").removeprefix("relation").strip()
        if len(words) < 2:
            return
        found = 0
        for admin, code, name in _relation_rows(self.mailroom):
            if words in code.lower() or words in name.lower():
                text = f"Go to relation {code} {name} ({admin})"
                yield Hit(
                    0.9,
                    matcher.highlight(text),
                    partial(self._go_to_relation, f"{admin}/{code}"),
                    help="Open the relation",
                )
                found += 1
                if found >= MAX_RELATION_HITS:
                    return

    # ------------------------------------------------------------ what the commands do

    def _new(self, pane_id: str) -> None:
        pane = self.mailroom.show_pane(pane_id)
        if pane is not None:
            pane.when_ready(getattr(pane, "action_new", lambda: None))  # e.g. its form built

    def _test_profile(self, code: str) -> None:
        from screens.profiles import ProfilesPane

        pane = self.mailroom.show_pane("profiles")
        if not isinstance(pane, ProfilesPane):
            return

        def go() -> None:
            def opened() -> None:
                pane.open_record(code)
                pane.action_test()

            pane.when_clean(opened, f"test {code}")

        pane.when_ready(go)  # its form is built after its list

    def _fetch_bounces(self, code: str) -> None:
        from screens.widgets.bounce_fetch import fetch_in_background

        fetch_in_background(self.app, self.mailroom.store, code)

    def _unmatched_reports(self) -> None:
        from screens.widgets.bounce_fetch import show_unmatched

        show_unmatched(self.app, self.mailroom.store)

    def _go_to_relation(self, key: str) -> None:
        from screens.widgets.pane import RecordPane

        pane = self.mailroom.show_pane("relations")
        if not isinstance(pane, RecordPane):
            return

        def go() -> None:
            pane.when_clean(lambda: pane.open_record(key), f"open {key}")

        pane.when_ready(go)  # its form is built after its list

    def _open_batch(self, batch_id: str) -> None:
        pane = self.mailroom.show_pane("queue")
        if pane is not None and hasattr(pane, "open_batch"):
            pane.open_batch(batch_id)


def _relation_rows(app: PaletteHost) -> list[tuple[str, str, str]]:
    from store.records import Relation

    with app.store.view() as tx:
        return [
            (str(r.get("administration", "")), str(r.get("code", "")), str(r.get("name", "")))
            for r in tx.raw(Relation)
        ]


def _batch_ids(app: PaletteHost) -> list[str]:
    """Batches in the spool, newest first."""
    try:
        from store.spool import Spool

        return [b.id for b in reversed(Spool(app.store.home).batches())][:50]
    except Exception:
        return []
