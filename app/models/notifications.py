"""Tables of the notifications feature: each member's mail preference, and what waits for a digest."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String, Text
from sqlmodel import Field, SQLModel

from app.models.base import timestamp, uuid_pk


class NotificationMode(StrEnum):
    IMMEDIATE = "immediate"  # a mail for each event, as it happens
    DAILY = "daily"  # one digest a day with everything since the last one
    OFF = "off"  # no marketplace mail at all (account and governance mails still come)


class NotificationPreference(SQLModel, table=True):
    """A member's choice; no row means `immediate`."""

    __tablename__ = "notification_preference"
    __table_args__ = (CheckConstraint("mode in ('immediate', 'daily', 'off')", name="mode_known"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    mode: str = Field(default=NotificationMode.IMMEDIATE.value, sa_type=String(16))
    updated_at: datetime = timestamp(server_now=True)


class PendingNotification(SQLModel, table=True):
    """A marketplace event for a member on the daily digest; deleted once the digest is accepted by
    the mail server."""

    __tablename__ = "pending_notification"

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    kind: str = Field(sa_type=String(32))
    subject: str = Field(sa_type=String(300))
    body: str = Field(sa_type=Text)
    created_at: datetime = timestamp(server_now=True, index=True)
