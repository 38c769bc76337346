"""The marketplace part of `coop demo`: profiles for the demo members (rural and urban France), missions
from the two demo clients and one mission brought by a member. Idempotent: what exists is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.db.transaction import UnitOfWork
from app.members.schemas import AvailabilityInput, LanguageInput, LinkInput, ProfileInput, ProfileSkillInput
from app.members.service import MemberService
from app.missions.schemas import MissionInput, SeatInput, SeatSkillInput
from app.missions.service import MissionService
from app.models import Account, MemberStatus

FR_EN = [LanguageInput(code="fr", level="native"), LanguageInput(code="en", level="B2")]


@dataclass(frozen=True)
class DemoProfile:
    email: str
    headline: str
    bio: str
    skills: list[tuple[str, int, int]]  # slug, level, years
    rate: tuple[int, int]  # euros per day
    city: str
    postal_code: str
    region: str
    coordinates: tuple[float, float]
    work_mode: str
    travel_km: int
    available_from: date | None
    visibility: str = "public"


PROFILES = [
    DemoProfile(
        "camille.martin@demo.coop",
        "Développeuse Python / Django, API et données publiques",
        "Dix ans de back-end pour des collectivités et des SCIC. Je tiens à l'accessibilité et à la sobriété.",
        [("python", 5, 10), ("django", 5, 8), ("postgresql", 4, 8), ("rest-apis", 4, 7), ("open-data", 3, 4)],
        (550, 650),
        "Lyon",
        "69004",
        "Auvergne-Rhône-Alpes",
        (45.7745, 4.8320),
        "hybrid",
        60,
        date(2030, 1, 5),
    ),
    DemoProfile(
        "yanis.benali@demo.coop",
        "Développeur front-end React & TypeScript",
        "Interfaces rapides et accessibles, design systems, tests de bout en bout.",
        [("react", 5, 6), ("typescript", 5, 6), ("web-accessibility", 4, 4), ("design-systems", 3, 3)],
        (500, 600),
        "Marseille",
        "13001",
        "Provence-Alpes-Côte d'Azur",
        (43.2965, 5.3698),
        "remote",
        0,
        date(2030, 2, 1),
    ),
    DemoProfile(
        "lea.dubois@demo.coop",
        "Designer UX/UI, recherche utilisateur",
        "J'accompagne les associations et les communes dans la conception de services numériques simples.",
        [("ux-design", 5, 9), ("ui-design", 4, 9), ("user-research", 4, 6), ("figma", 5, 6), ("penpot", 3, 2)],
        (450, 550),
        "Besançon",
        "25000",
        "Bourgogne-Franche-Comté",
        (47.2378, 6.0241),
        "hybrid",
        150,
        date(2030, 1, 1),
    ),
    DemoProfile(
        "hugo.lefevre@demo.coop",
        "Graphiste et illustrateur, identités visuelles",
        "Logos, chartes, affiches et illustrations pour l'économie sociale et solidaire.",
        [("graphic-design", 5, 12), ("visual-identity", 5, 10), ("illustration", 4, 12), ("inkscape", 4, 8)],
        (380, 480),
        "Rennes",
        "35000",
        "Bretagne",
        (48.1173, -1.6778),
        "hybrid",
        80,
        date(2030, 3, 1),
    ),
    DemoProfile(
        "ines.moreau@demo.coop",
        "Cheffe de projet numérique et facilitatrice",
        "Cadrage, ateliers, conduite du changement dans le secteur public.",
        [
            ("project-management", 5, 11),
            ("agile-project-management", 4, 7),
            ("facilitation", 5, 8),
            ("public-sector-digital-services", 4, 6),
        ],
        (600, 750),
        "Paris",
        "75011",
        "Île-de-France",
        (48.8589, 2.3790),
        "hybrid",
        200,
        date(2030, 2, 15),
    ),
    DemoProfile(
        "thomas.garnier@demo.coop",
        "Administrateur systèmes Linux, hébergement sobre",
        "Depuis le Cantal : serveurs Debian, sauvegardes, supervision pour les petites structures.",
        [
            ("linux", 5, 14),
            ("debian", 5, 12),
            ("ansible", 4, 6),
            ("docker", 4, 6),
            ("backup-and-disaster-recovery", 4, 8),
        ],
        (420, 500),
        "Aurillac",
        "15000",
        "Auvergne-Rhône-Alpes",
        (44.9264, 2.4396),
        "remote",
        100,
        date(2030, 1, 1),
    ),
    DemoProfile(
        "aicha.diallo@demo.coop",
        "Data scientist, visualisation et statistiques",
        "Tableaux de bord, modèles statistiques et données ouvertes pour l'énergie et la mobilité.",
        [("python", 4, 6), ("pandas", 5, 6), ("data-visualisation", 5, 6), ("statistics", 4, 8), ("metabase", 4, 3)],
        (500, 620),
        "Toulouse",
        "31000",
        "Occitanie",
        (43.6045, 1.4440),
        "remote",
        0,
        date(2030, 1, 15),
    ),
    DemoProfile(
        "mael.legoff@demo.coop",
        "Développeur WordPress et référencement, Finistère",
        "Sites de communes rurales et d'artisans, référencement local, formations.",
        [("wordpress", 5, 9), ("php", 4, 9), ("seo", 4, 6), ("training-and-teaching", 4, 5)],
        (350, 420),
        "Morlaix",
        "29600",
        "Bretagne",
        (48.5776, -3.8277),
        "on_site",
        70,
        date(2030, 1, 1),
        "members",
    ),
    DemoProfile(
        "sofia.rossi@demo.coop",
        "Rédactrice et traductrice FR/EN/IT",
        "Contenus web, rapports d'activité, traductions pour les coopératives européennes.",
        [("copywriting", 5, 10), ("translation-english-french", 5, 10), ("content-strategy", 4, 5)],
        (320, 400),
        "Die",
        "26150",
        "Auvergne-Rhône-Alpes",
        (44.7536, 5.3700),
        "remote",
        0,
        None,
    ),
    DemoProfile(
        "julien.perrin@demo.coop",
        "Intégrateur web et accessibilité (RGAA), Haute-Auvergne",
        "Je rends accessibles les sites des collectivités du Cantal et de la Lozère.",
        [("web-accessibility", 5, 7), ("accessibility-audit", 5, 5), ("html", 5, 10), ("css", 5, 10), ("drupal", 3, 4)],
        (400, 480),
        "Saint-Flour",
        "15100",
        "Auvergne-Rhône-Alpes",
        (45.0340, 3.0930),
        "hybrid",
        80,
        date(2030, 1, 1),
    ),
]


@dataclass(frozen=True)
class DemoMission:
    owner_email: str
    data: dict[str, Any]
    seats: list[tuple[str, list[tuple[str, int]], int | None]]  # title, skills (slug, min level), days
    open: bool = True


MISSIONS = [
    DemoMission(
        "elodie.rousseau@biocoop-lyon.demo",
        {
            "title": "Boutique en ligne click & collect pour une épicerie bio",
            "description": "Commandes en ligne, retrait en magasin, lien avec la caisse. Django souhaité, interface "
            "accessible et sobre.",
            "budget_kind": "day_rate",
            "budget_amount_minor": 60000,
            "budget_days": 30,
            "starts_on": date(2030, 2, 1),
            "ends_on": date(2030, 4, 30),
            "city": "Lyon",
            "postal_code": "69004",
            "region": "Auvergne-Rhône-Alpes",
            "latitude": 45.7745,
            "longitude": 4.8320,
            "work_mode": "hybrid",
            "visibility": "public",
        },
        [
            ("Développeur·se back-end Django", [("django", 4), ("postgresql", 3)], 25),
            ("Designer UX/UI", [("ux-design", 4), ("ui-design", 3)], 5),
        ],
    ),
    DemoMission(
        "marc.aubert@mairie-saint-flour.demo",
        {
            "title": "Mise en accessibilité (RGAA) du site de la commune",
            "description": "Audit RGAA puis corrections du site de la commune ; présence souhaitée en mairie pour "
            "deux ateliers avec les agents.",
            "budget_kind": "fixed",
            "budget_amount_minor": 1200000,
            "budget_days": 25,
            "starts_on": date(2030, 3, 1),
            "ends_on": date(2030, 5, 31),
            "city": "Saint-Flour",
            "postal_code": "15100",
            "region": "Auvergne-Rhône-Alpes",
            "latitude": 45.0340,
            "longitude": 3.0930,
            "work_mode": "hybrid",
            "visibility": "public",
        },
        [("Auditeur·rice accessibilité", [("accessibility-audit", 4), ("web-accessibility", 4)], None)],
    ),
    DemoMission(
        "camille.martin@demo.coop",
        {
            "title": "Tableau de bord open data pour une SCIC d'énergie citoyenne",
            "description": "Une SCIC d'énergie renouvelable veut publier sa production en données ouvertes et un "
            "tableau de bord pour ses sociétaires.",
            "client_name": "SCIC Énergies Citoyennes du Pilat",
            "budget_kind": "day_rate",
            "budget_amount_minor": 55000,
            "budget_days": 15,
            "starts_on": date(2030, 2, 15),
            "ends_on": date(2030, 3, 31),
            "city": "Saint-Étienne",
            "postal_code": "42000",
            "region": "Auvergne-Rhône-Alpes",
            "latitude": 45.4397,
            "longitude": 4.3872,
            "work_mode": "remote",
            "visibility": "members",
        },
        [("Data scientist", [("data-visualisation", 4), ("python", 3)], 15)],
    ),
]


async def load_marketplace(unit: UnitOfWork, accounts: dict[str, Account]) -> int:
    """Create the demo profiles and missions that do not exist yet; returns how many were created."""
    members, missions = MemberService(unit), MissionService(unit)
    created = 0
    for demo in PROFILES:
        account = accounts.get(demo.email)
        if account is None or account.member_status != MemberStatus.MEMBER:
            continue
        if await members.repository.get_profile(account.id) is not None:
            continue
        skills = []
        for slug, level, years in demo.skills:
            skill = await members.repository.skill_by_term(slug)
            if skill is not None:
                skills.append(ProfileSkillInput(skill_id=skill.id, level=level, years=years))
        await members.save_profile(
            account,
            ProfileInput(
                display_name=account.display_name,
                headline=demo.headline,
                bio=demo.bio,
                skills=skills,
                languages=FR_EN,
                day_rate_min_minor=demo.rate[0] * 100,
                day_rate_max_minor=demo.rate[1] * 100,
                available_from=demo.available_from,
                availability=[
                    AvailabilityInput(starts_on=date(2030, 6, 1), ends_on=date(2030, 8, 31), share_percent=50)
                ],
                city=demo.city,
                postal_code=demo.postal_code,
                region=demo.region,
                latitude=demo.coordinates[0],
                longitude=demo.coordinates[1],
                work_mode=demo.work_mode,  # type: ignore[arg-type]
                travel_km=demo.travel_km,
                links=[LinkInput(kind="portfolio", url=f"https://{demo.email.split('@')[0]}.demo.coop")],
                contact_email=demo.email,
                visibility=demo.visibility,  # type: ignore[arg-type]
            ),
        )
        await members.set_published(account, True)
        created += 1
    for demo in MISSIONS:
        owner = accounts.get(demo.owner_email)
        if owner is None:
            continue
        mine, _, _ = await missions.mine(owner, 100, 0)
        if any(mission.title == demo.data["title"] for mission in mine):
            continue
        seats = []
        for title, skills, days in demo.seats:
            seat_skills = []
            for slug, level in skills:
                skill = await members.repository.skill_by_term(slug)
                if skill is not None:
                    seat_skills.append(SeatSkillInput(skill_id=skill.id, min_level=level))
            seats.append(SeatInput(title=title, skills=seat_skills, days=days))
        view = await missions.create(owner, MissionInput(**demo.data, seats=seats))
        if demo.open:
            await missions.transition(owner, view.mission.id, "open")
        created += 1
    return created
