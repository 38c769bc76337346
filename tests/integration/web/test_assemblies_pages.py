"""An assembly in the browser: convened and opened by the chair, members vote (a motion, a ranked
ballot with the no-script numbered selects), closed; results, certificate and minutes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

import governance
from app.settings import Settings
from tests.integration.conftest import Actors
from tests.integration.web.conftest import Browsers


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No notice period: the test cannot wait 15 days."""
    return settings.model_copy(update={"convocation_notice_days": 0, "assembly_tick_seconds": 0.2})


def _soon(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def planned_assembly(client: AsyncTestClient, actors: Actors) -> tuple[str, str, str]:
    admin = actors.admin.headers
    statutes = await client.put(
        "/api/v1/statutes", json={"preset": "scop_sarl", "chair_may_close_early": True}, headers=admin
    )
    assert statutes.status_code == 200, statutes.text
    assembly = await client.post(
        "/api/v1/assemblies",
        json={
            "kind": "ordinary",
            "title": "AG 2031",
            "scheduled_at": _soon(hours=1),
            "voting_closes_at": _soon(hours=3),
        },
        headers=admin,
    )
    assert assembly.status_code == 201, assembly.text
    assembly_id = assembly.json()["id"]
    motion = await client.post(
        f"/api/v1/assemblies/{assembly_id}/proposals",
        json={"title": "Approve the accounts", "text": "The accounts of 2030.", "board_approved": True},
        headers=admin,
    )
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
        headers=admin,
    )
    assert motion.status_code == ranked.status_code == 201, (motion.text, ranked.text)
    return assembly_id, motion.json()["id"], ranked.json()["id"]


async def test_assembly_convened_voted_closed_with_results_certificate_and_minutes(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    assembly_id, motion, ranked = await planned_assembly(client, actors)
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
    for browser, ranks in (
        (browsers.owner, {"rank:forge": "1", "rank:ruche": "2", "rank:atelier": "3"}),
        (browsers.other_member, {"rank:forge": "1", "rank:atelier": "2"}),
    ):
        receipt = await browser.post(f"/proposals/{ranked}/ballot", ranks)
        assert receipt.status_code == 200 and 'class="receipt"' in receipt.text, receipt.text
        voted = await browser.post(f"/proposals/{motion}/ballot", {"choice": "yes"})
        assert voted.status_code == 200
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

    minutes = await browsers.owner.get(f"{path}/minutes")
    assert minutes.status_code == 200 and "AG 2031" in minutes.text
    markdown = await browsers.owner.get(f"{path}/minutes.md")
    assert markdown.status_code == 200 and re.search(r"Approve the accounts", markdown.text)
