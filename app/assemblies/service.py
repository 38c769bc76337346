"""Rules of the assemblies feature: statutes, assemblies, proposals, initiatives, proxies, ballots.

Nothing here knows about HTTP and nothing commits: the request's unit of work does. Closing a vote
(count, certificate, binding action, minutes) lives in `closing.py`; the audit chain in `audit.py`.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

import governance
from app.assemblies import mails, statutes
from app.assemblies.audit import event_fields, new_event
from app.assemblies.live import Live
from app.assemblies.repository import AssemblyRepository
from app.assemblies.secrecy import (
    BallotSeals,
    ElectionKeys,
    ReceiptSigner,
    canonical,
    encrypt_share,
    new_tracker,
    public_bytes,
    sha256_hex,
    split_key,
)
from app.assemblies.statutes import (
    BallotStands,
    NotInElectorate,
    ProxyNotHeld,
    SecretRunningResults,
    StatutesFrozen,
    VotedInPerson,
    VoteNotOpen,
)
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.db.transaction import UnitOfWork
from app.models import (
    Account,
    Assembly,
    BallotKeyShare,
    MemberStatus,
    Proposal,
    ProposalComment,
    Proxy,
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
    kick_mail: Any = None  # set by the background loop: wakes the outbox sender


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


def _in_range(moment: datetime | None, name: str) -> None:
    if moment is not None and not EARLIEST <= moment <= LATEST:
        raise InvalidInput.field(name, "must be between the years 2000 and 2999")


def roll_sha256(voters: list[tuple[uuid.UUID, str | None]]) -> str:
    return sha256_hex(canonical([{"id": str(v), "college": c} for v, c in sorted(voters, key=lambda x: str(x[0]))]))


class AssemblyService:
    def __init__(self, unit_of_work: UnitOfWork, context: Governance) -> None:
        self.repository = AssemblyRepository(unit_of_work.session)
        self._unit = unit_of_work
        self._context = context
        self._settings = context.settings

    # -- who may see and do what -----------------------------------------------------------------------------

    async def _is_reader(self, account: Account) -> bool:
        if account.role == Role.ADMIN:
            return True
        if account.role == Role.MEMBER and account.member_status == MemberStatus.MEMBER:
            return True
        return await self.repository.college_of(account.id) is not None

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
        if proposal.state == "draft" and not proposal.initiative and account.role != Role.ADMIN:
            raise NotFound("No such proposal.")
        return proposal

    def _audit(self, kind: str, **fields: Any) -> None:
        self._unit.session.add(new_event(kind, **fields))

    def _kick_mail(self) -> None:
        kick = self._context.kick_mail
        if kick is not None:
            self._unit.after_commit(kick)

    # -- statutes --------------------------------------------------------------------------------------------

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

    async def found_statutes(self, account: Account, data: Any) -> StatuteVersion:
        self.require_chair(account)
        if await self.repository.any_vote_in_progress():
            raise StatutesFrozen(
                "An assembly is convened or a vote is open: the procedure cannot change until it closes."
            )
        if await self.repository.any_vote_closed():
            raise Conflict(
                "Votes have been held: the statutes now change only by a vote of the members "
                "(a proposal carrying an amend_statutes action)."
            )
        try:
            document = statutes.default_statutes(data.preset)
        except governance.InvalidRules as error:
            raise InvalidInput.field("preset", error.reason) from None
        if data.changes is not None:
            document = statutes.amend(document, None, None, rules_change(data.changes))
        for key in (
            "initiative_cosignatures",
            "initiative_route",
            "initiative_vote_days",
            "chair_may_close_early",
            "chair_may_open_early",
        ):
            value = getattr(data, key)
            if value is not None:
                document[key] = value
        if data.default_college is not None:
            statutes.check_college(document, data.default_college)
            document["default_college"] = data.default_college
        current = await self.current_statutes()
        if current.document == document:
            return current  # an idempotent PUT writes nothing
        version = StatuteVersion(document=document, reason=f"founded on preset {data.preset}", created_by=account.id)
        await self.repository.add(version)
        self._audit("statutes.founded", actor_id=account.id, data={"version": version.id, "document": document})
        return version

    async def assign_college(self, account: Account, account_id: uuid.UUID, college: str | None) -> None:
        self.require_chair(account)
        target = await self.repository.get_account(account_id)
        if target is None:
            raise NotFound("No such account.")
        current = await self.current_statutes()
        statutes.check_college(current.document, college)
        await self.repository.set_college(account_id, college, account.id, None)
        self._audit("college.assigned", actor_id=account.id, data={"account": str(account_id), "college": college})

    # -- assemblies ------------------------------------------------------------------------------------------

    async def list_assemblies(self, account: Account, *, limit: int, offset: int) -> tuple[list[Assembly], int]:
        await self.require_reader(account)
        rows, total = await self.repository.list_assemblies(limit=limit, offset=offset)
        return list(rows), total

    async def agenda_ids(self, assemblies: list[Assembly]) -> dict[uuid.UUID, list[uuid.UUID]]:
        return await self.repository.agenda_ids([a.id for a in assemblies])

    async def electorate_info(self, electorate_id: uuid.UUID | None) -> tuple[int | None, str | None]:
        electorate = await self.repository.get_electorate(electorate_id)
        return (None, None) if electorate is None else (electorate.size, electorate.roll_sha256)

    async def create_assembly(self, account: Account, data: Any) -> Assembly:
        self.require_chair(account)
        for name in ("scheduled_at", "voting_opens_at", "voting_closes_at"):
            _in_range(getattr(data, name), name)
        _check_window(data.voting_opens_at, data.voting_closes_at)
        assembly = Assembly(
            kind=data.kind,
            title=data.title,
            description=data.description,
            location=data.location,
            documents=[{"title": d.title, "url": d.url} for d in data.documents],
            scheduled_at=data.scheduled_at,
            voting_opens_at=data.voting_opens_at,
            voting_closes_at=data.voting_closes_at,
            created_by=account.id,
        )
        await self.repository.add(assembly)
        if data.scheduled_at > now():
            for proposal in await self.repository.qualified_initiatives():
                await self._put_on_agenda(proposal, assembly)
        return assembly

    async def _put_on_agenda(self, proposal: Proposal, assembly: Assembly) -> None:
        proposal.assembly_id = assembly.id
        proposal.agenda_position = await self.repository.next_agenda_position(assembly.id)
        proposal.state = "scheduled"
        proposal.kind = assembly.kind
        proposal.opens_at = proposal.closes_at = None
        await self.repository.add(proposal)

    async def add_to_agenda(self, account: Account, assembly_id: uuid.UUID, data: Any) -> Proposal:
        self.require_chair(account)
        assembly = await self.visible_assembly(account, assembly_id, lock=True)
        if assembly.state != "planned":
            raise Conflict("The agenda is frozen once the assembly is convened.")
        _refuse_secret_running_results(data)
        document = (await self.current_statutes()).document
        own = proposal_fields(data)
        statutes.build_rules(statutes.statutory_rules(document, assembly.kind, assembly.call), own)
        await self._check_action(data.action, document)
        proposal = Proposal(
            assembly_id=assembly.id,
            agenda_position=await self.repository.next_agenda_position(assembly.id),
            kind=assembly.kind,
            title=data.title,
            text=data.text,
            method=data.method,
            options=[{"id": o.id, "label": o.label} for o in data.options],
            settings=own,
            secret=data.secret,
            results_visible=data.results_visible,
            state="scheduled",
            author_id=account.id,
            action=action_dict(data.action),
        )
        await self.repository.add(proposal)
        return proposal

    async def _freeze_electorate(self, document: dict[str, Any], rules: dict[str, Any]) -> tuple[uuid.UUID, int, str]:
        with_colleges = bool(rules.get("colleges"))
        voters = await self.repository.eligible_voters(
            default_college=document.get("default_college"), with_colleges=with_colleges
        )
        if with_colleges:
            names = {c["name"] for c in rules["colleges"]}
            strays = [str(v) for v, c in voters if c not in names]
            if strays:
                raise Conflict(
                    f"{len(strays)} eligible member(s) have no college of the statutes (first: {strays[0]}); "
                    "assign them one (PUT /api/v1/statutes/colleges/{account_id})."
                )
        digest = roll_sha256(voters)
        electorate = await self.repository.create_electorate(voters, digest)
        return electorate.id, len(voters), digest

    async def convene(self, account: Account, assembly_id: uuid.UUID) -> Assembly:
        self.require_chair(account)
        assembly = await self.visible_assembly(account, assembly_id, lock=True)
        if assembly.state != "planned":
            raise Conflict(f"The assembly is {assembly.state}; only a planned assembly can be convened.")
        notice = timedelta(days=self._settings.convocation_notice_days)
        if assembly.scheduled_at < now() + notice:
            raise Conflict(
                f"The statutes require convocations at least {self._settings.convocation_notice_days} days "
                f"before the assembly ({assembly.scheduled_at:%Y-%m-%d}); move its date."
            )
        agenda = list(await self.repository.agenda(assembly.id, lock=True))
        if not agenda:
            raise Conflict("The agenda is empty: add at least one proposal before convening.")
        opens = assembly.voting_opens_at or assembly.scheduled_at
        closes = assembly.voting_closes_at or max(opens, assembly.scheduled_at) + timedelta(days=1)
        _check_window(opens, closes)
        assembly.voting_opens_at, assembly.voting_closes_at = opens, closes
        document = (await self.current_statutes()).document
        statutory = statutes.statutory_rules(document, assembly.kind, assembly.call)
        electorate_id, size, digest = await self._freeze_electorate(document, statutory)
        for proposal in agenda:
            rules = statutes.build_rules(statutory, proposal.settings)
            proposal.rules = rules.to_dict()
            proposal.electorate_id = electorate_id
            proposal.opens_at, proposal.closes_at = opens, closes
        assembly.rules = statutory
        assembly.electorate_id = electorate_id
        assembly.state = "convened"
        assembly.convened_at = now()
        await self.repository.add(assembly, *agenda)
        subject, body = mails.convocation(
            assembly, agenda, self._settings.public_base_url, self._settings.convocation_notice_days
        )
        sent = await self.repository.enqueue_mail_to_roll(
            kind="convocation",
            electorate_id=electorate_id,
            subject=subject,
            body=body,
            assembly_id=assembly.id,
            proposal_id=None,
        )
        self._audit(
            "assembly.convened",
            actor_id=account.id,
            assembly_id=assembly.id,
            data={
                "roll_sha256": digest,
                "electorate_size": size,
                "rules": statutory,
                "agenda": [str(p.id) for p in agenda],
                "convocations": sent,
                "convocation_sha256": sha256_hex(body.encode()),
            },
        )
        self._kick_mail()
        return assembly

    async def open_assembly(self, account: Account | None, assembly_id: uuid.UUID) -> Assembly:
        if account is not None:
            self.require_chair(account)
        assembly = await self.repository.get_assembly(assembly_id, lock=True)
        if assembly is None:
            raise NotFound("No such assembly.")
        if assembly.state != "convened":
            raise Conflict(f"The assembly is {assembly.state}; only a convened assembly can open its vote.")
        if assembly.voting_closes_at is not None and assembly.voting_closes_at <= now():
            raise Conflict("The voting window of this assembly is already over.")
        window_opens = assembly.voting_opens_at or assembly.scheduled_at
        if account is not None and window_opens is not None and window_opens > now():
            document = (await self.current_statutes()).document
            if not document.get("chair_may_open_early", False):
                raise Conflict(
                    f"The vote opens on {window_opens.isoformat()}: the statutes do not let the chair open it earlier."
                )
        agenda = list(await self.repository.agenda(assembly.id, lock=True))
        for proposal in agenda:
            await self._open(proposal, account, assembly.voting_closes_at, assembly.bureau)
        assembly.state = "open"
        assembly.opened_at = now()
        await self.repository.add(assembly, *agenda)
        self._audit("assembly.opened", actor_id=account.id if account else None, assembly_id=assembly.id)
        if assembly.electorate_id is not None:
            subject, body = mails.opening(
                assembly.title,
                assembly.voting_closes_at,
                f"{self._settings.public_base_url}/api/v1/assemblies/{assembly.id}",
            )
            await self.repository.enqueue_mail_to_roll(
                kind="opening",
                electorate_id=assembly.electorate_id,
                subject=subject,
                body=body,
                assembly_id=assembly.id,
                proposal_id=None,
            )
            self._kick_mail()
        return assembly

    async def _open(
        self, proposal: Proposal, account: Account | None, closes_at: datetime | None, bureau: dict[str, Any] | None
    ) -> None:
        proposal.state = "open"
        proposal.opened_at = proposal.opens_at = now()
        proposal.closes_at = closes_at
        custody: dict[str, Any] = {}
        if proposal.secret:
            custody = await self._make_election_key(proposal, bureau)
        self._audit(
            "proposal.opened",
            actor_id=account.id if account else None,
            assembly_id=proposal.assembly_id,
            proposal_id=proposal.id,
            data={"rules": proposal.rules, "closes_at": closes_at.isoformat() if closes_at else None, **custody},
        )
        live = self._context.live
        self._unit.after_commit(_later(live.changed, proposal.id))

    async def second_call(self, account: Account, assembly_id: uuid.UUID, data: Any) -> Assembly:
        self.require_chair(account)
        first = await self.visible_assembly(account, assembly_id, lock=True)
        if first.state != "closed":
            raise Conflict("A second call follows a closed assembly.")
        if first.call != 1:
            raise Conflict("This assembly was already a second call.")
        if await self.repository.second_call_of(first.id):
            raise Conflict("This assembly has already been convened again on second call.")
        unquorate = [p for p in await self.repository.agenda(first.id) if p.outcome == "no_quorum"]
        if not unquorate:
            raise Conflict("Every resolution reached its quorum: there is nothing to vote on second call.")
        for name in ("scheduled_at", "voting_opens_at", "voting_closes_at"):
            _in_range(getattr(data, name), name)
        _check_window(data.voting_opens_at, data.voting_closes_at)
        second = Assembly(
            kind=first.kind,
            title=f"{first.title} (second call)",
            description=first.description,
            location=first.location,
            documents=first.documents,
            scheduled_at=data.scheduled_at,
            voting_opens_at=data.voting_opens_at,
            voting_closes_at=data.voting_closes_at,
            call=2,
            first_call_id=first.id,
            created_by=account.id,
        )
        await self.repository.add(second)
        for position, old in enumerate(unquorate, 1):
            await self.repository.add(
                Proposal(
                    assembly_id=second.id,
                    agenda_position=position,
                    kind=second.kind,
                    title=old.title,
                    text=old.text,
                    method=old.method,
                    options=old.options,
                    settings=old.settings,
                    secret=old.secret,
                    results_visible=old.results_visible,
                    state="scheduled",
                    initiative=old.initiative,
                    author_id=old.author_id,
                    action=old.action,
                )
            )
        return second

    async def record_attendance(
        self, account: Account, assembly_id: uuid.UUID, member_id: uuid.UUID, present: bool
    ) -> None:
        self.require_chair(account)
        assembly = await self.visible_assembly(account, assembly_id)
        if assembly.state not in ("convened", "open"):
            raise Conflict("Attendance is recorded while the assembly is convened or open.")
        if not await self.repository.in_electorate(assembly.electorate_id, member_id):
            raise Conflict("This person is not in the assembly's electorate.")
        await self.repository.record_attendance(assembly.id, member_id, present, account.id)
        self._audit(
            "attendance.recorded",
            actor_id=account.id,
            assembly_id=assembly.id,
            data={"account": str(member_id), "present": present},
        )

    async def attendance_sheet(self, account: Account, assembly_id: uuid.UUID) -> list[dict[str, Any]]:
        assembly = await self.visible_assembly(account, assembly_id)
        return await self.sheet(assembly)

    async def sheet(self, assembly: Assembly) -> list[dict[str, Any]]:
        if assembly.electorate_id is None:
            return []
        roll = await self.repository.roll_with_names(assembly.electorate_id)
        present = await self.repository.present(assembly.id)
        proxies = {
            p.principal_id: p for p in await self.repository.active_proxies(assembly_id=assembly.id, proposal_id=None)
        }
        online: set[uuid.UUID] = set()
        postal: set[uuid.UUID] = set()
        for proposal in await self.repository.agenda(assembly.id):
            for entry in await self.repository.register(proposal.id):
                if entry.channel == "online":
                    online.add(entry.voter_id)
                elif entry.channel == "postal":
                    postal.add(entry.voter_id)
        lines = []
        for account_id, college, name, _email in roll:
            proxy = proxies.get(account_id)
            lines.append(
                {
                    "account_id": account_id,
                    "display_name": name,
                    "college": college,
                    "present": account_id in present,
                    "represented_by": proxy.holder_id if proxy and account_id not in present else None,
                    "blank_proxy": bool(proxy and proxy.holder_id is None and account_id not in present),
                    "voted_online": account_id in online,
                    "postal": account_id in postal,
                }
            )
        return lines

    async def minutes(self, account: Account, assembly_id: uuid.UUID) -> Assembly:
        assembly = await self.visible_assembly(account, assembly_id)
        if assembly.minutes_markdown is None:
            raise Conflict("The minutes are written when the assembly closes.")
        return assembly

    async def mail_record(
        self, account: Account, assembly_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[list[Any], int]:
        self.require_chair(account)
        await self.visible_assembly(account, assembly_id)
        rows, total = await self.repository.mails_of(assembly_id, limit=limit, offset=offset)
        return list(rows), total

    # -- proposals and initiatives ---------------------------------------------------------------------------

    async def list_proposals(
        self, account: Account, *, assembly_id: uuid.UUID | None, state: str | None, limit: int, offset: int
    ) -> tuple[list[Proposal], int]:
        await self.require_reader(account)
        rows, total = await self.repository.list_proposals(
            assembly_id=assembly_id, state=state, limit=limit, offset=offset
        )
        visible = [p for p in rows if p.state != "draft" or p.initiative or account.role == Role.ADMIN]
        return visible, total

    async def cosignature_counts(self, proposals: list[Proposal]) -> dict[uuid.UUID, int]:
        return await self.repository.cosignature_counts([p.id for p in proposals if p.initiative])

    async def create_proposal(self, account: Account, data: Any) -> Proposal:
        """An administrator's decision between assemblies, or a member's initiative."""
        is_chair = account.role == Role.ADMIN
        if not is_chair:
            await self.require_reader(account)
        for name in ("opens_at", "closes_at"):
            _in_range(getattr(data, name), name)
        if data.closes_at <= now():
            raise InvalidInput.field("closes_at", "must be in the future")
        _check_window(data.opens_at, data.closes_at, "opens_at", "closes_at")
        _refuse_secret_running_results(data)
        document = (await self.current_statutes()).document
        own = proposal_fields(data)
        statutes.build_rules(statutes.statutory_rules(document, data.kind, 1), own)
        await self._check_action(data.action, document)
        proposal = Proposal(
            kind=data.kind,
            title=data.title,
            text=data.text,
            method=data.method,
            options=[{"id": o.id, "label": o.label} for o in data.options],
            settings=own,
            secret=data.secret,
            results_visible=data.results_visible,
            state="scheduled" if is_chair and data.opens_at is not None else "draft",
            initiative=not is_chair,
            author_id=account.id,
            action=action_dict(data.action),
            opens_at=data.opens_at,
            closes_at=data.closes_at,
        )
        await self.repository.add(proposal)
        if proposal.initiative:
            self._audit("initiative.drafted", actor_id=account.id, proposal_id=proposal.id, data={"title": data.title})
        return proposal

    async def cosign(self, account: Account, proposal_id: uuid.UUID) -> Proposal:
        proposal = await self.visible_proposal(account, proposal_id)
        if account.role == Role.ADMIN and not await self._is_voter_now(account):
            raise Forbidden("Only members co-sign initiatives.")
        if not proposal.initiative or proposal.state != "draft":
            raise Conflict("Only an initiative still gathering co-signatures can be co-signed.")
        if proposal.author_id == account.id:
            raise Conflict("The author of an initiative does not co-sign it.")
        proposal = await self.repository.lock_proposal(proposal.id)  # type: ignore[assignment]
        if proposal.state != "draft":
            raise Conflict("This initiative is no longer gathering co-signatures.")
        await self.repository.cosign(proposal.id, account.id)
        document = (await self.current_statutes()).document
        count = (await self.repository.cosignature_counts([proposal.id])).get(proposal.id, 0)
        if count >= document["initiative_cosignatures"]:
            await self._qualify(proposal, document)
        return proposal

    async def _is_voter_now(self, account: Account) -> bool:
        return await self.repository.is_participant(account.id)

    async def _qualify(self, proposal: Proposal, document: dict[str, Any]) -> None:
        proposal.state = "qualified"
        proposal.qualified_at = now()
        self._audit("initiative.qualified", proposal_id=proposal.id, data={"route": document["initiative_route"]})
        if document["initiative_route"] == "open":
            proposal.closes_at = now() + timedelta(days=document["initiative_vote_days"])
            await self._open_standalone(proposal, None, document)
            return
        assembly = await self.repository.next_planned_assembly()
        if assembly is not None:
            await self._put_on_agenda(proposal, assembly)
        else:
            await self.repository.add(proposal)

    async def open_proposal(self, account: Account | None, proposal_id: uuid.UUID) -> Proposal:
        if account is not None:
            self.require_chair(account)
        proposal = await self.repository.lock_proposal(proposal_id)
        if proposal is None:
            raise NotFound("No such proposal.")
        if proposal.assembly_id is not None:
            raise Conflict("A proposal on an assembly's agenda opens with its assembly.")
        if proposal.state not in ("draft", "scheduled", "qualified"):
            raise Conflict(f"The proposal is {proposal.state}; it cannot be opened.")
        if proposal.closes_at is None or proposal.closes_at <= now():
            raise Conflict("Its closing time has passed: set a new one by drafting it again.")
        await self._open_standalone(proposal, account, (await self.current_statutes()).document)
        return proposal

    async def _open_standalone(self, proposal: Proposal, account: Account | None, document: dict[str, Any]) -> None:
        statutory = statutes.statutory_rules(document, proposal.kind, 1)
        rules = statutes.build_rules(statutory, proposal.settings)
        electorate_id, size, digest = await self._freeze_electorate(document, statutory)
        proposal.rules = rules.to_dict()
        proposal.electorate_id = electorate_id
        await self.repository.revoke_proxies_outside(proposal.id, electorate_id)
        await self._open(proposal, account, proposal.closes_at, None)
        await self.repository.add(proposal)
        self._audit("electorate.frozen", proposal_id=proposal.id, data={"roll_sha256": digest, "electorate_size": size})
        subject, body = mails.opening(
            proposal.title, proposal.closes_at, f"{self._settings.public_base_url}/api/v1/proposals/{proposal.id}"
        )
        await self.repository.enqueue_mail_to_roll(
            kind="opening",
            electorate_id=electorate_id,
            subject=subject,
            body=body,
            assembly_id=None,
            proposal_id=proposal.id,
        )
        self._kick_mail()

    async def _check_action(self, action: Any, document: dict[str, Any]) -> None:
        if action is None:
            return
        kind = type(action).__name__
        if kind in ("AdmitMember", "ExcludeMember"):
            target = await self.repository.get_account(action.account_id)
            if target is None:
                raise InvalidInput.field("action.account_id", "no such account")
            if kind == "AdmitMember":
                statutes.check_college(document, action.college)
        elif kind == "AmendStatutes":
            statutes.amend(document, action.kind, action.call, rules_change(action.changes))

    # -- discussion ------------------------------------------------------------------------------------------

    async def comment(self, account: Account, proposal_id: uuid.UUID, body: str) -> ProposalComment:
        proposal = await self.visible_proposal(account, proposal_id)
        if proposal.state == "closed":
            raise Conflict("The discussion closes with the vote.")
        comment = ProposalComment(proposal_id=proposal.id, author_id=account.id, body=body)
        await self.repository.add(comment)
        return comment

    async def comments(
        self, account: Account, proposal_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[list[Any], int]:
        await self.visible_proposal(account, proposal_id)
        return await self.repository.comments(proposal_id, limit=limit, offset=offset)

    # -- proxies ---------------------------------------------------------------------------------------------

    async def _make_election_key(self, proposal: Proposal, bureau: dict[str, Any] | None) -> dict[str, Any]:
        """The vote's election key: its public half goes in the database, its private half never does.

        With a bureau, the key is drawn here, split among the scrutineers (each share encrypted to
        the scrutineer's own key) and dropped when this function returns. Without one, it is derived
        from the ballot secret (a setting) and a salt that the close erases.
        """
        if bureau:
            trustees = [uuid.UUID(t) for t in bureau["trustees"]]
            keys = await self.repository.trustee_keys(trustees)
            missing = [str(t) for t in trustees if t not in keys]
            if missing:
                raise Conflict(f"Scrutineers without a registered key cannot hold shares: {', '.join(missing)}.")
            private = X25519PrivateKey.generate()
            shares = split_key(private, proposal.id, len(trustees), bureau["threshold"])
            await self.repository.add(
                *(
                    BallotKeyShare(
                        proposal_id=proposal.id,
                        trustee_id=trustee,
                        x=share.x,
                        encrypted_share=encrypt_share(share, keys[trustee], trustee),
                        commitment=share.commitment(),
                    )
                    for trustee, share in zip(trustees, shares, strict=True)
                )
            )
            proposal.key_custody = "bureau"
            proposal.key_threshold = bureau["threshold"]
        else:
            proposal.election_key_salt = ElectionKeys.new_salt()
            private = self._context.election.server_private_key(proposal.id, proposal.election_key_salt)
            proposal.key_custody = "server"
        proposal.election_public_key = public_bytes(private.public_key())
        return {
            "key_custody": proposal.key_custody,
            "election_public_key": proposal.election_public_key.hex(),
            **({"scrutineers": bureau["trustees"], "threshold": bureau["threshold"]} if bureau else {}),
        }

    async def set_trustee_key(self, account: Account, public_key: bytes) -> None:
        await self.require_reader(account)
        if len(public_key) != 32:
            raise InvalidInput.field("public_key", "must be a 32-byte X25519 public key, base64url")
        await self.repository.set_trustee_key(account.id, public_key)

    async def set_bureau(
        self, account: Account, assembly_id: uuid.UUID, trustees: list[uuid.UUID], threshold: int
    ) -> Assembly:
        self.require_chair(account)
        assembly = await self.visible_assembly(account, assembly_id, lock=True)
        if assembly.state not in ("planned", "convened"):
            raise Conflict(f"The assembly is {assembly.state}: its bureau is named before the vote opens.")
        if len(set(trustees)) != len(trustees):
            raise InvalidInput.field("trustees", "names the same person twice")
        if threshold > len(trustees):
            raise InvalidInput.field("threshold", "cannot exceed the number of scrutineers")
        keys = await self.repository.trustee_keys(trustees)
        missing = [str(t) for t in trustees if t not in keys]
        if missing:
            raise InvalidInput(
                "Every scrutineer must first register a key (PUT /api/v1/me/trustee-key).",
                errors=[{"field": "trustees", "message": f"no registered key: {', '.join(missing)}"}],
            )
        assembly.bureau = {"trustees": [str(t) for t in trustees], "threshold": threshold}
        await self.repository.add(assembly)
        self._audit(
            "assembly.bureau",
            actor_id=account.id,
            assembly_id=assembly.id,
            data={"trustees": assembly.bureau["trustees"], "threshold": threshold},
        )
        return assembly

    async def my_key_share(self, account: Account, proposal_id: uuid.UUID) -> tuple[BallotKeyShare, int]:
        proposal = await self.visible_proposal(account, proposal_id)
        share = await self.repository.key_share(proposal.id, account.id)
        if share is None:
            raise NotFound("You hold no share of this vote's key.")
        return share, proposal.key_threshold or 1

    async def require_counter(self, account: Account, proposal_id: uuid.UUID) -> None:
        """The chair, or a scrutineer holding a share of this vote's key, may bring shares to count."""
        proposal = await self.visible_proposal(account, proposal_id)
        if account.role == Role.ADMIN:
            return
        if await self.repository.key_share(proposal.id, account.id) is None:
            raise Forbidden("Only the chair or the vote's scrutineers count it.")

    async def _proxy_scope(
        self, account: Account, *, assembly_id: uuid.UUID | None, proposal_id: uuid.UUID | None
    ) -> tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID | None, dict[str, Any], str, int]:
        """(assembly id, proposal id, frozen electorate or None, statutory rules, state) of a proxy's scope."""
        document = (await self.current_statutes()).document
        if assembly_id is not None:
            assembly = await self.visible_assembly(account, assembly_id)
            if assembly.state != "convened":
                raise Conflict("Proxies for an assembly are given once it is convened and before its vote opens.")
            return assembly.id, None, assembly.electorate_id, assembly.rules or {}, assembly.state, assembly.call
        proposal = await self.visible_proposal(account, proposal_id)  # type: ignore[arg-type]
        if proposal.assembly_id is not None:
            raise Conflict("This proposal is on an assembly's agenda: give your proxy for the assembly.")
        if proposal.state not in ("draft", "scheduled", "qualified"):
            raise Conflict("Proxies are given before the vote opens.")
        return None, proposal.id, None, statutes.statutory_rules(document, proposal.kind, 1), proposal.state, 1

    async def give_proxy(
        self,
        account: Account,
        holder_id: uuid.UUID | None,
        *,
        assembly_id: uuid.UUID | None = None,
        proposal_id: uuid.UUID | None = None,
    ) -> Proxy:
        scope_assembly, scope_proposal, electorate_id, statutory, _state, _call = await self._proxy_scope(
            account, assembly_id=assembly_id, proposal_id=proposal_id
        )
        scope_id = scope_assembly or scope_proposal
        await self.repository.lock_proxy_scope(scope_id)  # type: ignore[arg-type]
        if electorate_id is not None:
            voters = await self.repository.roll(electorate_id)
        else:
            document = (await self.current_statutes()).document
            voters = await self.repository.eligible_voters(
                default_college=document.get("default_college"), with_colleges=bool(statutory.get("colleges"))
            )
        electorate = statutes.electorate_of((str(v), c) for v, c in voters)
        if str(account.id) not in electorate:
            raise NotInElectorate("Only a member of the electorate can give a proxy.")
        others = [
            p
            for p in await self.repository.active_proxies(assembly_id=scope_assembly, proposal_id=scope_proposal)
            if p.principal_id != account.id
        ]

        def as_governance(p: Any) -> governance.Proxy:
            return governance.Proxy(
                str(p.principal_id),
                None if p.holder_id is None else str(p.holder_id),
                decision=None if p.proposal_id is None else str(p.proposal_id),
                assembly=None if p.assembly_id is None else str(p.assembly_id),
            )

        mine = Proxy(
            assembly_id=scope_assembly, proposal_id=scope_proposal, principal_id=account.id, holder_id=holder_id
        )
        rules = governance.Rules.from_dict({**statutory, "method": "motion"})
        violations = governance.validate_proxies(
            [*map(as_governance, others), as_governance(mine)],
            rules,
            electorate,
            decision=None if scope_proposal is None else str(scope_proposal),
            assembly=None if scope_assembly is None else str(scope_assembly),
        )
        me, holder = str(account.id), None if holder_id is None else str(holder_id)
        statutes.proxy_problem(violations, lambda v: v.principal == me or (holder is not None and v.holder == holder))
        await self.repository.revoke_proxy(
            assembly_id=scope_assembly, proposal_id=scope_proposal, principal_id=account.id
        )
        await self.repository.add(mine)
        self._audit(
            "proxy.given",
            actor_id=account.id,
            assembly_id=scope_assembly,
            proposal_id=scope_proposal,
            data={"principal": me, "holder": holder},
        )
        return mine

    async def withdraw_proxy(
        self, account: Account, *, assembly_id: uuid.UUID | None = None, proposal_id: uuid.UUID | None = None
    ) -> None:
        scope_assembly, scope_proposal, *_ = await self._proxy_scope(
            account, assembly_id=assembly_id, proposal_id=proposal_id
        )
        if not await self.repository.revoke_proxy(
            assembly_id=scope_assembly, proposal_id=scope_proposal, principal_id=account.id
        ):
            raise NotFound("You have given no proxy for this vote.")
        self._audit(
            "proxy.withdrawn",
            actor_id=account.id,
            assembly_id=scope_assembly,
            proposal_id=scope_proposal,
            data={"principal": str(account.id)},
        )

    async def proxies(
        self, account: Account, *, assembly_id: uuid.UUID | None = None, proposal_id: uuid.UUID | None = None
    ) -> list[Proxy]:
        if assembly_id is not None:
            await self.visible_assembly(account, assembly_id)
        else:
            proposal = await self.visible_proposal(account, proposal_id)  # type: ignore[arg-type]
            if proposal.assembly_id is not None:
                assembly_id, proposal_id = proposal.assembly_id, None
        rows = await self.repository.active_proxies(assembly_id=assembly_id, proposal_id=proposal_id)
        if account.role == Role.ADMIN:
            return list(rows)
        return [p for p in rows if account.id in (p.principal_id, p.holder_id)]

    # -- ballots ---------------------------------------------------------------------------------------------

    def _rules(self, proposal_id: uuid.UUID, stored: dict[str, Any]) -> governance.Rules:
        cache = self._context.rules_cache
        rules = cache.get(proposal_id)
        if rules is None:
            rules = cache[proposal_id] = statutes.rules_from_stored(stored)
            if len(cache) > 1000:
                cache.clear()
        return rules

    def _check_choice(self, proposal_id: uuid.UUID, stored: dict[str, Any], choice: Any, reason: str | None) -> None:
        """The engine's verdict on a ballot, remembered per vote (a burst repeats the same few choices)."""
        key = (proposal_id, canonical([choice, reason]))
        valid = self._context.valid_choices
        if key in valid:
            return
        statutes.check_choice(self._rules(proposal_id, stored), choice, reason)
        if len(valid) > 10_000:
            valid.clear()
        valid.add(key)

    async def cast(
        self,
        account: Account,
        proposal_id: uuid.UUID,
        choice: Any,
        reason: str | None,
        *,
        on_behalf_of: uuid.UUID | None = None,
        paper_channel: str | None = None,
        correction: str | None = None,
    ) -> CastResult:
        """Record a ballot: in person, for a principal (proxy), or by the chair (postal, in the room).

        A shared advisory lock on the vote makes the close (which takes it exclusively) wait for
        ballots in flight, and ballots arriving during the close wait for it and then see it closed:
        a ballot is either counted and acknowledged, or refused. Never lost, never counted late.
        """
        voter = on_behalf_of or account.id
        await self.repository.lock_for_cast(proposal_id)
        ballot = await self.repository.ballot_facts(proposal_id, voter, account.id)
        if ballot is None or (not ballot["caster_eligible"] and not await self._is_reader(account)):
            raise NotFound("No such proposal.")
        if ballot["state"] != "open" or ballot["past_close"]:
            raise VoteNotOpen(
                "The vote has closed."
                if ballot["state"] == "closed" or ballot["past_close"]
                else "The vote is not open yet."
            )
        existing = ballot["existing_channel"]
        if paper_channel is not None:
            self.require_chair(account)
            if not ballot["voter_eligible"]:
                raise Conflict("This person is not in the electorate of this vote.")
            if existing in IN_PERSON and not correction:
                raise BallotStands(
                    f"This member already has a ballot of their own ({existing}); replacing it is a correction: "
                    "send `correction` with a note, and the member is told."
                )
            channel, cast_by = paper_channel, account.id
        elif on_behalf_of is None or on_behalf_of == account.id:
            if not ballot["voter_eligible"]:
                raise NotInElectorate()
            channel, cast_by = "online", None
        else:
            if not ballot["voter_eligible"] or ballot["holder_id"] != account.id:
                raise ProxyNotHeld()
            if existing in IN_PERSON:
                raise VotedInPerson()
            channel, cast_by = "proxy", account.id
        self._check_choice(proposal_id, ballot["rules"], choice, reason)
        tracker = new_tracker()
        content = {"college": ballot["voter_college"], "choice": choice, "reason": reason, "tracker": tracker}
        if ballot["secret"]:
            sealed = self._context.election.encrypt(ballot["election_public_key"], proposal_id, voter, content)
        else:
            sealed = canonical(content)
        correcting = paper_channel is not None and existing in IN_PERSON
        event_data: dict[str, Any] = {"voter": str(voter), "channel": channel}
        if cast_by is not None:
            event_data["cast_by"] = str(cast_by)
        if correcting:
            event_data["corrects"] = existing
            event_data["note"] = correction
        if not ballot["secret"]:
            event_data["choice"] = choice
        event = event_fields(
            "ballot.corrected" if correcting else "ballot.cast",
            actor_id=account.id,
            assembly_id=ballot["assembly_id"],
            proposal_id=proposal_id,
            data=event_data,
        )
        written = await self.repository.write_ballot(
            proposal=proposal_id,
            voter=voter,
            channel=channel,
            cast_by=cast_by,
            ballot=sealed,
            seal=self._context.seals.seal(proposal_id, voter, sealed),
            correction=correcting,
            uid=event.uid,
            at=event.at,
            kind=event.kind,
            caster=account.id,
            assembly=ballot["assembly_id"],
            data=event.data,
            digest=event.digest,
        )
        if written is None:  # a concurrent ballot of the member's own landed first: it stands
            if channel == "proxy":
                raise VotedInPerson()
            raise BallotStands("This member has just cast a ballot of their own; it stands.")
        cast_at, order = written
        if correcting:
            await self._tell_corrected(voter, proposal_id, existing, channel, correction or "")
        receipt = {
            "proposal_id": str(proposal_id),
            "voter_id": str(voter),
            "channel": channel,
            "tracker": tracker,
            "cast_at": cast_at.isoformat(),
            "order": order,
        }
        live = self._context.live
        self._unit.after_commit(_later(live.changed, proposal_id))
        return CastResult(proposal_id, voter, channel, tracker, cast_at, self._context.signer.sign(receipt), order)

    async def _tell_corrected(
        self, voter: uuid.UUID, proposal_id: uuid.UUID, replaced: str, channel: str, note: str
    ) -> None:
        proposal = await self.repository.get_proposal(proposal_id)
        subject, body = mails.ballot_corrected(
            proposal.title if proposal else "",
            replaced,
            channel,
            note,
            f"{self._settings.public_base_url}/api/v1/proposals/{proposal_id}",
        )
        await self.repository.enqueue_mail_to_account(
            kind="ballot-corrected",
            account_id=voter,
            subject=subject,
            body=body,
            assembly_id=proposal.assembly_id if proposal else None,
            proposal_id=proposal_id,
        )
        self._kick_mail()

    async def my_ballot(self, account: Account, proposal_id: uuid.UUID) -> dict[str, Any]:
        proposal = await self.visible_proposal(account, proposal_id)
        entry = await self.repository.register_entry(proposal.id, account.id)
        held = [
            p.principal_id for p in await self.proxies(account, proposal_id=proposal.id) if p.holder_id == account.id
        ]
        return {
            "proposal_id": proposal.id,
            "in_electorate": await self.repository.in_electorate(proposal.electorate_id, account.id),
            "voted": entry is not None,
            "channel": entry.channel if entry else None,
            "cast_by": entry.cast_by if entry else None,
            "cast_at": entry.cast_at if entry else None,
            "proxies_held": held,
            "voted_for": await self.repository.voted_for(proposal.id, account.id),
        }

    async def participation(self, account: Account, proposal_id: uuid.UUID) -> dict[str, Any]:
        proposal = await self.visible_proposal(account, proposal_id)
        return await self.snapshot(proposal)

    async def snapshot(self, proposal: Proposal) -> dict[str, Any]:
        by_channel = await self.repository.participation(proposal.id)
        size, _ = await self.electorate_info(proposal.electorate_id)
        snapshot: dict[str, Any] = {
            "type": "participation" if proposal.state != "closed" else "closed",
            "proposal_id": str(proposal.id),
            "state": proposal.state,
            "electorate_size": size,
            "voted": sum(by_channel.values()),
            "by_channel": by_channel,
            "closes_at": proposal.closes_at.isoformat() if proposal.closes_at else None,
        }
        if proposal.state == "closed":
            snapshot["outcome"] = proposal.outcome
            snapshot["result"] = proposal.result
            snapshot["certificate_sha256"] = proposal.certificate_sha256
        elif proposal.results_visible and not proposal.secret and proposal.state == "open":
            snapshot["running"] = await self._running_result(proposal, size or 0)
        return snapshot

    async def _running_result(self, proposal: Proposal, size: int) -> dict[str, Any] | None:
        """The count so far (in-person and proxy ballots; blank proxies count only at the close)."""
        if proposal.rules is None:
            return None
        rules = self._rules(proposal.id, proposal.rules)
        counted: Counter[tuple[str | None, Any, str | None]] = Counter()
        for raw in await self.repository.public_ballots(proposal.id):
            content = json.loads(raw)
            counted[(content["college"], governance.Ballot("x", content["choice"]).choice, content["reason"])] += 1
        sizes: dict[str, int] = {}
        if rules.colleges and proposal.electorate_id is not None:
            for _voter, college in await self.repository.roll(proposal.electorate_id):
                if college is not None:
                    sizes[college] = sizes.get(college, 0) + 1
        try:
            return governance.count(rules, size, sizes, counted).to_dict()
        except governance.GovernanceError:
            return None

    async def result(self, account: Account, proposal_id: uuid.UUID) -> dict[str, Any]:
        proposal = await self.visible_proposal(account, proposal_id)
        final = proposal.state == "closed"
        running = None
        if not final and proposal.state == "open" and proposal.results_visible and not proposal.secret:
            size, _ = await self.electorate_info(proposal.electorate_id)
            running = await self._running_result(proposal, size or 0)
        elif not final:
            raise Conflict("Running results of this vote are hidden until it closes.")
        return {
            "proposal_id": proposal.id,
            "state": proposal.state,
            "final": final,
            "outcome": proposal.outcome if final else (running or {}).get("outcome"),
            "result": proposal.result if final else running,
            "explanation": proposal.explanation if final else None,
            "attendance": proposal.attendance if final else None,
            "certificate_sha256": proposal.certificate_sha256,
            "box_sha256": proposal.box_sha256,
        }

    async def certificate(self, account: Account, proposal_id: uuid.UUID) -> dict[str, Any]:
        proposal = await self.visible_proposal(account, proposal_id)
        if proposal.state != "closed" or proposal.certificate is None:
            raise Conflict("The certificate is published when the vote closes.")
        return {"certificate": proposal.certificate, "sha256": proposal.certificate_sha256}

    async def published_box(self, account: Account, proposal_id: uuid.UUID) -> dict[str, Any]:
        proposal = await self.visible_proposal(account, proposal_id)
        if proposal.state != "closed" or proposal.rules is None:
            raise Conflict("The ballot box is published when the vote closes.")
        return await box_document(self.repository, proposal)


# -- helpers shared with closing.py and the controllers --------------------------------------------------------------


def _later(function: Any, *args: Any) -> Any:
    async def run() -> None:
        function(*args)

    return run


def _refuse_secret_running_results(data: Any) -> None:
    """Running results of a secret vote let anyone who watches them attribute each new ballot."""
    if data.secret and data.results_visible:
        raise SecretRunningResults(
            "A secret vote cannot show running results: set `results_visible` to false or make the vote public.",
            errors=[{"field": "results_visible", "message": "must be false for a secret vote"}],
        )


def _check_window(
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
