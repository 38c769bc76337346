"""Daily digests: each member on the daily digest gets one mail with what waited for it.

Owns its transactions (one per member, the member's waiting events locked meanwhile with `FOR UPDATE
SKIP LOCKED`, so two processes never send the same digest), and deletes the events only once the
mail server accepted the digest: a refused mail leaves them queued for the next round. Run by every
server process's loop (background.py) and by `coop notifications send-digests`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.mail import Mail, Mailer
from app.models import NotificationMode, PendingNotification
from app.notifications.repository import NotificationRepository
from app.notifications.service import footer
from app.settings import Settings

log = structlog.get_logger(__name__)


def compose_digest(
    settings: Settings, email: str, name: str, account_id: uuid.UUID, rows: Sequence[PendingNotification]
) -> Mail:
    text, headers = footer(settings, account_id)
    sections = "\n\n".join(f"* {row.subject}\n{row.body}" for row in rows)
    return Mail(
        to=email,
        subject=f"Your marketplace digest: {len(rows)} update{'s' if len(rows) > 1 else ''}",
        body=f"Hello {name},\n\nWhat happened since your last digest:\n\n{sections}\n{text}",
        headers=headers,
    )


async def send_digests(
    sessionmaker: async_sessionmaker, settings: Settings, mailer: Mailer, *, older_than: timedelta | None = None
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
