"""Office 365: OAuth 2.0 device-code sign-in with msal, and SMTP AUTH XOAUTH2.

- ``mailroom profile login CODE`` calls :func:`start_device_login` (prints the
  URL and the code; it suits SSH, no browser on the server) and then
  :func:`finish_device_login`, which waits for the sign-in.
- The msal token cache is serialised into the keyring (secret kind
  ``oauth-cache``), never into the data folder.
- Before connecting, :func:`get_access_token` asks msal for a token silently,
  refreshing it with the refresh token when needed. An expired or revoked
  refresh token is reported as such; there is never a fall-back to a password.
"""

from __future__ import annotations

import logging
import smtplib
from pathlib import Path
from typing import Any

from mailing.transports import TransportError, error_for_reply
from mailing.transports.diagnosis import Diagnosis
from mailing.transports.smtp_connect import Login, reply_text
from store.records import Profile

log = logging.getLogger("mailroom.office365")

AUTHORITY_HOST = "https://login.microsoftonline.com"
SCOPES = ["https://outlook.office.com/SMTP.Send"]
# Reading the mailbox for delivery reports (`mailroom bounces fetch`): asked for at
# sign-in together with SMTP.Send, and requested on its own when reading.
IMAP_SCOPES = ["https://outlook.office.com/IMAP.AccessAsUser.All"]


def _auth_error(
    profile: Profile, key: str, title: str, explanation: str, fix: str
) -> TransportError:
    diag = Diagnosis(title=title, explanation=explanation, fix=fix, raw="", key=key)
    return TransportError("auth", diag, stage="oauth", profile=profile.code)


def _check(profile: Profile) -> None:
    if profile.auth != "oauth2-office365":
        raise _auth_error(
            profile,
            "config",
            f"Profile {profile.code!r} does not use Office 365 sign-in",
            f"Its authentication is {profile.auth!r}.",
            f"`mailroom profile set {profile.code} --auth oauth2-office365`.",
        )
    if not profile.oauth_client_id:
        raise _auth_error(
            profile,
            "config",
            f"Profile {profile.code!r} has no application (client) id",
            "Office 365 sign-in needs the id of an app registration in the tenant, with "
            "the delegated permission SMTP.Send and 'Allow public client flows' on.",
            f"`mailroom profile set {profile.code} --oauth-client-id ID --oauth-tenant TENANT`.",
        )


def _authority(profile: Profile) -> str:
    host = (profile.oauth_authority or AUTHORITY_HOST).rstrip("/")
    return f"{host}/{profile.oauth_tenant or 'organizations'}"


class _App:
    """A msal PublicClientApplication with its cache loaded from the keyring."""

    def __init__(self, profile: Profile, http_client: Any = None) -> None:
        import msal

        from store.secrets import get_secret

        _check(profile)
        self.profile = profile
        self.cache = msal.SerializableTokenCache()
        state = get_secret(profile.code, "oauth-cache")
        if state:
            try:
                self.cache.deserialize(state)
            except ValueError:
                log.warning("profile %s: the stored sign-in could not be read", profile.code)
        kwargs: dict[str, Any] = {"token_cache": self.cache, "timeout": profile.timeout_seconds}
        if http_client is not None:
            kwargs["http_client"] = http_client
        if profile.oauth_authority:
            kwargs["instance_discovery"] = False
        try:
            self.app = msal.PublicClientApplication(
                profile.oauth_client_id, authority=_authority(profile), **kwargs
            )
        except ValueError as exc:
            raise _auth_error(
                profile,
                "oauth-authority",
                "The Microsoft sign-in service does not know this tenant",
                f"{exc}".split(". ")[0] + ".",
                "Check the profile's oauth_tenant (tenant id or domain) and that the "
                "computer can reach login.microsoftonline.com.",
            ) from None
        except OSError as exc:
            raise _auth_error(
                profile,
                "oauth-network",
                "The Microsoft sign-in service cannot be reached",
                f"{type(exc).__name__}.",
                "Check the network connection (and proxy) to login.microsoftonline.com.",
            ) from None

    def save(self) -> None:
        from store.secrets import set_secret

        if self.cache.has_state_changed:
            set_secret(self.profile.code, "oauth-cache", self.cache.serialize())
            self.cache.has_state_changed = False


def start_device_login(profile: Profile, home: Path, *, http_client: Any = None) -> dict[str, Any]:
    """Begin the device-code sign-in; the flow holds verification_uri, user_code,
    expires_in and a ready ``message`` to show the user."""
    app = _App(profile, http_client)
    flow: dict[str, Any] = app.app.initiate_device_flow(scopes=[*SCOPES, *IMAP_SCOPES])
    if "user_code" not in flow:
        raise _auth_error(
            profile,
            "oauth-device-flow",
            "Microsoft did not start the sign-in",
            f"The answer was: {flow.get('error', '')} {flow.get('error_description', '')}"[:400],
            "Check the app registration allows public client flows (device code), and "
            "the profile's client id and tenant.",
        )
    return flow


def finish_device_login(
    profile: Profile, home: Path, flow: dict[str, Any], *, http_client: Any = None
) -> str:
    """Wait until the user signed in (or the code expired); keep the tokens in the
    keyring. Returns the account's user name."""
    app = _App(profile, http_client)
    result: dict[str, Any] = app.app.acquire_token_by_device_flow(flow)
    if "access_token" not in result:
        error = str(result.get("error", ""))
        desc = str(result.get("error_description", "")).split("\r\n")[0][:300]
        if error == "expired_token":
            title, fix = "The sign-in code expired", "run `mailroom profile login CODE` again."
        elif error in ("authorization_declined", "access_denied"):
            title, fix = "The sign-in was declined", "run the login again and accept."
        else:
            title = "The Microsoft sign-in failed"
            fix = "check the app registration, tenant and client id, then log in again."
        raise _auth_error(profile, f"oauth-{error or 'failed'}", title, f"{error}: {desc}", fix)
    app.save()
    claims = result.get("id_token_claims") or {}
    user = str(claims.get("preferred_username") or profile.username)
    log.info("profile %s: signed in to Office 365 as %s", profile.code, user)
    return user


def get_access_token(
    profile: Profile, home: Path, *, http_client: Any = None, scopes: list[str] | None = None
) -> tuple[str, str]:
    """(user name, access token) from the cache, refreshed silently when needed;
    for sending (``SCOPES``) unless ``scopes`` says otherwise (``IMAP_SCOPES``)."""
    app = _App(profile, http_client)
    accounts = app.app.get_accounts(username=profile.username or None)
    if not accounts:
        raise _auth_error(
            profile,
            "oauth-not-signed-in",
            f"Profile {profile.code!r} is not signed in to Office 365",
            "No sign-in is stored for this profile"
            + (f" and user {profile.username}" if profile.username else "")
            + ".",
            f"run `mailroom profile login {profile.code}`.",
        )
    account = accounts[0]
    try:
        result = app.app.acquire_token_silent_with_error(scopes or SCOPES, account=account)
    except OSError as exc:
        raise _auth_error(
            profile,
            "oauth-network",
            "The Microsoft sign-in service cannot be reached",
            f"Refreshing the token failed ({type(exc).__name__}).",
            "Check the network connection to login.microsoftonline.com.",
        ) from None
    if not result or "access_token" not in result:
        error = str((result or {}).get("error", ""))
        desc = str((result or {}).get("error_description", "")).split("\r\n")[0][:300]
        if error in ("invalid_grant", "interaction_required", "") or not result:
            raise _auth_error(
                profile,
                "oauth-refresh-expired",
                "The Office 365 sign-in has expired",
                "The stored refresh token was refused (expired, revoked, or the password "
                f"changed){': ' + desc if desc else ''}.",
                f"sign in again with `mailroom profile login {profile.code}`.",
            )
        raise _auth_error(
            profile,
            f"oauth-{error}",
            "The Office 365 token could not be refreshed",
            f"{error}: {desc}",
            f"sign in again with `mailroom profile login {profile.code}`.",
        )
    app.save()
    user = profile.username or str(account.get("username", ""))
    return user, str(result["access_token"])


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def _authenticate(
    smtp: smtplib.SMTP, profile: Profile, home: Path, http_client: Any
) -> TransportError | None:
    """Do AUTH XOAUTH2; return the error instead of raising it, so that no frame
    holding the token is ever part of a traceback."""
    user, token = get_access_token(profile, home, http_client=http_client)
    calls = 0

    def answer(challenge: bytes | None = None) -> str:
        nonlocal calls
        calls += 1
        # After a refusal the server sends a 334 with an error; answer empty.
        return xoauth2_string(user, token) if calls == 1 else ""

    try:
        smtp.auth("XOAUTH2", answer, initial_response_ok=True)
    except smtplib.SMTPResponseException as exc:
        return error_for_reply(
            exc.smtp_code, reply_text(exc.smtp_error), stage="auth", profile=profile
        )
    return None


def xoauth2_login(profile: Profile, home: Path, *, http_client: Any = None) -> Login:
    def login(smtp: smtplib.SMTP) -> None:
        error = _authenticate(smtp, profile, home, http_client)
        if error is not None:
            raise error

    return login
