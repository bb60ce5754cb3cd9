"""`mailroom doctor`: the demo (all OK, exit 0), a locked secrets file and a bad
letterhead (the right lines with their fix, exit 1); logins checked, nothing sent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mailing.changes import save_profile
from mailing.demo import load_demo
from store.records import LanguageCode, Profile
from store.store import Store
from tests.conftest import PYTHON, cli_env
from tests.secrets_support import PASSPHRASE, PASSWORD, real_secrets
from tests.smtp_server import SMTPTestServer

__all__ = ["real_secrets"]
LOGIN = "office@holt.example"


def _doctor(home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    done = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), *args, "doctor"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.splitlines()


def _line(lines: list[str], start: str) -> str:
    found = [ln for ln in lines if ln.startswith(start)]
    assert found, f"no line {start!r} in:\n" + "\n".join(lines)
    return found[0]


def test_the_demo_is_all_ok(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    load_demo(Store(home, "demo"))
    code, lines = _doctor(home)
    assert code == 0, "\n".join(lines)
    assert _line(lines, "OK    System profile").endswith("SYSTEM")
    assert _line(lines, "OK    Profile HOLT").endswith(f"delivers into {home / 'outbox'}")
    assert _line(lines, "OK    Letterhead HOLT/NL")
    assert _line(lines, "OK    Data folder").endswith("mode 700")
    assert lines[-1] == "Everything is ready."


@pytest.mark.usefixtures("real_secrets")
def test_a_locked_secrets_file_then_unlocked_by_a_credentials_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        store = Store(home, "admin")
        load_demo(store)
        from mailing.changes.secrets import create_secrets_file

        create_secrets_file(PASSPHRASE)
        profile = Profile.parse(
            {"code": "MAIL", "sender": LOGIN, "username": LOGIN, **server.profile_fields(tmp_path)}
        )
        save_profile(store, profile, None, PASSWORD)

        code, lines = _doctor(home)
        assert code == 1
        secrets = lines[lines.index(_line(lines, "FIX   Secrets")) :][:2]
        assert "locked" in secrets[0] and "no terminal" in secrets[0]
        assert "--passphrase-file" in secrets[1]
        assert _line(lines, "FIX   Profile MAIL")

        creds = tmp_path / "creds"
        creds.mkdir()
        (creds / "mailroom-passphrase").write_text(PASSPHRASE)
        code, lines = _doctor(home, env={"CREDENTIALS_DIRECTORY": str(creds)})
        assert code == 0, "\n".join(lines)
        assert "unlocked" in _line(lines, "OK    Secrets")
        mail = _line(lines, "OK    Profile MAIL")
        assert "logged in; nothing sent" in mail

        # A wrong password: the line says so and names the one command.
        from mailing.changes.secrets import unlock_secrets

        unlock_secrets(PASSPHRASE)
        save_profile(store, profile, "MAIL", "not-the-password")
        code, lines = _doctor(home, env={"CREDENTIALS_DIRECTORY": str(creds)})
        assert code == 1
        at = lines.index(_line(lines, "FIX   Profile MAIL"))
        assert lines[at + 1].strip() == "-> mailroom profile set-password MAIL"

    assert server.messages == []  # the doctor logs in and says goodbye: nothing sent
    assert any(login == LOGIN and ok for _, login, ok in server.auth_attempts)


def test_a_bad_letterhead_and_a_paused_send(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    store = Store(home, "demo")
    load_demo(store)
    lc = store.get(LanguageCode, "HOLT/NL")
    assert lc.first_background is not None
    ref = store.files.add_bytes("letterhead.pdf", b"%PDF-1.4\nnot really a PDF\n%%EOF\n")
    data = lc.dump()
    data["first_background"] = ref.model_dump()
    store.put(LanguageCode.model_validate(data))  # as data from before the rule existed
    from mailing.changes import set_sending_paused

    set_sending_paused(store, True, "month end")
    code, lines = _doctor(home, "--user", "demo")
    assert code == 1
    at = lines.index(_line(lines, "FIX   Letterhead HOLT/NL"))
    assert "Language codes (F4), HOLT/NL" in lines[at + 1]
    assert _line(lines, "OK    Letterhead HOLT/EN")
    assert _line(lines, "FIX   Sending: paused: month end")
    assert lines[-1].startswith("2 thing(s) to fix")


def test_a_template_no_language_code_uses_is_named_as_a_note(tmp_path: Path) -> None:
    """A new document template hooked to no language code is sent with no document: the
    doctor names it and where to hook it, as a note (it may be kept on purpose)."""
    from store.records import Template

    home = tmp_path / "demo"
    store = Store(home, "demo")
    load_demo(store)
    code, lines = _doctor(home)
    assert code == 0 and not any("Templates in use" in ln for ln in lines), "\n".join(lines)
    store.put(Template(code="INV-2027", name="Invoice 2027", subject="Invoice", body="<p>Hi</p>"))
    code, lines = _doctor(home)
    assert code == 0, "\n".join(lines)
    assert _line(lines, "OK    Templates in use") == (
        "OK    Templates in use: no language code uses the template INV-2027 yet, so no "
        "document is sent with it; to use it, choose it in Language codes (F4)"
    )
