"""Rules of the assemblies feature: statutes, assemblies, proposals, initiatives, proxies, key custody, ballots.

Nothing here knows about HTTP and nothing commits: the request's unit of work does. Each part lives
in its own module (`service_statutes.py`, `service_assemblies.py`, `service_proposals.py`,
`service_proxies.py`, `service_custody.py`, `service_ballots.py`) over `service_base.py`; closing a vote
(count, certificate, binding action, minutes) lives in `closing.py`, the audit chain in `audit.py`.
"""

from __future__ import annotations

from app.assemblies.audit import AuditHead, audit_head
from app.assemblies.service_assemblies import AssemblyRules
from app.assemblies.service_ballots import BallotRules
from app.assemblies.service_base import CastResult, Governance
from app.assemblies.service_custody import KeyCustodyRules
from app.assemblies.service_proposals import ProposalRules
from app.assemblies.service_proxies import ProxyRules
from app.assemblies.service_statutes import StatutesRules
from app.models import Account

__all__ = ["AssemblyService", "CastResult", "Governance"]


class AssemblyService(StatutesRules, AssemblyRules, ProposalRules, ProxyRules, KeyCustodyRules, BallotRules):
    """The feature's rules as one service, as the controllers and the background loop use them."""

    async def audit_head(self, account: Account) -> AuditHead:
        """The audit log's head for administrators to keep outside the database (`coop audit head`)."""
        self.require_chair(account)
        return await audit_head(self.repository)
