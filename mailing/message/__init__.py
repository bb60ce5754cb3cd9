"""Building the MIME message that is spooled, previewed and sent (SPEC §2, §7).

The structure, with ``policy.SMTP`` (CRLF line ends, headers folded and encoded)::

    multipart/mixed                      only when there are attachments
      multipart/alternative              only when the message has HTML
        text/plain                       made from the HTML (mailing.render.html_to_text)
        multipart/related                only when images are embedded
          text/html                      <img src="cid:..."> for each embedded image
          image/*                        Content-ID, inline
      application/pdf ...                attachments, in the order given

**Bcc.** No Bcc header is written: the bytes of a message are exactly what goes to
the server, and a Bcc header there would show the blind copies to everyone. The
Bcc addresses travel in the envelope only: :func:`envelope_recipients` gives To,
Cc and Bcc for ``RCPT TO``; the spool keeps them in the item's side-car
(``meta/<item>.json`` → ``envelope.rcpts``), never in the ``.eml``.

**Header injection.** Every header value (subject, display names, file names,
extra headers) is checked with :func:`mailing.addresses.check_header_value` and
every address with :func:`mailing.addresses.check_address`, naming its field: a
``\\r\\nBcc: x@y`` in a relation name or subject is refused, never written.

**Internationalised addresses.** A non-ASCII domain is written in its IDNA (``xn--``)
form. A non-ASCII local part (``jürgen@…``) cannot be written in 7-bit headers:
the message is then built with ``policy.SMTPUTF8`` and :func:`needs_smtputf8` says
so; the transport must send it with the SMTPUTF8 extension, and refuse clearly when
the server does not offer it. ``allow_smtputf8=False`` refuses such addresses here.

The modules, each one idea:

- ``parts``: what a message is made of (:class:`Attachment`, :class:`InlineImage`), and
  :class:`MessageSpec`, one whole message as the caller means it.
- ``address``: addresses checked for headers (IDNA, SMTPUTF8), and :func:`make_message_id`.
- ``images``: ``cid:``/``file:`` references in the HTML rewritten to Content-IDs.
- ``prepare``: every check of a message, in order, before it is written.
- ``build``: :func:`build_message` (an EmailMessage) and :func:`build_message_bytes`,
  each of one :class:`MessageSpec`.
- ``fast_mime``: the 7-bit message written straight to bytes, as ``policy.SMTP`` would.
- ``envelope``: what sending needs: :func:`message_to_bytes`, :func:`needs_smtputf8`,
  :func:`envelope_recipients`, :func:`envelope_sender`.
"""

from mailing.message.address import make_message_id
from mailing.message.build import _email_message, build_message, build_message_bytes
from mailing.message.envelope import (
    envelope_recipients,
    envelope_sender,
    message_to_bytes,
    needs_smtputf8,
)
from mailing.message.parts import AddressInput, Attachment, InlineImage, MessageSpec
from mailing.message.prepare import _prepare

__all__ = [
    "AddressInput",
    "Attachment",
    "InlineImage",
    "MessageSpec",
    "_email_message",
    "_prepare",
    "build_message",
    "build_message_bytes",
    "envelope_recipients",
    "envelope_sender",
    "make_message_id",
    "message_to_bytes",
    "needs_smtputf8",
]
