"""A lock another process holds too long: one sentence naming what is locked and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from filelock import FileLock

from store.errors import StoreError
from store.locking import hold


def test_a_lock_held_elsewhere_is_a_sentence_with_the_fix(tmp_path: Path) -> None:
    other = FileLock(str(tmp_path / ".lock"))
    other.acquire()
    try:
        ours = FileLock(str(tmp_path / ".lock"), timeout=0)
        subject = f"The database {tmp_path / 'mailroom.json'} is"
        with pytest.raises(StoreError) as caught:
            with hold(ours, subject, 30, field="database", value=str(tmp_path)):
                pytest.fail("the lock was taken although another holder has it")
        err = caught.value
        assert str(err).startswith(subject + " locked by another Mailroom process for over 30 s")
        assert err.field == "database" and err.value == str(tmp_path)
        assert err.fix is not None and "hung `mailroom` process" in err.fix
    finally:
        other.release()
    with hold(ours, subject, 30, field="database", value=str(tmp_path)):
        assert ours.is_locked
    assert not ours.is_locked
