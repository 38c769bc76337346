"""The append-only, hash-chained audit log of governance events.

Appending never waits for anyone: a transaction inserts its event (content and `digest` =
SHA-256 of the canonical content) like any other row, with no lock and no read of the chain's head.
Chaining is done afterwards, in batches, by a single **sequencer** at a time (an advisory lock;
every server process runs one in its background loop and on demand): it takes the unchained events
in id order and seals each once with `seq`, `prev_hash` and `hash = SHA-256(prev_hash || digest)`.
So a burst of ballots costs one plain insert each, and the chain's order is the sequencer's (an
event whose transaction commits late is simply chained in a later batch: no gap, no lost event).
A trigger refuses any change to an event other than that single sealing.

`verify` walks the chain in order and reports the first broken link: an event whose content no
longer matches its digest, or whose hash does not follow from the previous one, or a missing seq.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import governance
from app.assemblies.repository import AssemblyRepository
from app.assemblies.secrecy import canonical, published_rows_sha256
from app.models import AuditEvent

GENESIS = b"\x00" * 32
BATCH = 5_000


def event_content(
    *,
    uid: uuid.UUID,
    at: datetime,
    kind: str,
    actor_id: uuid.UUID | None,
    assembly_id: uuid.UUID | None,
    proposal_id: uuid.UUID | None,
    data: dict[str, Any],
) -> bytes:
    return canonical(
        {
            "uid": str(uid),
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "kind": kind,
            "actor": None if actor_id is None else str(actor_id),
            "assembly": None if assembly_id is None else str(assembly_id),
            "proposal": None if proposal_id is None else str(proposal_id),
            "data": data,
        }
    )


def digest_of(**fields: Any) -> bytes:
    return hashlib.sha256(event_content(**fields)).digest()


@dataclass(frozen=True)
class EventFields:
    """An event's columns, for the hot path that writes them in raw SQL (no ORM object)."""

    uid: uuid.UUID
    at: datetime
    kind: str
    data: dict[str, Any]
    digest: bytes


def event_fields(
    kind: str,
    *,
    actor_id: uuid.UUID | None = None,
    assembly_id: uuid.UUID | None = None,
    proposal_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> EventFields:
    uid = uuid.uuid4()
    at = datetime.now(UTC)
    data = data or {}
    digest = digest_of(
        uid=uid, at=at, kind=kind, actor_id=actor_id, assembly_id=assembly_id, proposal_id=proposal_id, data=data
    )
    return EventFields(uid, at, kind, data, digest)


def new_event(
    kind: str,
    *,
    actor_id: uuid.UUID | None = None,
    assembly_id: uuid.UUID | None = None,
    proposal_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    uid = uuid.uuid4()
    at = datetime.now(UTC)
    data = data or {}
    digest = digest_of(
        uid=uid, at=at, kind=kind, actor_id=actor_id, assembly_id=assembly_id, proposal_id=proposal_id, data=data
    )
    return AuditEvent(
        uid=uid,
        at=at,
        kind=kind,
        actor_id=actor_id,
        assembly_id=assembly_id,
        proposal_id=proposal_id,
        data=data,
        digest=digest,
    )


def link_hash(prev_hash: bytes, digest: bytes) -> bytes:
    return hashlib.sha256(prev_hash + digest).digest()


async def chain_pending(repository: AssemblyRepository, *, limit: int = BATCH, wait: bool = False) -> int:
    """Seal unchained events into the chain; returns how many.

    The background loop does not `wait`: when another sequencer runs it returns 0 and lets it work.
    Whoever must then read a head that covers every event committed so far (the close of a vote,
    `coop audit head`) waits for that sequencer, then seals what it left."""
    if wait:
        await repository.lock_chain()
    elif not await repository.try_lock_chain():
        return 0
    seq, head = await repository.chain_head()
    prev = head or GENESIS
    pending = await repository.unchained(limit)
    links = []
    for event_id, digest in pending:
        seq += 1
        current = link_hash(prev, digest)
        links.append({"id": event_id, "seq": seq, "prev_hash": prev, "hash": current})
        prev = current
    if links:
        await repository.seal_events(links)
    return len(links)


@dataclass
class ChainReport:
    checked: int
    unchained: int
    broken_at: int | None = None  # seq of the first broken link
    event_uid: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def verify_chain(repository: AssemblyRepository) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    checked = 0
    after = 0
    while True:
        events = await repository.events_in_chain_order(after, BATCH)
        if not events:
            break
        for event in events:
            if event.seq != expected_seq:
                return ChainReport(
                    checked, 0, expected_seq, None, f"link {expected_seq} is missing (next is {event.seq})"
                )
            recomputed = digest_of(
                uid=event.uid,
                at=event.at,
                kind=event.kind,
                actor_id=event.actor_id,
                assembly_id=event.assembly_id,
                proposal_id=event.proposal_id,
                data=event.data,
            )
            if recomputed != event.digest:
                return ChainReport(
                    checked, 0, event.seq, str(event.uid), "the event's content does not match its digest"
                )
            if event.prev_hash != prev:
                return ChainReport(checked, 0, event.seq, str(event.uid), "prev_hash is not the previous link's hash")
            if event.hash != link_hash(prev, event.digest):
                return ChainReport(checked, 0, event.seq, str(event.uid), "hash is not SHA-256(prev_hash || digest)")
            prev = event.hash
            expected_seq += 1
            checked += 1
            after = event.seq
    return ChainReport(checked, await repository.unchained_count())


@dataclass
class RecordProblem:
    proposal_id: str
    reason: str


async def verify_records(repository: AssemblyRepository) -> tuple[int, list[RecordProblem]]:
    """Every closed vote against the one close event the chain recorded for it.

    The first close event of a proposal is its result (the database refuses a second one; if an
    owner forced one in, it is reported and ignored). The stored outcome, certificate, box and the
    chain head printed at the close must all match that event, so editing the proposal row, the
    published box or the certificate is detected, and a vote cannot be turned void (or back)
    without an event of its own.
    """
    problems: list[RecordProblem] = []
    checked = 0
    for proposal in await repository.closed_proposals():
        checked += 1
        pid = str(proposal.id)
        events = await repository.close_events(proposal.id)
        if not events:
            problems.append(RecordProblem(pid, "closed, but the audit log records no close for it"))
            continue
        if len(events) > 1:
            problems.append(RecordProblem(pid, f"{len(events)} close events in the audit log: only the first counts"))
        event = events[0]
        recorded = event.data
        if event.kind == "proposal.void":
            if proposal.outcome != "void":
                problems.append(RecordProblem(pid, f"stored outcome {proposal.outcome!r}, but the log recorded a void"))
            continue
        if proposal.outcome != recorded.get("outcome"):
            problems.append(
                RecordProblem(
                    pid, f"stored outcome {proposal.outcome!r} differs from {recorded.get('outcome')!r} recorded"
                )
            )
        if proposal.audit_head != recorded.get("audit_head"):
            problems.append(RecordProblem(pid, "the chain head stored with the result differs from the one recorded"))
        rows = [
            {
                "proposal_id": row.proposal_id,
                "position": row.position,
                "tracker": row.tracker,
                "college": row.college,
                "choice": row.choice,
                "reason": row.reason,
                "voter_id": row.voter_id,
                "cast_by": row.cast_by,
                "channel": row.channel,
            }
            for row in await repository.published_box(proposal.id)
        ]
        if published_rows_sha256(rows) != recorded.get("box_sha256"):
            problems.append(
                RecordProblem(pid, "the published ballot box does not match the hash recorded at the close")
            )
        if proposal.certificate_sha256 != recorded.get("certificate_sha256"):
            problems.append(RecordProblem(pid, "the certificate hash differs from the one recorded at the close"))
        if proposal.result != (proposal.certificate or {}).get("result"):
            problems.append(RecordProblem(pid, "the stored result differs from the certificate's"))
        try:
            governance.verify({"certificate": proposal.certificate, "sha256": proposal.certificate_sha256})
        except governance.GovernanceError as error:
            problems.append(RecordProblem(pid, f"the certificate does not verify: {error}"))
            continue
        certified_outcome = (proposal.certificate or {}).get("result", {}).get("outcome")
        if certified_outcome != recorded.get("outcome"):
            problems.append(RecordProblem(pid, "the certificate's outcome differs from the one recorded"))
        try:
            recount = _recount_box(proposal, rows)
        except governance.GovernanceError as error:
            problems.append(RecordProblem(pid, f"the published box does not count: {error}"))
            continue
        if recount != certified_outcome:
            problems.append(RecordProblem(pid, "recounting the published box gives another outcome"))
    return checked, problems


def parse_head(text: str) -> tuple[int | None, bytes]:
    """`SEQ:HASH` or `HASH` (hex), as `coop audit head` prints it and certificates carry it."""
    seq_text, _, hash_text = text.strip().rpartition(":")
    try:
        return (int(seq_text) if seq_text else None), bytes.fromhex(hash_text)
    except ValueError as error:
        raise ValueError(f"not an audit head: {text!r} (expected SEQ:HASH)") from error


async def verify_extends(repository: AssemblyRepository, seq: int | None, head: bytes) -> str | None:
    """None when the chain still holds the link someone kept; otherwise why not."""
    event = await repository.event_with_hash(head)
    if event is None:
        return "the chain no longer holds the head you kept: it was rewritten or cut after it"
    if seq is not None and event.seq != seq:
        return f"the head you kept is now link {event.seq}, not {seq}: links were removed or inserted before it"
    return None


def _recount_box(proposal: Any, rows: list[dict[str, Any]]) -> str:
    rules = governance.Rules.from_dict(proposal.rules)
    certificate = proposal.certificate or {}
    size = certificate.get("electorate", {}).get("size", len(rows))
    college_sizes = certificate.get("electorate", {}).get("colleges", {})
    voters = [governance.Voter(row["tracker"], row["college"]) for row in rows]
    remaining = dict(college_sizes) if rules.colleges else {None: size}
    for row in rows:
        key = row["college"] if rules.colleges else None
        remaining[key] = remaining.get(key, 0) - 1
    for key, missing in remaining.items():
        voters += [governance.Voter(f"absent-{key}-{i}", key) for i in range(max(missing, 0))]
    ballots = [governance.Ballot(row["tracker"], row["choice"], row["reason"]) for row in rows]
    return governance.tally(rules, governance.Electorate(tuple(voters)), ballots).outcome


@dataclass
class AuditReport:
    chain: ChainReport
    votes_checked: int
    problems: list[RecordProblem]
    since: str | None = None  # the kept head checked, if any
    since_problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems and self.since_problem is None

    def lines(self) -> list[str]:
        out = []
        if self.chain.ok:
            out.append(f"audit chain: {self.chain.checked} events verified ({self.chain.unchained} not chained yet)")
        else:
            out.append(
                f"audit chain BROKEN at link {self.chain.broken_at} (event {self.chain.event_uid}): {self.chain.reason}"
            )
        if self.since is not None:
            out.append(f"kept head {self.since}: " + (self.since_problem or "the chain still extends it"))
        out.append(f"closed votes: {self.votes_checked} checked")
        out += [f"vote {p.proposal_id}: {p.reason}" for p in self.problems]
        return out


async def audit_database(sessionmaker: Any, *, since: str | None = None) -> AuditReport:
    """Chain what is pending, then verify the chain, a kept head and every closed vote (`coop audit verify`)."""
    kept = parse_head(since) if since else None
    async with sessionmaker() as session, session.begin():
        await chain_pending(AssemblyRepository(session), limit=1_000_000)
    async with sessionmaker() as session, session.begin():
        repository = AssemblyRepository(session)
        chain = await verify_chain(repository)
        checked, problems = await verify_records(repository)
        since_problem = await verify_extends(repository, *kept) if kept else None
    return AuditReport(chain, checked, problems, since, since_problem)


def head_text(seq: int, head: bytes | None) -> str:
    """A head as people keep it and `coop audit verify --since` reads it: `SEQ:HASH`."""
    return f"{seq}:{head.hex() if head else GENESIS.hex()}"


async def chain_head_text(sessionmaker: Any) -> str:
    """`SEQ:HASH` of the chain's last link, after chaining what is pending (`coop audit head`)."""
    async with sessionmaker() as session, session.begin():
        await chain_pending(AssemblyRepository(session), limit=1_000_000, wait=True)
    async with sessionmaker() as session, session.begin():
        seq, head = await AssemblyRepository(session).chain_head()
    return head_text(seq, head)


@dataclass(frozen=True)
class AuditHead:
    """The chain's last sealed link, and how many events still wait for the sequencer to seal them."""

    seq: int
    text: str  # SEQ:HASH, as `coop audit head` prints it
    unchained: int


async def audit_head(repository: AssemblyRepository) -> AuditHead:
    """Read only (no sealing, unlike the CLI): a page showing the head never takes the chain's lock."""
    seq, head = await repository.chain_head()
    return AuditHead(seq=seq, text=head_text(seq, head), unchained=await repository.unchained_count())
