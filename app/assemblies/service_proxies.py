"""Proxies: declared before the vote opens, checked against the frozen roll and the statutes by governance/."""

from __future__ import annotations

import uuid
from typing import Any

import governance
from app.assemblies import statutes
from app.assemblies.service_base import ServiceBase
from app.assemblies.statutes import (
    NotInElectorate,
)
from app.core.errors import Conflict, NotFound
from app.models import (
    Account,
    Proxy,
    Role,
)


class ProxyRules(ServiceBase):
    """Proxies: declared before the vote opens, checked against the frozen roll and the statutes by governance/."""

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
