"""HTTP surface of /api/v1/proposals (drafts, votes, ballots, results, bureaus) and trustee keys."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from app.accounts.guards import admin_only, signed_in, signed_in_account
from app.assemblies.closing import Closer
from app.assemblies.controllers.responses import (
    READ,
    WRITE,
    ProposalStateFilter,
    proposal_out,
    proposal_page_out,
    proxy_out,
    receipt_out,
)
from app.assemblies.live import Live
from app.assemblies.schemas import (
    BallotInput,
    BoxOut,
    CommentInput,
    CommentOut,
    CountInput,
    KeyShareOut,
    MyBallot,
    PaperBallotInput,
    Participation,
    ProposalInput,
    ProposalOut,
    ProxyInput,
    ProxyOut,
    Receipt,
    ResultOut,
    TrusteeKeyInput,
)
from app.assemblies.secrecy import b64, unb64
from app.assemblies.service import AssemblyService
from app.core.problems import problems
from app.core.schemas import Limit, Offset, Page
from app.models import Account


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
