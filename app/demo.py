"""A realistic demo cooperative: an admin, a dozen members across France, two client organisations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.accounts.passwords import Passwords
from app.accounts.service import AccountService, NewOrganisation
from app.accounts.tokens import SigningKeys
from app.assemblies.demo import load_demo_assembly
from app.core.mail import Mailer
from app.db.engine import Database
from app.db.transaction import UnitOfWork
from app.diagnostic.demo import load_demo_diagnostic
from app.missions.demo_data import load_marketplace
from app.models import MemberStatus, Role
from app.payments.demo import load_demo_payments
from app.settings import Settings
from app.training.demo import load_demo_training

DEMO_PASSWORD = "demo: cooperative-owned platform 2026"  # noqa: S105 - documented demo credential
ADMIN_EMAIL = "admin@demo.coop"

MEMBERS = [
    ("Camille Martin", "camille.martin@demo.coop", MemberStatus.MEMBER),
    ("Yanis Benali", "yanis.benali@demo.coop", MemberStatus.MEMBER),
    ("Léa Dubois", "lea.dubois@demo.coop", MemberStatus.MEMBER),
    ("Hugo Lefèvre", "hugo.lefevre@demo.coop", MemberStatus.MEMBER),
    ("Inès Moreau", "ines.moreau@demo.coop", MemberStatus.MEMBER),
    ("Thomas Garnier", "thomas.garnier@demo.coop", MemberStatus.MEMBER),
    ("Aïcha Diallo", "aicha.diallo@demo.coop", MemberStatus.MEMBER),
    ("Maël Le Goff", "mael.legoff@demo.coop", MemberStatus.MEMBER),
    ("Sofia Rossi", "sofia.rossi@demo.coop", MemberStatus.MEMBER),
    ("Julien Perrin", "julien.perrin@demo.coop", MemberStatus.MEMBER),
    ("Nora Haddad", "nora.haddad@demo.coop", MemberStatus.APPLICANT),
    ("Pierre Fabre", "pierre.fabre@demo.coop", MemberStatus.DEPARTED),
]

CLIENTS = [
    (
        "Élodie Rousseau",
        "elodie.rousseau@biocoop-lyon.demo",
        NewOrganisation("Biocoop Lyon Croix-Rousse SAS", "RCS Lyon 812 345 676", "12 rue d'Austerlitz\n69004 Lyon"),
    ),
    (
        "Marc Aubert",
        "marc.aubert@mairie-saint-flour.demo",
        NewOrganisation("Commune de Saint-Flour", "SIRET 211 501 879 00012", "Place d'Armes\n15100 Saint-Flour"),
    ),
]


@dataclass(frozen=True)
class DemoReport:
    created: int
    skipped: int
    assembly_planned: bool = False


async def load_demo(
    database: Database,
    settings: Settings,
    passwords: Passwords,
    mailer: Mailer,
    progress: Callable[[str], None] = lambda _: None,
) -> DemoReport:
    created = skipped = 0
    async with database.sessionmaker() as session, session.begin():
        unit = UnitOfWork(session)
        service = AccountService(unit, settings, passwords, SigningKeys.from_settings(settings), mailer)
        if await service.repository.email_exists(ADMIN_EMAIL):
            skipped += 1
        else:
            await service.create_admin(email=ADMIN_EMAIL, password=DEMO_PASSWORD, display_name="Demo administrator")
            created += 1
        progress("admin")
        for name, email, status in MEMBERS:
            if await service.repository.email_exists(email):
                skipped += 1
            else:
                account = await service.register(
                    email=email, password=DEMO_PASSWORD, display_name=name, role=Role.MEMBER
                )
                await service.set_member_status(account.id, status)
                account.email_verified_at = datetime.now(UTC)
                created += 1
            progress(name)
        for name, email, organisation in CLIENTS:
            if await service.repository.email_exists(email):
                skipped += 1
            else:
                account = await service.register(
                    email=email,
                    password=DEMO_PASSWORD,
                    display_name=name,
                    role=Role.CLIENT,
                    organisation=organisation,
                )
                account.email_verified_at = datetime.now(UTC)
                demo_admin = await service.repository.get_by_email(ADMIN_EMAIL)
                if demo_admin is not None and account.client_organisation_id is not None:
                    # Demo organisations are checked already, so their missions are public at once.
                    await service.verify_organisation(demo_admin, account.client_organisation_id)
                created += 1
            progress(name)
        # Profiles for the members, missions from the clients and one brought by a member.
        emails = [email for _, email, _ in [*MEMBERS, *CLIENTS]]
        accounts = {email: await service.repository.get_by_email(email) for email in emails}
        await load_marketplace(unit, {email: a for email, a in accounts.items() if a is not None})
        # A training catalogue, a member half-way along a path, and a diagnostic taken by the commune.
        await load_demo_training(unit, {email: a for email, a in accounts.items() if a is not None})
        await load_demo_diagnostic(unit, accounts.get("marc.aubert@mairie-saint-flour.demo"))
        # A general assembly, planned with its agenda: convene it, open it, vote, close it (docs/assemblies.md).
        admin = await service.repository.get_by_email(ADMIN_EMAIL)
        planned = admin is not None and await load_demo_assembly(unit, settings, admin)
        # Payments: a paid, a pending and a refunded milestone, and a prepared payout run (docs/payments.md).
        commune, trainer = accounts.get("marc.aubert@mairie-saint-flour.demo"), accounts.get("ines.moreau@demo.coop")
        if admin is not None and commune is not None and trainer is not None:
            await load_demo_payments(unit, settings, commune, trainer, admin)
    # Demo accounts have fictitious addresses: nobody is mailed.
    return DemoReport(created=created, skipped=skipped, assembly_planned=planned)


DEMO_SIZE = 1 + len(MEMBERS) + len(CLIENTS)
