"""All SQL of the assemblies feature, one module per part of it.

`AssemblyRepository` is the one object the services hold; each part is a mixin over the same session
(and, for the hot paths, the request's raw database), so a caller never needs to know which module
a statement lives in.
"""

from __future__ import annotations

from app.assemblies.repository.audit import AuditQueries, OutboxQueries
from app.assemblies.repository.ballots import BallotQueries, CastBox
from app.assemblies.repository.base import CAST_LOCKS, CHAIN_LOCK, PROXY_LOCKS, lock_key
from app.assemblies.repository.meetings import AssemblyQueries
from app.assemblies.repository.proposals import PROPOSAL_PAGE_SQL, ProposalPage, ProposalQueries
from app.assemblies.repository.statutes import StatutesQueries


class AssemblyRepository(StatutesQueries, AssemblyQueries, ProposalQueries, BallotQueries, AuditQueries, OutboxQueries):
    pass


__all__ = [
    "CAST_LOCKS",
    "CHAIN_LOCK",
    "PROPOSAL_PAGE_SQL",
    "PROXY_LOCKS",
    "AssemblyRepository",
    "CastBox",
    "ProposalPage",
    "lock_key",
]
