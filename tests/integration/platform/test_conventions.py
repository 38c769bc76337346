"""Cross-cutting API conventions: health, request ids, security headers, CORS, OpenAPI, errors."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS


async def test_health_probes(client: AsyncTestClient) -> None:
    live = await client.get("/health/live")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["database"] == "up"


async def test_every_response_has_a_request_id_and_security_headers(client: AsyncTestClient) -> None:
    for response in (await client.get("/health/live"), await client.get("/api/v1/me"), await client.get("/nope")):
        assert len(response.headers["x-request-id"]) >= 8
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(client: AsyncTestClient) -> None:
    kept = await client.get("/health/live", headers={"X-Request-ID": "abcdef0123456789"})
    assert kept.headers["x-request-id"] == "abcdef0123456789"
    replaced = await client.get("/health/live", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert replaced.headers["x-request-id"] != "<script>alert(1)</script>"


async def test_unknown_route_and_wrong_method_are_problems(client: AsyncTestClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["type"] == "urn:coop:problem:not-found"
    wrong = await client.delete("/api/v1/me")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "urn:coop:problem:method-not-allowed"


async def test_openapi_document_is_3_1_and_documents_errors(client: AsyncTestClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    sign_in = document["paths"]["/api/v1/auth/sign-in"]["post"]
    assert "401" in sign_in["responses"] and "429" in sign_in["responses"]
    assert "application/problem+json" in sign_in["responses"]["401"]["content"]
    assert (await client.get("/schema")).status_code == 200


async def test_cors_allows_only_configured_origins(settings: Settings) -> None:
    app = create_app(
        settings.model_copy(update={"cors_origins": ["https://app.coop.example"]}), passwords=FAST_PASSWORDS
    )
    async with AsyncTestClient(app=app) as client:
        allowed = await client.options(
            "/api/v1/me",
            headers={"Origin": "https://app.coop.example", "Access-Control-Request-Method": "GET"},
        )
        assert allowed.headers.get("access-control-allow-origin") == "https://app.coop.example"
        refused = await client.get("/health/live", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in refused.headers


async def test_logs_never_contain_passwords_or_tokens(settings: Settings, capfd) -> None:  # type: ignore[no-untyped-def]
    """At INFO, every request is logged: none of those lines may carry a secret."""
    from tests.integration.conftest import register

    app = create_app(settings.model_copy(update={"log_level": "INFO"}), passwords=FAST_PASSWORDS)
    async with AsyncTestClient(app=app, base_url="http://coop.test") as client:
        actor = await register(client)
        await client.post("/api/v1/auth/refresh", json={"refresh_token": actor.refresh_token})
        await client.post("/api/v1/auth/sign-in", json={"email": actor.email, "password": "wrong password 123"})
        await client.get("/api/v1/me", headers=actor.headers)
    captured = capfd.readouterr()
    logs = captured.out + captured.err
    assert '"path": "/api/v1/auth/sign-in"' in logs, "the access log must be on for this test to mean anything"
    for secret in ("correct horse battery staple", "wrong password 123", actor.refresh_token, actor.access_token):
        assert secret and secret not in logs
