"""Digest by e-mail: a multipart/alternative message (plain text + HTML) sent through the SMTP
server the settings name (host, port, STARTTLS/SSL/none, optional login)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid

from newsdesk.errors import NewsdeskError
from newsdesk.process.addresses import check_address
from newsdesk.settings import Settings

SMTP_TIMEOUT = 30.0


def build_message(
    *, sender: str, recipients: Sequence[str], subject: str, text: str, html: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = sender.rpartition("@")[2] or "newsdesk.invalid"
    message["Message-ID"] = make_msgid("newsdesk", domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _require_server(settings: Settings) -> None:
    if not settings.smtp_host:
        raise NewsdeskError(
            "no SMTP server: set NEWSDESK_SMTP_HOST (and NEWSDESK_SMTP_PORT, "
            "NEWSDESK_SMTP_SECURITY, NEWSDESK_SMTP_USER, NEWSDESK_SMTP_PASSWORD)"
        )


def send_message(settings: Settings, message: EmailMessage) -> None:
    """Send through the configured SMTP server; errors become one clear ``NewsdeskError``."""
    _require_server(settings)
    host, port = settings.smtp_host, settings.smtp_port
    try:
        client: smtplib.SMTP
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(
                host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        with client:
            client.ehlo()
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password)
            # Serialised here: smtplib's own generator would turn "From " at a line start
            # into ">From " (mbox quoting), changing the digest's text.
            recipients = [a.addr_spec for a in message["To"].addresses]
            client.sendmail(
                message["From"].addresses[0].addr_spec,
                recipients,
                message.as_bytes(policy=SMTP_POLICY),
            )
    except smtplib.SMTPNotSupportedError:
        raise NewsdeskError(
            f"the SMTP server {host}:{port} does not offer STARTTLS "
            "(set NEWSDESK_SMTP_SECURITY=ssl or none)"
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise NewsdeskError(f"the SMTP server {host}:{port} refused the login: {exc}") from None
    except smtplib.SMTPException as exc:
        raise NewsdeskError(f"cannot send mail through {host}:{port}: {exc}") from None
    except (OSError, ssl.SSLError) as exc:
        raise NewsdeskError(f"cannot reach the SMTP server {host}:{port}: {exc}") from None


def send_digest(
    settings: Settings,
    recipients: Sequence[str],
    *,
    text: str,
    html: str,
    subject: str | None = None,
) -> EmailMessage:
    """Send a digest (its plain-text and HTML renderings) to ``recipients``."""
    _require_server(settings)
    to = [check_address(r) for r in recipients]
    sender = settings.mail_from or settings.smtp_user
    if not sender or "@" not in sender:
        raise NewsdeskError("set NEWSDESK_MAIL_FROM to the address digests are sent from")
    check_address(sender)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    message = build_message(
        sender=sender,
        recipients=to,
        subject=subject or f"Newsdesk digest {stamp}",
        text=text,
        html=html,
    )
    send_message(settings, message)
    return message
