"""Every bad input a person can type is one sentence naming the field, the value and
the fix, with exit code 2: never a traceback, never exit 70 (a crash), never a crash
report. One table; each row is a real run of the command line."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import PYTHON, cli_env
from tests.secrets_support import PASSPHRASE

Setup = Callable[[Path, Path], None]  # (data folder, a scratch folder)


def _nothing(home: Path, scratch: Path) -> None:
    return None


def _secrets_file(home: Path, scratch: Path, change: Callable[[dict], None]) -> None:
    raw = json.loads((home / "secrets.enc").read_text())
    change(raw)
    (home / "secrets.enc").write_text(json.dumps(raw))


def _edit(change: Callable[[dict], None]) -> Setup:
    return lambda home, scratch: _secrets_file(home, scratch, change)


def _b64_flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 0xFF
    return base64.b64encode(bytes(raw)).decode()


def _set(raw: dict, key: str, value: object) -> None:
    raw[key] = value


def _set_kdf(raw: dict, key: str, value: object) -> None:
    raw["kdf"][key] = value


def _latin1_file(home: Path, scratch: Path) -> None:
    path = scratch / "latin1-passphrase"
    path.write_bytes("geheim-wachtwoord-é\n".encode("latin-1"))
    path.chmod(0o600)


def _a_fifo(home: Path, scratch: Path) -> None:
    os.mkfifo(scratch / "a-pipe")


@dataclass
class Case:
    name: str
    args: list[str]
    says: list[str]
    setup: Setup = _nothing
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None
    needs_secrets: bool = False


CASES = [
    Case(
        "schedule in the year 1",
        ["batch", "schedule", "{batch}", "0001-01-01T00:00"],
        ["not before", "lies outside the years 1970 to 2999", "'0001-01-01T00:00'", "Fix:"],
    ),
    Case(
        "schedule in 9999 in a +14 zone (local time)",
        ["batch", "schedule", "{batch}", "9999-12-31T23:59"],
        ["lies outside the years 1970 to 2999", "'9999-12-31T23:59'"],
        env={"TZ": "Pacific/Kiritimati"},
    ),
    Case(
        "schedule in 9999 with a +14 offset",
        ["batch", "schedule", "{batch}", "9999-12-31T23:59+14:00"],
        ["lies outside the years 1970 to 2999"],
    ),
    Case(
        "schedule with words",
        ["batch", "schedule", "{batch}", "next tuesday"],
        ["is not a date and time", "'next tuesday'"],
    ),
    Case(
        "approve with a time in the year 1 approves nothing",
        ["batch", "approve", "{batch}", "--not-before", "0001-01-01T00:00"],
        ["lies outside the years 1970 to 2999"],
    ),
    Case(
        "audit since a trillion days",
        ["audit", "--since", "999999999999d"],
        ["'999999999999d' is not a date", "since", "Fix:"],
    ),
    Case(
        "a passphrase file that is not UTF-8",
        ["--passphrase-file", "{scratch}/latin1-passphrase", "secrets", "unlock"],
        ["is not UTF-8 text", "latin1-passphrase", "Fix:"],
        setup=_latin1_file,
        needs_secrets=True,
    ),
    Case(
        "a new passphrase on stdin that is not UTF-8",
        ["secrets", "init", "--passphrase-stdin"],
        ["passphrase given on stdin is not UTF-8 text"],
        stdin="geheim-wachtwoord-é\n".encode("latin-1"),
    ),
    Case(
        "a password on stdin that is not UTF-8",
        ["profile", "set-password", "SYSTEM", "--password-stdin"],
        ["password given on stdin is not UTF-8 text", "nothing was stored"],
        stdin=b"\xff\xfe-pw\n",
    ),
    Case(
        "no password on stdin",
        ["profile", "set-password", "SYSTEM", "--password-stdin"],
        ["No password was given", "--password-stdin"],
        stdin=b"",
    ),
    Case(
        "secrets file: salt damaged",
        ["secrets", "unlock"],
        ["is damaged", "do not match their checksum", "backup"],
        setup=_edit(lambda raw: _set_kdf(raw, "salt", _b64_flip(raw["kdf"]["salt"]))),
        needs_secrets=True,
    ),
    Case(
        "secrets file: scrypt n not a power of two",
        ["secrets", "unlock"],
        ["is damaged", "key-derivation settings are out of range"],
        setup=_edit(lambda raw: (_set_kdf(raw, "n", 3), raw.pop("check"))),
        needs_secrets=True,
    ),
    Case(
        "secrets file: scrypt n of a gigabyte and more",
        ["secrets", "unlock"],
        ["is damaged", "out of range"],
        setup=_edit(lambda raw: (_set_kdf(raw, "n", 2**30), raw.pop("check"))),
        needs_secrets=True,
    ),
    Case(
        "secrets file: salt not base64",
        ["secrets", "unlock"],
        ["is damaged", "a field is missing or not what it should be"],
        setup=_edit(lambda raw: (_set_kdf(raw, "salt", "%%%"), raw.pop("check"))),
        needs_secrets=True,
    ),
    Case(
        "secrets file: nonce of the wrong length",
        ["secrets", "unlock"],
        ["is damaged", "wrong length"],
        setup=_edit(lambda raw: (_set(raw, "nonce", "AAAA"), raw.pop("check"))),
        needs_secrets=True,
    ),
    Case(
        "secrets file: data changed",
        ["secrets", "unlock"],
        ["is damaged", "checksum"],
        setup=_edit(lambda raw: _set(raw, "data", _b64_flip(raw["data"]))),
        needs_secrets=True,
    ),
    Case(
        "secrets file: data cut short",
        ["secrets", "unlock"],
        ["is damaged", "wrong length"],
        setup=_edit(lambda raw: (_set(raw, "data", "AAAA"), raw.pop("check"))),
        needs_secrets=True,
    ),
    Case(
        "secrets file: version 99",
        ["secrets", "unlock"],
        ["is of version 99", "reads version 1"],
        setup=_edit(lambda raw: _set(raw, "version", 99)),
        needs_secrets=True,
    ),
    Case(
        "secrets file: not JSON",
        ["secrets", "unlock"],
        ["is damaged", "not JSON"],
        setup=lambda home, scratch: (home / "secrets.enc").write_text("{"),
        needs_secrets=True,
    ),
    Case(
        "config export into a folder that does not exist",
        ["config", "export", "{scratch}/no/such/folder/config.json"],
        ["cannot be written", "does not exist", "nothing was written"],
    ),
    Case(
        "config export under a file",
        ["config", "export", "{scratch}/a-file/config.json"],
        ["cannot be written", "nothing was written"],
        setup=lambda home, scratch: (scratch / "a-file").write_text("x"),
    ),
    Case(
        "config export onto a folder",
        ["config", "export", "{scratch}"],
        ["is a folder", "nothing was written"],
    ),
    Case(
        "config export onto a pipe",
        ["config", "export", "{scratch}/a-pipe"],
        ["is not a regular file"],
        setup=_a_fifo,
    ),
    Case(
        "a data folder that does not exist",
        ["--home", "{scratch}/typo", "send", "--due"],
        ["does not exist", "nothing was done", "init"],
    ),
    Case(
        "--user in an office folder",
        ["--user", "someone-else", "batch", "list"],
        ["--user someone-else is refused", "leave out --user"],
    ),
    Case(
        "an approval rule nobody knows",
        ["settings", "set", "--approval", "whoever"],
        ["approval", "'whoever'", "same-user", "other-user"],
    ),
    Case(
        "an administration that does not exist",
        ["settings", "set", "--admin-profile", "NOPE=SYSTEM"],
        ["administration NOPE", "no administration has this code"],
    ),
    Case(
        "an admin profile without =",
        ["settings", "set", "--admin-profile", "HOLT"],
        ["names no administration", "ADMIN=CODE"],
    ),
    Case(
        "the screen application without a terminal",
        [],
        ["is not a terminal", "ssh -t"],
    ),
]


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo with a reminder batch built: copied afresh for every row."""
    home = tmp_path_factory.mktemp("office") / "home"
    run = _runner(home)
    assert run(["demo", "--no-tui"]).returncode == 0
    made = run(["batch", "create", "--type", "reminder"])
    assert made.returncode == 0, made.stderr
    return home, made.stdout.decode().split()[0]


def _runner(home: Path) -> Callable[..., subprocess.CompletedProcess[bytes]]:
    def run(
        args: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        with_home = args if "--home" in args else ["--home", str(home), *args]
        return subprocess.run(
            [PYTHON, "-m", "tui", *with_home],
            input=stdin if stdin is not None else None,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            env=cli_env({"PYTHONDONTWRITEBYTECODE": "1", **(env or {})}),
            timeout=300,
        )

    return run


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_a_sentence_and_exit_2(
    case: Case, office: tuple[Path, str], tmp_path: Path
) -> None:
    import shutil

    source, batch = office
    home = tmp_path / "home"
    shutil.copytree(source, home, symlinks=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = dict(case.env)
    if case.needs_secrets:
        env.update(_real_secrets(home, scratch))
    case.setup(home, scratch)
    args = [a.format(batch=batch, scratch=scratch) for a in case.args]
    before = sorted(p.name for p in (home / "spool" / batch / "approved").iterdir())
    done = _runner(home)(args, env=env, stdin=case.stdin)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, (done.returncode, err, done.stdout.decode())
    assert "Traceback" not in err and "unexpected error" not in err, err
    assert err.startswith("error: ") and err.count("error: ") == 1, err
    for words in case.says:
        assert words in err, (words, err)
    assert not (home / "crash-reports").exists()
    assert not (scratch / "typo").exists()
    after = sorted(p.name for p in (home / "spool" / batch / "approved").iterdir())
    assert after == before  # e.g. a refused --not-before approved nothing
    assert PASSPHRASE not in err


def _real_secrets(home: Path, scratch: Path) -> dict[str, str]:
    """The data folder's real encrypted secrets file, its passphrase in a file."""
    passfile = scratch / "passphrase"
    passfile.write_text(PASSPHRASE + "\n")
    passfile.chmod(0o600)
    made = subprocess.run(
        [
            PYTHON,
            "-m",
            "tui",
            "--home",
            str(home),
            "secrets",
            "init",
            "--passphrase-file",
            str(passfile),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in cli_env().items() if k != "PYTHON_KEYRING_BACKEND"},
    )
    assert made.returncode == 0, made.stderr
    return {"PYTHON_KEYRING_BACKEND": "", "MAILROOM_PASSPHRASE_FILE": str(passfile)}
