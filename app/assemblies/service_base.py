"""The base of the assemblies feature's rules: shared state, visibility, audit, helpers.

Nothing here knows about HTTP and nothing commits: the request's unit of work does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

import governance
from app.assemblies import statutes
from app.assemblies.audit import new_event
from app.assemblies.live import Live
from app.assemblies.repository import AssemblyRepository, ProposalPage
from app.assemblies.secrecy import (
    BallotSeals,
    ElectionKeys,
    ReceiptSigner,
    canonical,
    sha256_hex,
)
from app.assemblies.statutes import (
    SecretRunningResults,
)
from app.core.errors import Forbidden, InvalidInput, NotFound
from app.db.transaction import UnitOfWork
from app.models import (
    Account,
    Assembly,
    MemberStatus,
    Proposal,
    Role,
    StatuteVersion,
)
from app.settings import Settings

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
IN_PERSON = frozenset({"online", "postal", "room"})
LATEST = datetime(2999, 12, 31, tzinfo=UTC)


@dataclass
class Governance:
    """What every request of the feature shares in one process."""

    settings: Settings
    seals: BallotSeals
    election: ElectionKeys
    signer: ReceiptSigner
    live: Live
    rules_cache: dict[uuid.UUID, governance.Rules] = field(default_factory=dict)
    valid_choices: set[tuple[uuid.UUID, bytes]] = field(default_factory=set)
    kick_mail: Any = None  # set by the process's lifespan to its background loop's: wakes the outbox sender
    seal_audit_chain: Any = None  # likewise: seals pending events in a transaction of its own


@dataclass(frozen=True)
class CastResult:
    proposal_id: uuid.UUID
    voter_id: uuid.UUID
    channel: str
    tracker: str
    cast_at: datetime
    signature: str
    order: int


def now() -> datetime:
    return datetime.now(UTC)


def in_range(moment: datetime | None, name: str) -> None:
    if moment is not None and not EARLIEST <= moment <= LATEST:
        raise InvalidInput.field(name, "must be between the years 2000 and 2999")


def roll_sha256(voters: list[tuple[uuid.UUID, str | None]]) -> str:
    return sha256_hex(canonical([{"id": str(v), "college": c} for v, c in sorted(voters, key=lambda x: str(x[0]))]))


class ServiceBase:
    """What every part of the feature's rules shares: the repository, the unit of work, who may see what."""

    def __init__(self, unit_of_work: UnitOfWork, context: Governance) -> None:
        self.repository = AssemblyRepository(unit_of_work.session, unit_of_work.database)
        self._unit = unit_of_work
        self._context = context
        self._settings = context.settings

    @staticmethod
    def _reader_by_role(account: Account) -> bool:
        if account.role == Role.ADMIN:
            return True
        return account.role == Role.MEMBER and account.member_status == MemberStatus.MEMBER

    async def _is_reader(self, account: Account) -> bool:
        return self._reader_by_role(account) or await self.repository.college_of(account.id) is not None

    @staticmethod
    def _hidden_draft(account: Account, state: str, initiative: bool) -> bool:
        """A draft decision is the chair's until it is opened or put on an agenda (initiatives are public)."""
        return state == "draft" and not initiative and account.role != Role.ADMIN

    async def require_reader(self, account: Account) -> None:
        if not await self._is_reader(account):
            raise Forbidden("Only the cooperative's members, college members and administrators take part.")

    @staticmethod
    def require_chair(account: Account) -> None:
        if account.role != Role.ADMIN:
            raise Forbidden("Only the chair (an administrator) can do this.")

    async def visible_assembly(self, account: Account, assembly_id: uuid.UUID, *, lock: bool = False) -> Assembly:
        assembly = await self.repository.get_assembly(assembly_id, lock=lock)
        if assembly is None or not await self._is_reader(account):
            raise NotFound("No such assembly.")
        return assembly

    async def visible_proposal(self, account: Account, proposal_id: uuid.UUID) -> Proposal:
        proposal = await self.repository.get_proposal(proposal_id)
        if proposal is None or not await self._is_reader(account):
            raise NotFound("No such proposal.")
        if self._hidden_draft(account, proposal.state, proposal.initiative):
            raise NotFound("No such proposal.")
        return proposal

    async def proposal_page(self, account: Account, proposal_id: uuid.UUID) -> ProposalPage:
        """What `GET /proposals/{id}` shows, under the same rules as `visible_proposal`, in one statement."""
        page = await self.repository.proposal_page(proposal_id, account.id)
        if page is None or not (self._reader_by_role(account) or page.viewer_in_college):
            raise NotFound("No such proposal.")
        if self._hidden_draft(account, page.state, page.initiative):
            raise NotFound("No such proposal.")
        return page

    def _audit(self, kind: str, **fields: Any) -> None:
        self._unit.session.add(new_event(kind, **fields))

    def _kick_mail(self) -> None:
        kick = self._context.kick_mail
        if kick is not None:
            self._unit.after_commit(kick)

    async def current_statutes(self) -> StatuteVersion:
        current = await self.repository.latest_statutes()
        if current is None:
            current = StatuteVersion(
                document=statutes.default_statutes(self._settings.statute_preset),
                reason=f"preset {self._settings.statute_preset} (COOP_STATUTE_PRESET)",
            )
            await self.repository.add(current)
        return current

    async def contribution_rate(self) -> int | None:
        return await self.repository.contribution_rate()


# -- helpers shared by the rules, closing.py and the controllers ----------------------------------------


def later(function: Any, *args: Any) -> Any:
    async def run() -> None:
        function(*args)

    return run


def refuse_secret_running_results(data: Any) -> None:
    """Running results of a secret vote let anyone who watches them attribute each new ballot."""
    if data.secret and data.results_visible:
        raise SecretRunningResults(
            "A secret vote cannot show running results: set `results_visible` to false or make the vote public.",
            errors=[{"field": "results_visible", "message": "must be false for a secret vote"}],
        )


def check_window(
    opens: datetime | None,
    closes: datetime | None,
    opens_name: str = "voting_opens_at",
    closes_name: str = "voting_closes_at",
) -> None:
    if opens is not None and closes is not None and closes <= opens:
        raise InvalidInput.field(closes_name, f"must be after {opens_name}")


def proposal_fields(data: Any) -> dict[str, Any]:
    return {
        "method": data.method,
        "options": [o.id for o in data.options],
        "seats": data.seats,
        "board_approved": data.board_approved,
    }


def rules_change(change: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in (
        "threshold",
        "abstentions_count_as_cast",
        "blanks_count_as_cast",
        "proxy_cap",
        "blank_proxies",
        "empty_college",
    ):
        value = getattr(change, name)
        if value is not None:
            out[name] = value
    if change.quorum is not None:
        out["quorum"] = None if change.quorum in ("0", "0/1") else change.quorum
    if change.colleges is not None:
        out["colleges"] = [{"name": c.name, "weight": c.weight} for c in change.colleges]
    return out


def action_dict(action: Any) -> dict[str, Any] | None:
    if action is None:
        return None
    return msgspec.to_builtins(action)


async def box_document(repository: AssemblyRepository, proposal: Proposal) -> dict[str, Any]:
    """The published box as a `python -m governance tally` input (pseudonyms for secret ballots)."""
    rows = await repository.published_box(proposal.id)
    electorate = await repository.get_electorate(proposal.electorate_id)
    size = electorate.size if electorate else 0
    ballots = []
    voters = []
    for row in rows:
        voter = str(row.voter_id) if not proposal.secret and row.voter_id else row.tracker
        ballots.append(
            {
                "voter": voter,
                "choice": row.choice,
                "reason": row.reason,
                "cast_by": None,
                "tracker": row.tracker,
                **(
                    {"channel": row.channel, "cast_by_member": str(row.cast_by) if row.cast_by else None}
                    if not proposal.secret
                    else {}
                ),
            }
        )
        voters.append({"id": voter, "college": row.college})
    # Members who did not vote, by college, under neutral names (their number matters, not who).
    counts: dict[str | None, int] = {}
    if proposal.electorate_id is not None:
        for _v, college in await repository.roll(proposal.electorate_id):
            counts[college] = counts.get(college, 0) + 1
    for entry in voters:
        counts[entry["college"]] = counts.get(entry["college"], 0) - 1
    absent = 0
    for college, missing in sorted(counts.items(), key=lambda kv: str(kv[0])):
        for _ in range(max(missing, 0)):
            absent += 1
            voters.append({"id": f"absent-{absent}", "college": college})
    assert len(voters) == size or size == 0
    return {
        "proposal_id": proposal.id,
        "secret": proposal.secret,
        "sha256": proposal.box_sha256 or "",
        "rules": proposal.rules or {},
        "electorate": voters,
        "ballots": ballots,
        "proxies": [],
    }
