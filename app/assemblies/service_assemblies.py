"""Assemblies: planning, the agenda, convocation, opening, second call, attendance, minutes, mails."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from app.assemblies import mails, statutes
from app.assemblies.secrecy import (
    sha256_hex,
)
from app.assemblies.service_base import (
    ServiceBase,
    action_dict,
    check_window,
    in_range,
    later,
    now,
    proposal_fields,
    refuse_secret_running_results,
    roll_sha256,
)
from app.core.errors import Conflict, NotFound
from app.models import (
    Account,
    Assembly,
    Proposal,
)


class AssemblyRules(ServiceBase):
    """Assemblies: planning, the agenda, convocation, opening, second call, attendance, minutes, mails."""

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
            in_range(getattr(data, name), name)
        check_window(data.voting_opens_at, data.voting_closes_at)
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
        refuse_secret_running_results(data)
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
        check_window(opens, closes)
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
        self._unit.after_commit(later(live.changed, proposal.id))

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
            in_range(getattr(data, name), name)
        check_window(data.voting_opens_at, data.voting_closes_at)
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
