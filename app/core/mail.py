"""Outgoing mail: SMTP through aiosmtplib, or the log in development when no SMTP server is set."""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol

import aiosmtplib
import structlog

from app.settings import Settings

log = structlog.get_logger(__name__)
# A List-Unsubscribe URL is one long token: folded at 78 columns it would be encoded and break in
# mail clients, so headers may run to RFC 5322's 998 characters.
_SMTP_POLICY = email.policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    # Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 2369, RFC 8058).
    headers: tuple[tuple[str, str], ...] = ()


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self._settings.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        for name, value in mail.headers:
            message[name] = value
        message.set_content(mail.body)
        password = self._settings.smtp_password.get_secret_value() if self._settings.smtp_password else None
        await aiosmtplib.send(
            message.as_bytes(policy=_SMTP_POLICY),
            sender=parseaddr(self._settings.mail_from)[1],
            recipients=[mail.to],
            hostname=self._settings.smtp_host,
            port=self._settings.smtp_port,
            username=self._settings.smtp_username,
            password=password,
            start_tls=self._settings.smtp_starttls,
            timeout=10,
        )


class LogMailer:
    """Development only: the mail is written to the log so the link can be followed by hand."""

    async def send(self, mail: Mail) -> None:
        log.info("mail (not sent: no SMTP_HOST configured)", to=mail.to, subject=mail.subject, body=mail.body)


def build_mailer(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else LogMailer()
