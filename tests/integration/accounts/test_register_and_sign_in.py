from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.conftest import TEST_PASSWORD, Mailbox
from tests.integration.conftest import register, unique_email


async def test_member_registers_as_applicant_and_gets_a_verification_mail(
    client: AsyncTestClient, mailbox: Mailbox
) -> None:
    email = unique_email("Camille.Martin").replace("camille", "Camille")
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": f"  {email.upper()} ", "password": TEST_PASSWORD, "display_name": "Camille"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == email.lower()
    assert body["role"] == "member"
    assert body["member_status"] == "applicant"
    assert body["email_verified"] is False
    assert "password" not in response.text
    [mail] = mailbox.wait_for(email.lower())
    assert mail["Subject"] == "Confirm your email address"


async def test_email_is_unique_whatever_its_case(client: AsyncTestClient) -> None:
    email = unique_email("dup")
    first = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": TEST_PASSWORD, "display_name": "A"}
    )
    assert first.status_code == 201
    second = await client.post(
        "/api/v1/auth/register", json={"email": email.upper(), "password": TEST_PASSWORD, "display_name": "B"}
    )
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert second.json()["type"] == "urn:coop:problem:email-taken"


async def test_weak_and_common_passwords_are_refused(client: AsyncTestClient) -> None:
    for password in ("short", "password1234", "azertyuiop", "123456789012"):
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": unique_email("weak"), "password": password, "display_name": "Weak"},
        )
        assert response.status_code == 422, (password, response.text)
        assert response.json()["type"] == "urn:coop:problem:weak-password"


async def test_client_registers_with_its_organisation(client: AsyncTestClient) -> None:
    actor = await register(client, role="client")
    assert actor.organisation_id
    organisation = await client.get(f"/api/v1/organisations/{actor.organisation_id}", headers=actor.headers)
    assert organisation.status_code == 200
    assert organisation.json()["legal_name"] == "Acme SAS"


async def test_client_without_organisation_is_refused(client: AsyncTestClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": unique_email("c"), "password": TEST_PASSWORD, "display_name": "C", "role": "client"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "organisation"


async def test_nobody_registers_as_admin(client: AsyncTestClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": unique_email("a"), "password": TEST_PASSWORD, "display_name": "A", "role": "admin"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:coop:problem:validation-error"


async def test_sign_in_then_me(client: AsyncTestClient) -> None:
    actor = await register(client, name="Yanis")
    me = await client.get("/api/v1/me", headers=actor.headers)
    assert me.status_code == 200
    assert me.json()["display_name"] == "Yanis"
    assert me.headers["x-request-id"]


async def test_failed_sign_in_does_not_reveal_whether_the_email_exists(client: AsyncTestClient) -> None:
    actor = await register(client)
    wrong_password = await client.post(
        "/api/v1/auth/sign-in", json={"email": actor.email, "password": "not the right password at all"}
    )
    unknown_email = await client.post(
        "/api/v1/auth/sign-in", json={"email": unique_email("nobody"), "password": "not the right password at all"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(wrong_password.json()) == strip(unknown_email.json())


async def test_me_requires_a_valid_token(client: AsyncTestClient) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    forged = await client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert forged.status_code == 401
    assert forged.json()["type"] == "urn:coop:problem:invalid-token"
    basic = await client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


async def test_update_display_name(client: AsyncTestClient) -> None:
    actor = await register(client)
    response = await client.patch("/api/v1/me", json={"display_name": "Léa Dubois"}, headers=actor.headers)
    assert response.status_code == 200
    assert (await client.get("/api/v1/me", headers=actor.headers)).json()["display_name"] == "Léa Dubois"
