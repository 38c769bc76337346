"""Authorization-matrix rows of the vault (gathered by tests/integration/platform/test_authorization_matrix.py).

The vault is a member's own: every /me/vault operation acts on the caller's vault only (the other
member gets their own, empty one), someone else's export does not exist (404), and clients and
administrators have no vault. Imports are open to anyone holding an archive and its recovery key;
trusting issuers is the administrators' act.
"""

from __future__ import annotations

from tests.integration.platform.matrix import ANYONE, Rule, expect
from tests.integration.vault import matrix_setups as setups
from tests.integration.vault.matrix_setups import issuer_body

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
]
