"""A small key-value table backing Litestar stores (rate limits) when no Redis is configured."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlmodel import Field, SQLModel

from app.models.base import timestamp


class KeyValue(SQLModel, table=True):
    __tablename__ = "kv_store"

    key: str = Field(sa_type=String(512), primary_key=True)
    value: bytes = Field(sa_type=LargeBinary())
    expires_at: datetime | None = timestamp(nullable=True, index=True)
