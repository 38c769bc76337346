"""Column helpers shared by every table: aware UTC timestamps and UUID keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, func
from sqlmodel import Field, SQLModel

# Deterministic constraint names so Alembic migrations can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def uuid_pk() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def timestamp(*, nullable: bool = False, server_now: bool = False, index: bool = False) -> Any:
    """An aware UTC `timestamptz` column."""
    kwargs: dict[str, Any] = {"sa_type": DateTime(timezone=True), "nullable": nullable, "index": index}
    if server_now:
        kwargs["default_factory"] = utcnow
        kwargs["sa_column_kwargs"] = {"server_default": func.now()}
    return Field(**kwargs)
