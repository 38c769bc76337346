"""End-to-end journeys in Chromium against a real `coop serve`, every visited page checked by axe-core.

1. sign up -> confirm by the mailed link -> admitted by an administrator -> publish a profile;
2. a client posts a two-seat mission -> two members apply -> staffed -> delivered -> reviews;
3. an assembly convened and opened -> members vote (a ranked ballot by keyboard only, another by
   dragging) -> closed ->
   results, certificate, minutes; participation shown live to another member;
4. the same page in French and in English, and the layout at 360 px.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

import governance
from tests.web.conftest import Server
from tests.web.pages import check_accessibility, mailed_link, sign_in, submit, visit

DEMO_STATUTES = {"preset": "scop_sarl", "chair_may_close_early": True, "chair_may_open_early": True}


@pytest.fixture
def people(browser: Browser, server: Server) -> Iterator[Callable[[str], Page]]:
    """A signed-in browser per person; closed after the test (live pages hold a connection open)."""
    contexts: list[BrowserContext] = []

    def person(email: str) -> Page:
        context = browser.new_context(bypass_csp=True, locale="fr-FR")
        contexts.append(context)
        page = context.new_page()
        sign_in(page, server.base, email)
        return page

    yield person
    for context in contexts:
        context.close()


def test_sign_up_confirm_admitted_and_publish_a_profile(
    server: Server, page: Page, people: Callable[[str], Page]
) -> None:
    base, email = server.base, "nouvelle@example.org"
    visit(page, f"{base}/sign-up")
    page.fill("#field-display_name", "Nadia Nouvelle")
    page.fill("#field-email", email)
    page.fill("#field-password", "weak")
    submit(page, "Créer mon compte")
    expect(page.locator("#error-summary")).to_be_focused()  # the error is announced
    page.fill("#field-password", "correct horse battery staple 42")
    submit(page, "Créer mon compte")
    expect(page.locator(".flash")).to_contain_text("Votre compte est créé")

    visit(page, mailed_link(server.mailbox, email, "/verify-email"))
    submit(page, "Confirmer mon adresse")
    sign_in(page, base, email)
    expect(page.locator("main")).to_contain_text("attend")

    admin = people(server.admin_email)
    visit(admin, f"{base}/admin/members")
    row = admin.locator("tr", has_text="Nadia Nouvelle")
    row.locator("select").select_option("member")
    with admin.expect_navigation():
        row.get_by_role("button").click()
    check_accessibility(admin)

    visit(page, f"{base}/me/profile")
    page.fill("#field-headline", "Développeuse Python pour les coopératives")
    page.locator("#field-skill-0").press_sequentially("Pyth", delay=30)
    expect(page.locator("#skill-options option[value='Python']")).to_have_count(1)  # htmx suggestions
    page.fill("#field-skill-0", "Python")
    page.select_option("#field-level-0", "4")
    page.fill("#field-day_rate_min", "450")
    page.fill("#field-day_rate_max", "600")
    page.fill("#field-city", "Lyon")
    page.fill("#field-region", "Auvergne-Rhône-Alpes")
    page.select_option("#field-visibility", "public")
    submit(page, "Enregistrer mon profil")
    submit(page, "Publier mon profil")
    expect(page.locator("h1")).to_have_text("Nadia Nouvelle")
    expect(page.locator("main")).to_contain_text("450,00")
    visit(page, f"{base}/profiles?q=python")
    expect(page.locator("#results")).to_contain_text("Nadia Nouvelle")


def test_two_seat_mission_staffed_delivered_and_reviewed(server: Server, people: Callable[[str], Page]) -> None:
    base = server.base
    server.register("client@example.org", "Régie Client", role="client")
    for i in (1, 2):
        server.register(f"m{i}@example.org", f"Membre {i}")
        token = server.token(f"m{i}@example.org")
        body = {
            "display_name": f"Membre {i}",
            "headline": "Indépendant·e",
            "day_rate_min_minor": 40000,
            "day_rate_max_minor": 50000,
            "city": "Lyon",
            "region": "ARA",
            "work_mode": "remote",
            "visibility": "public",
        }
        assert server.api("PUT", "/api/v1/me/profile", token, json=body).status_code == 200
        assert server.api("POST", "/api/v1/me/profile/publish", token).status_code == 200

    customer = people("client@example.org")
    visit(customer, f"{base}/missions/new")
    expect(customer.locator("#unverified-notice")).to_contain_text("confirmé votre adresse")
    customer.fill("#field-title", "Site de la régie de quartier")
    customer.fill("#field-description", "Refaire le site et son back-office.")
    customer.fill("#field-budget_amount", "12000")
    customer.fill("#field-starts_on", "2031-03-01")
    customer.fill("#field-ends_on", "2031-05-31")
    customer.fill("#seat-title-0", "Développement")
    customer.fill("#seat-skill-0", "Python")
    customer.fill("#seat-title-1", "Design")
    submit(customer, "Enregistrer la mission (en brouillon)")
    mission_url = customer.url
    # The draft is rewritten before it opens (its edit page, checked by axe like every other).
    customer.get_by_role("link", name="Modifier le brouillon").click()
    customer.wait_for_load_state()
    check_accessibility(customer)
    expect(customer.locator("#seat-skill-0")).to_have_value("Python")
    customer.fill("#field-description", "Refaire le site, son back-office et l'annuaire des associations.")
    submit(customer, "Enregistrer le brouillon")
    assert customer.url == mission_url
    expect(customer.locator("main")).to_contain_text("l'annuaire des associations")
    # Issue 9: a mission opens once its client confirmed its address; the page says so, and why.
    expect(customer.locator("#unverified-notice")).to_contain_text("ne peut pas encore ouvrir")
    submit(customer, "Passer à : ouverte")
    expect(customer.locator("#error-summary")).to_contain_text("adresse confirmée")
    visit(customer, mailed_link(server.mailbox, "client@example.org", "/verify-email"))
    submit(customer, "Confirmer mon adresse")
    visit(customer, mission_url)
    expect(customer.locator("#unverified-notice")).to_have_count(0)
    submit(customer, "Passer à : ouverte")

    for index in (1, 2):
        member = people(f"m{index}@example.org")
        visit(member, mission_url)
        member.locator("#field-seat_id").select_option(index=index - 1)  # one seat each
        member.fill("#field-message", f"Disponible ({index}).")
        member.fill("#field-proposed_day_rate", "480")
        submit(member, "Envoyer ma candidature")
        if index == 1:
            first_member = member

    visit(customer, mission_url)
    submit(customer, "Accepter")
    submit(customer, "Accepter")
    expect(customer.locator("dl.facts")).to_contain_text("équipe constituée")
    submit(customer, "Passer à : en cours")
    submit(customer, "Passer à : livrée")

    customer.select_option("#field-subject_id", label="Membre 1")
    customer.fill("#field-text", "Excellent travail, dans les temps.")
    submit(customer, "Envoyer mon avis")
    expect(customer.locator("#reviews")).to_contain_text("en attente")
    visit(first_member, mission_url)
    first_member.select_option("#field-subject_id", label="Le client")
    first_member.fill("#field-text", "Client clair et disponible.")
    submit(first_member, "Envoyer mon avis")
    reviews = first_member.locator("#reviews")
    expect(reviews).to_contain_text("Excellent travail")  # published together
    expect(reviews).to_contain_text("Client clair")
    expect(reviews).not_to_contain_text("en attente")


def _assembly(server: Server) -> tuple[str, str, str]:
    admin = server.token(server.admin_email)
    soon = lambda **delta: (datetime.now(UTC) + timedelta(**delta)).isoformat()  # noqa: E731
    statutes = server.api(
        "PUT",
        "/api/v1/statutes",
        admin,
        json=DEMO_STATUTES,
    )
    assert statutes.status_code == 200, statutes.text
    assembly = server.api(
        "POST",
        "/api/v1/assemblies",
        admin,
        json={"kind": "ordinary", "title": "AG 2031", "scheduled_at": soon(hours=1), "voting_closes_at": soon(hours=3)},
    ).json()
    motion = server.api(
        "POST",
        f"/api/v1/assemblies/{assembly['id']}/proposals",
        admin,
        json={"title": "Approuver les comptes", "text": "Les comptes 2030.", "board_approved": True},
    ).json()
    ranked = server.api(
        "POST",
        f"/api/v1/assemblies/{assembly['id']}/proposals",
        admin,
        json={
            "title": "Nom du nouveau local",
            "text": "Classez les noms.",
            "method": "instant_runoff",
            "options": [
                {"id": "ruche", "label": "La Ruche"},
                {"id": "atelier", "label": "L'Atelier"},
                {"id": "forge", "label": "La Forge"},
            ],
        },
    ).json()
    return assembly["id"], motion["id"], ranked["id"]


def test_assembly_vote_by_keyboard_results_certificate_minutes(server: Server, people: Callable[[str], Page]) -> None:
    base = server.base
    for i in (1, 2, 3):
        server.register(f"v{i}@example.org", f"Votant {i}")
    assembly_id, motion, ranked = _assembly(server)
    admin = people(server.admin_email)
    visit(admin, f"{base}/assemblies/{assembly_id}")
    submit(admin, "Convoquer (figer le corps électoral, envoyer la convocation)")
    submit(admin, "Ouvrir les votes")

    watcher = people("v2@example.org")
    visit(watcher, f"{base}/proposals/{motion}")
    live = watcher.locator("[data-live]")
    expect(live).to_contain_text(re.compile(r"\b0 sur \d+"))

    voter = people("v1@example.org")
    visit(voter, f"{base}/proposals/{ranked}")
    for _ in range(60):  # keyboard only: Tab to the first option of the ranking
        voter.keyboard.press("Tab")
        if voter.evaluate("() => document.activeElement.dataset.option") == "ruche":
            break
    voter.keyboard.press("ArrowDown")
    voter.keyboard.press("ArrowDown")  # on "La Forge"
    voter.keyboard.press("Space")  # pick it up
    voter.keyboard.press("ArrowUp")
    voter.keyboard.press("ArrowUp")
    voter.keyboard.press("Space")  # drop it first
    expect(voter.locator("[data-ranking-status]")).to_contain_text("La Forge posée au rang 1")
    check_accessibility(voter)
    voter.keyboard.press("Tab")  # the reason
    voter.keyboard.press("Tab")  # the button
    with voter.expect_navigation():
        voter.keyboard.press("Enter")
    check_accessibility(voter)
    expect(voter.locator("h1")).to_have_text("Votre bulletin est enregistré")

    dragger = people("v3@example.org")  # another voter ranks by dragging instead
    visit(dragger, f"{base}/proposals/{ranked}")
    dragger.locator("li[data-option='atelier']").drag_to(dragger.locator("li[data-option='ruche']"))
    expect(dragger.locator(".ranking li").first).to_have_attribute("data-option", "atelier")
    assert dragger.locator("select[name='rank:atelier']").input_value() == "1"  # the no-script form follows
    submit(dragger, "Déposer mon bulletin")
    expect(dragger.locator("h1")).to_have_text("Votre bulletin est enregistré")

    visit(voter, f"{base}/proposals/{motion}")
    voter.get_by_label("Pour").check()
    submit(voter, "Déposer mon bulletin")
    expect(live).to_contain_text(re.compile(r"\b1 sur \d+"))  # pushed over server-sent events, no reload

    visit(admin, f"{base}/assemblies/{assembly_id}")
    submit(admin, "Clore les votes et rédiger le procès-verbal")
    visit(voter, f"{base}/proposals/{ranked}")
    expect(voter.locator("#h-result")).to_be_visible()
    expect(voter.locator("main")).to_contain_text("forge")
    with voter.expect_download() as download:
        voter.get_by_role("link", name="Télécharger le certificat").click()
    assert governance.verify(Path(download.value.path()).read_bytes())
    visit(voter, f"{base}/assemblies/{assembly_id}/minutes")
    expect(voter.locator("pre.minutes")).to_contain_text("Approuver les comptes")


def test_french_and_english_and_a_phone_width(server: Server, page: Page, browser: Browser) -> None:
    base = server.base
    visit(page, f"{base}/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Se connecter")
    english_context = browser.new_context(bypass_csp=True, locale="en-GB")
    english = english_context.new_page()
    visit(english, f"{base}/sign-in")
    expect(english.locator("html")).to_have_attribute("lang", "en")
    expect(english.locator("h1")).to_have_text("Sign in")
    with page.expect_navigation():
        page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Sign in")

    english_context.close()
    phone_context = browser.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": 360, "height": 740})
    phone = phone_context.new_page()
    for path in ("/", "/sign-up", "/missions", "/profiles"):
        visit(phone, base + path)
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
    assert re.search("Coopérative", phone.title())
    phone_context.close()


def test_seed_services_and_administration_pages(server: Server, people: Callable[[str], Page], page: Page) -> None:
    """The CV, training and diagnostic pages and the administration pages, each checked by axe-core,
    in a browser as narrow as a phone for the member's CV (no horizontal scroll)."""
    base = server.base
    visit(page, f"{base}/diagnostic")
    page.get_by_label("Une commune ou une intercommunalité").check()
    page.get_by_label("Un site pour présenter l'activité").check()
    submit(page, "Ébaucher ma mission")
    expect(page.locator("#claim-token code")).to_be_visible()  # anonymous: the code to keep the result
    visit(page, f"{base}/trainings")

    server.register("cv@example.org", "Camille CV")
    token = server.token("cv@example.org")
    body = {"display_name": "Camille CV", "headline": "Développeuse", "city": "Lyon", "region": "ARA"}
    body |= {"day_rate_min_minor": 40000, "day_rate_max_minor": 50000, "work_mode": "remote", "visibility": "public"}
    assert server.api("PUT", "/api/v1/me/profile", token, json=body).status_code == 200
    member = people("cv@example.org")
    member.set_viewport_size({"width": 360, "height": 740})
    visit(member, f"{base}/me/cv")
    member.fill("#field-text", "Développeuse Python depuis 2019 : API REST avec Django et PostgreSQL, Docker.")
    submit(member, "Lire mon CV")
    expect(member.locator(".flash")).to_contain_text("Votre CV est lu")
    row = member.locator("tr", has_text="Python").first
    with member.expect_navigation():
        row.get_by_role("button", name=re.compile("Ajouter à mon profil")).click()
    check_accessibility(member)
    expect(member.locator("tr", has_text="Python").first).to_contain_text("ajoutée à votre profil")
    assert member.evaluate("() => document.documentElement.scrollWidth") <= 360
    visit(member, f"{base}/me/training-paths")

    admin = people(server.admin_email)
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    planned = server.api(
        "POST",
        "/api/v1/assemblies",
        server.token(server.admin_email),
        json={"kind": "ordinary", "title": "AG avec bureau", "scheduled_at": later},
    )
    assert planned.status_code == 201, planned.text
    for path in ("/admin/organisations?all=1", "/admin/statutes", f"/admin/assemblies/{planned.json()['id']}"):
        visit(admin, base + path)
    visit(admin, f"{base}/admin/audit")
    expect(admin.locator("#audit-head")).to_contain_text(":")
