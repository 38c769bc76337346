"""All SQL of the accounts feature."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database
from app.db.rows import instance_from_row
from app.models import (
    Account,
    AuthSession,
    ClientOrganisation,
    EmailToken,
    OidcIdentity,
    OidcLoginAttempt,
    RefreshToken,
)

# Built once and run without the ORM: it runs on every authenticated request.
_ACTIVE_ACCOUNT = (
    select(*Account.__table__.columns)  # type: ignore[attr-defined]
    .join(AuthSession, AuthSession.account_id == Account.id)
    .where(
        Account.id == bindparam("account_id"),
        Account.disabled_at.is_(None),  # type: ignore[union-attr]
        AuthSession.id == bindparam("session_id"),
        AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
    )
)

# Compiled once to asyncpg's own SQL ($1, $2): the profile of `GET /api/v1/me` showed the ORM
# session around this one statement costing more than the query (bench/README.md).
_ACTIVE_ACCOUNT_SQL = str(_ACTIVE_ACCOUNT.compile(dialect=asyncpg_dialect.dialect()))


async def active_account_for_session(
    database: Database, account_id: uuid.UUID, session_id: uuid.UUID
) -> Account | None:
    """The account behind an access token, if its session is still alive: one query per request,
    read now, never cached, so a sign-out or a revoked session is refused on the very next request."""
    row = await database.fetch_row(_ACTIVE_ACCOUNT_SQL, account_id, session_id)
    return instance_from_row(Account, row) if row is not None else None


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # accounts
    async def get(self, account_id: uuid.UUID) -> Account | None:
        return await self.session.get(Account, account_id)

    async def get_by_email(self, email: str) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.email == email))

    async def email_exists(self, email: str) -> bool:
        found = await self.session.scalar(select(func.count()).where(Account.email == email))
        return bool(found)

    async def skeleton_exists(self, skeleton: str) -> bool:
        found = await self.session.scalar(select(func.count()).where(Account.email_skeleton == skeleton))
        return bool(found)

    async def list_accounts(self, *, role: str | None, limit: int, offset: int) -> tuple[Sequence[Account], int]:
        query = select(Account)
        count = select(func.count()).select_from(Account)
        if role:
            query = query.where(Account.role == role)
            count = count.where(Account.role == role)
        rows = await self.session.scalars(query.order_by(Account.created_at, Account.id).limit(limit).offset(offset))
        return rows.all(), int(await self.session.scalar(count) or 0)

    async def get_organisation(self, organisation_id: uuid.UUID) -> ClientOrganisation | None:
        return await self.session.get(ClientOrganisation, organisation_id)

    async def list_organisations(
        self, *, unverified_only: bool, limit: int, offset: int
    ) -> tuple[Sequence[ClientOrganisation], int]:
        query = select(ClientOrganisation)
        count = select(func.count()).select_from(ClientOrganisation)
        if unverified_only:
            query = query.where(ClientOrganisation.verified_at.is_(None))  # type: ignore[union-attr]
            count = count.where(ClientOrganisation.verified_at.is_(None))  # type: ignore[union-attr]
        rows = await self.session.scalars(
            query.order_by(ClientOrganisation.legal_name, ClientOrganisation.id).limit(limit).offset(offset)
        )
        return rows.all(), int(await self.session.scalar(count) or 0)

    # sessions and refresh tokens
    async def lock_refresh_token(self, token_hash: bytes) -> RefreshToken | None:
        return await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )

    async def get_session(self, session_id: uuid.UUID) -> AuthSession | None:
        return await self.session.get(AuthSession, session_id)

    async def revoke_session(self, session_id: uuid.UUID, *, reason: str, at: datetime) -> None:
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))  # type: ignore[union-attr]
            .values(revoked_at=at, revoked_reason=reason)
        )

    async def active_sessions(self, account_id: uuid.UUID, now: datetime) -> Sequence[AuthSession]:
        rows = await self.session.scalars(
            select(AuthSession)
            .where(
                AuthSession.account_id == account_id,
                AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
                AuthSession.expires_at > now,
            )
            .order_by(AuthSession.created_at.desc(), AuthSession.id)  # type: ignore[attr-defined]
            .limit(100)
        )
        return rows.all()

    async def revoke_all_sessions(self, account_id: uuid.UUID, *, reason: str, at: datetime) -> None:
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None))  # type: ignore[union-attr]
            .values(revoked_at=at, revoked_reason=reason)
        )

    async def mark_refresh_token_used(self, token_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(update(RefreshToken).where(RefreshToken.id == token_id).values(used_at=at))

    # email tokens
    async def lock_email_token(self, token_hash: bytes, purpose: str) -> EmailToken | None:
        return await self.session.scalar(
            select(EmailToken)
            .where(EmailToken.token_hash == token_hash, EmailToken.purpose == purpose)
            .with_for_update()
        )

    async def expire_email_tokens(self, account_id: uuid.UUID, purpose: str, at: datetime) -> None:
        """Issuing a new token voids the older ones of the same purpose."""
        await self.session.execute(
            update(EmailToken)
            .where(
                EmailToken.account_id == account_id,
                EmailToken.purpose == purpose,
                EmailToken.used_at.is_(None),  # type: ignore[union-attr]
            )
            .values(used_at=at)
        )

    # OpenID Connect
    async def take_login_attempt(self, state: str) -> OidcLoginAttempt | None:
        """Delete and return the attempt, so a state can be redeemed once only."""
        result = await self.session.execute(
            delete(OidcLoginAttempt)
            .where(OidcLoginAttempt.state == state, OidcLoginAttempt.expires_at > func.now())
            .returning(OidcLoginAttempt)
        )
        return result.scalar_one_or_none()

    async def purge_login_attempts(self) -> None:
        await self.session.execute(delete(OidcLoginAttempt).where(OidcLoginAttempt.expires_at <= func.now()))

    async def delete_identities(self, account_id: uuid.UUID) -> None:
        await self.session.execute(delete(OidcIdentity).where(OidcIdentity.account_id == account_id))

    async def get_identity(self, issuer: str, subject: str) -> OidcIdentity | None:
        return await self.session.scalar(
            select(OidcIdentity).where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
        )
