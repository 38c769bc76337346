"""HTTP surface of the assemblies feature: /api/v1/statutes, /api/v1/assemblies, /api/v1/proposals."""

from __future__ import annotations

from app.assemblies.controllers.assemblies import AssembliesController, StatutesController
from app.assemblies.controllers.proposals import ProposalsController, TrusteeKeyController

__all__ = ["AssembliesController", "ProposalsController", "StatutesController", "TrusteeKeyController"]
