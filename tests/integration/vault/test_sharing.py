"""Sharing under conventions: admins record them, members grant and revoke, partners read with
OAuth 2.0 client-credentials tokens within scope and consent only, and every read is shown to the member."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.platform.conftest import assert_problem
from tests.integration.vault.helpers import member_with_history, ok

TODAY = datetime.now(UTC).date()


def convention_body(partner_id: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "partner_id": partner_id,
        "title": "Parcours emploi Auvergne-Rhône-Alpes",
        "categories": ["profile", "skills", "engagements", "reviews_received"],
        "purpose": "Proposer aux membres des formations adaptées à leurs missions.",
        "legal_basis": "consent",
        "retention_days": 365,
        "engagements": {"no_resale": True, "deletion_at_end": True, "hosting": "France (OVHcloud, Roubaix)"},
        "starts_on": (TODAY - timedelta(days=1)).isoformat(),
        "ends_on": (TODAY + timedelta(days=90)).isoformat(),
    }
    body.update(overrides)
    return body


async def token(client: AsyncTestClient, partner: dict, **form: str):
    basic = base64.b64encode(f"{partner['client_id']}:{partner['client_secret']}".encode()).decode()
    return await client.post(
        "/api/v1/vault/oauth/token",
        content="&".join(f"{k}={v}" for k, v in {"grant_type": "client_credentials", **form}.items()),
        headers={"content-type": "application/x-www-form-urlencoded", "authorization": f"Basic {basic}"},
    )


async def test_a_partner_reads_what_the_member_granted_and_nothing_more(
    client: AsyncTestClient, actors: Actors
) -> None:
    await member_with_history(client, actors)
    admin, owner = actors.admin.headers, actors.owner.headers
    partner = ok(
        await client.post(
            "/api/v1/vault/partners",
            json={"name": "Agence Emploi Territoires", "kind": "territorial agency"},
            headers=admin,
        ),
        201,
    )
    assert partner["client_secret"]
    convention = ok(
        await client.post("/api/v1/vault/conventions", json=convention_body(partner["id"]), headers=admin), 201
    )
    # Every member reads every convention; clients do not.
    listed = ok(await client.get("/api/v1/vault/conventions", headers=actors.other_member.headers))
    assert [c["id"] for c in listed] == [convention["id"]] and listed[0]["engagements"]["no_resale"] is True
    assert (await client.get("/api/v1/vault/conventions", headers=actors.client.headers)).status_code == 403

    # A grant must fit its convention.
    too_wide = await client.post(
        "/api/v1/me/vault/grants",
        json={"convention_id": convention["id"], "scopes": ["applications"], "expires_at": _in(days=30)},
        headers=owner,
    )
    assert assert_problem(too_wide)["type"] == "urn:coop:problem:vault-grant-refused"
    too_long = await client.post(
        "/api/v1/me/vault/grants",
        json={"convention_id": convention["id"], "scopes": ["profile"], "expires_at": _in(days=400)},
        headers=owner,
    )
    assert too_long.status_code == 422
    grant = ok(
        await client.post(
            "/api/v1/me/vault/grants",
            json={
                "convention_id": convention["id"],
                "scopes": ["profile", "engagements", "reviews_received"],
                "expires_at": _in(days=30),
            },
            headers=owner,
        ),
        201,
    )
    receipt = grant["receipt"]
    assert receipt["schema_version"] == "ISO/IEC TS 27560:2023" and receipt["state"] == "given"
    assert receipt["pii_principal"]["id"] == f"urn:uuid:{actors.owner.account_id}"
    assert receipt["purposes"][0]["pii_categories"] == ["engagements", "profile", "reviews_received"]
    assert receipt["purposes"][0]["retention"] == "P365D" and receipt["recipients"][0]["name"] == partner["name"]

    # Client credentials: a wrong secret, a grant type other than client credentials, a scope beyond the convention.
    wrong = await token(client, {**partner, "client_secret": "not-the-secret"})
    assert wrong.status_code == 401 and assert_problem(wrong)["error"] == "invalid_client"
    outside = await token(client, partner, scope="applications")
    assert outside.status_code == 400 and outside.json()["error"] == "invalid_scope"
    issued = ok(await token(client, partner, scope="profile skills engagements reviews_received"))
    assert issued["token_type"] == "Bearer" and issued["expires_in"] <= 3600
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    base = f"/api/v1/vault/partner/members/{actors.owner.account_id}"

    profile = ok(await client.get(f"{base}/profile", headers=bearer))
    assert profile["display_name"] == "Camille Martin"
    engagements = ok(await client.get(f"{base}/engagements", headers=bearer))["engagements"]
    assert engagements[0]["seat_title"] == "Back-end developer"
    # The review's text is sealed under its author's (the client's) key: the partner reads it opened.
    reviews = ok(await client.get(f"{base}/reviews_received", headers=bearer))["reviews_received"]
    assert [r["text"] for r in reviews] == ["Travail soigné, sur la base de données."]
    # In the token and the convention, but not granted by the member: refused.
    assert (
        assert_problem(await client.get(f"{base}/skills", headers=bearer))["type"]
        == "urn:coop:problem:insufficient-scope"
    )
    # Outside the token and the convention: refused.
    assert (await client.get(f"{base}/applications", headers=bearer)).status_code == 403
    # Another member, who granted nothing: refused.
    other = f"/api/v1/vault/partner/members/{actors.other_member.account_id}/profile"
    assert (await client.get(other, headers=bearer)).status_code == 403
    # A member's own access token is not a partner token.
    assert (await client.get(f"{base}/profile", headers=owner)).status_code == 401

    # Every read is in the member's access log; revocation takes effect at the partner's next read.
    log = ok(await client.get("/api/v1/me/vault/access-log", headers=owner))["items"]
    reads = [item for item in log if item["actor_kind"] == "partner"]
    assert {item["action"] for item in reads} == {"read:profile", "read:engagements", "read:reviews_received"}
    assert all(item["partner_name"] == partner["name"] for item in reads)
    revoked = ok(await client.post(f"/api/v1/me/vault/grants/{grant['id']}/revoke", headers=owner))
    assert revoked["revoked_at"] and revoked["receipt"]["state"] == "withdrawn"
    assert (await client.get(f"{base}/profile", headers=bearer)).status_code == 403
    again = await client.post(f"/api/v1/me/vault/grants/{grant['id']}/revoke", headers=owner)
    assert again.status_code == 409
    stolen = await client.post(f"/api/v1/me/vault/grants/{grant['id']}/revoke", headers=actors.other_member.headers)
    assert stolen.status_code == 404
    receipts = ok(await client.get("/api/v1/me/vault/consent-receipts", headers=owner))
    assert [r["event"] for r in receipts] == ["given", "withdrawn"]
    assert ok(await client.get("/api/v1/me/vault/consent-receipts", headers=actors.other_member.headers)) == []

    # A convention that has ended gives no token.
    ended = ok(
        await client.post(
            "/api/v1/vault/conventions",
            json=convention_body(
                partner["id"],
                starts_on=(TODAY - timedelta(days=30)).isoformat(),
                ends_on=(TODAY - timedelta(days=2)).isoformat(),
            ),
            headers=admin,
        ),
        201,
    )
    late = await token(client, partner, resource=f"urn:coop:convention:{ended['id']}")
    assert late.status_code == 400, late.text


def _in(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()
