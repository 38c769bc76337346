"""Tables of the assemblies feature: statutes, assemblies, proposals, electorates, proxies, ballots, audit.

A ballot is one `ballot_register` row: who voted, how (online, by proxy, by post, in the room) and,
for a secret vote, what they voted as a ciphertext to an election key the database never holds.
At the close the ciphertexts are decrypted into the anonymous `published_ballot` box and erased.
See docs/assemblies.md.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.models.base import timestamp, uuid_pk


class AssemblyKind(StrEnum):
    ORDINARY = "ordinary"
    EXTRAORDINARY = "extraordinary"


class AssemblyState(StrEnum):
    PLANNED = "planned"
    CONVENED = "convened"
    OPEN = "open"
    CLOSED = "closed"


class ProposalState(StrEnum):
    DRAFT = "draft"  # being written; a member's initiative collects co-signatures here
    QUALIFIED = "qualified"  # an initiative with enough co-signatures, waiting for the next agenda
    SCHEDULED = "scheduled"  # on an assembly's agenda
    OPEN = "open"
    CLOSED = "closed"


class BallotChannel(StrEnum):
    ONLINE = "online"
    PROXY = "proxy"
    POSTAL = "postal"
    ROOM = "room"


class StatuteVersion(SQLModel, table=True):
    """The cooperative's statutory voting rules; the latest row is in force (rows are never changed)."""

    __tablename__ = "statute_version"

    id: int | None = Field(default=None, sa_column=Column(Integer, Identity(always=False), primary_key=True))
    document: dict[str, Any] = Field(sa_type=JSONB)
    reason: str = Field(sa_type=String(200))
    proposal_id: uuid.UUID | None = Field(default=None, foreign_key="proposal.id", ondelete="RESTRICT")
    created_by: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    created_at: datetime = timestamp(server_now=True)


class CollegeMembership(SQLModel, table=True):
    """Which college an associate votes in; the only way a client ever votes (SCIC)."""

    __tablename__ = "college_membership"

    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    college: str = Field(sa_type=String(64))
    assigned_at: datetime = timestamp(server_now=True)
    assigned_by: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    proposal_id: uuid.UUID | None = Field(default=None, foreign_key="proposal.id", ondelete="RESTRICT")


class ContributionRate(SQLModel, table=True):
    """The contribution the members voted, in basis points of an invoice; the latest row is in force.

    The payments feature reads it; assemblies write it when a proposal carrying the action is adopted.
    """

    __tablename__ = "contribution_rate"
    __table_args__ = (CheckConstraint("basis_points between 0 and 10000", name="basis_points_range"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, Identity(always=False), primary_key=True))
    basis_points: int
    effective_at: datetime = timestamp(server_now=True)
    proposal_id: uuid.UUID | None = Field(default=None, foreign_key="proposal.id", ondelete="RESTRICT")


class Electorate(SQLModel, table=True):
    """A frozen roll: who could vote, with their college, and the SHA-256 of the canonical roll."""

    __tablename__ = "electorate"

    id: uuid.UUID = uuid_pk()
    size: int
    roll_sha256: str = Field(sa_type=String(64))
    frozen_at: datetime = timestamp(server_now=True)


class ElectorateMember(SQLModel, table=True):
    __tablename__ = "electorate_member"

    electorate_id: uuid.UUID = Field(foreign_key="electorate.id", ondelete="CASCADE", primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", primary_key=True)
    college: str | None = Field(default=None, sa_type=String(64))


class Assembly(SQLModel, table=True):
    __tablename__ = "assembly"
    __table_args__ = (
        CheckConstraint("kind in ('ordinary', 'extraordinary')", name="kind_known"),
        CheckConstraint("state in ('planned', 'convened', 'open', 'closed')", name="state_known"),
        CheckConstraint("call in (1, 2)", name="call_known"),
    )

    id: uuid.UUID = uuid_pk()
    kind: str = Field(sa_type=String(16))
    title: str = Field(sa_type=String(200))
    description: str = Field(default="", sa_type=Text)
    location: str = Field(default="", sa_type=String(500))
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB)
    scheduled_at: datetime = timestamp()
    voting_opens_at: datetime | None = timestamp(nullable=True)
    voting_closes_at: datetime | None = timestamp(nullable=True)
    state: str = Field(default=AssemblyState.PLANNED, sa_type=String(16), index=True)
    call: int = Field(default=1)
    first_call_id: uuid.UUID | None = Field(default=None, foreign_key="assembly.id", ondelete="RESTRICT")
    rules: dict[str, Any] | None = Field(default=None, sa_type=JSONB)  # statutory rules frozen at convocation
    electorate_id: uuid.UUID | None = Field(default=None, foreign_key="electorate.id", ondelete="RESTRICT")
    created_by: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    created_at: datetime = timestamp(server_now=True)
    convened_at: datetime | None = timestamp(nullable=True)
    opened_at: datetime | None = timestamp(nullable=True)
    closed_at: datetime | None = timestamp(nullable=True)
    minutes_markdown: str | None = Field(default=None, sa_type=Text)
    minutes_html: str | None = Field(default=None, sa_type=Text)
    minutes_sha256: str | None = Field(default=None, sa_type=String(64))
    # The bureau's scrutineers who share the election key of its secret votes: {"trustees", "threshold"}.
    bureau: dict[str, Any] | None = Field(default=None, sa_type=JSONB)


class Proposal(SQLModel, table=True):
    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint("kind in ('ordinary', 'extraordinary')", name="kind_known"),
        CheckConstraint("state in ('draft', 'qualified', 'scheduled', 'open', 'closed')", name="state_known"),
        CheckConstraint("closes_at is null or opens_at is null or closes_at > opens_at", name="window_ordered"),
        CheckConstraint("key_custody in ('server', 'bureau')", name="key_custody_known"),
    )

    id: uuid.UUID = uuid_pk()
    assembly_id: uuid.UUID | None = Field(default=None, foreign_key="assembly.id", ondelete="RESTRICT", index=True)
    agenda_position: int | None = None
    kind: str = Field(default=AssemblyKind.ORDINARY, sa_type=String(16))
    title: str = Field(sa_type=String(200))
    text: str = Field(sa_type=Text)
    method: str = Field(sa_type=String(32))
    options: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB)  # [{"id", "label"}]
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)  # the proposal's own rule fields
    rules: dict[str, Any] | None = Field(default=None, sa_type=JSONB)  # the full Rules, frozen at opening
    secret: bool = True
    results_visible: bool = False
    state: str = Field(default=ProposalState.DRAFT, sa_type=String(16), index=True)
    initiative: bool = False
    author_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    action: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    opens_at: datetime | None = timestamp(nullable=True)
    closes_at: datetime | None = timestamp(nullable=True)
    electorate_id: uuid.UUID | None = Field(default=None, foreign_key="electorate.id", ondelete="RESTRICT")
    # Secret votes: who holds the election key ('server': derived from a setting with a per-vote salt
    # erased at the close; 'bureau': split among the assembly's scrutineers). Never the private key.
    key_custody: str | None = Field(default=None, sa_type=String(16))
    election_public_key: bytes | None = Field(default=None, sa_type=LargeBinary(32))
    election_key_salt: bytes | None = Field(default=None, sa_type=LargeBinary(32))
    key_threshold: int | None = None
    audit_head: dict[str, Any] | None = Field(default=None, sa_type=JSONB)  # the chain's head at the close
    created_at: datetime = timestamp(server_now=True)
    qualified_at: datetime | None = timestamp(nullable=True)
    opened_at: datetime | None = timestamp(nullable=True)
    closed_at: datetime | None = timestamp(nullable=True)
    reminder_sent_at: datetime | None = timestamp(nullable=True)
    outcome: str | None = Field(default=None, sa_type=String(16))
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    explanation: str | None = Field(default=None, sa_type=Text)
    certificate: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    certificate_sha256: str | None = Field(default=None, sa_type=String(64))
    box_sha256: str | None = Field(default=None, sa_type=String(64))
    attendance: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    action_applied_at: datetime | None = timestamp(nullable=True)


class Cosignature(SQLModel, table=True):
    __tablename__ = "cosignature"

    proposal_id: uuid.UUID = Field(foreign_key="proposal.id", ondelete="CASCADE", primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    signed_at: datetime = timestamp(server_now=True)


class ProposalComment(SQLModel, table=True):
    __tablename__ = "proposal_comment"

    id: uuid.UUID = uuid_pk()
    proposal_id: uuid.UUID = Field(foreign_key="proposal.id", ondelete="CASCADE", index=True)
    author_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE")
    body: str = Field(sa_type=Text)
    created_at: datetime = timestamp(server_now=True)


class Proxy(SQLModel, table=True):
    """A principal's proxy for one assembly (all its agenda) or one standalone decision."""

    __tablename__ = "proxy"
    __table_args__ = (CheckConstraint("(assembly_id is null) <> (proposal_id is null)", name="one_scope"),)

    id: uuid.UUID = uuid_pk()
    assembly_id: uuid.UUID | None = Field(default=None, foreign_key="assembly.id", ondelete="CASCADE")
    proposal_id: uuid.UUID | None = Field(default=None, foreign_key="proposal.id", ondelete="CASCADE")
    principal_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE")
    holder_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="CASCADE")
    created_at: datetime = timestamp(server_now=True)
    revoked_at: datetime | None = timestamp(nullable=True)


class BallotRegister(SQLModel, table=True):
    """Who voted on a decision, and how: one row per member per decision (the database says so)."""

    __tablename__ = "ballot_register"
    __table_args__ = (CheckConstraint("channel in ('online', 'proxy', 'postal', 'room')", name="channel_known"),)

    proposal_id: uuid.UUID = Field(foreign_key="proposal.id", ondelete="CASCADE", primary_key=True)
    voter_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", primary_key=True)
    channel: str = Field(sa_type=String(8))
    cast_by: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="RESTRICT")
    cast_at: datetime = timestamp(server_now=True)
    changes: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    # What was voted: an HPKE ciphertext to the election key for a secret vote, canonical JSON for a
    # public one; erased (with its seal) at the close, once counted into the published box.
    ballot: bytes | None = Field(default=None, sa_type=LargeBinary)
    seal: bytes | None = Field(default=None, sa_type=LargeBinary(32))
    # The database's order of accepted ballots, drawn under the row's lock: the highest is the last.
    seq: int = Field(
        default=None,
        sa_column=Column(BigInteger, Identity(always=False), nullable=False),
    )


class TrusteeKey(SQLModel, table=True):
    """A scrutineer's X25519 public key: shares of election keys are encrypted to it."""

    __tablename__ = "trustee_key"

    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    public_key: bytes = Field(sa_type=LargeBinary(32))
    created_at: datetime = timestamp(server_now=True)


class BallotKeyShare(SQLModel, table=True):
    """One scrutineer's Shamir share of a vote's election key, encrypted to their own key."""

    __tablename__ = "ballot_key_share"

    proposal_id: uuid.UUID = Field(foreign_key="proposal.id", ondelete="CASCADE", primary_key=True)
    trustee_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", primary_key=True)
    x: int
    encrypted_share: bytes = Field(sa_type=LargeBinary)
    commitment: bytes = Field(sa_type=LargeBinary(32))  # SHA-256 of the share: a wrong one is refused


class PublishedBallot(SQLModel, table=True):
    """The ballot box as published at the close: sorted by tracker; names only for public ballots."""

    __tablename__ = "published_ballot"

    proposal_id: uuid.UUID = Field(foreign_key="proposal.id", ondelete="CASCADE", primary_key=True)
    position: int = Field(primary_key=True)
    tracker: str = Field(sa_type=String(64))
    college: str | None = Field(default=None, sa_type=String(64))
    choice: Any = Field(default=None, sa_type=JSONB)
    reason: str | None = Field(default=None, sa_type=String(500))
    voter_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="RESTRICT")
    cast_by: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="RESTRICT")
    channel: str | None = Field(default=None, sa_type=String(8))


class Attendance(SQLModel, table=True):
    """The chair's record of who is present in the room at an assembly."""

    __tablename__ = "attendance"

    assembly_id: uuid.UUID = Field(foreign_key="assembly.id", ondelete="CASCADE", primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    present: bool = True
    recorded_at: datetime = timestamp(server_now=True)
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")


class AuditEvent(SQLModel, table=True):
    """A governance event: inserted without any lock, then sealed into the chain once by the sequencer.

    `digest` is the SHA-256 of the event's canonical content; the sequencer sets `seq`, `prev_hash`
    and `hash` = SHA-256(prev_hash || digest) exactly once. A trigger refuses every other change.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        # The first close event of a proposal is the only one: a forged second one is refused.
        Index(
            "ux_audit_event_one_close",
            "proposal_id",
            unique=True,
            postgresql_where=text("kind in ('proposal.closed', 'proposal.void')"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True))
    uid: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    at: datetime = timestamp()
    kind: str = Field(sa_type=String(64))
    actor_id: uuid.UUID | None = None
    assembly_id: uuid.UUID | None = None
    proposal_id: uuid.UUID | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    digest: bytes = Field(sa_type=LargeBinary(32))
    seq: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    prev_hash: bytes | None = Field(default=None, sa_type=LargeBinary(32))
    hash: bytes | None = Field(default=None, sa_type=LargeBinary(32))
    chained_at: datetime | None = timestamp(nullable=True)


class MailOutbox(SQLModel, table=True):
    """Governance mails: written in the transaction that decides them, sent by any process, kept as the record."""

    __tablename__ = "mail_outbox"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True))
    kind: str = Field(sa_type=String(32))
    account_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    to_email: str = Field(sa_type=String(254))
    subject: str = Field(sa_type=String(300))
    body: str = Field(sa_type=Text)
    assembly_id: uuid.UUID | None = Field(default=None, foreign_key="assembly.id", ondelete="CASCADE", index=True)
    proposal_id: uuid.UUID | None = Field(default=None, foreign_key="proposal.id", ondelete="CASCADE")
    created_at: datetime = timestamp(server_now=True)
    sent_at: datetime | None = timestamp(nullable=True)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    last_error: str | None = Field(default=None, sa_type=String(500))


Index(
    "ix_proxy_active_assembly",
    Proxy.assembly_id,
    Proxy.principal_id,
    unique=True,
    postgresql_where=text("revoked_at is null and assembly_id is not null"),
)
Index(
    "ix_proxy_active_proposal",
    Proxy.proposal_id,
    Proxy.principal_id,
    unique=True,
    postgresql_where=text("revoked_at is null and proposal_id is not null"),
)
Index("ix_proposal_due", Proposal.closes_at, postgresql_where=text("state = 'open'"))
Index("ix_audit_event_unchained", AuditEvent.id, postgresql_where=text("seq is null"))
Index("ix_mail_outbox_pending", MailOutbox.id, postgresql_where=text("sent_at is null"))
Index("ix_published_ballot_tracker", PublishedBallot.proposal_id, PublishedBallot.tracker)
