"""What every part of the missions repository shares: the session, the request's database, two constants."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database

# Matching scores the candidates with the best skill coverage in full; the rest are not ranked.
CANDIDATE_POOL = 200
LIVE_APPLICATION = ("submitted", "shortlisted", "accepted")


class RepositoryBase:
    def __init__(self, session: AsyncSession, database: Database | None = None) -> None:
        self.session = session
        # The request's database, for matching's reads on the raw pool while the session has begun
        # nothing; None outside HTTP requests (CLI, background loops, demos): the session then.
        self.database = database

    def _unit_untouched(self) -> bool:
        """True while the request's session has begun nothing and holds no change: a read outside it
        then sees exactly what a read inside it would (READ COMMITTED: each statement its own snapshot)."""
        session = self.session
        return not (session.in_transaction() or session.new or session.dirty or session.deleted)

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()
