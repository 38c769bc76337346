"""Reviews between members and clients after a mission."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select, text

from app.missions.repository.base import RepositoryBase
from app.models import (
    Account,
    ClientOrganisation,
    Mission,
    Review,
)


class ReviewQueries(RepositoryBase):
    """Reviews: who still owes one, each published once both sides have written or 14 days after delivery."""

    # reviews

    async def review_exists(self, mission_id: uuid.UUID, author_id: uuid.UUID, subject_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(func.count())
            .select_from(Review)
            .where(Review.mission_id == mission_id, Review.author_id == author_id, Review.subject_id == subject_id)
        )
        return bool(found)

    async def counterpart(self, review: Review) -> Review | None:
        return await self.session.scalar(
            select(Review).where(
                Review.mission_id == review.mission_id,
                Review.author_id == review.subject_id,
                Review.subject_id == review.author_id,
            )
        )

    async def due_reviews(
        self,
        *,
        mission_id: uuid.UUID | None = None,
        subject_id: uuid.UUID | None = None,
        organisation_id: uuid.UUID | None = None,
    ):
        """Unpublished reviews whose mission was delivered 14 days ago or more (locked for publication)."""
        query = (
            select(Review)
            .join(Mission, Mission.id == Review.mission_id)
            .where(
                Review.published_at.is_(None),  # type: ignore[union-attr]
                Mission.delivered_at <= func.now() - text("interval '14 days'"),
            )
            .with_for_update(of=Review)
        )
        if mission_id is not None:
            query = query.where(Review.mission_id == mission_id)
        if subject_id is not None:
            query = query.where(Review.subject_id == subject_id)
        if organisation_id is not None:
            query = query.where(
                Mission.client_organisation_id == organisation_id, Review.subject_id == Mission.owner_id
            )
        return (await self.session.scalars(query)).all()

    async def reviews_of_mission(
        self, mission_id: uuid.UUID, author_id: uuid.UUID | None, limit: int, offset: int
    ) -> tuple[list[tuple[Review, str]], int]:
        """Published reviews of the mission, and `author_id`'s own unpublished ones."""
        visible = Review.published_at.is_not(None)  # type: ignore[union-attr]
        if author_id is not None:
            visible = or_(visible, Review.author_id == author_id)
        conditions = (Review.mission_id == mission_id, visible)
        rows = await self.session.execute(
            select(Review, Mission.title)
            .join(Mission, Mission.id == Review.mission_id)
            .where(*conditions)
            .order_by(Review.created_at, Review.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(Review).where(*conditions))
        return [(row[0], row[1]) for row in rows], int(total or 0)

    async def organisation_verified(self, organisation_id: uuid.UUID) -> bool:
        organisation = await self.session.get(ClientOrganisation, organisation_id)
        return organisation is not None and organisation.verified_at is not None

    async def email_verified(self, account_id: uuid.UUID) -> bool:
        account = await self.session.get(Account, account_id)
        return account is not None and account.email_verified_at is not None

    async def organisation_exists(self, organisation_id: uuid.UUID) -> bool:
        return await self.session.get(ClientOrganisation, organisation_id) is not None

    async def published_reviews_of_organisation(
        self, organisation_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[tuple[Review, str]], int]:
        """Published reviews whose subject is the client side of one of the organisation's missions."""
        conditions = (
            Mission.client_organisation_id == organisation_id,
            Review.subject_id == Mission.owner_id,
            Review.published_at.is_not(None),  # type: ignore[union-attr]
        )
        rows = await self.session.execute(
            select(Review, Mission.title)
            .join(Mission, Mission.id == Review.mission_id)
            .where(*conditions)
            .order_by(Review.published_at.desc(), Review.id)  # type: ignore[union-attr]
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(Review).join(Mission, Mission.id == Review.mission_id).where(*conditions)
        )
        return [(row[0], row[1]) for row in rows], int(total or 0)

    async def published_reviews_of(self, subject_id: uuid.UUID, limit: int, offset: int):
        condition = (Review.subject_id == subject_id, Review.published_at.is_not(None))  # type: ignore[union-attr]
        rows = await self.session.execute(
            select(Review, Mission.title)
            .join(Mission, Mission.id == Review.mission_id)
            .where(*condition)
            .order_by(Review.published_at.desc(), Review.id)  # type: ignore[union-attr]
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(Review).where(*condition))
        return [(row[0], row[1]) for row in rows], int(total or 0)
