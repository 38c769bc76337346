"""Refresh tokens rotate on every use; reusing one ends the whole session (theft detection)."""

from __future__ import annotations

import asyncio
import base64
import json

import asyncpg
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn
from tests.conftest import TEST_PASSWORD
from tests.integration.conftest import register, sign_in


def _header(token: str) -> dict[str, str]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def _claims(token: str) -> dict[str, object]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


async def test_access_token_is_an_ed25519_jwt_with_a_published_kid(client: AsyncTestClient) -> None:
    actor = await register(client)
    header = _header(actor.access_token or "")
    assert header["alg"] == "Ed25519"
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert header["kid"] in [key["kid"] for key in jwks["keys"]]
    assert all("d" not in key for key in jwks["keys"]), "private key material must never be published"


async def test_refresh_rotates_and_the_new_tokens_work(client: AsyncTestClient) -> None:
    actor = await register(client)
    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert rotated.status_code == 200, rotated.text
    tokens = rotated.json()
    assert tokens["refresh_token"] != actor.refresh_token
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(client: AsyncTestClient) -> None:
    actor = await register(client)
    first = (await client.post("/api/v1/auth/refresh", json={"refresh_token": actor.refresh_token})).json()
    # Used once before the theft is detected: a verified token must not stay accepted afterwards.
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200

    stolen_replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert stolen_replay.status_code == 401
    assert stolen_replay.json()["type"] == "urn:coop:problem:invalid-token"

    # The legitimate holder's newest tokens die with the family.
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).status_code == 401
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401
    # Other sessions of the same person are untouched.
    other_session = await sign_in(client, actor.email or "")
    assert (await client.get("/api/v1/me", headers=other_session.headers)).status_code == 200


async def test_sign_out_ends_the_session(client: AsyncTestClient) -> None:
    actor = await register(client)
    assert (await client.post("/api/v1/auth/sign-out", headers=actor.headers)).status_code == 204
    assert (await client.get("/api/v1/me", headers=actor.headers)).status_code == 401
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert refreshed.status_code == 401


async def test_unknown_refresh_token_is_refused(client: AsyncTestClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "A" * 43})
    assert response.status_code == 401


async def test_token_signed_by_another_key_is_refused(client: AsyncTestClient) -> None:
    from joserfc import jwt
    from joserfc.jwk import OKPKey

    actor = await register(client)
    genuine = _claims(actor.access_token or "")
    intruder = OKPKey.generate_key("Ed25519", private=True)
    intruder.ensure_kid()
    # Everything right (kid, subject, live session, issuer) but the signature.
    forged = jwt.encode(
        {"alg": "Ed25519", "kid": _header(actor.access_token or "")["kid"]},
        {**genuine, "exp": 4102444800},
        intruder,
        algorithms=["Ed25519"],
    )
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401


async def test_tokens_signed_by_a_retiring_key_still_verify_after_rotation(
    client: AsyncTestClient, settings, signing_key_pem: str
) -> None:
    """Key rotation: prepend a new key; tokens from the old one stay valid until they expire."""
    from app.accounts.tokens import generate_private_key_pem
    from app.main import create_app
    from tests.conftest import FAST_PASSWORDS

    actor = await register(client)
    rotated_settings = settings.model_copy(
        update={
            "jwt_private_keys": [
                type(settings.jwt_private_keys[0])(generate_private_key_pem()),
                *settings.jwt_private_keys,
            ]
        }
    )
    rotated_app = create_app(rotated_settings, passwords=FAST_PASSWORDS)
    async with AsyncTestClient(app=rotated_app, base_url="http://coop.test") as rotated:
        assert (await rotated.get("/api/v1/me", headers=actor.headers)).status_code == 200
        fresh = await sign_in(rotated, actor.email or "")
        assert _header(fresh.access_token or "")["kid"] != _header(actor.access_token or "")["kid"]
        assert len((await rotated.get("/.well-known/jwks.json")).json()["keys"]) == 2


async def test_a_stale_bearer_header_does_not_block_public_routes(client: AsyncTestClient) -> None:
    """Clients often keep sending the old access token: refreshing and signing in must still work."""
    actor = await register(client)
    await client.post("/api/v1/auth/sign-out", headers=actor.headers)
    fresh = await sign_in(client, actor.email or "")
    stale = {"Authorization": f"Bearer {actor.access_token}"}
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": fresh.refresh_token}, headers=stale)
    ).status_code == 200
    assert (
        await client.post("/api/v1/auth/sign-in", json={"email": actor.email, "password": TEST_PASSWORD}, headers=stale)
    ).status_code == 200
    assert (await client.get("/api/v1/me", headers=stale)).status_code == 401


async def test_concurrent_refreshes_of_one_token_grant_at_most_one(client: AsyncTestClient) -> None:
    """Two uses of one refresh token are a replay whatever their timing: at most one wins and the
    family ends (a client that refreshes twice at once must serialise its refreshes)."""
    actor = await register(client)
    results = await asyncio.gather(
        *[client.post("/api/v1/auth/refresh", json={"refresh_token": actor.refresh_token}) for _ in range(5)]
    )
    statuses = sorted(response.status_code for response in results)
    assert statuses.count(200) <= 1 and set(statuses) <= {200, 401}
    winners = [response.json() for response in results if response.status_code == 200]
    for tokens in winners:
        assert (
            await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        ).status_code == 401


async def test_a_session_past_its_absolute_lifetime_cannot_be_refreshed(
    client: AsyncTestClient, database_url: URL
) -> None:
    actor = await register(client)
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute("update auth_session set expires_at = now() - interval '1 second'")
    finally:
        await connection.close()
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": actor.refresh_token})).status_code == 401
