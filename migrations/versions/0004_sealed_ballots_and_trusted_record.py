"""Secret ballots sealed by a key the database never holds; a record that cannot be rewritten unnoticed.

* `ballot_box` (slots keyed by a server secret and a salt in the proposal row) is gone: every ballot
  is now one `ballot_register` row whose `ballot` is, for a secret vote, an HPKE ciphertext to the
  vote's election key (RFC 9180); the private key lives outside the database (derived from a server
  setting, or split among the bureau's scrutineers). `seq` is the database's order of accepted
  ballots: the last one counts. At the close the ciphertexts are erased.
* `trustee_key` and `ballot_key_share`: the scrutineers' public keys and their encrypted shares of
  an election key.
* One close event per proposal (a unique index), a closed proposal's result frozen and the published
  box append-only (triggers).
* `coop_app`: the role the application connects as. It reads and writes rows but owns nothing, so it
  cannot alter a table or disable a trigger; migrations run as the owner.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None

# The role is also named in app/settings.py (COOP_DATABASE_APP_ROLE's default).
FROZEN_RESULT = """
create or replace function coop_closed_proposal_frozen() returns trigger language plpgsql as $$
begin
    if old.state = 'closed' and (
        new.state is distinct from old.state
        or new.outcome is distinct from old.outcome
        or new.result is distinct from old.result
        or new.certificate is distinct from old.certificate
        or new.certificate_sha256 is distinct from old.certificate_sha256
        or new.box_sha256 is distinct from old.box_sha256
        or new.closed_at is distinct from old.closed_at
        or new.audit_head is distinct from old.audit_head
    ) then
        raise exception 'the result of a closed vote cannot change (proposal %)', old.id
            using errcode = 'integrity_constraint_violation';
    end if;
    return new;
end;
$$;
"""

APPEND_ONLY_BOX = """
create or replace function coop_published_box_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the published ballot box is append-only'
        using errcode = 'integrity_constraint_violation';
end;
$$;
"""

GRANT_APP_ROLE = """
do $$
begin
    if not exists (select from pg_roles where rolname = 'coop_app') then
        if exists (select from pg_roles where rolname = current_user and (rolsuper or rolcreaterole)) then
            begin
                create role coop_app login;
            exception when duplicate_object or unique_violation then
                null;  -- created meanwhile by a migration of another database of this server
            end;
        else
            raise notice 'role coop_app missing and cannot be created here: create it, then re-run the grants';
            return;
        end if;
    end if;
    execute format('grant connect on database %I to coop_app', current_database());
    grant usage on schema public to coop_app;
    grant select, insert, update, delete on all tables in schema public to coop_app;
    grant usage, select, update on all sequences in schema public to coop_app;
    grant execute on all functions in schema public to coop_app;
    -- Tables and sequences made by later migrations (run by this same owner) are the app's too.
    alter default privileges in schema public grant select, insert, update, delete on tables to coop_app;
    alter default privileges in schema public grant usage, select, update on sequences to coop_app;
    alter default privileges in schema public grant execute on functions to coop_app;
end;
$$;
"""

REVOKE_APP_ROLE = """
do $$
begin
    if exists (select from pg_roles where rolname = 'coop_app') then
        alter default privileges in schema public revoke all on tables from coop_app;
        alter default privileges in schema public revoke all on sequences from coop_app;
        alter default privileges in schema public revoke all on functions from coop_app;
        revoke all on all tables in schema public from coop_app;
        revoke all on all sequences in schema public from coop_app;
        revoke all on all functions in schema public from coop_app;
        revoke usage on schema public from coop_app;
        execute format('revoke connect on database %I from coop_app', current_database());
    end if;
end;
$$;
"""


def upgrade() -> None:
    connection = op.get_bind()
    in_flight = connection.execute(
        sa.text("select count(*) from ballot_box b join proposal p on p.id = b.proposal_id where p.state = 'open'")
    ).scalar()
    if in_flight:
        raise RuntimeError("Votes are open with ballots in the old box: close them before this upgrade.")
    op.drop_table("ballot_box")
    op.drop_column("proposal", "box_salt")

    op.add_column("ballot_register", sa.Column("ballot", sa.LargeBinary(), nullable=True))
    op.add_column("ballot_register", sa.Column("seal", sa.LargeBinary(length=32), nullable=True))
    op.add_column(
        "ballot_register",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
    )

    op.add_column("proposal", sa.Column("key_custody", sa.String(length=16), nullable=True))
    op.add_column("proposal", sa.Column("election_public_key", sa.LargeBinary(length=32), nullable=True))
    op.add_column("proposal", sa.Column("election_key_salt", sa.LargeBinary(length=32), nullable=True))
    op.add_column("proposal", sa.Column("key_threshold", sa.Integer(), nullable=True))
    op.add_column("proposal", sa.Column("audit_head", sa.dialects.postgresql.JSONB(), nullable=True))
    op.create_check_constraint("key_custody_known", "proposal", "key_custody in ('server', 'bureau')")
    op.add_column("assembly", sa.Column("bureau", sa.dialects.postgresql.JSONB(), nullable=True))

    op.create_table(
        "trustee_key",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "ballot_key_share",
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("trustee_id", sa.Uuid(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("encrypted_share", sa.LargeBinary(), nullable=False),
        sa.Column("commitment", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["trustee_id"], ["account.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("proposal_id", "trustee_id"),
    )

    op.create_index(
        "ux_audit_event_one_close",
        "audit_event",
        ["proposal_id"],
        unique=True,
        postgresql_where=sa.text("kind in ('proposal.closed', 'proposal.void')"),
    )
    op.execute(FROZEN_RESULT)
    op.execute(
        "create trigger proposal_result_frozen before update on proposal "
        "for each row execute function coop_closed_proposal_frozen()"
    )
    op.execute(APPEND_ONLY_BOX)
    op.execute(
        "create trigger published_ballot_append_only before update or delete on published_ballot "
        "for each row execute function coop_published_box_append_only()"
    )
    op.execute(
        "create trigger published_ballot_no_truncate before truncate on published_ballot "
        "for each statement execute function coop_published_box_append_only()"
    )
    op.execute(GRANT_APP_ROLE)


def downgrade() -> None:
    op.execute(REVOKE_APP_ROLE)
    op.execute("drop trigger if exists published_ballot_no_truncate on published_ballot")
    op.execute("drop trigger if exists published_ballot_append_only on published_ballot")
    op.execute("drop function if exists coop_published_box_append_only()")
    op.execute("drop trigger if exists proposal_result_frozen on proposal")
    op.execute("drop function if exists coop_closed_proposal_frozen()")
    op.drop_index(
        "ux_audit_event_one_close",
        table_name="audit_event",
        postgresql_where=sa.text("kind in ('proposal.closed', 'proposal.void')"),
    )
    op.drop_table("ballot_key_share")
    op.drop_table("trustee_key")
    op.drop_column("assembly", "bureau")
    op.drop_constraint("key_custody_known", "proposal", type_="check")
    for column in ("audit_head", "key_threshold", "election_key_salt", "election_public_key", "key_custody"):
        op.drop_column("proposal", column)
    op.drop_column("ballot_register", "seq")
    op.drop_column("ballot_register", "seal")
    op.drop_column("ballot_register", "ballot")
    op.add_column("proposal", sa.Column("box_salt", sa.LargeBinary(length=32), nullable=True))
    op.create_table(
        "ballot_box",
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("slot", sa.LargeBinary(length=32), nullable=False),
        sa.Column("college", sa.String(length=64), nullable=True),
        sa.Column("choice", sa.dialects.postgresql.JSONB(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("tracker", sa.String(length=64), nullable=False),
        sa.Column("seal", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("proposal_id", "slot"),
    )
