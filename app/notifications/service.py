"""Rules of the notifications feature: who is told what happens on the marketplace, and how.

Owns each member's preference (a mail at once, a daily digest, or nothing), the mails themselves
(with `List-Unsubscribe` and one-click `List-Unsubscribe-Post`, RFC 2369 and RFC 8058), the signed
unsubscribe tokens and what waits for a digest. Immediate mails leave after the request's commit,
never for an event that was rolled back; sending digests is digests.py's. Knows nothing of
missions: the missions service says what happened and to whom. Never commits (the request does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from enum import StrEnum

from app.core.errors import InvalidToken
from app.core.mail import Mail, Mailer
from app.db.transaction import UnitOfWork
from app.models import NotificationMode, NotificationPreference, PendingNotification
from app.notifications.repository import NotificationRepository
from app.settings import Settings

UNSUBSCRIBE_PATH = "/api/v1/notifications/unsubscribe"


class Event(StrEnum):
    APPLICATION_RECEIVED = "application_received"
    APPLICATION_SHORTLISTED = "application_shortlisted"
    APPLICATION_ACCEPTED = "application_accepted"
    APPLICATION_DECLINED = "application_declined"
    QUESTION_ANSWERED = "question_answered"
    REVIEW_PUBLISHED = "review_published"
    MISSION_STAFFED = "mission_staffed"


def unsubscribe_token(settings: Settings, account_id: uuid.UUID) -> str:
    """`<account id hex>.<HMAC>`: stateless, works once or many times, only for marketplace mail."""
    mac = hmac.new(
        settings.secret_key.get_secret_value().encode(), b"coop-unsubscribe:" + account_id.bytes, hashlib.sha256
    ).digest()[:18]
    return f"{account_id.hex}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def account_of_token(settings: Settings, token: str) -> uuid.UUID:
    head, _, _ = token.partition(".")
    try:
        account_id = uuid.UUID(hex=head)
    except ValueError:
        raise InvalidToken() from None
    if not hmac.compare_digest(unsubscribe_token(settings, account_id), token):
        raise InvalidToken()
    return account_id


def footer(settings: Settings, account_id: uuid.UUID) -> tuple[str, tuple[tuple[str, str], ...]]:
    base = settings.public_base_url.rstrip("/")
    url = f"{base}{UNSUBSCRIBE_PATH}?token={unsubscribe_token(settings, account_id)}"
    text = (
        "\n--\nYou receive this because of your activity on the cooperative's marketplace.\n"
        "Choose a mail for each event, a daily digest or none: PUT /api/v1/me/notifications.\n"
        f"Stop these mails in one click: {url}\n"
    )
    return text, (("List-Unsubscribe", f"<{url}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))


class NotificationService:
    def __init__(self, unit_of_work: UnitOfWork, settings: Settings, mailer: Mailer) -> None:
        self.repository = NotificationRepository(unit_of_work.session)
        self._unit_of_work = unit_of_work
        self._settings = settings
        self._mailer = mailer

    async def notify(self, account_id: uuid.UUID | None, event: Event, subject: str, body: str) -> None:
        """Tell a member: by mail after the commit, on their next digest, or not at all."""
        if account_id is None:
            return
        account = await self.repository.account(account_id)
        if account is None or account.disabled_at is not None:
            return
        mode = await self.repository.mode(account_id)
        if mode == NotificationMode.OFF:
            return
        if mode == NotificationMode.DAILY:
            await self.repository.queue(
                PendingNotification(account_id=account_id, kind=event.value, subject=subject[:300], body=body)
            )
            return
        text, headers = footer(self._settings, account_id)
        mail = Mail(
            to=account.email,
            subject=subject,
            body=f"Hello {account.display_name},\n\n{body}\n{text}",
            headers=headers,
        )
        self._unit_of_work.after_commit(lambda: self._mailer.send(mail))

    async def preference(self, account_id: uuid.UUID) -> tuple[str, int]:
        return await self.repository.mode(account_id), await self.repository.pending_count(account_id)

    async def set_preference(self, account_id: uuid.UUID, mode: NotificationMode) -> NotificationPreference:
        if mode == NotificationMode.OFF:
            await self.repository.drop_pending(account_id)
        return await self.repository.set_mode(account_id, mode.value, datetime.now(UTC))

    async def unsubscribe(self, token: str) -> NotificationPreference:
        account_id = account_of_token(self._settings, token)
        if await self.repository.account(account_id) is None:
            raise InvalidToken()
        return await self.set_preference(account_id, NotificationMode.OFF)
