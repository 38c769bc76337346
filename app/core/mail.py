"""Outgoing mail: SMTP through aiosmtplib, or the log in development when no SMTP server is set."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
import structlog

from app.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


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
        message.set_content(mail.body)
        password = self._settings.smtp_password.get_secret_value() if self._settings.smtp_password else None
        await aiosmtplib.send(
            message,
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
