"""Unverified clients do not publish (issue 9, item 4): a mission opens only with a verified email,
an organisation's SIREN/SIRET is checked, and a client's public mission is listed to admitted members
only until an administrator verifies the organisation."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.conftest import TEST_PASSWORD, Mailbox
from tests.integration.conftest import Actors, sign_in, unique_email, verify_email
from tests.integration.missions.helpers import create_mission


def _client_body(email: str, number: str) -> dict[str, object]:
    return {
        "email": email,
        "password": TEST_PASSWORD,
        "display_name": "New Client",
        "role": "client",
        "organisation": {
            "legal_name": "Épicerie du Coin SARL",
            "registration_number": number,
            "billing_address": "3 place du Marché\n15100 Saint-Flour",
        },
    }


async def test_a_new_client_publishes_after_verifying_its_email_and_goes_public_once_verified(
    client: AsyncTestClient, actors: Actors, mailbox: Mailbox
) -> None:
    email = unique_email("client")
    wrong = await client.post("/api/v1/auth/register", json=_client_body(email, "RCS Aurillac 123 456 789"))
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "organisation.registration_number"
    created = await client.post("/api/v1/auth/register", json=_client_body(email, "SIRET 732 829 320 00074"))
    assert created.status_code == 201, created.text
    newcomer = await sign_in(client, email, name="newcomer", organisation_id=created.json()["client_organisation_id"])
    organisation = (
        await client.get(f"/api/v1/organisations/{newcomer.organisation_id}", headers=newcomer.headers)
    ).json()
    assert organisation["siren"] == "732829320" and organisation["verified"] is False

    mission = await create_mission(client, newcomer, title="Inventaire et caisse de l'épicerie")
    url = f"/api/v1/missions/{mission['id']}"
    unverified = await client.post(f"{url}/transitions", json={"to": "open"}, headers=newcomer.headers)
    assert unverified.status_code == 403
    assert unverified.json()["type"] == "urn:coop:problem:email-not-verified"

    await verify_email(client, mailbox, newcomer)
    opened = await client.post(f"{url}/transitions", json={"to": "open"}, headers=newcomer.headers)
    assert opened.status_code == 200, opened.text
    assert opened.json()["visibility"] == "public" and opened.json()["listed_publicly"] is False

    async def listed(headers: dict[str, str]) -> bool:
        page = (await client.get("/api/v1/missions", params={"q": "inventaire"}, headers=headers)).json()
        return mission["id"] in [item["id"] for item in page["items"]]

    seen = {a.name: (await client.get(url, headers=a.headers)).status_code for a in actors.all()}
    assert seen == {"owner": 200, "other_member": 200, "client": 404, "admin": 200, "anonymous": 404}
    assert await listed(actors.owner.headers) and not await listed({}) and not await listed(actors.client.headers)

    not_admin = await client.post(f"/api/v1/organisations/{newcomer.organisation_id}/verify", headers=newcomer.headers)
    assert not_admin.status_code == 403
    verified = await client.post(
        f"/api/v1/organisations/{newcomer.organisation_id}/verify", headers=actors.admin.headers
    )
    assert verified.status_code == 200 and verified.json()["verified"] is True
    assert (await client.get(url)).json()["listed_publicly"] is True
    assert await listed({}) and await listed(actors.client.headers)
