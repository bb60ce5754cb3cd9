"""Composing the message body: text or HTML with the signature and the disclaimer."""

from __future__ import annotations

import re
from html import escape as html_escape


def compose_text(body: str, disclaimer: str = "", signature: str = "") -> str:
    parts = [body.strip("\n")]
    if signature.strip():
        parts.append(signature.strip("\n"))
    if disclaimer.strip():
        parts.append(disclaimer.strip("\n"))
    return "\n\n".join(p for p in parts if p) + "\n"


def last_body_close(html: str) -> int | None:
    """Where the last ``</body>`` starts, if any."""
    ends = [m.start() for m in re.finditer(r"</body\s*>", html, re.IGNORECASE)]
    return ends[-1] if ends else None


def compose_html(body: str, disclaimer: str = "", signature: str = "") -> str:
    """Body, signature (escaped text) and disclaimer as one HTML document."""
    extra = ""
    if signature.strip():
        sig = html_escape(signature.strip("\n")).replace("\n", "<br>\n")
        extra += f'\n<p class="signature">{sig}</p>'
    if disclaimer.strip():
        extra += (
            '\n<div class="disclaimer" style="margin-top:2em;font-size:smaller;color:#666666">'
            f"{disclaimer}</div>"
        )
    if re.search(r"<html[\s>]", body, re.I):
        end = last_body_close(body)
        if end is not None:
            return body[:end] + extra + "\n" + body[end:]
        return body + extra
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n</head>\n<body>\n'
        f"{body}{extra}\n</body>\n</html>\n"
    )
