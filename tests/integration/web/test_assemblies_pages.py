"""An assembly in the browser: convened and opened by the chair, members vote (a motion, a ranked
ballot with the no-script numbered selects), closed; results, certificate and minutes."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

import governance
from app.settings import Settings
from app.web.i18n import DISPLAY_TIMEZONE
from tests.integration.conftest import Actors
from tests.integration.web.conftest import Browsers
from tests.integration.web.helpers import Browser

DEMO_STATUTES = {"preset": "scop_sarl", "chair_may_close_early": True, "chair_may_open_early": True}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No notice period: the test cannot wait 15 days."""
    return settings.model_copy(update={"convocation_notice_days": 0, "assembly_tick_seconds": 0.2})


async def planned_in_the_browser(client: AsyncTestClient, actors: Actors, admin: Browser) -> tuple[str, str, str]:
    """The chair plans the assembly and its first resolution in the web pages; the ranked item by API."""
    admin_headers = actors.admin.headers
    statutes = await client.put(
        "/api/v1/statutes",
        json=DEMO_STATUTES,
        headers=admin_headers,
    )
    assert statutes.status_code == 200, statutes.text
    assert (await admin.get("/assemblies/new")).status_code == 200
    when = datetime.now(DISPLAY_TIMEZONE) + timedelta(hours=1)
    late = await admin.post(
        "/assemblies/new", {"kind": "ordinary", "title": "AG 2031", "scheduled_at": "2031-13-45T25:00"}
    )
    assert late.status_code == 400 and "error-summary" in late.text
    created = await admin.post(
        "/assemblies/new",
        {
            "kind": "ordinary",
            "title": "AG 2031",
            "location": "Maison des associations",
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            "voting_closes_at": (when + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert created.status_code == 303, created.text
    assembly_id = created.headers["location"].rsplit("/", 1)[1]
    added = await admin.post(
        f"/assemblies/{assembly_id}/agenda",
        {
            "title": "Approve the accounts",
            "text": "The accounts of 2030.",
            "method": "motion",
            "board_approved": "yes",
            "secret": "yes",
        },
    )
    assert added.status_code == 303, added.text
    agenda = (await client.get(f"/api/v1/assemblies/{assembly_id}", headers=actors.admin.headers)).json()["agenda"]
    motion = agenda[0]
    ranked = await client.post(
        f"/api/v1/assemblies/{assembly_id}/proposals",
        json={
            "title": "Name of the new office",
            "text": "Rank the names.",
            "method": "instant_runoff",
            "options": [
                {"id": "ruche", "label": "La Ruche"},
                {"id": "atelier", "label": "L'Atelier"},
                {"id": "forge", "label": "La Forge"},
            ],
            "secret": True,
        },
        headers=admin_headers,
    )
    assert ranked.status_code == 201, ranked.text
    return assembly_id, motion, ranked.json()["id"]


async def test_assembly_convened_voted_closed_with_results_certificate_and_minutes(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    assembly_id, motion, ranked = await planned_in_the_browser(client, actors, browsers.admin)
    path = f"/assemblies/{assembly_id}"
    assert (await browsers.client.get(path)).status_code in (403, 404)  # clients outside every college
    assert (await browsers.owner.post(f"{path}/convene")).status_code == 403  # the chair's act
    assert (await browsers.admin.post(f"{path}/convene")).status_code == 303

    # Proxies between the convocation and the opening: named to a member of the roll, then withdrawn.
    convened = await browsers.other_member.get(path)
    assert f'<option value="{actors.owner.account_id}">' in convened.text
    given = await browsers.other_member.post(f"{path}/proxy", {"holder_id": actors.owner.account_id})
    assert given.status_code == 303
    assert "Vous avez donné votre pouvoir" in (await browsers.other_member.get(path)).text
    assert "pouvoir" in (await browsers.owner.get("/dashboard")).text
    assert (await browsers.other_member.post(f"{path}/proxy/withdraw")).status_code == 303
    assert (await browsers.other_member.post(f"{path}/proxy/withdraw")).status_code == 404  # none left
    sheet = await browsers.admin.get(path)
    assert 'id="attendance"' in sheet.text and "Owner Member" in sheet.text
    present = await browsers.admin.post(f"{path}/attendance/{actors.owner.account_id}", {"present": "yes"})
    assert present.status_code == 303
    assert (
        await browsers.owner.post(f"{path}/attendance/{actors.owner.account_id}", {"present": "no"})
    ).status_code == 403

    assert (await browsers.admin.post(f"{path}/open")).status_code == 303
    dashboard = await browsers.owner.get("/dashboard")
    assert f"/proposals/{motion}" in dashboard.text and "pas encore voté" in dashboard.text
    said = await browsers.owner.post(f"/proposals/{motion}/comments", {"body": "Les comptes sont clairs."})
    assert said.status_code == 303
    assert "Les comptes sont clairs." in (await browsers.other_member.get(f"/proposals/{motion}")).text
    agenda = await browsers.owner.get(path)
    assert agenda.status_code == 200 and f"/proposals/{motion}" in agenda.text and f"/proposals/{ranked}" in agenda.text

    booth = await browsers.owner.get(f"/proposals/{ranked}")
    assert booth.status_code == 200 and 'name="rank:ruche"' in booth.text and "data-live=" in booth.text
    same_rank = await browsers.owner.post(f"/proposals/{ranked}/ballot", {"rank:ruche": "1", "rank:atelier": "1"})
    assert same_rank.status_code == 400 and "error-summary" in same_rank.text
    trackers: list[str] = []
    for browser, ranks in (
        (browsers.owner, {"rank:forge": "1", "rank:ruche": "2", "rank:atelier": "3"}),
        (browsers.other_member, {"rank:forge": "1", "rank:atelier": "2"}),
    ):
        receipt = await browser.post(f"/proposals/{ranked}/ballot", ranks)
        assert receipt.status_code == 200 and 'class="receipt"' in receipt.text, receipt.text
        trackers.append(re.search(r'<dd class="receipt">([^<]+)</dd>', receipt.text).group(1))
    voted = await browsers.owner.post(f"/proposals/{motion}/ballot", {"choice": "yes"})
    assert voted.status_code == 200
    # The other member votes by post: the chair records it from the same booth.
    booth = await browsers.admin.get(f"/proposals/{motion}")
    assert 'name="paper_voter"' in booth.text
    paper = await browsers.admin.post(
        f"/proposals/{motion}/ballot",
        {"paper_voter": actors.other_member.account_id, "paper_channel": "postal", "choice": "yes"},
    )
    assert paper.status_code == 200, paper.text
    refused = await browsers.owner.post(
        f"/proposals/{motion}/ballot",
        {"paper_voter": actors.other_member.account_id, "paper_channel": "postal", "choice": "no"},
    )
    assert refused.status_code in (400, 403, 404)  # only the chair records paper ballots
    bogus = await browsers.owner.post(f"/proposals/{motion}/ballot", {"choice": "maybe"})
    assert bogus.status_code == 400
    assert "2 sur" in (await browsers.owner.get(f"/proposals/{motion}")).text  # participation so far

    assert (await browsers.admin.post(f"{path}/close")).status_code == 303
    result = await browsers.owner.get(f"/proposals/{ranked}")
    assert "forge" in result.text.lower() and "certificate.json" in result.text
    download = await browsers.owner.get(f"/proposals/{ranked}/certificate.json")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert governance.verify(download.content)  # recomputable offline
    json.loads(download.content)

    box = await browsers.owner.get(f"/proposals/{ranked}/box", params={"tracker": trackers[0]})
    assert box.status_code == 200 and "forge" in box.text and 'class="flash"' in box.text
    unknown = await browsers.owner.get(f"/proposals/{ranked}/box", params={"tracker": "nope"})
    assert 'class="notice"' in unknown.text

    # A member's initiative between assemblies, co-signed by another member.
    closes = (datetime.now(DISPLAY_TIMEZONE) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    initiative = await browsers.owner.post(
        "/proposals/new",
        {"title": "Open the books", "text": "Publish the accounts monthly.", "method": "motion", "closes_at": closes},
    )
    assert initiative.status_code == 303, initiative.text
    initiative_path = initiative.headers["location"]
    assert "Open the books" in (await browsers.other_member.get("/assemblies")).text
    assert (await browsers.other_member.post(f"{initiative_path}/cosign")).status_code == 303
    assert "1 co-signature" in (await browsers.other_member.get(initiative_path)).text

    minutes = await browsers.owner.get(f"{path}/minutes")
    assert minutes.status_code == 200 and "AG 2031" in minutes.text
    markdown = await browsers.owner.get(f"{path}/minutes.md")
    assert markdown.status_code == 200 and re.search(r"Approve the accounts", markdown.text)
