"""HTTP surface of the assemblies feature: /api/v1/statutes, /api/v1/assemblies, /api/v1/proposals."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from app.accounts.guards import admin_only, signed_in, signed_in_account
from app.assemblies.closing import Closer
from app.assemblies.live import Live
from app.assemblies.repository import ProposalPage
from app.assemblies.schemas import (
    AgendaProposalInput,
    AssemblyInput,
    AssemblyOut,
    AttendanceInput,
    AttendanceLine,
    AttendanceSheet,
    BallotInput,
    BoxOut,
    BureauInput,
    BureauOut,
    CollegeAssignmentInput,
    CollegeAssignmentOut,
    CommentInput,
    CommentOut,
    CountInput,
    KeyShareOut,
    MailRecord,
    MinutesOut,
    MyBallot,
    PaperBallotInput,
    Participation,
    ProposalInput,
    ProposalOut,
    ProxyInput,
    ProxyOut,
    Receipt,
    ResultOut,
    SecondCallInput,
    StatutesInput,
    StatutesOut,
    TrusteeKeyInput,
)
from app.assemblies.secrecy import b64, sha256_hex, unb64
from app.assemblies.service import AssemblyService, CastResult
from app.core.problems import problems
from app.core.schemas import Limit, Offset, Page
from app.models import Account, Assembly, Proposal, Proxy, StatuteVersion

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


class StatutesController(Controller):
    path = "/api/v1/statutes"
    tags = ["assemblies"]
    guards = [signed_in]

    @get(summary="The statutory voting rules in force and the contribution rate", responses=READ)
    async def get_statutes(
        self, current_account: NamedDependency[Account], assemblies: NamedDependency[AssemblyService]
    ) -> StatutesOut:
        await assemblies.require_reader(current_account)
        return await statutes_out(assemblies, await assemblies.current_statutes())

    @put(
        guards=[admin_only],
        summary="Found the statutes on a preset, adjusted (administrators; only before any vote has closed)",
        responses=WRITE,
    )
    async def found_statutes(
        self,
        data: JSONBody[StatutesInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> StatutesOut:
        return await statutes_out(assemblies, await assemblies.found_statutes(current_account, data))

    @put(
        "/colleges/{account_id:uuid}",
        guards=[admin_only],
        summary="Admit someone to a college of the statutes, or take them out of it (administrators)",
        responses=WRITE,
    )
    async def assign_college(
        self,
        account_id: FromPath[uuid.UUID],
        data: JSONBody[CollegeAssignmentInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> CollegeAssignmentOut:
        await assemblies.assign_college(current_account, account_id, data.college)
        return CollegeAssignmentOut(account_id=account_id, college=data.college)


class AssembliesController(Controller):
    path = "/api/v1/assemblies"
    tags = ["assemblies"]
    guards = [signed_in]

    @get(summary="General assemblies, latest first", responses=READ)
    async def list_assemblies(
        self,
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[AssemblyOut]:
        rows, total = await assemblies.list_assemblies(current_account, limit=limit, offset=offset)
        agendas = await assemblies.agenda_ids(rows)
        items = [await assembly_out(assemblies, row, agendas[row.id]) for row in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post(guards=[admin_only], summary="Plan a general assembly (administrators)", responses=WRITE)
    async def create_assembly(
        self,
        data: JSONBody[AssemblyInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> AssemblyOut:
        return await one_assembly(assemblies, await assemblies.create_assembly(current_account, data))

    @get("/{assembly_id:uuid}", summary="One general assembly with its agenda", responses=READ)
    async def get_assembly(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> AssemblyOut:
        return await one_assembly(assemblies, await assemblies.visible_assembly(current_account, assembly_id))

    @post(
        "/{assembly_id:uuid}/proposals",
        guards=[admin_only],
        summary="Put a proposal on a planned assembly's agenda (administrators)",
        responses=WRITE,
    )
    async def add_to_agenda(
        self,
        assembly_id: FromPath[uuid.UUID],
        data: JSONBody[AgendaProposalInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> ProposalOut:
        return await proposal_out(assemblies, await assemblies.add_to_agenda(current_account, assembly_id, data))

    @post(
        "/{assembly_id:uuid}/convene",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Convene: freeze the electorate and the rules, mail the convocation to every eligible member",
        responses=WRITE,
    )
    async def convene(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> AssemblyOut:
        return await one_assembly(assemblies, await assemblies.convene(current_account, assembly_id))

    @post(
        "/{assembly_id:uuid}/open",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Open the vote on every item of the agenda (the chair; it also opens by itself on time)",
        responses=WRITE,
    )
    async def open_assembly(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> AssemblyOut:
        return await one_assembly(assemblies, await assemblies.open_assembly(current_account, assembly_id))

    @post(
        "/{assembly_id:uuid}/close",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Close every vote of the agenda and write the minutes (early only if the statutes allow)",
        responses=WRITE,
    )
    async def close_assembly(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        closer: NamedDependency[Closer],
    ) -> AssemblyOut:
        await closer.close_assembly(current_account, assembly_id)
        return await one_assembly(assemblies, await assemblies.visible_assembly(current_account, assembly_id))

    @put(
        "/{assembly_id:uuid}/bureau",
        guards=[admin_only],
        summary="Name the scrutineers who share the key of the assembly's secret votes (the chair, before opening)",
        responses=WRITE,
    )
    async def set_bureau(
        self,
        assembly_id: FromPath[uuid.UUID],
        data: JSONBody[BureauInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> BureauOut:
        assembly = await assemblies.set_bureau(current_account, assembly_id, data.trustees, data.threshold)
        bureau = assembly.bureau or {}
        return BureauOut(
            assembly_id=assembly.id,
            trustees=[uuid.UUID(t) for t in bureau.get("trustees", [])],
            threshold=bureau.get("threshold"),
        )

    @post(
        "/{assembly_id:uuid}/second-call",
        guards=[admin_only],
        summary="Convene again, on second call, the resolutions that missed their quorum (administrators)",
        responses=WRITE,
    )
    async def second_call(
        self,
        assembly_id: FromPath[uuid.UUID],
        data: JSONBody[SecondCallInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> AssemblyOut:
        return await one_assembly(assemblies, await assemblies.second_call(current_account, assembly_id, data))

    @get("/{assembly_id:uuid}/attendance", summary="The attendance sheet", responses=READ)
    async def attendance(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> AttendanceSheet:
        return sheet_out(assembly_id, await assemblies.attendance_sheet(current_account, assembly_id))

    @post(
        "/{assembly_id:uuid}/attendance",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Record a member as present in the room (or not) (the chair)",
        responses=WRITE,
    )
    async def record_attendance(
        self,
        assembly_id: FromPath[uuid.UUID],
        data: JSONBody[AttendanceInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> AttendanceSheet:
        await assemblies.record_attendance(current_account, assembly_id, data.account_id, data.present)
        return sheet_out(assembly_id, await assemblies.attendance_sheet(current_account, assembly_id))

    @get("/{assembly_id:uuid}/minutes", summary="The minutes (procès-verbal), Markdown and HTML", responses=READ)
    async def minutes(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> MinutesOut:
        assembly = await assemblies.minutes(current_account, assembly_id)
        return MinutesOut(
            assembly_id=assembly.id,
            sha256=assembly.minutes_sha256 or "",
            markdown=assembly.minutes_markdown or "",
            html=assembly.minutes_html or "",
        )

    @get(
        "/{assembly_id:uuid}/convocations",
        guards=[admin_only],
        summary="Who was sent what, and when (administrators)",
        responses=READ,
    )
    async def convocations(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[MailRecord]:
        rows, total = await assemblies.mail_record(current_account, assembly_id, limit=limit, offset=offset)
        items = [
            MailRecord(
                kind=row.kind,
                account_id=row.account_id,
                to_email=row.to_email,
                subject=row.subject,
                body_sha256=sha256_hex(row.body.encode()),
                created_at=row.created_at,
                sent_at=row.sent_at,
                attempts=row.attempts,
            )
            for row in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @put(
        "/{assembly_id:uuid}/proxy",
        summary="Give your proxy for the whole assembly (before its vote opens)",
        responses=WRITE,
    )
    async def give_proxy(
        self,
        assembly_id: FromPath[uuid.UUID],
        data: JSONBody[ProxyInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> ProxyOut:
        return proxy_out(await assemblies.give_proxy(current_account, data.holder_id, assembly_id=assembly_id))

    @delete(
        "/{assembly_id:uuid}/proxy",
        status_code=HTTP_204_NO_CONTENT,
        summary="Withdraw your proxy (before the vote opens)",
        responses=problems(400, 401, 403, 404, 409),
    )
    async def withdraw_proxy(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> None:
        await assemblies.withdraw_proxy(current_account, assembly_id=assembly_id)

    @get(
        "/{assembly_id:uuid}/proxies",
        summary="Proxies for the assembly: all of them for administrators, yours (given or held) otherwise",
        responses=READ,
    )
    async def list_proxies(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> list[ProxyOut]:
        return [proxy_out(p) for p in await assemblies.proxies(current_account, assembly_id=assembly_id)]


class ProposalsController(Controller):
    path = "/api/v1/proposals"
    tags = ["assemblies"]
    guards = [signed_in]

    @get(summary="Proposals: on agendas, between assemblies, and members' initiatives", responses=READ)
    async def list_proposals(
        self,
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        assembly_id: FromQuery[uuid.UUID | None] = None,
        state_filter: Annotated[ProposalStateFilter | None, QueryParameter(name="state")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[ProposalOut]:
        rows, total = await assemblies.list_proposals(
            current_account, assembly_id=assembly_id, state=state_filter, limit=limit, offset=offset
        )
        counts = await assemblies.cosignature_counts(rows)
        items = [await proposal_out(assemblies, row, counts.get(row.id, 0)) for row in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post(
        summary="Draft a decision between assemblies (administrators) or a member's initiative",
        description="A member's initiative needs the statutes' number of co-signatures; then it goes on "
        "the next assembly's agenda, or opens by itself, as the statutes say.",
        responses=WRITE,
    )
    async def create_proposal(
        self,
        data: JSONBody[ProposalInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> ProposalOut:
        return await proposal_out(assemblies, await assemblies.create_proposal(current_account, data))

    @get("/{proposal_id:uuid}", summary="One proposal", responses=READ)
    async def get_proposal(
        self, request: Request, proposal_id: FromPath[uuid.UUID], assemblies: NamedDependency[AssemblyService]
    ) -> ProposalOut:
        page = await assemblies.proposal_page(signed_in_account(request), proposal_id)
        return await proposal_page_out(assemblies, page)

    @post(
        "/{proposal_id:uuid}/cosign",
        status_code=HTTP_200_OK,
        summary="Co-sign a member's initiative",
        responses=problems(400, 401, 403, 404, 409),
    )
    async def cosign(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> ProposalOut:
        return await proposal_out(assemblies, await assemblies.cosign(current_account, proposal_id))

    @post(
        "/{proposal_id:uuid}/open",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Open a decision between assemblies now: the electorate is frozen at this moment",
        responses=problems(400, 401, 403, 404, 409),
    )
    async def open_proposal(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> ProposalOut:
        return await proposal_out(assemblies, await assemblies.open_proposal(current_account, proposal_id))

    @post(
        "/{proposal_id:uuid}/close",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Close a vote now (after its closing time, or before it if the statutes allow)",
        responses=problems(400, 401, 403, 404, 409),
    )
    async def close_proposal(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        closer: NamedDependency[Closer],
    ) -> ProposalOut:
        await assemblies.visible_proposal(current_account, proposal_id)
        return await proposal_out(assemblies, await closer.close(proposal_id, by=current_account))

    @get(
        "/{proposal_id:uuid}/key-share",
        summary="Your share of this vote's election key, encrypted to your own key (scrutineers of the bureau)",
        responses=READ,
    )
    async def my_key_share(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> KeyShareOut:
        share, threshold = await assemblies.my_key_share(current_account, proposal_id)
        return KeyShareOut(
            proposal_id=share.proposal_id,
            trustee_id=share.trustee_id,
            x=share.x,
            threshold=threshold,
            encrypted_share=b64(share.encrypted_share),
        )

    @post(
        "/{proposal_id:uuid}/count",
        status_code=HTTP_200_OK,
        summary="Count a vote whose key the bureau holds: bring enough scrutineers' shares (chair or scrutineer)",
        responses=WRITE,
    )
    async def count_with_shares(
        self,
        proposal_id: FromPath[uuid.UUID],
        data: JSONBody[CountInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        closer: NamedDependency[Closer],
    ) -> ProposalOut:
        await assemblies.require_counter(current_account, proposal_id)
        return await proposal_out(
            assemblies, await closer.close(proposal_id, by=current_account, shares=list(data.shares), trustee=True)
        )

    @get("/{proposal_id:uuid}/comments", summary="The discussion thread", responses=READ)
    async def list_comments(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[CommentOut]:
        rows, total = await assemblies.comments(current_account, proposal_id, limit=limit, offset=offset)
        items = [
            CommentOut(
                id=c.id,
                proposal_id=c.proposal_id,
                author_id=c.author_id,
                author_name=name,
                body=c.body,
                created_at=c.created_at,
            )
            for c, name in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post("/{proposal_id:uuid}/comments", summary="Add to the discussion (until the vote closes)", responses=WRITE)
    async def add_comment(
        self,
        proposal_id: FromPath[uuid.UUID],
        data: JSONBody[CommentInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> CommentOut:
        comment = await assemblies.comment(current_account, proposal_id, data.body)
        return CommentOut(
            id=comment.id,
            proposal_id=comment.proposal_id,
            author_id=comment.author_id,
            author_name=current_account.display_name,
            body=comment.body,
            created_at=comment.created_at,
        )

    @put(
        "/{proposal_id:uuid}/proxy",
        summary="Give your proxy for a decision between assemblies (before it opens)",
        responses=WRITE,
    )
    async def give_proxy(
        self,
        proposal_id: FromPath[uuid.UUID],
        data: JSONBody[ProxyInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> ProxyOut:
        return proxy_out(await assemblies.give_proxy(current_account, data.holder_id, proposal_id=proposal_id))

    @delete(
        "/{proposal_id:uuid}/proxy",
        status_code=HTTP_204_NO_CONTENT,
        summary="Withdraw your proxy (before the vote opens)",
        responses=problems(400, 401, 403, 404, 409),
    )
    async def withdraw_proxy(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> None:
        await assemblies.withdraw_proxy(current_account, proposal_id=proposal_id)

    @get(
        "/{proposal_id:uuid}/proxies",
        summary="Proxies that apply to this vote: all for administrators, yours otherwise",
        responses=READ,
    )
    async def list_proxies(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> list[ProxyOut]:
        return [proxy_out(p) for p in await assemblies.proxies(current_account, proposal_id=proposal_id)]

    @post(
        "/{proposal_id:uuid}/ballots",
        summary="Cast or change your ballot (or a principal's, as their proxy holder); answers with a receipt",
        responses=WRITE,
    )
    async def cast(
        self,
        request: Request,
        proposal_id: FromPath[uuid.UUID],
        data: JSONBody[BallotInput],
        assemblies: NamedDependency[AssemblyService],
    ) -> Receipt:
        voter = signed_in_account(request)
        return receipt_out(
            await assemblies.cast(voter, proposal_id, data.choice, data.reason, on_behalf_of=data.on_behalf_of)
        )

    @post(
        "/{proposal_id:uuid}/paper-ballots",
        guards=[admin_only],
        summary="Record a postal or in-room ballot of a member (the chair)",
        responses=WRITE,
    )
    async def paper_ballot(
        self,
        proposal_id: FromPath[uuid.UUID],
        data: JSONBody[PaperBallotInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Receipt:
        return receipt_out(
            await assemblies.cast(
                current_account,
                proposal_id,
                data.choice,
                data.reason,
                on_behalf_of=data.voter_id,
                paper_channel=data.channel,
                correction=data.correction,
            )
        )

    @get("/{proposal_id:uuid}/ballot", summary="Whether you voted, how, and for whom you hold proxies", responses=READ)
    async def my_ballot(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> MyBallot:
        return MyBallot(**await assemblies.my_ballot(current_account, proposal_id))

    @get("/{proposal_id:uuid}/participation", summary="How many have voted, by channel", responses=READ)
    async def participation(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Participation:
        snapshot = await assemblies.participation(current_account, proposal_id)
        return Participation(
            proposal_id=proposal_id,
            state=snapshot["state"],
            electorate_size=snapshot["electorate_size"],
            voted=snapshot["voted"],
            by_channel=snapshot["by_channel"],
            closes_at=(await assemblies.visible_proposal(current_account, proposal_id)).closes_at,
        )

    @get(
        "/{proposal_id:uuid}/results",
        summary="The result: final after the close; running while open only if the proposal shows it",
        responses=READ,
    )
    async def results(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> ResultOut:
        return ResultOut(**await assemblies.result(current_account, proposal_id))

    @get(
        "/{proposal_id:uuid}/certificate",
        summary="The result's certificate: check it offline with `python -m governance verify`",
        responses=READ,
    )
    async def certificate(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> dict[str, Any]:
        return await assemblies.certificate(current_account, proposal_id)

    @get(
        "/{proposal_id:uuid}/box",
        summary="The published ballot box (anonymous if secret): recount it with `python -m governance tally`",
        responses=READ,
    )
    async def box(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> BoxOut:
        return BoxOut(**await assemblies.published_box(current_account, proposal_id))

    @get(
        "/{proposal_id:uuid}/live",
        summary="Server-Sent Events: participation (and results when visible) live, until the close",
        description=(
            "The first event is the current snapshot (`participation`, or `closed` once counted); then one "
            "event per change, at most four a second. The stream ends after the `closed` event. When the "
            "server stops (a deploy, a restart), every stream gets a last `shutdown` event with a `retry:` "
            "delay of one second: reconnect then, and the first event tells you where the vote stands."
        ),
        responses=READ,
    )
    async def live(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        live: NamedDependency[Live],
    ) -> ServerSentEvent:
        proposal = await assemblies.visible_proposal(current_account, proposal_id)
        first = await assemblies.snapshot(proposal)
        return ServerSentEvent(live.stream(proposal_id, first))


class TrusteeKeyController(Controller):
    path = "/api/v1/me/trustee-key"
    tags = ["assemblies"]
    guards = [signed_in]

    @put(
        "/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Register your scrutineer's public key (X25519): shares of election keys are encrypted to it",
        responses=WRITE,
    )
    async def set_trustee_key(
        self,
        data: JSONBody[TrusteeKeyInput],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> None:
        await assemblies.set_trustee_key(current_account, unb64(data.public_key))
