"""The test-mode banner: while `mailroom sending redirect ADDRESS` is on, every screen
says that all mail goes to that one address, so nobody mistakes a test for a send."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from store.errors import MailroomError

if TYPE_CHECKING:
    from store.store import Store

# How often the banner looks at the setting (another process may change it).
CHECK_SECONDS = 1.0


def banner_text(address: str) -> str:
    return f"TEST MODE: all mail goes to {address} only, not to customers"


class RedirectBanner(Static):
    """Shown only while test mode is on; reads the setting on mount, then each second
    only when the configuration file was written since."""

    def __init__(self, store: Store) -> None:
        super().__init__("", id="redirect-banner", markup=False)
        self.store = store
        self.address: str | None = None
        self._stamp: tuple[int, int, int] | None = None

    def on_mount(self) -> None:
        # After the first frame: reading the settings imports the records (~0.1 s), and
        # the first pane's list is on screen first.
        self.call_after_refresh(self.check)
        self.set_interval(CHECK_SECONDS, self.check)

    def check(self) -> None:
        stamp = self.store.config_stamp()
        if stamp is not None and stamp == self._stamp:
            return  # the configuration was not written since: nothing to read
        self._stamp = stamp
        try:
            address = self.store.system().redirect_to
        except MailroomError:  # a damaged file is the panes' to report; keep the last known
            return
        if address == self.address:
            return
        self.address = address
        self.update(banner_text(address) if address else "")
        self.set_class(bool(address), "on")
