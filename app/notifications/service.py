"""Rules of the notifications feature: who is told what happens on the marketplace, and how.

Owns each member's preference (a mail at once, a daily digest, or nothing), the mails themselves
(with `List-Unsubscribe` and one-click `List-Unsubscribe-Post`, RFC 2369 and RFC 8058), the signed
unsubscribe tokens and the digests. Immediate mails leave after the request's commit, never for an
event that was rolled back; a digest's events are deleted only once the mail server accepted it.
Knows nothing of missions: the missions service says what happened and to whom. Never commits
(the request does; digests own their transactions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog

from app.core.errors import InvalidToken
from app.core.mail import Mail, Mailer
from app.db.transaction import UnitOfWork
from app.models import NotificationMode, NotificationPreference, PendingNotification
from app.notifications.repository import NotificationRepository
from app.settings import Settings

log = structlog.get_logger(__name__)
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


def _footer(settings: Settings, account_id: uuid.UUID) -> tuple[str, tuple[tuple[str, str], ...]]:
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
        footer, headers = _footer(self._settings, account_id)
        mail = Mail(
            to=account.email,
            subject=subject,
            body=f"Hello {account.display_name},\n\n{body}\n{footer}",
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


def compose_digest(
    settings: Settings, email: str, name: str, account_id: uuid.UUID, rows: Sequence[PendingNotification]
) -> Mail:
    footer, headers = _footer(settings, account_id)
    sections = "\n\n".join(f"* {row.subject}\n{row.body}" for row in rows)
    return Mail(
        to=email,
        subject=f"Your marketplace digest: {len(rows)} update{'s' if len(rows) > 1 else ''}",
        body=f"Hello {name},\n\nWhat happened since your last digest:\n\n{sections}\n{footer}",
        headers=headers,
    )


async def send_digests(
    sessionmaker: Any, settings: Settings, mailer: Mailer, *, older_than: timedelta | None = None
) -> int:
    """Send each member whose oldest waiting event is older than `older_than` (default: the digest
    interval) one digest. Each member in a transaction of their own, the events locked meanwhile: a
    digest the mail server refuses stays queued for the next round. Returns the digests sent."""
    age = older_than if older_than is not None else timedelta(hours=settings.digest_interval_hours)
    async with sessionmaker() as session:
        due = await NotificationRepository(session).accounts_due(datetime.now(UTC) - age)
    sent = 0
    for account_id in due:
        try:
            async with sessionmaker.begin() as session:
                repository = NotificationRepository(session)
                rows = await repository.claim(account_id)
                account = await repository.account(account_id)
                if not rows or account is None:
                    continue
                if await repository.mode(account_id) == NotificationMode.OFF or account.disabled_at is not None:
                    await repository.forget([row.id for row in rows])
                    continue
                await mailer.send(compose_digest(settings, account.email, account.display_name, account_id, rows))
                await repository.forget([row.id for row in rows])
                sent += 1
        except Exception:  # one member's refused mail must not stop the others' digests
            log.exception("digest not sent; its events stay queued", account_id=str(account_id))
    return sent
