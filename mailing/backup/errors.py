"""What a refused backup or restore raises, and how a refusal names a member."""

from __future__ import annotations

from store.errors import MailroomError


class BackupError(MailroomError):
    """A backup cannot be made or sent."""


class RestoreError(MailroomError):
    """An archive cannot be restored; nothing was changed."""


def _refuse(
    source: str, message: str, fix: str = "use another copy of the backup."
) -> RestoreError:
    return RestoreError(
        f"{source}: {message} Nothing was restored.", field="file", value=source, fix=fix
    )


def _shown(name: str) -> str:
    """A member's name as a message shows it: quoted, and shortened when long."""
    if len(name) > 80:
        name = f"{name[:60]}…{name[-12:]}"
    return repr(name)
