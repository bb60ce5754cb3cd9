"""A server set up by script, from nothing to a first scheduled send, as the docs say.

The script block of docs/scheduled-sending.md runs under ``env -i`` (no terminal, no
keyring session, no MAILROOM_HOME) against a real SMTP server (tests/smtp_server.py,
STARTTLS and a login). Then the documented cron line (README and the guide) and the
systemd unit's ExecStart= run as written, their paths put in place, the unit with its
LoadCredential= given as systemd gives it ($CREDENTIALS_DIRECTORY, a private copy).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

from mailing.demo import load_demo
from store.records import Document
from store.store import Store
from tests.conftest import ROOT
from tests.smtp_server import SMTPTestServer

LOGIN = "facturen@holt.example"
PASSWORD = "smtp-pw-Headless-7"
MAILROOM = Path(ROOT / ".venv" / "bin" / "mailroom")
DOCUMENTED = "/opt/mailroom/.venv/bin/mailroom"


def _script() -> str:
    guide = (ROOT / "docs" / "scheduled-sending.md").read_text()
    found = re.search(r"<!-- headless-setup -->\n```sh\n(.*?)```", guide, re.S)
    assert found, "the script block is marked <!-- headless-setup --> in the guide"
    return found.group(1)


def _bare_env(home: Path, **extra: str) -> list[str]:
    """``env -i`` with what cron or systemd would give: HOME, LOGNAME, a short PATH."""
    pairs = {"HOME": str(home), "LOGNAME": "root", "PATH": "/usr/bin:/bin", **extra}
    return ["env", "-i", *(f"{k}={v}" for k, v in pairs.items())]


def _inputs(tmp: Path, server: SMTPTestServer) -> dict[str, str]:
    """What an office brings: a configuration exported from a trial installation (its
    profile pointed at the real server), the SMTP password and documents in files."""
    trial = Store(tmp / "trial", "trial")
    load_demo(trial)
    done = subprocess.run(
        [str(MAILROOM), "--home", str(trial.home), "config", "export"],
        capture_output=True,
        text=True,
        check=True,
    )
    config = json.loads(done.stdout)
    main = {
        "code": "MAIN",
        "description": "Invoices",
        "sender": LOGIN,
        "username": LOGIN,
        "sender_name": "Holt Installatietechniek",
        **server.profile_fields(tmp),
    }
    config["profiles"] = [main]
    config["system"]["profile"] = "MAIN"
    for admin in config["administrations"]:
        admin["profile"] = None
    config["users"] = []
    for t in config["templates"]:
        t["profile"] = None
        t["attachments"], t["images"] = [], []
    for lc in config["language_codes"]:
        lc["first_background"] = lc["second_background"] = None
    (tmp / "config.json").write_text(json.dumps(config))
    with trial.view(Document) as tx:
        docs = [
            d.dump()
            for d in tx.all(Document)
            if d.type == "sales_invoice" and d.administration == "HOLT"
        ][:4]
    (tmp / "documents.json").write_text(json.dumps({"documents": docs}, default=str))
    (tmp / "smtp-password").write_text(PASSWORD + "\n")
    (tmp / "smtp-password").chmod(0o600)
    etc = tmp / "etc" / "mailroom"
    etc.mkdir(parents=True)
    return {
        "MAILROOM": str(MAILROOM),
        "DATA": str(tmp / "srv" / "mailroom"),
        "PASSPHRASE_FILE": str(etc / "passphrase"),
        "SMTP_PASSWORD_FILE": str(tmp / "smtp-password"),
        "CONFIG_FILE": str(tmp / "config.json"),
        "DOCUMENTS_FILE": str(tmp / "documents.json"),
    }


def _approved(data: Path) -> tuple[str, int]:
    batches = [p for p in (data / "spool").iterdir() if (p / "batch.json").is_file()]
    assert len(batches) == 1
    return batches[0].name, len(list((batches[0] / "approved").glob("*.eml")))


def _documented(line: str, data: str, passphrase: str) -> str:
    return (
        line.replace(DOCUMENTED, str(MAILROOM))
        .replace("/srv/mailroom", data)
        .replace("/etc/mailroom/passphrase", passphrase)
    )


def test_from_nothing_to_a_first_scheduled_send_by_the_documented_script(
    tmp_path: Path,
) -> None:
    assert MAILROOM.exists()
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        given = _inputs(tmp_path, server)
        later = (dt.datetime.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        home = tmp_path / "root-home"
        home.mkdir()
        script = tmp_path / "setup.sh"
        script.write_text(_script())
        done = subprocess.run(
            [*_bare_env(home, **given, NOT_BEFORE=later), "/bin/sh", str(script)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        data = Path(given["DATA"])
        batch, approved = _approved(data)
        assert approved >= 1
        assert f"Batch {batch} goes out from {later}" in done.stdout
        assert "Everything is ready." in done.stdout  # the doctor, logged in
        assert server.messages == []  # nothing sent yet: the doctor only logged in
        passphrase = Path(given["PASSPHRASE_FILE"])
        assert passphrase.stat().st_mode & 0o777 == 0o600
        assert PASSWORD.encode() not in b"".join(
            p.read_bytes() for p in data.rglob("*") if p.is_file()
        )

        # The cron line, as the guide writes it: not due yet, so nothing goes.
        guide = (ROOT / "docs" / "scheduled-sending.md").read_text()
        cron = re.search(r"^\*/5(?:\s+\*){4}\s+(.+)$", guide, re.M)
        assert cron, "the guide has a cron line"
        command = _documented(cron.group(1), str(data), str(passphrase))
        early = subprocess.run(
            [*_bare_env(home, SHELL="/bin/sh"), "/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert early.returncode == 0, early.stdout + early.stderr
        assert server.messages == []
        assert "send-due.log" in command and (data / "send-due.log").exists()

        # The README's cron line (the passphrase under ~/.config), as written.
        readme = (ROOT / "README.md").read_text()
        line = re.search(r"```cron\n0 7 \* \* 1-5\s+(.+)\n```", readme)
        assert line, "the README's server section has its cron line"
        assert "--home /srv/mailroom" in line.group(1)
        private = home / ".config" / "mailroom"
        private.mkdir(parents=True, mode=0o700)
        shutil.copy(passphrase, private / "passphrase")
        readme_command = _documented(line.group(1), str(data), str(passphrase))
        by_readme = subprocess.run(
            [*_bare_env(home, SHELL="/bin/sh"), "/bin/sh", "-c", readme_command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert by_readme.returncode == 0, by_readme.stdout + by_readme.stderr
        assert server.messages == []
        assert f"batch {batch} waits until" in (home / "mailroom-send.log").read_text()

        # An administrator moves the time to now; the systemd unit's run sends it.
        moved = subprocess.run(
            [
                str(MAILROOM),
                "--home",
                str(data),
                "batch",
                "schedule",
                batch,
                dt.datetime.now().strftime("%Y-%m-%dT%H:%M"),
            ],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
        )
        assert moved.returncode == 0, moved.stderr
        unit = (ROOT / "docs" / "mailroom-send.service").read_text()
        name, source = re.search(r"^LoadCredential=([^:]+):(.+)$", unit, re.M).groups()
        assert source == "/etc/mailroom/passphrase" and name == "mailroom-passphrase"
        creds = tmp_path / "credentials"  # what systemd makes: private, read-only copy
        creds.mkdir(mode=0o700)
        shutil.copy(passphrase, creds / name)
        (creds / name).chmod(0o400)
        exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M).group(1)
        run = subprocess.run(
            [
                *_bare_env(home, CREDENTIALS_DIRECTORY=str(creds)),
                "/bin/sh",
                "-c",
                _documented(exec_start, str(data), str(passphrase)),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert len(server.messages) == approved
        assert {m.login for m in server.messages} == {LOGIN}

        # The next cron run finds nothing more to send.
        again = subprocess.run(
            [*_bare_env(home, SHELL="/bin/sh"), "/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert again.returncode == 0
        assert len(server.messages) == approved
