"""Assembly pages: the list, the convocation and agenda, each proposal with its voting booth, the
receipt, live participation (server-sent events over the cookie session), results, the certificate
and the minutes; the chair's convene, open and close. `AssemblyService` and `Closer` decide.

The booth turns a form into the `choice` the service takes for each method; it never judges one.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response, ServerSentEvent, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.guards import admin_only, signed_in
from app.assemblies.closing import Closer
from app.assemblies.live import Live
from app.assemblies.schemas import AgendaProposalInput, AssemblyInput, ProposalInput
from app.assemblies.service import AssemblyService
from app.core.errors import AppError, Conflict, InvalidInput
from app.models import Account, Proposal
from app.web.forms import convert, form_data, optional_int, query_text
from app.web.i18n import DISPLAY_TIMEZONE, N_, gettext
from app.web.rendering import FormRejected, field_errors, page, redirect
from governance.model import DEFAULT_GRADES

RANKED = ("instant_runoff", "schulze", "stv")
NEW_ASSEMBLY_TEMPLATE = "assemblies/new.html"
METHODS = (
    "motion",
    "consent",
    "single_choice",
    "approval",
    "score",
    "majority_judgment",
    "instant_runoff",
    "schulze",
    "stv",
)


def local_datetime(value: str | None) -> str | None:
    """A `datetime-local` field, read in the cooperative's time zone, as an aware ISO timestamp."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the schema refuses it with its own message
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=DISPLAY_TIMEZONE)
    return moment.isoformat()


PROPOSAL_TEMPLATE = "assemblies/proposal.html"
CHOICES = {
    "motion": (("yes", N_("For")), ("no", N_("Against")), ("abstain", N_("Abstain")), ("blank", N_("Blank"))),
    "consent": (
        ("agree", N_("I agree")),
        ("abstain", N_("I stand aside")),
        ("disagree", N_("I disagree")),
        ("block", N_("I block")),
    ),
}
GRADE_LABELS = {
    "excellent": N_("excellent"),
    "very_good": N_("very good"),
    "good": N_("good"),
    "fair": N_("fair"),
    "poor": N_("poor"),
    "reject": N_("reject"),
}


def _rules(proposal: Proposal) -> dict[str, Any]:
    return proposal.rules or {**(proposal.settings or {}), "method": proposal.method}


def ballot_choice(proposal: Proposal, values: dict[str, str], multi: dict[str, list[str]]) -> Any:
    """The form's answer in the service's shape; `None` is a blank ballot. Out-of-range values are
    passed on as typed: the service refuses them with its own reasons."""
    method = proposal.method
    option_ids = [str(option.get("id")) for option in proposal.options]
    if method in CHOICES:
        choice = values.get("choice", "")
        return None if choice in ("", "blank") and method == "motion" else choice
    if method == "single_choice":
        return values.get("choice") or None
    if method == "approval":
        return [value for value in multi.get("approve", []) if value]
    if method in ("score", "majority_judgment"):
        given = {option: values.get(f"grade:{option}", "") for option in option_ids}
        if method == "score":
            return {option: int(value) for option, value in given.items() if value.lstrip("-").isdigit()}
        return {option: value for option, value in given.items() if value}
    if method in RANKED:
        ranks = []
        for option in option_ids:
            text = values.get(f"rank:{option}", "")
            if text.isdigit():
                ranks.append((int(text), option))
        if len({rank for rank, _ in ranks}) != len(ranks):
            raise FormRejected(PROPOSAL_TEMPLATE, errors={"_": gettext("Give each option a different rank.")})
        return [option for _, option in sorted(ranks)]
    return values.get("choice") or None


class AssemblyPages(Controller):
    include_in_schema = False
    guards = [signed_in]

    @get("/assemblies")
    async def list_assemblies(
        self, request: Request, current_account: NamedDependency[Account], assemblies: NamedDependency[AssemblyService]
    ) -> Template:
        rows, total = await assemblies.list_assemblies(current_account, limit=50, offset=0)
        proposals, _ = await assemblies.list_proposals(
            current_account, assembly_id=None, state=None, limit=100, offset=0
        )
        standalone = [p for p in proposals if p.assembly_id is None]
        return page(
            request,
            "assemblies/list.html",
            rows=rows,
            total=total,
            standalone=standalone,
            methods=METHODS,
            values={"method": "motion"},
        )

    @post("/proposals/new")
    async def create_proposal(
        self, request: Request, current_account: NamedDependency[Account], assemblies: NamedDependency[AssemblyService]
    ) -> Redirect:
        """A member's initiative (co-signatures first) or, from an administrator, a decision between assemblies."""
        values, _ = await form_data(request)
        labels = [line.strip() for line in values.get("options", "").splitlines() if line.strip()]
        body = {
            "title": values.get("title", "").strip(),
            "text": values.get("text", "").replace("\r\n", "\n").strip(),
            "method": values.get("method", "motion"),
            "options": [{"id": f"o{index}", "label": label[:200]} for index, label in enumerate(labels, start=1)],
            "closes_at": local_datetime(values.get("closes_at")),
        }
        rows, total = await assemblies.list_assemblies(current_account, limit=50, offset=0)
        context = {"values": values, "rows": rows, "total": total, "standalone": [], "methods": METHODS}
        data = convert(body, ProposalInput, "assemblies/list.html", context)
        try:
            proposal = await assemblies.create_proposal(current_account, data)
        except AppError as error:
            summary, errors = field_errors(error)
            raise FormRejected("assemblies/list.html", context, errors, summary, error.status_code) from error
        return redirect(f"/proposals/{proposal.id}", "done")

    @get("/assemblies/new", guards=[admin_only])
    async def new_assembly(self, request: Request) -> Template:
        return page(request, NEW_ASSEMBLY_TEMPLATE, values={"kind": "ordinary"})

    @post("/assemblies/new", guards=[admin_only])
    async def create_assembly(
        self, request: Request, current_account: NamedDependency[Account], assemblies: NamedDependency[AssemblyService]
    ) -> Redirect:
        values, _ = await form_data(request)
        context = {"values": values}
        body = {
            "kind": values.get("kind", "ordinary"),
            "title": values.get("title", "").strip(),
            "description": values.get("description", "").replace("\r\n", "\n").strip(),
            "location": values.get("location", "").strip(),
            "scheduled_at": local_datetime(values.get("scheduled_at")),
            "voting_opens_at": local_datetime(values.get("voting_opens_at")),
            "voting_closes_at": local_datetime(values.get("voting_closes_at")),
        }
        data = convert(body, AssemblyInput, NEW_ASSEMBLY_TEMPLATE, context)
        try:
            assembly = await assemblies.create_assembly(current_account, data)
        except AppError as error:
            summary, errors = field_errors(error)
            raise FormRejected(NEW_ASSEMBLY_TEMPLATE, context, errors, summary, error.status_code) from error
        return redirect(f"/assemblies/{assembly.id}", "done")

    @post("/assemblies/{assembly_id:uuid}/agenda", guards=[admin_only])
    async def add_to_agenda(
        self,
        request: Request,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Redirect:
        values, multi = await form_data(request)
        labels = [line.strip() for line in values.get("options", "").splitlines() if line.strip()]
        body = {
            "title": values.get("title", "").strip(),
            "text": values.get("text", "").replace("\r\n", "\n").strip(),
            "method": values.get("method", "motion"),
            # Option ids are positional ("o1", "o2"...): the labels are what voters read.
            "options": [{"id": f"o{index}", "label": label[:200]} for index, label in enumerate(labels, start=1)],
            "seats": optional_int(values.get("seats")) or 1,
            "secret": "secret" in multi,
            "board_approved": "board_approved" in multi,
        }
        try:
            data = convert(body, AgendaProposalInput, "error.html", {})
            await assemblies.add_to_agenda(current_account, assembly_id, data)
        except FormRejected as error:
            raise InvalidInput(
                error.summary, errors=[{"field": k, "message": v} for k, v in error.errors.items()]
            ) from error
        return redirect(f"/assemblies/{assembly_id}", "done")

    @get("/assemblies/{assembly_id:uuid}")
    async def assembly(
        self,
        request: Request,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Template:
        assembly = await assemblies.visible_assembly(current_account, assembly_id)
        proposals, _ = await assemblies.list_proposals(
            current_account, assembly_id=assembly_id, state=None, limit=200, offset=0
        )
        size, roll = await assemblies.electorate_info(assembly.electorate_id)
        sheet = await assemblies.attendance_sheet(current_account, assembly_id)
        proxies = await assemblies.proxies(current_account, assembly_id=assembly_id) if assembly.electorate_id else []
        names = {line["account_id"]: line["display_name"] for line in sheet}
        return page(
            request,
            "assemblies/assembly.html",
            assembly=assembly,
            proposals=sorted(proposals, key=lambda p: p.agenda_position or 0),
            electorate_size=size,
            roll_sha256=roll,
            sheet=sheet,
            in_roll=current_account.id in names,
            names=names,
            given=next((p for p in proxies if p.principal_id == current_account.id), None),
            held=[p for p in proxies if p.holder_id == current_account.id],
            methods=METHODS,
        )

    @post("/assemblies/{assembly_id:uuid}/proxy")
    async def give_proxy(
        self,
        request: Request,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Redirect:
        """A named holder, or a blank proxy (to the board) when no one is chosen."""
        values, _ = await form_data(request)
        holder = values.get("holder_id") or ""
        try:
            holder_id = uuid.UUID(holder) if holder else None
        except ValueError as error:
            raise InvalidInput.field("holder_id", "Choose a member of the list.") from error
        await assemblies.give_proxy(current_account, holder_id, assembly_id=assembly_id)
        return redirect(f"/assemblies/{assembly_id}", "done")

    @post("/assemblies/{assembly_id:uuid}/proxy/withdraw")
    async def withdraw_proxy(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Redirect:
        await assemblies.withdraw_proxy(current_account, assembly_id=assembly_id)
        return redirect(f"/assemblies/{assembly_id}", "done")

    @post("/assemblies/{assembly_id:uuid}/attendance/{account_id:uuid}", guards=[admin_only])
    async def attendance(
        self,
        request: Request,
        assembly_id: FromPath[uuid.UUID],
        account_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Redirect:
        values, _ = await form_data(request)
        await assemblies.record_attendance(current_account, assembly_id, account_id, values.get("present") == "yes")
        return redirect(f"/assemblies/{assembly_id}#attendance", "done")

    @post("/assemblies/{assembly_id:uuid}/{step:str}", guards=[admin_only])
    async def chair(
        self,
        assembly_id: FromPath[uuid.UUID],
        step: FromPath[str],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        closer: NamedDependency[Closer],
    ) -> Redirect:
        if step == "convene":
            await assemblies.convene(current_account, assembly_id)
        elif step == "open":
            await assemblies.open_assembly(current_account, assembly_id)
        elif step == "close":
            await closer.close_assembly(current_account, assembly_id)
        else:
            raise Conflict("Unknown step.")
        return redirect(f"/assemblies/{assembly_id}", "done")

    @get("/assemblies/{assembly_id:uuid}/minutes")
    async def minutes(
        self,
        request: Request,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Template:
        assembly = await assemblies.minutes(current_account, assembly_id)
        return page(request, "assemblies/minutes.html", assembly=assembly)

    @get("/assemblies/{assembly_id:uuid}/minutes.md")
    async def minutes_markdown(
        self,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Response[str]:
        assembly = await assemblies.minutes(current_account, assembly_id)
        return Response(
            assembly.minutes_markdown or "",
            media_type="text/markdown; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="minutes-{assembly.id}.md"'},
        )

    async def _proposal_context(
        self, account: Account, proposal_id: uuid.UUID, assemblies: AssemblyService
    ) -> dict[str, Any]:
        proposal = await assemblies.visible_proposal(account, proposal_id)
        mine = await assemblies.my_ballot(account, proposal_id)
        snapshot = await assemblies.snapshot(proposal)
        result = None
        if proposal.state == "closed":
            result = await assemblies.result(account, proposal_id)
        rules = _rules(proposal)
        low, high = rules.get("score_range") or (0, 5)
        roll: list[dict[str, Any]] = []
        if account.role == "admin" and proposal.assembly_id is not None and proposal.state == "open":
            roll = await assemblies.attendance_sheet(account, proposal.assembly_id)
        comments, _ = await assemblies.comments(account, proposal_id, limit=200, offset=0)
        cosignatures = (await assemblies.cosignature_counts([proposal])).get(proposal.id, 0)
        return {
            "proposal": proposal,
            "roll": roll,
            "comments": comments,
            "cosignatures": cosignatures,
            "mine": mine,
            "snapshot": snapshot,
            "result": result,
            "choices": CHOICES.get(proposal.method, ()),
            "ranked": proposal.method in RANKED,
            "scores": list(range(int(low), int(high) + 1)),
            "grades": [(grade, GRADE_LABELS.get(grade, grade)) for grade in rules.get("grades") or DEFAULT_GRADES],
        }

    @get("/proposals/{proposal_id:uuid}")
    async def proposal(
        self,
        request: Request,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Template:
        return page(
            request, PROPOSAL_TEMPLATE, **await self._proposal_context(current_account, proposal_id, assemblies)
        )

    @post("/proposals/{proposal_id:uuid}/ballot")
    async def cast(
        self,
        request: Request,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        values, multi = await form_data(request)
        proposal = await assemblies.visible_proposal(current_account, proposal_id)
        on_behalf = values.get("on_behalf_of") or values.get("paper_voter") or None
        # The chair records a postal or in-room ballot for a member; the service checks who may.
        paper = values.get("paper_channel") if values.get("paper_voter") else None
        try:
            choice = ballot_choice(proposal, values, multi)
            receipt = await assemblies.cast(
                current_account,
                proposal_id,
                choice,
                (values.get("reason") or "").strip()[:500] or None,
                on_behalf_of=uuid.UUID(on_behalf) if on_behalf else None,
                paper_channel=paper if paper in ("postal", "room") else ("postal" if paper else None),
            )
        except (AppError, FormRejected, ValueError) as error:
            await db_session.rollback()
            context = await self._proposal_context(current_account, proposal_id, assemblies)
            db_session.expunge_all()  # the unit of work rolls back again as the error passes
            if isinstance(error, FormRejected):
                summary, errors = error.errors.get("_", ""), error.errors
            elif isinstance(error, AppError):
                summary, errors = field_errors(error)
            else:
                summary, errors = gettext("The request cannot be processed."), {}
            raise FormRejected(PROPOSAL_TEMPLATE, context, errors, summary, 400) from error
        return page(request, "assemblies/receipt.html", proposal=proposal, receipt=receipt)

    @post("/proposals/{proposal_id:uuid}/comments")
    async def comment(
        self,
        request: Request,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Redirect:
        values, _ = await form_data(request)
        body = values.get("body", "").replace("\r\n", "\n").strip()
        if not 1 <= len(body) <= 5000:
            raise InvalidInput.field("body", "Write 1 to 5,000 characters.")
        await assemblies.comment(current_account, proposal_id, body)
        return redirect(f"/proposals/{proposal_id}#discussion", "done")

    @post("/proposals/{proposal_id:uuid}/cosign")
    async def cosign(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Redirect:
        await assemblies.cosign(current_account, proposal_id)
        return redirect(f"/proposals/{proposal_id}", "done")

    @get("/proposals/{proposal_id:uuid}/live")
    async def live(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        live: NamedDependency[Live],
    ) -> ServerSentEvent:
        proposal = await assemblies.visible_proposal(current_account, proposal_id)
        return ServerSentEvent(live.stream(proposal_id, await assemblies.snapshot(proposal)))

    @get("/proposals/{proposal_id:uuid}/box")
    async def box(
        self,
        request: Request,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Template:
        """The published ballot box, and whether a receipt's tracker is in it (with the choice it holds)."""
        proposal = await assemblies.visible_proposal(current_account, proposal_id)
        box = await assemblies.published_box(current_account, proposal_id)
        tracker = query_text(request, "tracker", 200)
        found = next((ballot for ballot in box["ballots"] if tracker and ballot["tracker"] == tracker), None)
        return page(
            request,
            "assemblies/box.html",
            proposal=proposal,
            box=box,
            tracker=tracker,
            found=found,
            choice_text=json.dumps(found["choice"], ensure_ascii=False) if found else "",
        )

    @get("/proposals/{proposal_id:uuid}/box.json")
    async def box_json(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Response[bytes]:
        box = await assemblies.published_box(current_account, proposal_id)
        return Response(
            json.dumps(box, ensure_ascii=False, default=str).encode(),
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="box-{proposal_id}.json"'},
        )

    @get("/proposals/{proposal_id:uuid}/certificate.json")
    async def certificate(
        self,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
    ) -> Response[bytes]:
        # The same document as the API's: what `python -m governance verify FILE` reads.
        document = await assemblies.certificate(current_account, proposal_id)
        return Response(
            json.dumps(document, ensure_ascii=False).encode(),
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="certificate-{proposal_id}.json"'},
        )
