"""Email verification and password reset: single-use, expiring, hashed tokens received over real SMTP."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn
from tests.conftest import TEST_PASSWORD, Mailbox
from tests.integration.conftest import register, sign_in, unique_email

NEW_PASSWORD = "a brand new passphrase for Lea 77"


async def test_verification_token_is_single_use(client: AsyncTestClient, mailbox: Mailbox) -> None:
    actor = await register(client)
    token = mailbox.last_token(actor.email or "")
    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["email_verified"] is True
    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 401
    assert again.json()["type"] == "urn:coop:problem:invalid-token"


async def test_tokens_are_stored_hashed(client: AsyncTestClient, mailbox: Mailbox, database_url: URL) -> None:
    actor = await register(client)
    token = mailbox.last_token(actor.email or "")
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        stored = await connection.fetch("select token_hash from email_token")
        refresh = await connection.fetch("select token_hash from refresh_token")
    finally:
        await connection.close()
    assert stored and refresh
    assert all(token.encode() not in row["token_hash"] for row in stored)
    assert all((actor.refresh_token or "").encode() not in row["token_hash"] for row in refresh)


async def test_expired_verification_token_is_refused(
    client: AsyncTestClient, mailbox: Mailbox, database_url: URL
) -> None:
    actor = await register(client)
    token = mailbox.last_token(actor.email or "")
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute("update email_token set expires_at = now() - interval '1 second'")
    finally:
        await connection.close()
    assert (await client.post("/api/v1/auth/verify-email", json={"token": token})).status_code == 401


async def test_requesting_a_new_verification_voids_the_old_link(client: AsyncTestClient, mailbox: Mailbox) -> None:
    actor = await register(client)
    old = mailbox.last_token(actor.email or "")
    assert (await client.post("/api/v1/auth/verify-email/request", headers=actor.headers)).status_code == 202
    new = mailbox.last_token(actor.email or "", count=2)
    assert new != old
    assert (await client.post("/api/v1/auth/verify-email", json={"token": old})).status_code == 401
    assert (await client.post("/api/v1/auth/verify-email", json={"token": new})).status_code == 200


async def test_password_reset_end_to_end(client: AsyncTestClient, mailbox: Mailbox) -> None:
    actor = await register(client)
    requested = await client.post("/api/v1/auth/password-reset/request", json={"email": actor.email})
    assert requested.status_code == 202
    token = mailbox.last_token(actor.email or "", count=2, subject="Reset your password")
    [reset_mail] = [mail for mail in mailbox.to(actor.email or "") if mail["Subject"] == "Reset your password"]

    weak = await client.post("/api/v1/auth/password-reset", json={"token": token, "new_password": "password"})
    assert weak.status_code == 422
    done = await client.post("/api/v1/auth/password-reset", json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    assert reset_mail is not None

    # Every session ended; the old password no longer works; the new one does; the token is spent.
    assert (await client.get("/api/v1/me", headers=actor.headers)).status_code == 401
    old = await client.post("/api/v1/auth/sign-in", json={"email": actor.email, "password": TEST_PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/v1/auth/sign-in", json={"email": actor.email, "password": NEW_PASSWORD})
    assert new.status_code == 200
    replay = await client.post("/api/v1/auth/password-reset", json={"token": token, "new_password": NEW_PASSWORD + "!"})
    assert replay.status_code == 401


async def test_reset_request_answers_the_same_for_unknown_addresses(client: AsyncTestClient, mailbox: Mailbox) -> None:
    actor = await register(client)
    ghost = unique_email("ghost")
    known = await client.post("/api/v1/auth/password-reset/request", json={"email": actor.email})
    unknown = await client.post("/api/v1/auth/password-reset/request", json={"email": ghost})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(mailbox.wait_for(actor.email or "", count=2)) == 2
    assert mailbox.to(ghost) == []


async def test_a_verification_token_cannot_reset_a_password(client: AsyncTestClient, mailbox: Mailbox) -> None:
    actor = await register(client)
    verification_token = mailbox.last_token(actor.email or "")
    response = await client.post(
        "/api/v1/auth/password-reset", json={"token": verification_token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401
    assert (await sign_in(client, actor.email or "")).access_token
