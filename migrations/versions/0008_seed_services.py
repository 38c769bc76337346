"""seed services: skills from a CV, training paths, the needs diagnostic

Adds `profile_skill.origin` (declared, from_cv, trained), the CV extraction and suggestion tables,
the training catalogue and members' paths, the diagnostic results, and the référentiel skills of
trades outside digital work (0008_skills.json beside this file; identifiers are uuid5 of the slug,
the namespace of 0002).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:10:00
"""

import json
import uuid
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SKILLS_FILE = Path(__file__).resolve().parent / "0008_skills.json"
SKILL_NAMESPACE = uuid.UUID("6f1c3a52-94a4-4c43-9a55-3c8f0e7f2b10")


def _timestamp(name: str, *, nullable: bool = False, server_now: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text("now()") if server_now else None,
        nullable=nullable,
    )


def upgrade() -> None:
    op.add_column(
        "profile_skill",
        sa.Column("origin", sa.String(length=16), server_default="declared", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_profile_skill_origin_known"), "profile_skill", "origin in ('declared', 'from_cv', 'trained')"
    )

    op.create_table(
        "cv_extraction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("file_kind", sa.String(length=8), nullable=False),
        sa.Column("file_bytes", sa.Integer(), nullable=False),
        sa.Column("characters", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        _timestamp("created_at", server_now=True),
        sa.CheckConstraint(
            "file_kind in ('pdf', 'docx', 'odt', 'text')", name=op.f("ck_cv_extraction_file_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["account.id"], name=op.f("fk_cv_extraction_member_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cv_extraction")),
    )
    op.create_index(op.f("ix_cv_extraction_member_id"), "cv_extraction", ["member_id"], unique=False)
    op.create_table(
        "cv_suggestion",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("extraction_id", sa.Uuid(), nullable=False),
        sa.Column("skill_id", sa.Uuid(), nullable=False),
        sa.Column("confidence", sa.SmallInteger(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("matched", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("match_kind", sa.String(length=16), nullable=False),
        sa.Column("years", sa.SmallInteger(), nullable=True),
        sa.Column("suggested_level", sa.SmallInteger(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        _timestamp("decided_at", nullable=True),
        sa.CheckConstraint("confidence between 0 and 100", name=op.f("ck_cv_suggestion_confidence_range")),
        sa.CheckConstraint("suggested_level between 1 and 5", name=op.f("ck_cv_suggestion_level_range")),
        sa.CheckConstraint("years is null or years between 0 and 60", name=op.f("ck_cv_suggestion_years_range")),
        sa.CheckConstraint(
            "decision in ('pending', 'accepted', 'rejected')", name=op.f("ck_cv_suggestion_decision_known")
        ),
        sa.CheckConstraint("(decision = 'pending') = (decided_at is null)", name=op.f("ck_cv_suggestion_decided_when")),
        sa.ForeignKeyConstraint(
            ["extraction_id"],
            ["cv_extraction.id"],
            name=op.f("fk_cv_suggestion_extraction_id_cv_extraction"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"], ["skill.id"], name=op.f("fk_cv_suggestion_skill_id_skill"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cv_suggestion")),
        sa.UniqueConstraint("extraction_id", "skill_id", name=op.f("uq_cv_suggestion_extraction_id_skill_id")),
    )
    op.create_index(op.f("ix_cv_suggestion_extraction_id"), "cv_suggestion", ["extraction_id"], unique=False)

    op.create_table(
        "training",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("duration_hours", sa.Integer(), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=False),
        sa.Column("cpf_eligible", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _timestamp("created_at", server_now=True),
        _timestamp("updated_at", server_now=True),
        sa.CheckConstraint("format in ('on_site', 'remote', 'hybrid')", name=op.f("ck_training_format_known")),
        sa.CheckConstraint("duration_hours between 1 and 5000", name=op.f("ck_training_duration_range")),
        sa.CheckConstraint("cost_minor >= 0", name=op.f("ck_training_cost_positive")),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_training_currency_iso")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training")),
        sa.UniqueConstraint("reference", name=op.f("uq_training_reference")),
    )
    op.create_table(
        "training_skill",
        sa.Column("training_id", sa.Uuid(), nullable=False),
        sa.Column("skill_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("level between 1 and 5", name=op.f("ck_training_skill_level_range")),
        sa.ForeignKeyConstraint(
            ["training_id"], ["training.id"], name=op.f("fk_training_skill_training_id_training"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"], ["skill.id"], name=op.f("fk_training_skill_skill_id_skill"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("training_id", "skill_id", name=op.f("pk_training_skill")),
    )
    op.create_index(op.f("ix_training_skill_skill_id"), "training_skill", ["skill_id"], unique=False)
    op.create_table(
        "training_path",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sa.Uuid(), nullable=True),
        sa.Column("seat_id", sa.Uuid(), nullable=True),
        sa.Column("target", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("optimise", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _timestamp("created_at", server_now=True),
        _timestamp("completed_at", nullable=True),
        sa.CheckConstraint("status in ('active', 'completed')", name=op.f("ck_training_path_status_known")),
        sa.CheckConstraint("optimise in ('duration', 'cost')", name=op.f("ck_training_path_optimise_known")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["account.id"], name=op.f("fk_training_path_member_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["mission.id"], name=op.f("fk_training_path_mission_id_mission"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["seat_id"], ["mission_seat.id"], name=op.f("fk_training_path_seat_id_mission_seat"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_path")),
    )
    op.create_index(op.f("ix_training_path_member_id"), "training_path", ["member_id"], unique=False)
    op.create_table(
        "training_path_step",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("path_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("training_id", sa.Uuid(), nullable=False),
        _timestamp("done_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["path_id"],
            ["training_path.id"],
            name=op.f("fk_training_path_step_path_id_training_path"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["training.id"],
            name=op.f("fk_training_path_step_training_id_training"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_path_step")),
        sa.UniqueConstraint("path_id", "position", name=op.f("uq_training_path_step_path_id_position")),
    )
    op.create_index(op.f("ix_training_path_step_path_id"), "training_path_step", ["path_id"], unique=False)

    op.create_table(
        "diagnostic_result",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("questionnaire_version", sa.String(length=40), nullable=False),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("draft", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("claim_token_hash", sa.String(length=64), nullable=True),
        _timestamp("claim_expires_at", nullable=True),
        _timestamp("claimed_at", nullable=True),
        sa.Column("mission_id", sa.Uuid(), nullable=True),
        _timestamp("created_at", server_now=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["account.id"], name=op.f("fk_diagnostic_result_owner_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["mission.id"], name=op.f("fk_diagnostic_result_mission_id_mission"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnostic_result")),
        sa.UniqueConstraint("claim_token_hash", name=op.f("uq_diagnostic_result_claim_token_hash")),
    )
    op.create_index(op.f("ix_diagnostic_result_owner_id"), "diagnostic_result", ["owner_id"], unique=False)

    skills = json.loads(SKILLS_FILE.read_text(encoding="utf-8"))["skills"]
    skill_table = sa.table(
        "skill",
        sa.column("id", sa.Uuid()),
        sa.column("slug", sa.String()),
        sa.column("name", sa.String()),
        sa.column("aliases", postgresql.ARRAY(sa.Text())),
        sa.column("category", sa.String()),
        sa.column("status", sa.String()),
    )
    op.bulk_insert(
        skill_table,
        [
            {
                "id": uuid.uuid5(SKILL_NAMESPACE, skill["slug"]),
                "slug": skill["slug"],
                "name": skill["name"],
                "aliases": skill["aliases"],
                "category": skill["category"],
                "status": "accepted",
            }
            for skill in skills
        ],
    )
    op.execute(
        """
        insert into search_word (word)
        select distinct word from skill, unnest(terms) as term, regexp_split_to_table(term, '[^a-z0-9]+') as word
        where char_length(word) between 2 and 40
        on conflict do nothing
        """
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_diagnostic_result_owner_id"), table_name="diagnostic_result")
    op.drop_table("diagnostic_result")
    op.drop_index(op.f("ix_training_path_step_path_id"), table_name="training_path_step")
    op.drop_table("training_path_step")
    op.drop_index(op.f("ix_training_path_member_id"), table_name="training_path")
    op.drop_table("training_path")
    op.drop_index(op.f("ix_training_skill_skill_id"), table_name="training_skill")
    op.drop_table("training_skill")
    op.drop_table("training")
    op.drop_index(op.f("ix_cv_suggestion_extraction_id"), table_name="cv_suggestion")
    op.drop_table("cv_suggestion")
    op.drop_index(op.f("ix_cv_extraction_member_id"), table_name="cv_extraction")
    op.drop_table("cv_extraction")
    slugs = [skill["slug"] for skill in json.loads(SKILLS_FILE.read_text(encoding="utf-8"))["skills"]]
    op.execute(sa.text("delete from skill where slug = any(:slugs)").bindparams(slugs=slugs))
    op.drop_constraint(op.f("ck_profile_skill_origin_known"), "profile_skill", type_="check")
    op.drop_column("profile_skill", "origin")
