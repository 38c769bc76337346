"""Authorization-matrix rows of the vault (gathered by tests/integration/platform/test_authorization_matrix.py).

The vault is a member's own: every /me/vault operation acts on the caller's vault only (the other
member gets their own, empty one), someone else's export does not exist (404), and clients and
administrators have no vault. Imports are open to anyone holding an archive and its recovery key;
trusting issuers is the administrators' act.
"""

from __future__ import annotations

from tests.conftest import TEST_PASSWORD
from tests.integration.platform.matrix import ANYONE, Rule, expect
from tests.integration.vault import matrix_setups as setups
from tests.integration.vault.matrix_setups import convention_body, grant_body, issuer_body

INVALID_TOKEN = frozenset({"urn:coop:problem:invalid-token"})

ROWS: list[Rule] = [
    Rule(
        "POST",
        "/api/v1/me/vault/exports",
        expect(201, 201, 403, 403, 401),
        why="members export their own vault; clients and admins have none",
    ),
    Rule("GET", "/api/v1/me/vault/exports", expect(200, 200, 403, 403, 401), why="the caller's own exports"),
    Rule(
        "GET",
        "/api/v1/me/vault/exports/{export_id}/archive",
        expect(200, 404, 403, 403, 401),
        url=lambda a: f"/api/v1/me/vault/exports/{a.context['export']}/archive",
        setup=setups.owners_export,
        why="the owner's export: to anyone else it does not exist",
    ),
    Rule(
        "GET",
        "/api/v1/me/vault/recovery-key",
        expect(200, 404, 403, 403, 401),
        setup=setups.owners_recovery_key,
        why="the caller's own recovery key (the other member has none)",
    ),
    Rule(
        "POST",
        "/api/v1/me/vault/recovery-key",
        expect(201, 201, 403, 403, 401),
        why="creates the caller's own recovery key",
    ),
    Rule("GET", "/api/v1/me/vault/credentials", expect(200, 200, 403, 403, 401), why="the caller's own credentials"),
    Rule("GET", "/api/v1/me/vault/access-log", expect(200, 200, 403, 403, 401), why="who read the caller's vault"),
    Rule(
        "POST",
        "/api/v1/vault/imports",
        expect(422, 422, 422, 422, 422),
        why="anyone may bring an archive; its signature and the recovery-key proof decide (an empty body is refused)",
    ),
    Rule("GET", "/api/v1/vault/trusted-issuers", expect(403, 403, 403, 200, 401), why="administrators' register"),
    Rule(
        "POST",
        "/api/v1/vault/trusted-issuers",
        expect(403, 403, 403, 201, 401),
        body=issuer_body("added"),
        why="trusting another cooperative is the administrators' act",
    ),
    Rule(
        "DELETE",
        "/api/v1/vault/trusted-issuers/{issuer_id}",
        expect(403, 403, 403, 204, 401),
        url=lambda a: f"/api/v1/vault/trusted-issuers/{a.context['issuer']}",
        setup=setups.trusted_issuer,
        why="administrators' act",
    ),
    Rule("GET", "/.well-known/did.json", ANYONE, why="public keys are public"),
    Rule(
        "POST",
        "/api/v1/me/vault/erasure/confirmation",
        expect(201, 201, 403, 403, 401),
        body={"password": TEST_PASSWORD},
        why="a member confirms with their own password",
    ),
    Rule(
        "POST",
        "/api/v1/me/vault/erasure",
        expect(200, 403, 403, 403, 401),
        body=lambda a, actor: {"confirmation": a.context["confirmation"]},
        setup=setups.owners_erasure_confirmation,
        problem_types=frozenset({"urn:coop:problem:reauthentication-failed"}),
        why="the owner's confirmation erases the owner only: another member cannot use it",
    ),
    # Sharing under conventions.
    Rule(
        "POST",
        "/api/v1/vault/partners",
        expect(403, 403, 403, 201, 401),
        body={"name": "A partner", "kind": "training body"},
        why="registering a partner is the administrators' act",
    ),
    Rule("GET", "/api/v1/vault/partners", expect(403, 403, 403, 200, 401), why="partners' clients: administrators"),
    Rule(
        "POST",
        "/api/v1/vault/conventions",
        expect(403, 403, 403, 201, 401),
        body=lambda a, actor: convention_body(a.context["partner"]),
        setup=setups.partner,
        why="conventions are recorded by administrators",
    ),
    Rule(
        "GET",
        "/api/v1/vault/conventions",
        expect(200, 200, 403, 200, 401),
        setup=setups.convention,
        why="every member reads every convention",
    ),
    Rule(
        "GET",
        "/api/v1/vault/conventions/{convention_id}",
        expect(200, 200, 403, 200, 401),
        url=lambda a: f"/api/v1/vault/conventions/{a.context['convention']}",
        setup=setups.convention,
        why="every member reads every convention",
    ),
    Rule(
        "POST",
        "/api/v1/me/vault/grants",
        expect(201, 201, 403, 403, 401),
        body=lambda a, actor: grant_body(a.context["convention"]),
        setup=setups.convention,
        why="a member grants access to their own vault only",
    ),
    Rule("GET", "/api/v1/me/vault/grants", expect(200, 200, 403, 403, 401), why="the caller's own grants"),
    Rule(
        "POST",
        "/api/v1/me/vault/grants/{grant_id}/revoke",
        expect(200, 404, 403, 403, 401),
        url=lambda a: f"/api/v1/me/vault/grants/{a.context['grant']}/revoke",
        setup=setups.owners_grant,
        why="the owner's grant: to anyone else it does not exist",
    ),
    Rule("GET", "/api/v1/me/vault/consent-receipts", expect(200, 200, 403, 403, 401), why="the caller's own receipts"),
    Rule(
        "POST",
        "/api/v1/vault/oauth/token",
        expect(400, 400, 400, 400, 400),
        why="partners authenticate with their client credentials; without a grant type, nobody gets a token",
    ),
    Rule(
        "GET",
        "/api/v1/vault/partner/members/{account_id}/{category}",
        expect(401, 401, 401, 401, 401),
        url=lambda a: f"/api/v1/vault/partner/members/{a.context['owner']}/profile",
        setup=setups.owners_grant_and_id,
        problem_types=INVALID_TOKEN,
        why="only a partner's token reads a member's vault: members', clients' and admins' tokens are not",
    ),
]
