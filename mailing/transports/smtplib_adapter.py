"""smtplib's private parts that Mailroom uses, in one place.

``tests/unit/test_library_internals.py`` pins exactly these, so a Python whose smtplib
changed them fails that test by name instead of a TLS handshake with the wrong name.

- ``SMTP._host``: the name ``starttls()`` (and ``SMTP_SSL``'s connect) gives the TLS
  layer to check the server's certificate against (SNI). Only the constructor sets
  it, and we construct without connecting (the connect is timed and its refusal
  worded by us).
"""

from __future__ import annotations

import smtplib


def set_tls_server_name(smtp: smtplib.SMTP, name: str) -> None:
    """The certificate of the server ``smtp`` connects to must be for ``name``."""
    smtp._host = name  # type: ignore[attr-defined]  # private in smtplib, see above
