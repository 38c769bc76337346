"""Ballots: casting (online, proxy, paper), receipts, participation, results, certificate, published box."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import governance
from app.assemblies import mails, statutes
from app.assemblies.audit import event_fields
from app.assemblies.secrecy import (
    canonical,
    new_tracker,
)
from app.assemblies.service_base import IN_PERSON, CastResult, ServiceBase, box_document, later
from app.assemblies.statutes import (
    BallotStands,
    NotInElectorate,
    ProxyNotHeld,
    VotedInPerson,
    VoteNotOpen,
)
from app.core.errors import Conflict, NotFound
from app.models import (
    Account,
    Proposal,
)


class BallotRules(ServiceBase):
    """Ballots: casting (online, proxy, paper), receipts, participation, results, certificate, published box."""

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
        # A paper ballot may replace an in-person one and then mails the member (through the session):
        # it stays in the request's session. Online and proxy ballots write nothing else: their own
        # transaction on the raw pool, without the ORM (bench/README.md, "Assembly benchmark").
        async with self.repository.casting(proposal_id, own_transaction=paper_channel is None) as box:
            ballot = await box.facts(proposal_id, voter, account.id)
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
                        f"This member already has a ballot of their own ({existing}); replacing it is a "
                        "correction: send `correction` with a note, and the member is told."
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
            written = await box.write(
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
        if box.own_transaction:  # committed when the block above ended: no after-commit task needed
            live.changed(proposal_id)
        else:
            self._unit.after_commit(later(live.changed, proposal_id))
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
