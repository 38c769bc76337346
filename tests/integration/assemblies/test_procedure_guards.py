"""The law as the procedure reads it: statutes frozen mid-vote, early opening only where the statutes
allow it, minutes that state what happened and name proxy holders."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar.testing import AsyncTestClient

from tests.integration.assemblies.conftest import Coop, cast, convened_assembly, found_scic, ok

MOTION = {"title": "Accounts", "text": "Approve them."}


async def test_the_statutes_cannot_change_while_an_assembly_is_convened_or_open(
    client: AsyncTestClient, coop: Coop
) -> None:
    assembly, _ = await convened_assembly(client, coop, [MOTION])
    body = {"preset": "scic_sas", "default_college": "workers", "chair_may_close_early": False}
    refused = await client.put("/api/v1/statutes", json=body, headers=coop.admin.headers)
    assert refused.status_code == 409 and refused.json()["type"] == "urn:coop:problem:statutes-frozen"
    ok(await client.post(f"/api/v1/assemblies/{assembly}/open", headers=coop.admin.headers))
    assert (await client.put("/api/v1/statutes", json=body, headers=coop.admin.headers)).status_code == 409


async def test_the_chair_opens_early_only_where_the_statutes_allow_it(client: AsyncTestClient, coop: Coop) -> None:
    await found_scic(client, coop.admin, chair_may_open_early=False)
    assembly, _ = await convened_assembly(client, coop, [MOTION])  # scheduled in an hour
    early = await client.post(f"/api/v1/assemblies/{assembly}/open", headers=coop.admin.headers)
    assert early.status_code == 409 and "statutes do not let the chair open it earlier" in early.json()["detail"]


async def test_minutes_state_when_the_vote_really_ran_and_name_proxy_holders(
    client: AsyncTestClient, coop: Coop
) -> None:
    assembly, (motion,) = await convened_assembly(client, coop, [MOTION])
    principal, holder = coop.member(0), coop.member(1)
    ok(
        await client.put(
            f"/api/v1/assemblies/{assembly}/proxy", json={"holder_id": holder.account_id}, headers=principal.headers
        )
    )
    ok(await client.post(f"/api/v1/assemblies/{assembly}/open", headers=coop.admin.headers))
    ok(await cast(client, holder, motion, "yes"), 201)
    ok(await cast(client, holder, motion, "yes", on_behalf_of=principal.account_id), 201)
    ok(await client.post(f"/api/v1/assemblies/{assembly}/close", headers=coop.admin.headers))
    minutes = ok(await client.get(f"/api/v1/assemblies/{assembly}/minutes", headers=holder.headers))["markdown"]
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert f"The vote opened on {today}" in minutes and "closed on " + today in minutes
    assert "(planned window: " in minutes
    assert "represented by Member 1" in minutes
    assert holder.account_id not in minutes
