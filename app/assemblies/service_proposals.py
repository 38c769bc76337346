"""Proposals between assemblies and members' initiatives: drafting, co-signing, qualifying, opening, discussion."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from app.assemblies import mails, statutes
from app.assemblies.service_base import (
    ServiceBase,
    action_dict,
    check_window,
    in_range,
    now,
    proposal_fields,
    refuse_secret_running_results,
    rules_change,
)
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.sealing import MemberKeyRing, is_sealed, master_keys_from_settings, open_text, seal_text
from app.models import (
    Account,
    Proposal,
    ProposalComment,
    Role,
)

# A comment's body is sealed under its author's data key (the table and row id as associated data):
# erasing the author crypto-shreds it, backups included.
COMMENT_TABLE = "proposal_comment"


class ProposalRules(ServiceBase):
    """Proposals between assemblies and members' initiatives: drafting, co-signing, qualifying, opening, discussion."""

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
            in_range(getattr(data, name), name)
        if data.closes_at <= now():
            raise InvalidInput.field("closes_at", "must be in the future")
        check_window(data.opens_at, data.closes_at, "opens_at", "closes_at")
        refuse_secret_running_results(data)
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

    async def comment(self, account: Account, proposal_id: uuid.UUID, body: str) -> ProposalComment:
        proposal = await self.visible_proposal(account, proposal_id)
        if proposal.state == "closed":
            raise Conflict("The discussion closes with the vote.")
        comment = ProposalComment(proposal_id=proposal.id, author_id=account.id, body=body)
        key = await self._comment_keys().key(account.id, create=True)
        assert key is not None
        comment.body = seal_text(key, body, table=COMMENT_TABLE, row_id=comment.id)
        await self.repository.add(comment)
        self.repository.show_loaded(comment, "body", body)
        return comment

    async def comments(
        self, account: Account, proposal_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[list[Any], int]:
        await self.visible_proposal(account, proposal_id)
        rows, total = await self.repository.comments(proposal_id, limit=limit, offset=offset)
        sealed = [comment for comment, _ in rows if is_sealed(comment.body)]
        if sealed:
            keys = self._comment_keys()
            await keys.load({comment.author_id for comment in sealed})  # one query for the page's authors
            for comment in sealed:
                opened = open_text(keys.loaded(comment.author_id), comment.body, table=COMMENT_TABLE, row_id=comment.id)
                self.repository.show_loaded(comment, "body", opened)
        return rows, total

    def _comment_keys(self) -> MemberKeyRing:
        return MemberKeyRing(self.repository.session, master_keys_from_settings(self._settings))
