"""Two-sided reviews: written after delivery, published together or after the delay."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.members.service import sees_members_only
from app.missions.service_base import REVIEW_TABLE, REVIEWABLE, MissionServiceBase
from app.models import (
    Account,
    Review,
)
from app.notifications.service import Event


class ReviewRules(MissionServiceBase):
    # reviews

    async def review(
        self,
        author: Account,
        mission_id: uuid.UUID,
        *,
        subject_id: uuid.UUID,
        rating: int,
        text: str,
        skills_seen: Sequence[uuid.UUID],
    ) -> Review:
        mission = await self.visible(author, mission_id, lock=True)
        if mission.status not in REVIEWABLE:
            raise Conflict("Reviews open once the mission is delivered.")
        engaged = {e.member_id for e in await self.repository.engagements(mission.id)}
        participants = engaged | {mission.owner_id}
        if author.id not in participants:
            raise Forbidden("Only the mission's client side and its engaged members review each other.")
        if subject_id not in participants or subject_id == author.id:
            raise InvalidInput.field("subject_id", "Review another participant of this mission.")
        if await self.repository.review_exists(mission.id, author.id, subject_id):
            raise Conflict("You already reviewed this participant for this mission.")
        if skills_seen:
            known = await self.members.repository.skills_by_ids(list(skills_seen))
            if len(known) != len(set(skills_seen)):
                raise InvalidInput.field("skills_seen", "Skills come from the référentiel.")
            if subject_id not in engaged:
                raise InvalidInput.field("skills_seen", "Skills are attested for the members who did the work.")
        review = Review(
            mission_id=mission.id,
            author_id=author.id,
            subject_id=subject_id,
            rating=rating,
            text=text,
            skills_seen=list(dict.fromkeys(skills_seen)),
        )
        await self._add_sealed(review, "text", author.id, REVIEW_TABLE)
        counterpart = await self.repository.counterpart(review)
        if counterpart is not None:
            # Both sides are in: published together, so neither answered the other's review.
            await self._publish(review)
            await self._publish(counterpart)
        return review

    async def _publish(self, review: Review) -> None:
        if review.published_at is not None:
            return
        review.published_at = datetime.now(UTC)
        await self._tell(
            review.subject_id,
            Event.REVIEW_PUBLISHED,
            "A review about you is published",
            f"A review of your work on a mission is now public ({review.rating}/5)."
            f" Read it: GET /api/v1/missions/{review.mission_id}/reviews",
        )
        if review.skills_seen:
            await self.members.attest_skills(
                member_id=review.subject_id,
                skill_ids=[uuid.UUID(str(s)) for s in review.skills_seen],
                mission_id=review.mission_id,
                review_id=review.id,
                attested_by_id=review.author_id,
            )

    async def publish_due(
        self,
        *,
        mission_id: uuid.UUID | None = None,
        subject_id: uuid.UUID | None = None,
        organisation_id: uuid.UUID | None = None,
    ) -> int:
        """Publish the reviews waiting 14 days after delivery for a counterpart that never came."""
        due = await self.repository.due_reviews(
            mission_id=mission_id, subject_id=subject_id, organisation_id=organisation_id
        )
        for review in due:
            await self._publish(review)
        return len(due)

    async def mission_reviews(
        self, viewer: Account | None, mission_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[tuple[Review, str]], int]:
        """Published reviews of the mission, and the viewer's own unpublished ones."""
        mission = await self.visible(viewer, mission_id)
        await self.publish_due(mission_id=mission.id)
        return await self._opened_reviews(
            await self.repository.reviews_of_mission(mission.id, viewer.id if viewer else None, limit, offset)
        )

    async def _opened_reviews(self, page: tuple[list[tuple[Review, str]], int]) -> tuple[list[tuple[Review, str]], int]:
        await self._open([review for review, _ in page[0]], "text", "author_id", REVIEW_TABLE)
        return page

    async def organisation_reviews(
        self, viewer: Account, organisation_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[tuple[Review, str]], int]:
        """Published reviews about a client organisation (its people on its missions): for admitted
        members deciding whether to apply, the organisation's own people and administrators."""
        if not (sees_members_only(viewer) or viewer.client_organisation_id == organisation_id):
            raise NotFound()
        if not await self.repository.organisation_exists(organisation_id):
            raise NotFound()
        await self.publish_due(organisation_id=organisation_id)
        return await self._opened_reviews(
            await self.repository.published_reviews_of_organisation(organisation_id, limit, offset)
        )

    async def profile_reviews(self, viewer: Account | None, account_id: uuid.UUID, limit: int, offset: int):
        await self.members.visible_profile(viewer, account_id)  # 404 unless the viewer may see the profile
        await self.publish_due(subject_id=account_id)
        return await self._opened_reviews(await self.repository.published_reviews_of(account_id, limit, offset))
