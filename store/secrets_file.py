"""The encrypted secrets file: ``secrets.enc`` in the data folder, a keyring backend.

For a server with no usable OS keyring (no D-Bus session over SSH, cron, systemd).
The file holds one JSON object ``{"service\\x1fuser": secret}`` encrypted with
AES-256-GCM under a key derived from a passphrase with scrypt (the ``cryptography``
package); a wrong passphrase fails the GCM tag, so it is told apart from a damaged
file. The backend never prompts: it is unlocked by a passphrase (or the key a
parent process hands down) given to :func:`unlock`, and the key stays in this
process's memory only. Writes are atomic (temporary file, fsync, rename), under a
lock, mode 0600 (or the group mode the file already has).
"""

from __future__ import annotations

import base64
import json
import os
import secrets as _random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from store.errors import MailroomError
from store.permissions import file_mode

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

FILE_NAME = "secrets.enc"
_FORMAT = "mailroom-secrets"
_AAD = b"mailroom-secrets-v1"
# scrypt: 32 MiB of memory and ~0.1 s per unlock on a small server (RFC 7914 advice
# for interactive use is N=2**14..2**15 with r=8).
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
MIN_PASSPHRASE = 8

# path -> derived key: what "unlocked" means, for this process only.
_KEYS: dict[Path, bytes] = {}


class SecretsLocked(MailroomError):
    """The secrets file exists and its passphrase has not been given in this process."""


class WrongPassphrase(MailroomError):
    """The passphrase does not open the secrets file."""


class SecretsFileError(MailroomError):
    """The secrets file is missing, damaged, or cannot be written."""


def path_in(home: Path) -> Path:
    return home / FILE_NAME


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    return base64.b64decode(str(text).encode("ascii"), validate=True)


def _derive(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    kdf = Scrypt(salt=salt, length=32, n=params["n"], r=params["r"], p=params["p"])
    return kdf.derive(passphrase.encode("utf-8"))


VERSION = 1
# Limits on the key-derivation fields read from the file: a damaged (or hostile) file
# must not make an unlock take gigabytes or hours. Ours is n=2**15, r=8, p=1.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16


def _check_sum(raw: dict[str, Any]) -> str:
    """SHA-256 over every field but itself: tells a damaged file from a wrong passphrase
    (the GCM tag alone cannot: a changed salt also fails it)."""
    import hashlib

    body = {k: v for k, v in raw.items() if k != "check"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def _damaged(path: Path, what: str) -> SecretsFileError:
    return SecretsFileError(
        f"The secrets file {path} is damaged ({what}); it was not used.",
        field="secrets",
        value=str(path),
        fix="put back a copy of the file from your backup of it (Mailroom's backups "
        "never hold it); without one, `mailroom secrets init` in a new folder and set "
        "each password again.",
    )


def _validate(path: Path, raw: Any) -> dict[str, Any]:
    """The file's structure, every field, before any cryptography is tried."""
    if not isinstance(raw, dict) or raw.get("format") != _FORMAT:
        raise _damaged(path, "it is not a Mailroom secrets file")
    version = raw.get("version")
    if version != VERSION:
        raise SecretsFileError(
            f"The secrets file {path} is of version {version!r}, which this Mailroom does "
            f"not know (it reads version {VERSION}); it was not used.",
            field="secrets",
            value=str(version),
            fix="use the Mailroom that wrote it (a newer one?), or put back your copy of the file.",
        )
    if "check" in raw and raw["check"] != _check_sum(raw):
        raise _damaged(path, "its contents do not match their checksum")
    kdf = raw.get("kdf")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise _damaged(path, "its key derivation is not scrypt")
    try:
        n, r, p = (int(kdf[k]) for k in ("n", "r", "p"))
        salt = _unb64(kdf["salt"])
        nonce = _unb64(raw["nonce"])
        data = _unb64(raw["data"])
    except (KeyError, TypeError, ValueError):
        raise _damaged(path, "a field is missing or not what it should be") from None
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        raise _damaged(path, "its key-derivation settings are out of range")
    if len(salt) < 16 or len(nonce) != 12 or len(data) < 16:
        raise _damaged(path, "its salt, nonce or data has the wrong length")
    if raw.get("cipher") != "AES-256-GCM":
        raise _damaged(path, "its cipher is not AES-256-GCM")
    return raw


def _read(path: Path) -> dict[str, Any]:
    try:
        parsed = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise SecretsFileError(
            f"There is no secrets file at {path}.",
            field="secrets",
            value=str(path),
            fix="create it with `mailroom secrets init`.",
        ) from None
    except ValueError:
        raise _damaged(path, "it is not JSON") from None
    except OSError as exc:
        raise SecretsFileError(
            f"The secrets file {path} cannot be read ({exc.strerror}).",
            field="secrets",
            value=str(path),
            fix="check its permissions (`mailroom doctor`).",
        ) from None
    return _validate(path, parsed)


def _open(raw: dict[str, Any], key: bytes) -> dict[str, str]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        plain = AESGCM(key).decrypt(_unb64(raw["nonce"]), _unb64(raw["data"]), _AAD)
    except ValueError:
        raise SecretsFileError(
            "The secrets file is damaged (its nonce or data cannot be used); it was not used.",
            field="secrets",
            fix="put back a copy of the file from your backup of it.",
        ) from None
    except InvalidTag:
        raise WrongPassphrase(
            "That passphrase does not open the secrets file.",
            field="passphrase",
            fix="type the passphrase given at `mailroom secrets init` (or the latest "
            "`mailroom secrets change-passphrase`).",
        ) from None
    try:
        data = json.loads(plain)
        return {str(k): str(v) for k, v in data.items()}
    except (ValueError, AttributeError):
        raise SecretsFileError(
            "The secrets file is damaged (it opened, but its contents are not readable).",
            field="secrets",
            fix="put back a copy of the file from your backup of it.",
        ) from None


def _key_of(raw: dict[str, Any], passphrase: str) -> bytes:
    kdf = raw.get("kdf", {})
    params = {k: int(kdf[k]) for k in ("n", "r", "p")}
    return _derive(passphrase, _unb64(kdf["salt"]), params)


def _write(path: Path, key: bytes, salt: bytes, data: dict[str, str]) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from store.db import atomic_write_bytes

    nonce = _random.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(data).encode("utf-8"), _AAD)
    doc = {
        "format": _FORMAT,
        "version": 1,
        "kdf": {"name": "scrypt", "salt": _b64(salt), **_SCRYPT},
        "cipher": "AES-256-GCM",
        "nonce": _b64(nonce),
        "data": _b64(sealed),
    }
    doc["check"] = _check_sum(doc)
    mode = file_mode(path.parent)  # 0660 in a folder shared with a group (docs/sharing.md)
    try:
        atomic_write_bytes(path, json.dumps(doc, indent=1).encode("ascii"), mode=mode)
        os.chmod(path, mode)
    except OSError as exc:
        raise SecretsFileError(
            f"The secrets file {path} cannot be written ({exc.strerror}).",
            field="secrets",
            value=str(path),
            fix="check the data folder's permissions (`mailroom doctor`).",
        ) from None


def _lock(path: Path) -> FileLock:
    return FileLock(
        str(path.parent / f".{path.name}.lock"), timeout=30, mode=file_mode(path.parent)
    )


def _check_new(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise MailroomError(
            f"The passphrase is too short ({len(passphrase)} characters).",
            field="passphrase",
            fix=f"choose at least {MIN_PASSPHRASE} characters; a few unrelated words work well.",
        )


def create(path: Path, passphrase: str) -> None:
    """A new, empty secrets file, unlocked in this process."""
    _check_new(passphrase)
    with _lock(path):
        if path.exists():
            raise SecretsFileError(
                f"A secrets file exists already at {path}.",
                field="secrets",
                value=str(path),
                fix="unlock it with its passphrase, or change it with "
                "`mailroom secrets change-passphrase`.",
            )
        salt = _random.token_bytes(16)
        key = _derive(passphrase, salt, _SCRYPT)
        _write(path, key, salt, {})
    _KEYS[path] = key


def unlock(path: Path, passphrase: str) -> None:
    """Check the passphrase and keep the key for this process; WrongPassphrase if not."""
    raw = _read(path)
    key = _key_of(raw, passphrase)
    _open(raw, key)
    _KEYS[path] = key


def unlock_with_key(path: Path, key: bytes) -> None:
    """The key a parent process handed down (the TUI's detached sender)."""
    _open(_read(path), key)
    _KEYS[path] = key


def key_of_unlocked(path: Path) -> bytes | None:
    return _KEYS.get(path)


def lock(path: Path) -> None:
    _KEYS.pop(path, None)


def is_unlocked(path: Path) -> bool:
    return path in _KEYS


def change_passphrase(path: Path, old: str, new: str) -> None:
    _check_new(new)
    with _lock(path):
        raw = _read(path)
        data = _open(raw, _key_of(raw, old))
        salt = _random.token_bytes(16)
        key = _derive(new, salt, _SCRYPT)
        _write(path, key, salt, data)
    _KEYS[path] = key


def count(path: Path) -> int:
    return len(_contents(path))


def need_key(path: Path) -> bytes:
    key = _KEYS.get(path)
    if key is None:
        raise SecretsLocked(
            f"The secrets file {path} is locked.",
            field="secrets",
            value=str(path),
            fix="give its passphrase (the TUI asks for it; on the command line, at the "
            "prompt or with --passphrase-file PATH).",
        )
    return key


def _contents(path: Path) -> dict[str, str]:
    return _open(_read(path), need_key(path))


def _change(path: Path, name: str, value: str | None) -> None:
    key = need_key(path)
    with _lock(path):
        raw = _read(path)
        data = _open(raw, key)
        if value is None:
            if data.pop(name, None) is None:
                from keyring.errors import PasswordDeleteError

                raise PasswordDeleteError(name)
        else:
            data[name] = value
        _write(path, key, _unb64(raw["kdf"]["salt"]), data)


def keyring_backend(path: Path) -> KeyringBackend:
    """The ``keyring`` API over one secrets file; chosen by name, never by priority."""
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class EncryptedFileKeyring(KeyringBackend):
        priority = 0

        def get_password(self, service: str, username: str) -> str | None:
            if not path.exists():
                return None
            return _contents(path).get(f"{service}\x1f{username}")

        def set_password(self, service: str, username: str, password: str) -> None:
            _change(path, f"{service}\x1f{username}", password)

        def delete_password(self, service: str, username: str) -> None:
            if not path.exists():
                raise PasswordDeleteError(username)
            _change(path, f"{service}\x1f{username}", None)

    return EncryptedFileKeyring()  # type: ignore[no-untyped-call]
