"""privacy and notifications: published location precision, look-alike addresses, verified client
organisations, marketplace mail preferences and digests

Existing profile points are coarsened to the default precision (a commune-sized cell) in place: the
exact points typed before this revision are gone afterwards, as they are for every profile saved
after it (see app/members/location.py and docs/marketplace.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:00:00
"""

import unicodedata
from collections.abc import Sequence

import icu
import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The commune-sized cell of app/members/location.py (0.05 degrees of latitude, widths scaled by
# the cosine of the cell's centre), in SQL, so the migration does not import application code.
COARSEN_TO_COMMUNE = """
with cells as (
    select account_id, -90 + (floor((latitude + 90) / 0.05) + 0.5) * 0.05 as lat_c, longitude
    from member_profile where latitude is not null
), widths as (
    select account_id, lat_c, longitude, least(360.0, 0.05 / greatest(cos(radians(lat_c)), 0.05)) as width
    from cells
)
update member_profile p
set latitude = round(w.lat_c::numeric, 6)::float8,
    longitude = round((-180 + (floor((w.longitude + 180) / w.width) + 0.5) * w.width)::numeric, 6)::float8
from widths w where w.account_id = p.account_id
"""


def _fill_skeletons() -> None:
    """UTS #39 skeletons of the existing addresses (as app/accounts/addresses.py computes them); of two
    look-alikes already registered, the older keeps the skeleton and the newer gets none."""
    checker = icu.SpoofChecker()
    bind = op.get_bind()
    seen: set[str] = set()
    rows = bind.execute(sa.text("select id, email from account order by created_at, id")).all()
    for account_id, email in rows:
        skeleton = str(checker.getSkeleton(0, unicodedata.normalize("NFKC", email).casefold()))
        if skeleton in seen:
            continue
        seen.add(skeleton)
        bind.execute(sa.text("update account set email_skeleton = :s where id = :i"), {"s": skeleton, "i": account_id})


def upgrade() -> None:
    op.add_column("account", sa.Column("email_skeleton", sa.String(length=1024), nullable=True))
    _fill_skeletons()
    op.create_unique_constraint(op.f("uq_account_email_skeleton"), "account", ["email_skeleton"])

    # Organisations registered before this revision are unverified: their public missions are
    # listed to members only until an administrator verifies them (POST /organisations/{id}/verify).
    op.add_column("client_organisation", sa.Column("country", sa.String(length=2), server_default="FR", nullable=False))
    op.add_column("client_organisation", sa.Column("siren", sa.String(length=9), nullable=True))
    op.add_column("client_organisation", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("client_organisation", sa.Column("verified_by_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_client_organisation_siren"), "client_organisation", ["siren"])
    op.create_foreign_key(
        op.f("fk_client_organisation_verified_by_id_account"),
        "client_organisation",
        "account",
        ["verified_by_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column(
        "member_profile",
        sa.Column("location_precision", sa.String(length=16), server_default="commune", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_member_profile_precision_known"),
        "member_profile",
        "location_precision in ('commune', 'departement', 'none')",
    )
    op.execute(COARSEN_TO_COMMUNE)

    op.create_table(
        "notification_preference",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("mode in ('immediate', 'daily', 'off')", name=op.f("ck_notification_preference_mode_known")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_notification_preference_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_notification_preference")),
    )
    op.create_table(
        "pending_notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_pending_notification_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_notification")),
    )
    op.create_index(op.f("ix_pending_notification_account_id"), "pending_notification", ["account_id"])
    op.create_index(op.f("ix_pending_notification_created_at"), "pending_notification", ["created_at"])


def downgrade() -> None:
    op.drop_table("pending_notification")
    op.drop_table("notification_preference")
    op.drop_constraint(op.f("fk_client_organisation_verified_by_id_account"), "client_organisation", type_="foreignkey")
    op.drop_index(op.f("ix_client_organisation_siren"), table_name="client_organisation")
    for column in ("verified_by_id", "verified_at", "siren", "country"):
        op.drop_column("client_organisation", column)
    op.drop_constraint(op.f("uq_account_email_skeleton"), "account", type_="unique")
    op.drop_column("account", "email_skeleton")
    op.drop_constraint(op.f("ck_member_profile_precision_known"), "member_profile", type_="check")
    op.drop_column("member_profile", "location_precision")
