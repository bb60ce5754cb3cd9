"""The spool's errors: each says what is wrong with which batch or item, and the fix."""

from __future__ import annotations

from store.errors import MailroomError

DAMAGED_FIX = "move the folder spool/{batch} away or restore a backup."


class SpoolError(MailroomError):
    """A problem with a batch or an item of the spool."""


class DamagedBatchError(SpoolError):
    """A batch's ``batch.json`` cannot be read: the batch is shown, never used."""

    def __init__(self, batch_id: str, reason: str) -> None:
        self.batch_id = batch_id
        self.reason = reason
        super().__init__(
            f"Batch {batch_id} is damaged: {reason}.",
            field="batch",
            value=batch_id,
            fix=DAMAGED_FIX.format(batch=batch_id),
        )


class SenderBusyError(SpoolError):
    """Another process is sending from this data folder."""
