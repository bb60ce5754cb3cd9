"""Delivery reports in the shapes real mail systems write them, for the bounce tests.

Modelled on what Postfix, Exchange Online, Gmail and qmail send (and on the samples
of flufl.bounce's own test corpus): the same MIME structure, the same fields, the
same wording; only the addresses, ids and dates are ours.
"""

from __future__ import annotations

SENDER = "billing@sender.example"
DATE = "Tue, 01 Dec 2026 09:14:03 +0100"


def _crlf(text: str) -> bytes:
    return text.lstrip("\n").replace("\r\n", "\n").replace("\n", "\r\n").encode()


def postfix_dsn(envid: str, message_id: str, rcpt: str, subject: str = "Invoice") -> bytes:
    """Postfix's RFC 3464 report: our ENVID, the recipient's 550 5.1.1, the headers."""
    return _crlf(f"""
Return-Path: <>
Received: by mail.sender.example (Postfix) id 4F1A2B3C4D; {DATE}
Date: {DATE}
From: MAILER-DAEMON@mail.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {SENDER}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4F1A2B3C4D.1764576843/mail.sender.example"
Content-Transfer-Encoding: 7bit
Message-Id: <20261201081403.5E6F7A8B9C@mail.sender.example>

This is a MIME-encapsulated message.

--4F1A2B3C4D.1764576843/mail.sender.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.sender.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{rcpt}>: host mx.example.com[192.0.2.25] said: 550 5.1.1
    <{rcpt}>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--4F1A2B3C4D.1764576843/mail.sender.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.sender.example
X-Postfix-Queue-ID: 4F1A2B3C4D
X-Postfix-Sender: rfc822; {SENDER}
Arrival-Date: {DATE}
Original-Envelope-Id: {envid}

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User
    unknown in virtual mailbox table

--4F1A2B3C4D.1764576843/mail.sender.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{SENDER}>
Received: from office (office.sender.example [192.0.2.10])
	by mail.sender.example (Postfix) with ESMTPSA id 4F1A2B3C4D
	for <{rcpt}>; {DATE}
From: {SENDER}
To: {rcpt}
Subject: {subject}
Message-ID: {message_id}
Date: {DATE}

--4F1A2B3C4D.1764576843/mail.sender.example--
""")


def exchange_online_ndr(message_id: str, rcpt: str, subject: str = "Invoice") -> bytes:
    """Exchange Online's non-delivery report: no ENVID, the original attached whole."""
    return _crlf(f"""
Return-Path: <>
From: Microsoft Outlook
 <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@sender.onmicrosoft.com>
To: <{SENDER}>
Date: {DATE}
Subject: Undeliverable: {subject}
Content-Type: multipart/report; report-type=delivery-status;
	boundary="b6d2f3a8-27f1-4c9e-93b5-0d1e2f3a4b5c"
Content-Language: en-US
Message-ID: <0f3e8f2a-1b2c-4d5e-8f90-a1b2c3d4e5f6@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>
In-Reply-To: {message_id}
References: {message_id}
MIME-Version: 1.0
Auto-Submitted: auto-replied
X-MS-Exchange-Message-Is-Ndr:

--b6d2f3a8-27f1-4c9e-93b5-0d1e2f3a4b5c
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

Your message to {rcpt} couldn't be delivered.
{rcpt.split("@")[0]} wasn't found at {rcpt.split("@")[1]}.

billing    Office 365    {rcpt.split("@")[0]}
Action Required                 Recipient
Unknown To address

How to Fix It
The address may be misspelled or may not exist.

Diagnostic information for administrators:
Generating server: AM0PR01MB1234.eurprd01.prod.exchangelabs.com
{rcpt}
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not
 found by SMTP address lookup'

--b6d2f3a8-27f1-4c9e-93b5-0d1e2f3a4b5c
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;AM0PR01MB5678.eurprd01.prod.exchangelabs.com
Arrival-Date: {DATE}

Final-Recipient: rfc822;{rcpt}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not
 found by SMTP address lookup

--b6d2f3a8-27f1-4c9e-93b5-0d1e2f3a4b5c
Content-Type: message/rfc822

From: {SENDER}
To: {rcpt}
Subject: {subject}
Message-ID: {message_id}
Date: {DATE}
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

Invoice attached.

--b6d2f3a8-27f1-4c9e-93b5-0d1e2f3a4b5c--
""")


def gmail_delay(message_id: str, rcpt: str, subject: str = "Invoice") -> bytes:
    """Gmail's "Delivery Status Notification (Delay)": a soft (temporary) failure."""
    return _crlf(f"""
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {SENDER}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Delay)
Date: {DATE}
Message-ID: <66f1e2d3.050a0220.1b2c3d.0001.GMR@mx.google.com>
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000a1b2c3d4e5f60718";
	report-type=delivery-status

--000000000000a1b2c3d4e5f60718
Content-Type: text/plain; charset="UTF-8"

** Delivery incomplete **

There was a temporary problem delivering your message to {rcpt}. Gmail will
retry for 46 more hours. You'll be notified if the delivery fails permanently.

The response from the remote server was:
452 4.2.2 The email account that you tried to reach is over quota.

--000000000000a1b2c3d4e5f60718
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Arrival-Date: {DATE}

Final-Recipient: rfc822; {rcpt}
Action: delayed
Status: 4.2.2
Remote-MTA: dns; mx.example.org. (192.0.2.33, the server for the domain example.org.)
Diagnostic-Code: smtp; 452 4.2.2 The email account that you tried to reach is over quota.
Last-Attempt-Date: {DATE}
Will-Retry-Until: Thu, 03 Dec 2026 09:14:03 -0800 (PST)

--000000000000a1b2c3d4e5f60718
Content-Type: text/rfc822-headers

From: {SENDER}
To: {rcpt}
Subject: {subject}
Message-ID: {message_id}
Date: {DATE}

--000000000000a1b2c3d4e5f60718--
""")


def qmail_failure(message_id: str, rcpt: str, subject: str = "Invoice") -> bytes:
    """qmail's plain-text "failure notice": not RFC 3464; the original quoted below."""
    return _crlf(f"""
Return-Path: <>
Date: {DATE}
From: MAILER-DAEMON@mx.example.net
To: {SENDER}
Subject: failure notice
Message-ID: <qmail.1764576843.77123@mx.example.net>

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{rcpt}>:
192.0.2.7 does not like recipient.
Remote host said: 550 5.1.1 <{rcpt}>... User unknown
Giving up on 192.0.2.7.

--- Below this line is a copy of the message.

Return-Path: <{SENDER}>
Received: (qmail 77121 invoked from network); {DATE}
From: {SENDER}
To: {rcpt}
Subject: {subject}
Message-ID: {message_id}
Date: {DATE}

Invoice attached.
""")


def ordinary_mail() -> bytes:
    return _crlf(f"""
From: Klant <klant@example.com>
To: {SENDER}
Subject: Re: Invoice
Date: {DATE}
Message-ID: <reply.1@example.com>

Thank you, we will pay on Friday.
""")
