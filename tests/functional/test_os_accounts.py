"""Who acts is the OS account: four eyes between two real accounts of one group.

Real throw-away accounts (``tests/os_accounts.py``: useradd, setpriv, userdel) share a
data folder through a real group. The builder cannot approve by saying ``USER=bob``,
by ``--user bob``, or by copying a demo folder's marker into the shared folder; the
colleague can, and the audit log records who did what. An account outside the group
is told it cannot open the folder; sudo records root, noting who ran it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PYTHON, ROOT
from tests.os_accounts import Office, make_office


@pytest.fixture(scope="module")
def office() -> Iterator[Office]:
    yield from make_office()


@pytest.fixture(scope="module")
def shared(office: Office) -> Path:
    """Alice's data folder with the demo, shared with the group, four eyes on."""
    home = office.base / "office"
    home.mkdir(mode=0o700)
    os.chown(home, office.alice.uid, office.alice.gid)
    alice = office.alice
    loaded = alice.run("--home", str(home), "demo", "--no-tui")
    assert loaded.returncode == 0, loaded.stderr
    done = alice.run("--home", str(home), "init", "--group", office.group)
    assert done.returncode == 0, done.stdout + done.stderr
    rule = alice.run("--home", str(home), "settings", "set", "--approval", "other-user")
    assert rule.returncode == 0, rule.stderr
    return home


def _batch(office: Office, home: Path, doc_type: str = "sales_invoice") -> str:
    made = office.alice.run("--home", str(home), "batch", "create", "--type", doc_type)
    assert made.returncode == 0, made.stderr
    return made.stdout.split()[0]


def test_the_builder_cannot_approve_by_env_user_flag_or_a_copied_marker(
    office: Office, shared: Path
) -> None:
    alice, bob = office.alice, office.bob
    home = str(shared)
    batch = _batch(office, shared)

    # USER / LOGNAME say bob: the account is still alice's.
    posing = alice.run(
        "--home", home, "batch", "approve", batch, env=alice.env(USER=bob.name, LOGNAME=bob.name)
    )
    assert posing.returncode == 2, posing.stdout
    assert f"built by {alice.name}" in posing.stderr and "four eyes" in posing.stderr

    # --user bob: refused, the folder is shared (the demo's own marker is in it).
    assert (shared / "DEMO-FOLDER").exists()
    flag = alice.run("--user", bob.name, "--home", home, "batch", "approve", batch)
    assert flag.returncode == 2
    assert f"--user {bob.name} is refused" in flag.stderr
    assert f"logged in as {alice.name}" in flag.stderr and "shared with a group" in flag.stderr

    # Bob's own private demo folder lets him be anyone there; its marker copied into
    # the shared folder (by bob, a group member) enables nothing.
    own = bob.home / "demo"
    assert bob.run("--home", str(own), "demo", "--no-tui").returncode == 0
    assert bob.run("--home", str(own), "--user", "carol", "batch", "list").returncode == 0
    copied = subprocess.run(
        [
            "setpriv",
            f"--reuid={bob.uid}",
            f"--regid={bob.gid}",
            "--init-groups",
            "--",
            "cp",
            str(own / "DEMO-FOLDER"),
            str(shared / "DEMO-FOLDER"),
        ],
        capture_output=True,
        text=True,
    )
    assert copied.returncode == 0, copied.stderr
    for who in (alice, bob):
        again = who.run("--user", "carol", "--home", home, "batch", "approve", batch)
        assert again.returncode == 2 and "--user carol is refused" in again.stderr

    # Nothing moved so far; bob, logged in as bob, approves.
    shown = bob.run("--home", home, "batch", "show", batch, "--json")
    assert shown.returncode == 0, shown.stderr
    approved = bob.run("--home", home, "batch", "approve", batch)
    assert approved.returncode == 0, approved.stderr
    assert "approved" in approved.stdout

    log = bob.run("--home", home, "audit", "--json")
    entries = json.loads(log.stdout)
    acts = [(e["user"], e["action"], e["what"]) for e in entries]
    assert (bob.name, "approve", f"batch {batch}") in acts
    assert not any(a == "approve" and u != bob.name for u, a, _ in acts)
    assert all(u in (alice.name, bob.name) for u, _, _ in acts)
    verified = alice.run("--home", home, "audit", "verify")
    assert verified.returncode == 0, verified.stdout


def test_a_second_administrator_running_init_on_a_right_folder_is_told_so(
    office: Office, shared: Path
) -> None:
    again = office.bob.run("--home", str(shared), "init", "--group", office.group)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already shared with the group" in again.stdout
    assert "Operation not permitted" not in again.stdout + again.stderr


def test_an_account_outside_the_group_is_told_it_cannot_open_the_folder(
    office: Office, shared: Path
) -> None:
    for args in (["batch", "list"], ["doctor", "--offline"], ["audit"]):
        done = office.eve.run("--home", str(shared), *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"{office.eve.name} cannot open the data folder" in done.stderr
        assert office.group in done.stderr  # the fix names the group


def test_sudo_acts_as_root_and_notes_who_ran_it(office: Office, shared: Path) -> None:
    env = office.alice.env(
        SUDO_UID=str(office.alice.uid), SUDO_USER=office.alice.name, USER="root", HOME="/root"
    )
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(shared), "sending", "pause", "--reason", "audit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in (shared / "audit.log").read_text().splitlines()]
    last = entries[-1]
    assert last["action"] == "pause sending"
    assert last["user"] == "root" and last["by"] == office.alice.name
    listed = office.bob.run("--home", str(shared), "audit")
    assert f"root (sudo by {office.alice.name})" in listed.stdout
    assert office.bob.run("--home", str(shared), "sending", "resume").returncode == 0
    # root's files in the shared folder stay the group's
    assert office.bob.run("--home", str(shared), "audit", "verify").returncode == 0
    shutil.rmtree(shared / "exports", ignore_errors=True)


def test_the_doctor_names_an_unreadable_spool_and_goes_on(office: Office, shared: Path) -> None:
    """A batch folder alice made private by hand: bob's doctor says so (exit 1, no crash)."""
    batch = _batch(office, shared, "reminder")
    private = shared / "spool" / batch
    private.chmod(0o700)
    try:
        done = office.bob.run("--home", str(shared), "doctor", "--offline")
        assert done.returncode == 1, done.stdout + done.stderr
        assert "FIX   Spool folder:" in done.stdout
        assert f"spool/{batch}" in done.stdout
        assert "Queue:" in done.stdout and "Test mode:" in done.stdout
        listed = office.bob.run("--home", str(shared), "batch", "list")
        assert listed.returncode == 2, listed.stderr
        assert f"{office.bob.name} may not read or change {private}" in listed.stderr
        assert f"it belongs to {office.alice.name}, group {office.group}, mode 700" in (
            listed.stderr
        )
    finally:
        private.chmod(0o2770)


def test_the_doctor_names_an_account_outside_the_folders_group(office: Office) -> None:
    """Eve's own folder shared (by root) with a group she is not in: she still owns it."""
    home = office.base / "eve-office"
    home.mkdir(mode=0o700)
    os.chown(home, office.eve.uid, office.eve.gid)
    assert office.eve.run("--home", str(home), "init").returncode == 0
    shared_by_root = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), "init", "--group", office.group],
        env=office.eve.env(HOME="/root"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert shared_by_root.returncode == 0, shared_by_root.stdout + shared_by_root.stderr
    done = office.eve.run("--home", str(home), "doctor", "--offline")
    assert done.returncode == 1, done.stdout
    # Opening it did not make it private again (she cannot read its marker file).
    assert home.stat().st_mode & 0o7777 == 0o2770
    assert (
        f"FIX   Your account: {office.eve.name} is not a member of the group {office.group}"
        in done.stdout
    )
    assert f"sudo usermod -aG {office.group} {office.eve.name}" in done.stdout
    assert (
        "OK    Your account"
        in office.alice.run("--home", str(office.base / "office"), "doctor", "--offline").stdout
    )


def test_an_export_into_a_folder_you_may_not_write_is_a_sentence(
    office: Office, shared: Path
) -> None:
    target = office.alice.home / "config.json"  # alice's own folder, 0700
    done = office.bob.run("--home", str(shared), "config", "export", str(target))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"The file {target} cannot be written" in done.stderr
    assert "Permission denied" in done.stderr and "nothing was written" in done.stderr
    assert not target.exists()
