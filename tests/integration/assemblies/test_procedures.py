"""Initiatives, decisions between assemblies closing on time, second calls, binding actions, reminders."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn
from tests.conftest import Mailbox
from tests.integration.assemblies.conftest import Coop, cast, eventually, ok, soon
from tests.integration.conftest import register


async def test_an_initiative_with_enough_cosignatures_opens_and_closes_on_time(
    client: AsyncTestClient, coop: Coop, mailbox: Mailbox, database_url: URL
) -> None:
    m = coop.members
    ok(
        await client.put(
            "/api/v1/statutes",
            json={
                "preset": "scic_sas",
                "default_college": "workers",
                "initiative_cosignatures": 2,
                "initiative_route": "open",
                "initiative_vote_days": 1,
            },
            headers=coop.admin.headers,
        )
    )
    draft = ok(
        await client.post(
            "/api/v1/proposals",
            json={"title": "Four-day week", "text": "Let us try it.", "closes_at": soon(days=2)},
            headers=m[0].headers,
        ),
        201,
    )
    assert draft["initiative"] and draft["state"] == "draft" and draft["cosignatures_needed"] == 2
    assert (await client.post(f"/api/v1/proposals/{draft['id']}/cosign", headers=m[0].headers)).status_code == 409
    assert (await client.post(f"/api/v1/proposals/{draft['id']}/cosign", headers=coop.admin.headers)).status_code == 403
    ok(await client.post(f"/api/v1/proposals/{draft['id']}/cosign", headers=m[1].headers))
    ok(await client.post(f"/api/v1/proposals/{draft['id']}/cosign", headers=m[1].headers))  # idempotent
    opened = ok(await client.post(f"/api/v1/proposals/{draft['id']}/cosign", headers=m[2].headers))
    assert opened["state"] == "open" and opened["electorate_size"] == 7
    for voter in m[:4]:
        ok(await cast(client, voter, draft["id"], "yes"), 201)
    ok(await client.post(f"/api/v1/proposals/{draft['id']}/comments", json={"body": "Yes!"}, headers=m[3].headers), 201)
    # Nobody closes it: the background loop does, once it is due (moving the time is what waiting does).
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute("update proposal set closes_at = now() where id = $1", uuid.UUID(draft["id"]))
    finally:
        await connection.close()
    for _ in range(100):
        proposal = ok(await client.get(f"/api/v1/proposals/{draft['id']}", headers=m[0].headers))
        if proposal["state"] == "closed":
            break
        await asyncio.sleep(0.1)
    assert proposal["state"] == "closed" and proposal["outcome"] == "adopted", proposal
    await eventually(lambda: len([x for x in coop.mail(mailbox) if x["Subject"].startswith("Result")]) == 7)


async def test_a_missed_quorum_leads_to_a_second_call_with_second_call_rules(
    client: AsyncTestClient, coop: Coop
) -> None:
    m = coop.members
    assembly = ok(
        await client.post(
            "/api/v1/assemblies",
            json={"kind": "extraordinary", "title": "AGE", "scheduled_at": soon(hours=1)},
            headers=coop.admin.headers,
        ),
        201,
    )
    motion = ok(
        await client.post(
            f"/api/v1/assemblies/{assembly['id']}/proposals",
            json={"title": "Change the purpose", "text": "New purpose."},
            headers=coop.admin.headers,
        ),
        201,
    )
    ok(await client.post(f"/api/v1/assemblies/{assembly['id']}/convene", headers=coop.admin.headers))
    ok(await client.post(f"/api/v1/assemblies/{assembly['id']}/open", headers=coop.admin.headers))
    ok(await cast(client, m[0], motion["id"], "yes"), 201)  # 1 of 7: far from the 1/4 quorum
    ok(await client.post(f"/api/v1/assemblies/{assembly['id']}/close", headers=coop.admin.headers))
    result = ok(await client.get(f"/api/v1/proposals/{motion['id']}/results", headers=m[0].headers))
    assert result["outcome"] == "no_quorum"
    second = ok(
        await client.post(
            f"/api/v1/assemblies/{assembly['id']}/second-call",
            json={"scheduled_at": soon(hours=2)},
            headers=coop.admin.headers,
        ),
        201,
    )
    assert second["call"] == 2 and second["first_call_id"] == assembly["id"] and len(second["agenda"]) == 1
    convened = ok(await client.post(f"/api/v1/assemblies/{second['id']}/convene", headers=coop.admin.headers))
    assert convened["rules"]["quorum"] == "1/5"  # the SCIC preset's second call
    again = await client.post(
        f"/api/v1/assemblies/{assembly['id']}/second-call",
        json={"scheduled_at": soon(hours=2)},
        headers=coop.admin.headers,
    )
    assert again.status_code == 409  # one second call per first call


async def test_binding_actions_admit_a_member_and_amend_the_statutes(client: AsyncTestClient, coop: Coop) -> None:
    m = coop.members
    applicant = await register(client, name="Applicant")
    decisions = []
    for action in (
        {"type": "admit_member", "account_id": applicant.account_id},
        {"type": "amend_statutes", "kind": "ordinary", "changes": {"quorum": "1/3", "proxy_cap": 3}},
    ):
        created = ok(
            await client.post(
                "/api/v1/proposals",
                json={"title": action["type"], "text": "Decide.", "closes_at": soon(days=1), "action": action},
                headers=coop.admin.headers,
            ),
            201,
        )
        ok(await client.post(f"/api/v1/proposals/{created['id']}/open", headers=coop.admin.headers))
        for voter in [*m, coop.client]:
            ok(await cast(client, voter, created["id"], "yes"), 201)
        closed = ok(await client.post(f"/api/v1/proposals/{created['id']}/close", headers=coop.admin.headers))
        assert closed["outcome"] == "adopted" and closed["action_applied_at"], closed
        decisions.append(closed)
    account = ok(await client.get(f"/api/v1/accounts/{applicant.account_id}", headers=coop.admin.headers))
    assert account["member_status"] == "member"
    statutes = ok(await client.get("/api/v1/statutes", headers=m[0].headers))
    assert statutes["proposal_id"] == decisions[1]["id"]
    for call in ("first_call", "second_call"):
        assert statutes["document"]["ordinary"][call]["quorum"] == "1/3"
        assert statutes["document"]["ordinary"][call]["proxy_cap"] == 3
    assert statutes["document"]["extraordinary"]["first_call"]["quorum"] == "1/4"
    # Votes have been held: the statutes now change only by a vote.
    refused = await client.put("/api/v1/statutes", json={"preset": "scop_sarl"}, headers=coop.admin.headers)
    assert refused.status_code == 409


async def test_a_rejected_proposal_changes_nothing(client: AsyncTestClient, coop: Coop) -> None:
    created = ok(
        await client.post(
            "/api/v1/proposals",
            json={
                "title": "Raise the contribution",
                "text": "12 %.",
                "closes_at": soon(days=1),
                "action": {"type": "set_contribution_rate", "basis_points": 1200},
            },
            headers=coop.admin.headers,
        ),
        201,
    )
    ok(await client.post(f"/api/v1/proposals/{created['id']}/open", headers=coop.admin.headers))
    for voter in coop.members:
        ok(await cast(client, voter, created["id"], "no"), 201)
    closed = ok(await client.post(f"/api/v1/proposals/{created['id']}/close", headers=coop.admin.headers))
    assert closed["outcome"] == "rejected" and closed["action_applied_at"] is None
    statutes = ok(await client.get("/api/v1/statutes", headers=coop.member(0).headers))
    assert statutes["contribution_rate_basis_points"] is None


async def test_non_voters_get_a_reminder_before_the_close(
    client: AsyncTestClient, coop: Coop, mailbox: Mailbox, database_url: URL
) -> None:
    created = ok(
        await client.post(
            "/api/v1/proposals",
            json={"title": "Remind me", "text": "Please vote.", "closes_at": soon(hours=2)},  # within 24 h
            headers=coop.admin.headers,
        ),
        201,
    )
    ok(await client.post(f"/api/v1/proposals/{created['id']}/open", headers=coop.admin.headers))
    ok(await cast(client, coop.member(0), created["id"], "yes"), 201)
    await asyncio.sleep(0.5)
    assert not [x for x in coop.mail(mailbox) if x["Subject"].startswith("Reminder")]  # not before mid-window
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:  # as if it had opened three hours ago: past the middle of its window
        await connection.execute(
            "update proposal set opened_at = now() - interval '3 hours', opens_at = now() - interval '3 hours' "
            "where id = $1",
            uuid.UUID(created["id"]),
        )
    finally:
        await connection.close()
    await eventually(lambda: len([x for x in coop.mail(mailbox) if x["Subject"].startswith("Reminder")]) == 6)
    reminded = {x["To"] for x in coop.mail(mailbox) if x["Subject"].startswith("Reminder")}
    assert coop.member(0).email not in reminded and coop.client.email in reminded


async def test_the_notice_period_is_enforced(client: AsyncTestClient, coop: Coop, settings) -> None:
    governance = client.app.state.governance
    governance.settings = governance.settings.model_copy(update={"convocation_notice_days": 15})
    try:
        assembly = ok(
            await client.post(
                "/api/v1/assemblies",
                json={"kind": "ordinary", "title": "Too soon", "scheduled_at": soon(days=10)},
                headers=coop.admin.headers,
            ),
            201,
        )
        ok(
            await client.post(
                f"/api/v1/assemblies/{assembly['id']}/proposals",
                json={"title": "Accounts", "text": "Approve."},
                headers=coop.admin.headers,
            ),
            201,
        )
        refused = await client.post(f"/api/v1/assemblies/{assembly['id']}/convene", headers=coop.admin.headers)
        assert refused.status_code == 409 and "15 days" in refused.json()["detail"]
    finally:
        governance.settings = settings
