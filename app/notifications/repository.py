"""All SQL of the notifications feature: preferences and the digest queue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, NotificationMode, NotificationPreference, PendingNotification


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def account(self, account_id: uuid.UUID) -> Account | None:
        return await self.session.get(Account, account_id)

    async def mode(self, account_id: uuid.UUID) -> str:
        preference = await self.session.get(NotificationPreference, account_id)
        return preference.mode if preference else NotificationMode.IMMEDIATE.value

    async def set_mode(self, account_id: uuid.UUID, mode: str, at: datetime) -> NotificationPreference:
        preference = await self.session.get(NotificationPreference, account_id)
        if preference is None:
            preference = NotificationPreference(account_id=account_id, mode=mode, updated_at=at)
            self.session.add(preference)
        else:
            preference.mode, preference.updated_at = mode, at
        await self.session.flush()
        return preference

    async def queue(self, row: PendingNotification) -> None:
        self.session.add(row)
        await self.session.flush()

    async def pending_count(self, account_id: uuid.UUID) -> int:
        rows = await self.session.scalars(
            select(PendingNotification.id).where(PendingNotification.account_id == account_id)
        )
        return len(rows.all())

    async def accounts_due(self, created_before: datetime) -> Sequence[uuid.UUID]:
        """Members whose oldest waiting event is older than `created_before`."""
        rows = await self.session.scalars(
            select(PendingNotification.account_id)
            .where(PendingNotification.created_at <= created_before)
            .group_by(PendingNotification.account_id)
        )
        return rows.all()

    async def claim(self, account_id: uuid.UUID) -> Sequence[PendingNotification]:
        """Lock a member's waiting events; another process sending the same digest skips them."""
        rows = await self.session.scalars(
            select(PendingNotification)
            .where(PendingNotification.account_id == account_id)
            .order_by(PendingNotification.created_at, PendingNotification.id)
            .with_for_update(skip_locked=True)
        )
        return rows.all()

    async def forget(self, ids: Sequence[uuid.UUID]) -> None:
        await self.session.execute(delete(PendingNotification).where(PendingNotification.id.in_(list(ids))))  # type: ignore[attr-defined]

    async def drop_pending(self, account_id: uuid.UUID) -> None:
        await self.session.execute(delete(PendingNotification).where(PendingNotification.account_id == account_id))
