"""Shaping the missions feature's domain objects into its response bodies."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from litestar.params import FromPath

from app.members.location import distance_band
from app.missions.matching import Score
from app.missions.schemas import (
    ApplicationOut,
    EngagementOut,
    MissionOut,
    MissionSummaryOut,
    PolicyOut,
    QuestionOut,
    ReviewOut,
    ScoreOut,
    SeatOut,
    SeatSkillOut,
)
from app.missions.service import MissionView
from app.models import Application, MarketplacePolicy, MissionQuestion, Review

ListedStatus = Literal["open", "staffed", "in_progress", "delivered", "closed"]
ApplicationStatusText = Literal["submitted", "shortlisted", "accepted", "declined", "withdrawn"]


def mission_out(view: MissionView) -> MissionOut:
    mission = view.mission
    return MissionOut(
        id=mission.id,
        title=mission.title,
        description=mission.description,
        owner_id=mission.owner_id,
        posted_by="member" if mission.referrer_id else "client",
        referrer_id=mission.referrer_id,
        client_name=mission.client_name,
        budget_kind=mission.budget_kind,
        budget_amount_minor=mission.budget_amount_minor,
        budget_days=mission.budget_days,
        currency=mission.currency,
        starts_on=mission.starts_on,
        ends_on=mission.ends_on,
        city=mission.city,
        postal_code=mission.postal_code,
        region=mission.region,
        country=mission.country,
        work_mode=mission.work_mode,
        visibility=mission.visibility,
        listed_publicly=view.listed_publicly,
        status=mission.status,
        seats=[
            SeatOut(
                id=seat.id,
                position=seat.position,
                title=seat.title,
                skills=[
                    SeatSkillOut(skill_id=skill.id, slug=skill.slug, name=skill.name, min_level=row.min_level)
                    for row, skill in skills
                ],
                day_rate_minor=seat.day_rate_minor,
                days=seat.days,
                filled=filled,
            )
            for seat, skills, filled in view.seats
        ],
        engagements=[
            EngagementOut(
                id=e.id,
                seat_id=e.seat_id,
                member_id=e.member_id,
                day_rate_minor=None if e.id in view.hidden_rates else e.day_rate_minor,
                days=e.days,
                starts_on=e.starts_on,
                ends_on=e.ends_on,
            )
            for e in view.engagements
        ]
        if view.engagements is not None
        else None,
        created_at=mission.created_at,
        delivered_at=mission.delivered_at,
    )


def summary_out(row: Any) -> MissionSummaryOut:
    return MissionSummaryOut(
        id=row.id,
        title=row.title,
        status=row.status,
        visibility=row.visibility,
        budget_kind=row.budget_kind,
        budget_amount_minor=row.budget_amount_minor,
        budget_days=row.budget_days,
        currency=row.currency,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        city=row.city,
        region=row.region,
        work_mode=row.work_mode,
        seats=row.seats,
        open_seats=row.open_seats,
        relevance=round(float(row.relevance), 4) if row.relevance is not None else None,
    )


def application_out(row: Application) -> ApplicationOut:
    return ApplicationOut(
        id=row.id,
        mission_id=row.mission_id,
        seat_id=row.seat_id,
        member_id=row.member_id,
        message=row.message,
        proposed_day_rate_minor=row.proposed_day_rate_minor,
        status=row.status,
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


def question_out(row: MissionQuestion) -> QuestionOut:
    return QuestionOut(
        id=row.id,
        mission_id=row.mission_id,
        author_id=row.author_id,
        body=row.body,
        answer=row.answer,
        answered_at=row.answered_at,
        created_at=row.created_at,
    )


def review_out(row: Review, title: str) -> ReviewOut:
    return ReviewOut(
        id=row.id,
        mission_id=row.mission_id,
        mission_title=title,
        author_id=row.author_id,
        subject_id=row.subject_id,
        rating=row.rating,
        text=row.text,
        skills_seen=[uuid.UUID(str(s)) for s in row.skills_seen],
        created_at=row.created_at,
        published=row.published_at is not None,
        published_at=row.published_at,
    )


def score_out(score: Score) -> ScoreOut:
    return ScoreOut(
        total=score.total,
        skill_fit=score.skill_fit,
        availability=score.availability,
        rate=score.rate,
        distance=score.distance,
        local=score.local,
        distance_band=distance_band(score.distance_km),
        notes=score.notes,
    )


def policy_out(policy: MarketplacePolicy) -> PolicyOut:
    return PolicyOut(
        territorial_fairness=policy.territorial_fairness,
        local_radius_km=policy.local_radius_km,
        updated_at=policy.updated_at,
    )


MissionId = FromPath[uuid.UUID]
