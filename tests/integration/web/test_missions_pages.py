"""A client posts a two-seat mission in the browser; two members apply; staffed, delivered, reviewed."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from tests.conftest import Mailbox
from tests.integration.conftest import Actors, register
from tests.integration.missions.helpers import mission_body
from tests.integration.web.conftest import Browsers
from tests.integration.web.helpers import signed_in

MISSION_FORM = {
    "title": "Site de la régie de quartier",
    "description": "Refaire le site et son back-office.",
    "budget_kind": "fixed",
    "budget_amount": "12000",
    "starts_on": "2031-03-01",
    "ends_on": "2031-05-31",
    "city": "Lyon",
    "region": "Auvergne-Rhône-Alpes",
    "work_mode": "hybrid",
    "visibility": "public",
    "seat_title": ["Développement", "Design", ""],
    "seat_skill": ["Python", "", ""],
    "seat_day_rate": ["500", "450", ""],
    "seat_days": ["10", "8", ""],
}


async def test_two_seat_mission_from_posting_to_reviews(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    customer, owner, other = browsers.client, browsers.owner, browsers.other_member
    assert (await customer.get("/missions/new")).status_code == 200
    bad = await customer.post("/missions/new", {**MISSION_FORM, "ends_on": "2031-01-01"})
    assert bad.status_code == 400 and "error-summary" in bad.text
    created = await customer.post("/missions/new", MISSION_FORM)
    assert created.status_code == 303, created.text
    path = created.headers["location"]
    assert (await browsers.anonymous.get(path)).status_code == 404  # a draft is its owner's alone
    assert (await customer.post(f"{path}/transition", {"to": "open"})).status_code == 303

    listed = await browsers.anonymous.get("/missions?q=quartier")
    assert path in listed.text
    page = await owner.get(path)
    seats = re.findall(r'<option value="([0-9a-f-]{36})"', page.text)
    assert len(seats) == 2 and f'action="{path}/apply"' in page.text

    for browser, seat in ((owner, seats[0]), (other, seats[1])):
        applied = await browser.post(
            f"{path}/apply", {"seat_id": seat, "message": "Disponible.", "proposed_day_rate": "480"}
        )
        assert applied.status_code == 303, applied.text
    dashboard = await other.get("/dashboard")
    assert f'href="{path}"' in dashboard.text and "envoyée" in dashboard.text  # the application, on the dashboard
    twice = await owner.post(f"{path}/apply", {"seat_id": seats[0], "message": "Encore.", "proposed_day_rate": "480"})
    assert twice.status_code == 409 and "error-summary" in twice.text
    assert '<li lang="en">You already applied to this seat.</li>' in twice.text  # the service's reason, marked

    asked = await other.post(f"{path}/questions", {"body": "Le back-office est-il en Django ?"})
    assert asked.status_code == 303
    managed = await customer.get(path)
    question = re.search(r"/questions/([0-9a-f-]{36})/answer", managed.text).group(1)
    assert (await customer.post(f"{path}/questions/{question}/answer", {"answer": "Oui."})).status_code == 303
    assert "Oui." in (await other.get(path)).text

    await owner.get("/dashboard")  # the owner's last visit, before being engaged
    applications = re.findall(r"/applications/([0-9a-f-]{36})/accept", managed.text)
    assert len(applications) == 2
    assert (await other.post(f"{path}/applications/{applications[0]}/accept")).status_code in (
        403,
        404,
    )  # not the manager
    assert (await customer.post(f"{path}/applications/{applications[0]}/shortlist")).status_code == 303
    for application in applications:
        assert (await customer.post(f"{path}/applications/{application}/accept")).status_code == 303
    assert "équipe constituée" in (await customer.get(path)).text  # staffed once every seat is filled

    since = await owner.get("/dashboard")
    assert "engagé" in since.text and "Depuis votre dernière visite" in since.text and "vous êtes engagé" in since.text
    for state in ("in_progress", "delivered"):
        assert (await customer.post(f"{path}/transition", {"to": state})).status_code == 303
    wrong = await customer.post(f"{path}/transition", {"to": "open"})
    assert wrong.status_code == 409

    review = await customer.post(
        f"{path}/reviews", {"subject_id": actors.owner.account_id, "rating": "5", "text": "Excellent travail."}
    )
    assert review.status_code == 303
    pending = await customer.get(path)
    assert "waiting for the other side" in pending.text or "en attente" in pending.text
    assert "Excellent travail." not in (await browsers.anonymous.get(path)).text
    back = await owner.post(
        f"{path}/reviews", {"subject_id": actors.client.account_id, "rating": "4", "text": "Client clair."}
    )
    assert back.status_code == 303
    public = await browsers.anonymous.get(path)
    assert "Excellent travail." in public.text and "Client clair." in public.text  # published together


async def test_an_unverified_client_is_told_why_its_mission_cannot_open(
    client: AsyncTestClient, mailbox: Mailbox
) -> None:
    customer = await register(client, role="client", name="Client Pressé")
    browser = await signed_in(client, customer.email or "", language="en")
    form = await browser.get("/missions/new")
    assert 'id="unverified-notice"' in form.text and "confirmed your email address" in form.text
    created = await browser.post("/missions/new", MISSION_FORM)
    assert created.status_code == 303, created.text  # a draft is fine
    path = created.headers["location"]
    shown = await browser.get(path)
    assert 'id="unverified-notice"' in shown.text and "cannot open yet" in shown.text
    refused = await browser.post(f"{path}/transition", {"to": "open"})
    assert refused.status_code == 403 and "error-summary" in refused.text
    assert "This needs a confirmed email address" in refused.text

    # The mailed link, in the browser, then the mission opens and the notice is gone.
    token = mailbox.last_token(customer.email or "")
    assert (await browser.post("/verify-email", {"token": token})).status_code == 303
    assert 'id="unverified-notice"' not in (await browser.get(path)).text
    assert (await browser.post(f"{path}/transition", {"to": "open"})).status_code == 303
    assert 'id="unverified-notice"' not in (await browser.get("/missions/new")).text


async def test_a_client_rewrites_its_draft_until_it_opens(client: AsyncTestClient, browsers: Browsers) -> None:
    customer = browsers.client
    created = await customer.post("/missions/new", MISSION_FORM)
    assert created.status_code == 303, created.text
    path = created.headers["location"]
    shown = await customer.get(path)
    assert f'href="{path}/edit"' in shown.text
    form = await customer.get(f"{path}/edit")
    assert form.status_code == 200
    assert 'value="Site de la régie de quartier"' in form.text and 'value="12000"' in form.text
    assert 'value="Développement"' in form.text and 'value="Python"' in form.text and 'value="Design"' in form.text

    rewritten = {
        **MISSION_FORM,
        "title": "Site et intranet de la régie",
        "budget_amount": "13000,50",
        "seat_title": ["Développement", "", ""],  # the design seat is removed
        "seat_skill": ["Python", "", ""],
        "seat_day_rate": ["520", "", ""],
        "seat_days": ["12", "", ""],
    }
    unknown = await customer.post(f"{path}/edit", {**rewritten, "seat_skill": ["Python; Cobol-de-Mars", "", ""]})
    assert unknown.status_code == 400 and 'id="error-seat-0"' in unknown.text
    late = await customer.post(f"{path}/edit", {**rewritten, "ends_on": "2031-01-01"})
    assert late.status_code == 400 and "error-summary" in late.text
    saved = await customer.post(f"{path}/edit", rewritten)
    assert saved.status_code == 303 and saved.headers["location"] == path, saved.text[-1500:]
    page = await customer.get(path)
    assert "Site et intranet de la régie" in page.text and "Design" not in page.text
    assert "13\u202f000,50" in page.text

    # Once open, the draft is no longer rewritten: the page says so (409), and so does the service.
    assert (await customer.post(f"{path}/transition", {"to": "open"})).status_code == 303
    assert f'href="{path}/edit"' not in (await customer.get(path)).text
    assert (await customer.get(f"{path}/edit")).status_code == 409
    assert (await customer.post(f"{path}/edit", rewritten)).status_code == 409


async def test_an_administrator_rewrites_a_members_draft_keeping_what_the_form_does_not_show(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    body = mission_body(client_name="Mairie de Villeurbanne")
    created = await client.post("/api/v1/missions", json=body, headers=actors.owner.headers)
    assert created.status_code == 201, created.text
    mission_id = created.json()["id"]
    form = await browsers.admin.get(f"/missions/{mission_id}/edit")
    assert form.status_code == 200 and 'name="client_name"' not in form.text  # only a member's form asks
    assert (await browsers.other_member.get(f"/missions/{mission_id}/edit")).status_code == 404
    saved = await browsers.admin.post(
        f"/missions/{mission_id}/edit",
        {
            **MISSION_FORM,
            "budget_kind": "day_rate",
            "budget_amount": "550",
            "budget_days": "20",
            "seat_title": ["Back-end developer", "", ""],
            "seat_skill": ["", "", ""],
            "seat_day_rate": ["", "", ""],
            "seat_days": ["", "", ""],
        },
    )
    assert saved.status_code == 303, saved.text[-1500:]
    after = (await client.get(f"/api/v1/missions/{mission_id}", headers=actors.owner.headers)).json()
    assert after["title"] == MISSION_FORM["title"] and after["budget_amount_minor"] == 55000
    kept = ("client_name", "postal_code", "country", "currency")  # the API does not show coordinates
    assert {key: after[key] for key in kept} == {key: body[key] for key in kept}
