"""Shaping the feature's domain objects into its response bodies, and the problem sets its routes answer."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from app.assemblies.repository import ProposalPage
from app.assemblies.schemas import (
    AssemblyOut,
    AttendanceLine,
    AttendanceSheet,
    ProposalOut,
    ProxyOut,
    Receipt,
    StatutesOut,
)
from app.assemblies.service import AssemblyService, CastResult
from app.core.problems import problems
from app.models import Assembly, Proposal, Proxy, StatuteVersion

ProposalStateFilter = Literal["draft", "qualified", "scheduled", "open", "closed"]
READ = problems(400, 401, 403, 404, 409)
WRITE = problems(400, 401, 403, 404, 409, 413, 422)


async def assembly_out(assemblies: AssemblyService, assembly: Assembly, agenda: list[uuid.UUID]) -> AssemblyOut:
    size, digest = await assemblies.electorate_info(assembly.electorate_id)
    return AssemblyOut(
        id=assembly.id,
        kind=assembly.kind,
        title=assembly.title,
        description=assembly.description,
        location=assembly.location,
        documents=assembly.documents,
        scheduled_at=assembly.scheduled_at,
        voting_opens_at=assembly.voting_opens_at,
        voting_closes_at=assembly.voting_closes_at,
        state=assembly.state,
        call=assembly.call,
        first_call_id=assembly.first_call_id,
        rules=assembly.rules,
        electorate_size=size,
        roll_sha256=digest,
        convened_at=assembly.convened_at,
        opened_at=assembly.opened_at,
        closed_at=assembly.closed_at,
        minutes_sha256=assembly.minutes_sha256,
        agenda=agenda,
    )


async def one_assembly(assemblies: AssemblyService, assembly: Assembly) -> AssemblyOut:
    agenda = await assemblies.agenda_ids([assembly])
    return await assembly_out(assemblies, assembly, agenda[assembly.id])


async def proposal_out(assemblies: AssemblyService, proposal: Proposal, cosignatures: int | None = None) -> ProposalOut:
    size, digest = await assemblies.electorate_info(proposal.electorate_id)
    needed = None
    if proposal.initiative:
        needed = (await assemblies.current_statutes()).document["initiative_cosignatures"]
        if cosignatures is None:
            cosignatures = (await assemblies.cosignature_counts([proposal])).get(proposal.id, 0)
    return proposal_fields_out(proposal, size, digest, cosignatures, needed)


async def proposal_page_out(assemblies: AssemblyService, page: ProposalPage) -> ProposalOut:
    """`proposal_out` from the page's one statement (it read the electorate and co-signatures too)."""
    needed = page.cosignatures_needed
    if page.initiative and needed is None:  # no statutes stored yet: the preset's, as `proposal_out` does
        needed = (await assemblies.current_statutes()).document["initiative_cosignatures"]
    return proposal_fields_out(page, page.electorate_size, page.roll_sha256, page.cosignatures, needed)


def proposal_fields_out(
    proposal: Proposal | ProposalPage,
    size: int | None,
    digest: str | None,
    cosignatures: int | None,
    needed: int | None,
) -> ProposalOut:
    return ProposalOut(
        id=proposal.id,
        assembly_id=proposal.assembly_id,
        agenda_position=proposal.agenda_position,
        kind=proposal.kind,
        title=proposal.title,
        text=proposal.text,
        method=proposal.method,
        options=proposal.options,
        settings=proposal.settings,
        rules=proposal.rules,
        secret=proposal.secret,
        results_visible=proposal.results_visible,
        state=proposal.state,
        initiative=proposal.initiative,
        author_id=proposal.author_id,
        cosignatures=cosignatures or 0,
        cosignatures_needed=needed,
        action=proposal.action,
        opens_at=proposal.opens_at,
        closes_at=proposal.closes_at,
        opened_at=proposal.opened_at,
        closed_at=proposal.closed_at,
        electorate_size=size,
        roll_sha256=digest,
        outcome=proposal.outcome,
        certificate_sha256=proposal.certificate_sha256,
        box_sha256=proposal.box_sha256,
        action_applied_at=proposal.action_applied_at,
    )


def proxy_out(proxy: Proxy) -> ProxyOut:
    return ProxyOut(
        id=proxy.id,
        assembly_id=proxy.assembly_id,
        proposal_id=proxy.proposal_id,
        principal_id=proxy.principal_id,
        holder_id=proxy.holder_id,
        created_at=proxy.created_at,
    )


def receipt_out(cast: CastResult) -> Receipt:
    return Receipt(
        proposal_id=cast.proposal_id,
        voter_id=cast.voter_id,
        channel=cast.channel,
        tracker=cast.tracker,
        cast_at=cast.cast_at,
        order=cast.order,
        signature=cast.signature,
    )


async def statutes_out(assemblies: AssemblyService, version: StatuteVersion) -> StatutesOut:
    return StatutesOut(
        version=version.id or 0,
        document=version.document,
        reason=version.reason,
        proposal_id=version.proposal_id,
        created_at=version.created_at,
        contribution_rate_basis_points=await assemblies.contribution_rate(),
    )


def sheet_out(assembly_id: uuid.UUID, lines: list[dict[str, Any]]) -> AttendanceSheet:
    return AttendanceSheet(
        assembly_id=assembly_id,
        electorate_size=len(lines),
        present=sum(1 for line in lines if line["present"]),
        represented=sum(1 for line in lines if line["represented_by"] or line["blank_proxy"]),
        voted_online=sum(1 for line in lines if line["voted_online"]),
        postal=sum(1 for line in lines if line["postal"]),
        lines=[AttendanceLine(**line) for line in lines],
    )
