"""The demo cooperative's assembly: planned with its agenda, ready to be convened, opened, voted, closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from app.assemblies.background import build_governance
from app.assemblies.schemas import SetContributionRate
from app.assemblies.service import AssemblyService
from app.db.transaction import UnitOfWork
from app.models import Account
from app.settings import Settings

TITLE = "Assemblée générale ordinaire 2026"


def _proposal(title: str, text: str, **extra: object) -> SimpleNamespace:
    fields = {
        "title": title,
        "text": text,
        "method": "motion",
        "options": [],
        "seats": 1,
        "secret": True,
        "results_visible": False,
        "board_approved": True,
        "action": None,
    }
    return SimpleNamespace(**{**fields, **extra})


DEMO_STATUTES = SimpleNamespace(
    preset="scop_sarl",
    changes=None,
    initiative_cosignatures=None,
    initiative_route=None,
    initiative_vote_days=None,
    # A demo's assembly must run to its result in minutes: the chair may open and close it early.
    chair_may_close_early=True,
    chair_may_open_early=True,
    default_college=None,
)


async def load_demo_assembly(unit: UnitOfWork, settings: Settings, admin: Account) -> bool:
    """Plan the demo assembly once (idempotent); returns whether it was created."""
    service = AssemblyService(unit, build_governance(settings, None))
    rows, _ = await service.repository.list_assemblies(limit=100, offset=0)
    if any(row.title == TITLE for row in rows):
        return False
    await service.found_statutes(admin, DEMO_STATUTES)
    scheduled = datetime.now(UTC).replace(microsecond=0) + timedelta(days=settings.convocation_notice_days + 1)
    assembly = await service.create_assembly(
        admin,
        SimpleNamespace(
            kind="ordinary",
            title=TITLE,
            scheduled_at=scheduled,
            description="Approval of the accounts, the contribution rate, the board's secretary.",
            location="La Cantine coopérative, 12 rue des Tanneurs, 69001 Lyon (and online)",
            voting_opens_at=None,
            voting_closes_at=None,
            documents=[SimpleNamespace(title="Rapport de gestion 2025", url="https://demo.coop/docs/rapport-2025.pdf")],
        ),
    )
    await service.add_to_agenda(
        admin,
        assembly.id,
        _proposal("Approve the 2025 accounts", "The general assembly approves the 2025 accounts as presented."),
    )
    await service.add_to_agenda(
        admin,
        assembly.id,
        _proposal(
            "Set the contribution at 8 %",
            "The cooperative keeps 8 % of each invoice to fund its shared services.",
            action=SetContributionRate(basis_points=800),
        ),
    )
    await service.add_to_agenda(
        admin,
        assembly.id,
        _proposal(
            "Elect the board's secretary",
            "One seat, public ballot.",
            method="single_choice",
            options=[
                SimpleNamespace(id="camille", label="Camille Martin"),
                SimpleNamespace(id="yanis", label="Yanis Benali"),
            ],
            secret=False,
            board_approved=False,
        ),
    )
    return True
