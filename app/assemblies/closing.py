"""Closing a vote, exactly once: count, certificate, published box, binding action, minutes, mails.

`close` runs in the caller's transaction with the proposal row locked (`FOR UPDATE`, or `SKIP
LOCKED` for the background closer) and then the vote's cast lock taken exclusively: ballots in
flight finish first, later ones wait and then find the vote closed. A second closer finds the state
`closed` and returns the stored result (idempotent), so two processes produce one result, and the
binding action is applied once, in the same transaction as the result.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

import governance
from app.assemblies import mails, minutes, statutes
from app.assemblies.audit import chain_pending, new_event
from app.assemblies.secrecy import (
    ElectionKeys,
    InvalidShare,
    Share,
    UnreadableBallot,
    combine_shares,
    new_tracker,
    public_bytes,
    published_rows_sha256,
)
from app.assemblies.service import AssemblyService
from app.assemblies.statutes import InvalidKeyShare, KeySharesNeeded
from app.core.errors import Conflict, NotFound
from app.models import Account, Assembly, ContributionRate, Proposal, Role, StatuteVersion

log = structlog.get_logger(__name__)


def _blank_proxy_choice(rules: governance.Rules) -> Any:
    """What a blank proxy votes (mirrors governance/proxies.py, which keeps it private)."""
    if rules.method is governance.Method.MOTION:
        if rules.blank_proxies == "board":
            return "yes" if rules.board_approved else "no"
        return "abstain"
    if rules.method is governance.Method.CONSENT:
        return "abstain"
    return None


class Closer:
    def __init__(self, service: AssemblyService) -> None:
        self.service = service
        self.repository = service.repository
        self._context = service._context
        self._unit = service._unit

    def _audit(self, kind: str, **fields: Any) -> None:
        self._unit.session.add(new_event(kind, **fields))

    async def close_assembly(self, account: Account, assembly_id: uuid.UUID) -> None:
        """Close every vote of an open assembly's agenda (the API and the web client both call this)."""
        assembly = await self.service.visible_assembly(account, assembly_id)
        if assembly.state != "open":
            raise Conflict(f"The assembly is {assembly.state}: only an open assembly can be closed.")
        for proposal_id in (await self.service.agenda_ids([assembly]))[assembly.id]:
            await self.close(proposal_id, by=account)

    async def close(
        self,
        proposal_id: uuid.UUID,
        *,
        by: Account | None,
        claimed: Proposal | None = None,
        shares: list[str] | None = None,
        trustee: bool = False,
    ) -> Proposal:
        """`trustee`: the caller was checked as the chair or a scrutineer of this vote (`/count`)."""
        proposal = claimed or await self.repository.lock_proposal(proposal_id)
        if proposal is None:
            raise NotFound("No such proposal.")
        if by is not None and not trustee:
            self.service.require_chair(by)
        if proposal.state == "closed":
            return proposal  # already closed by someone else: the stored result stands
        if proposal.state != "open":
            raise Conflict(f"The proposal is {proposal.state}: only an open vote can be closed.")
        now = datetime.now(UTC)
        document = (await self.service.current_statutes()).document
        if proposal.closes_at is not None and proposal.closes_at > now and not document["chair_may_close_early"]:
            raise Conflict("The statutes do not allow closing a vote before its closing time.")
        key = await self._election_key(proposal, shares)
        await self.repository.lock_for_close(proposal.id)
        await self._count(proposal, now, key)
        await self.repository.add(proposal)
        if proposal.assembly_id is not None:
            await self._maybe_close_assembly(proposal.assembly_id)
        live = self._context.live
        snapshot = await self.service.snapshot(proposal)

        async def announce() -> None:
            live.publish(proposal.id, snapshot)

        self._unit.after_commit(announce)
        self.service._kick_mail()
        return proposal

    async def _election_key(self, proposal: Proposal, shares: list[str] | None) -> X25519PrivateKey | None:
        """The private key of a secret vote, rebuilt for this count only and never written anywhere."""
        if not proposal.secret or proposal.election_public_key is None:
            return None
        if proposal.key_custody == "server":
            return self._context.election.server_private_key(proposal.id, proposal.election_key_salt or b"")
        threshold = proposal.key_threshold or 1
        if not shares or len(shares) < threshold:
            raise KeySharesNeeded(
                f"Counting this vote needs {threshold} of its scrutineers' key shares (`coop trustee open-share`)."
            )
        commitments = {row.x: row.commitment for row in await self.repository.key_shares(proposal.id)}
        decoded = []
        for text in shares:
            try:
                share = Share.decode(text)
            except InvalidShare as error:
                raise InvalidKeyShare(str(error)) from error
            if share.proposal_id != proposal.id or commitments.get(share.x) != share.commitment():
                raise InvalidKeyShare(f"Share {share.x} is not one of this vote's shares.")
            decoded.append(share)
        try:
            key = combine_shares(decoded)
        except InvalidShare as error:
            raise InvalidKeyShare(str(error)) from error
        if public_bytes(key.public_key()) != proposal.election_public_key:
            raise InvalidKeyShare("These shares do not rebuild this vote's key.")
        return key

    async def _count(self, proposal: Proposal, now: datetime, key: X25519PrivateKey | None) -> None:
        seals = self._context.seals
        rules = governance.Rules.from_dict(proposal.rules or {})
        electorate = await self.repository.get_electorate(proposal.electorate_id)
        roll = await self.repository.roll(proposal.electorate_id) if proposal.electorate_id else []
        # Pseudonyms live only in this count: random, so the certificate links nobody to anything.
        pseudonyms = {voter: secrets.token_hex(16) for voter, _ in roll}
        register = {entry.voter_id: entry for entry in await self.repository.register(proposal.id)}
        contents: dict[uuid.UUID, dict[str, Any]] = {}
        problems: list[str] = []
        unsealed = unreadable = 0
        for voter, entry in register.items():
            if (
                entry.ballot is None
                or entry.seal is None
                or not seals.seal_ok(proposal.id, voter, entry.ballot, entry.seal)
            ):
                unsealed += 1
                continue
            try:
                if proposal.secret:
                    contents[voter] = ElectionKeys.decrypt(key, proposal.id, voter, entry.ballot)  # type: ignore[arg-type]
                else:
                    contents[voter] = json.loads(entry.ballot)
            except (UnreadableBallot, ValueError):
                unreadable += 1
            if voter not in pseudonyms:
                problems.append("a ballot belongs to nobody in the electorate")
        if unsealed:
            problems.append(f"{unsealed} ballot(s) do not match their seal")
        if unreadable:
            problems.append(f"{unreadable} ballot(s) cannot be opened with the vote's key")
        proxies = await self.repository.active_proxies(
            assembly_id=proposal.assembly_id, proposal_id=None if proposal.assembly_id else proposal.id
        )

        def pseudonym(member: uuid.UUID) -> str:
            return pseudonyms.get(member, f"outsider-{member}")

        published: list[dict[str, Any]] = []
        result = None
        if not problems:
            ballots = []
            for voter, entry in register.items():
                content = contents[voter]
                cast_by = pseudonym(entry.cast_by) if entry.channel == "proxy" and entry.cast_by else None
                ballots.append(governance.Ballot(pseudonym(voter), content["choice"], content["reason"], cast_by))
                published.append(
                    {
                        "tracker": content["tracker"],
                        "college": content["college"],
                        "choice": content["choice"],
                        "reason": content["reason"],
                        "voter_id": None if proposal.secret else entry.voter_id,
                        "cast_by": None if proposal.secret else entry.cast_by,
                        "channel": None if proposal.secret else entry.channel,
                    }
                )
            blank = _blank_proxy_choice(rules)
            colleges = dict(roll)
            for proxy in proxies:
                if proxy.holder_id is None and proxy.principal_id not in register and proxy.principal_id in colleges:
                    published.append(
                        {
                            "tracker": new_tracker(),
                            "college": colleges[proxy.principal_id],
                            "choice": blank,
                            "reason": None,
                            "voter_id": None if proposal.secret else proxy.principal_id,
                            "cast_by": None,
                            "channel": None if proposal.secret else "board",
                        }
                    )
            try:
                result = governance.tally(
                    rules,
                    statutes.electorate_of((pseudonyms[voter], college) for voter, college in roll),
                    ballots,
                    [
                        governance.Proxy(
                            pseudonym(p.principal_id),
                            None if p.holder_id is None else pseudonym(p.holder_id),
                            decision=None if p.assembly_id else str(proposal.id),
                            assembly=str(p.assembly_id) if p.assembly_id else None,
                        )
                        for p in proxies
                    ],
                    decision=str(proposal.id),
                    assembly=str(proposal.assembly_id) if proposal.assembly_id else None,
                )
            except governance.GovernanceError as error:
                problems.append(f"the count failed: {error} [{error.code}]")
        by_channel = await self.repository.participation(proposal.id)
        # From now on the ballots' ciphertexts (and their dead versions in the relation files and
        # the WAL) cannot be opened: the salt of a server-held key is gone, a bureau's key never stayed.
        proposal.election_key_salt = None
        await self.repository.erase_ballots(proposal.id)
        proposal.audit_head = await self._chain_head()
        proposal.state = "closed"
        proposal.closed_at = now
        roll_digest = electorate.roll_sha256 if electorate else None
        if problems or result is None:
            proposal.outcome = "void"
            proposal.result = {"outcome": "void", "integrity": problems}
            proposal.explanation = "The vote is void: the ballot box failed its integrity checks.\n" + "\n".join(
                f"- {p}" for p in problems
            )
            proposal.attendance = {"by_channel": by_channel, "roll_sha256": roll_digest}
            self._audit(
                "proposal.void",
                assembly_id=proposal.assembly_id,
                proposal_id=proposal.id,
                data={"outcome": "void", "problems": problems, "audit_head": proposal.audit_head},
            )
            log.error("vote void: integrity checks failed", proposal_id=str(proposal.id), problems=problems)
            return
        published.sort(key=lambda row: row["tracker"])
        rows = [{"proposal_id": proposal.id, "position": i, **row} for i, row in enumerate(published, 1)]
        certificate = governance.certify(result, audit_head=proposal.audit_head)
        proposal.outcome = result.outcome
        proposal.result = certificate.body["result"]
        proposal.explanation = result.explain()
        proposal.certificate = certificate.body
        proposal.certificate_sha256 = certificate.sha256
        proposal.box_sha256 = published_rows_sha256(rows)
        proposal.attendance = {
            **certificate.body.get("attendance", {}),
            "by_channel": by_channel,
            "roll_sha256": roll_digest,
        }
        await self.repository.publish_box(rows)
        self._audit(
            "proposal.closed",
            assembly_id=proposal.assembly_id,
            proposal_id=proposal.id,
            data={
                "outcome": proposal.outcome,
                "certificate_sha256": proposal.certificate_sha256,
                "box_sha256": proposal.box_sha256,
                "roll_sha256": roll_digest,
                "ballots": len(rows),
                "audit_head": proposal.audit_head,
            },
        )
        if proposal.outcome == "adopted" and proposal.action and proposal.action_applied_at is None:
            await self._apply(proposal, now)
        if proposal.electorate_id is not None:
            subject, body = mails.results(
                proposal, f"{self._context.settings.public_base_url}/api/v1/proposals/{proposal.id}"
            )
            await self.repository.enqueue_mail_to_roll(
                kind="results",
                electorate_id=proposal.electorate_id,
                subject=subject,
                body=body,
                assembly_id=proposal.assembly_id,
                proposal_id=proposal.id,
            )

    async def _chain_head(self) -> dict[str, Any]:
        """The audit chain's last link: printed in the certificate, the minutes and the results mail,
        so the record can be checked against a copy the database cannot reach back to.

        The vote's cast lock is held, so every ballot of it has committed: sealing what is pending
        first makes the head cover them all. The sealing runs in a transaction of its own, because
        holding the chain's lock until this close commits would order it against other closes'
        row locks (an assembly's close takes several proposals in turn) and could deadlock."""
        seal = self._context.seal_audit_chain
        if seal is not None:
            await seal()
        else:  # no background loop (the demo loader, alone on its database): seal in this transaction
            await chain_pending(self.repository, wait=True)
        seq, head = await self.repository.chain_head()
        return {"seq": seq, "hash": head.hex() if head else None}

    async def _apply(self, proposal: Proposal, now: datetime) -> None:
        """The binding action of an adopted proposal, in the same transaction as its result."""
        action = proposal.action or {}
        kind = action.get("type")
        failure = None
        if kind in ("admit_member", "exclude_member"):
            target = await self.repository.lock_account(uuid.UUID(action["account_id"]))
            if target is None:
                failure = "the account no longer exists"
            elif kind == "admit_member":
                if target.role == Role.MEMBER:
                    await self.repository.set_member_status(target.id, "member")
                elif not action.get("college"):
                    failure = "someone who is not a member joins through a college: name one"
                if failure is None and action.get("college"):
                    await self.repository.set_college(target.id, action["college"], None, proposal.id)
            else:
                if target.role == Role.MEMBER:
                    await self.repository.set_member_status(target.id, "departed")
                await self.repository.set_college(target.id, None, None, proposal.id)
        elif kind == "set_contribution_rate":
            await self.repository.add(ContributionRate(basis_points=action["basis_points"], proposal_id=proposal.id))
        elif kind == "amend_statutes":
            current = await self.service.current_statutes()
            try:
                document = statutes.amend(current.document, action.get("kind"), action.get("call"), _changes(action))
            except Exception as error:  # the statutes moved since the proposal was written
                failure = f"the amendment no longer fits the statutes: {error}"
            else:
                await self.repository.add(
                    StatuteVersion(
                        document=document, reason=f"amended by: {proposal.title}"[:200], proposal_id=proposal.id
                    )
                )
        else:
            failure = f"unknown action {kind!r}"
        if failure is not None:
            self._audit(
                "action.failed",
                proposal_id=proposal.id,
                assembly_id=proposal.assembly_id,
                data={"action": action, "reason": failure},
            )
            return
        proposal.action_applied_at = now
        self._audit(
            "action.applied", proposal_id=proposal.id, assembly_id=proposal.assembly_id, data={"action": action}
        )

    async def _maybe_close_assembly(self, assembly_id: uuid.UUID) -> None:
        assembly = await self.repository.get_assembly(assembly_id, lock=True)
        if assembly is None or assembly.state != "open":
            return
        agenda = list(await self.repository.agenda(assembly.id, fresh=True))
        if any(p.state != "closed" for p in agenda):
            return
        assembly.state = "closed"
        assembly.closed_at = datetime.now(UTC)
        await self.write_minutes(assembly, agenda)
        self._audit(
            "assembly.closed",
            assembly_id=assembly.id,
            data={"minutes_sha256": assembly.minutes_sha256, "outcomes": {str(p.id): p.outcome for p in agenda}},
        )

    async def write_minutes(self, assembly: Assembly, agenda: list[Proposal]) -> None:
        lines = []
        sheet = await self.service.sheet(assembly)
        names = {line["account_id"]: line["display_name"] for line in sheet}
        for line in sheet:
            if line["present"]:
                status = "present"
            elif line["represented_by"] is not None:
                status = f"represented by {names.get(line['represented_by'], 'a member no longer on the roll')}"
            elif line["blank_proxy"]:
                status = "represented (blank proxy to the board)"
            elif line["voted_online"]:
                status = "voted online"
            elif line["postal"]:
                status = "postal vote"
            else:
                status = "absent"
            lines.append(minutes.SheetLine(line["display_name"], line["college"], status))
        electorate = await self.repository.get_electorate(assembly.electorate_id)
        seq, head = await self.repository.chain_head()
        markdown, html = minutes.render(
            assembly,
            agenda,
            lines,
            electorate.roll_sha256 if electorate else None,
            f"{seq}:{head.hex()}" if head else None,
        )
        assembly.minutes_markdown = markdown
        assembly.minutes_html = html
        assembly.minutes_sha256 = hashlib.sha256(markdown.encode()).hexdigest()
        await self.repository.add(assembly)


def _changes(action: dict[str, Any]) -> dict[str, Any]:
    changes = dict(action.get("changes") or {})
    out = {k: v for k, v in changes.items() if v is not None}
    if out.get("quorum") in ("0", "0/1"):
        out["quorum"] = None
    return out
