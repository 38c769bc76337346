"""HTTP surface of /api/v1/statutes and /api/v1/assemblies."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from app.accounts.guards import admin_only, signed_in
from app.assemblies.closing import Closer
from app.assemblies.controllers.responses import (
    READ,
    WRITE,
    assembly_out,
    one_assembly,
    proposal_out,
    proxy_out,
    sheet_out,
    statutes_out,
)
from app.assemblies.schemas import (
    AgendaProposalInput,
    AssemblyInput,
    AssemblyOut,
    AttendanceInput,
    AttendanceSheet,
    BureauInput,
    BureauOut,
    CollegeAssignmentInput,
    CollegeAssignmentOut,
    MailRecord,
    MinutesOut,
    ProposalOut,
    ProxyInput,
    ProxyOut,
    SecondCallInput,
    StatutesInput,
    StatutesOut,
)
from app.assemblies.secrecy import sha256_hex
from app.assemblies.service import AssemblyService
from app.core.problems import problems
from app.core.schemas import Limit, Offset, Page
from app.models import Account


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
