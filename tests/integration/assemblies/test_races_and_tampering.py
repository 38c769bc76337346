"""Under load and under attack: parallel casts, casts racing the close, concurrent closers, tampering."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.assemblies.background import Background
from app.core.mail import LogMailer
from app.db.engine import open_database
from app.db.url import asyncpg_dsn
from app.settings import Settings
from tests.integration.assemblies.conftest import Coop, cast, convened_assembly, ok

MOTION = {"title": "Motion", "text": "Adopt it.", "action": {"type": "set_contribution_rate", "basis_points": 700}}


async def open_motion(client: AsyncTestClient, coop: Coop, **extra) -> tuple[str, str]:
    assembly_id, (motion,) = await convened_assembly(client, coop, [{**MOTION, **extra}])
    ok(await client.post(f"/api/v1/assemblies/{assembly_id}/open", headers=coop.admin.headers))
    return assembly_id, motion


@pytest.fixture
async def db(database_url: URL):
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    yield connection
    await connection.close()


async def test_200_parallel_casts_by_one_member_leave_one_ballot(
    client: AsyncTestClient, coop: Coop, db: asyncpg.Connection
) -> None:
    _, motion = await open_motion(client, coop)
    member = coop.member(0)
    choices = ["yes", "no", "abstain", "blank"]
    responses = await asyncio.gather(*(cast(client, member, motion, choices[i % 4]) for i in range(200)))
    assert [r.status_code for r in responses] == [201] * 200
    assert await db.fetchval("select count(*) from ballot_register where proposal_id = $1", motion_id(motion)) == 1
    changes = await db.fetchval("select changes from ballot_register where proposal_id = $1", motion_id(motion))
    assert changes == 199
    assert await db.fetchval("select count(*) from audit_event where kind = 'ballot.cast'") == 200


def motion_id(text: str):
    import uuid

    return uuid.UUID(text)


async def test_casts_racing_the_close_are_counted_and_acknowledged_or_refused(
    client: AsyncTestClient, coop: Coop, db: asyncpg.Connection
) -> None:
    _, motion = await open_motion(client, coop)
    voters = [*coop.members, coop.client]

    async def close_soon():
        await asyncio.sleep(0.02)
        return await client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers)

    results = await asyncio.gather(*(cast(client, v, motion, "yes") for v in voters for _ in range(5)), close_soon())
    *casts, closed = results
    assert closed.status_code == 200, closed.text
    assert {r.status_code for r in casts} <= {201, 409}
    acknowledged = {r.json()["voter_id"] for r in casts if r.status_code == 201}
    refused = [r.json() for r in casts if r.status_code == 409]
    assert all(p["type"] == "urn:coop:problem:vote-not-open" for p in refused)
    result = ok(await client.get(f"/api/v1/proposals/{motion}/results", headers=coop.member(0).headers))
    # Every acknowledged voter is counted, nobody else: never lost, never counted after the result.
    assert result["result"]["participation"]["counted"] == len(acknowledged)
    registered = {
        str(r["voter_id"])
        for r in await db.fetch("select voter_id from ballot_register where proposal_id = $1", motion_id(motion))
    }
    assert registered == acknowledged
    late = await cast(client, coop.member(0), motion, "no")
    assert late.status_code == 409


async def test_two_processes_closing_at_once_produce_one_result(
    client: AsyncTestClient, app: Litestar, coop: Coop, settings: Settings, database_url: URL, db: asyncpg.Connection
) -> None:
    _, motion = await open_motion(client, coop)
    for voter in coop.members[:4]:
        ok(await cast(client, voter, motion, "yes"), 201)
    # Make it due, then let two independent closers (own engines, like two processes) and the chair race.
    await db.execute("update proposal set closes_at = now() where id = $1", motion_id(motion))
    databases = [open_database(settings, database_url) for _ in range(2)]
    try:
        closers = [Background(database, app.state.governance, LogMailer()) for database in databases]
        outcomes = await asyncio.gather(
            *(c.close_due() for c in closers),
            client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers),
        )
    finally:
        for database in databases:
            await database.dispose()
    assert outcomes[2].status_code in (200, 409)
    assert await db.fetchval("select count(*) from audit_event where kind = 'proposal.closed'") == 1
    assert await db.fetchval("select count(*) from audit_event where kind = 'action.applied'") == 1
    assert await db.fetchval("select count(*) from contribution_rate") == 1
    assert await db.fetchval("select count(*) from published_ballot where proposal_id = $1", motion_id(motion)) == 4


def audit_verify(database_url: URL, tmp_path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "COOP_DATA_DIR": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify"], env=env, capture_output=True, text=True, timeout=60
    )


async def test_tampering_with_a_published_ballot_or_an_audit_entry_is_detected(
    client: AsyncTestClient, coop: Coop, database_url: URL, db: asyncpg.Connection, tmp_path
) -> None:
    _, motion = await open_motion(client, coop)
    for voter, choice in zip(coop.members, ["yes", "yes", "no", "yes", "no", "yes"], strict=True):
        ok(await cast(client, voter, motion, choice), 201)
    ok(await client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers))
    clean = audit_verify(database_url, tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "audit chain:" in clean.stdout and "1 checked" in clean.stdout

    # A published ballot changed after the close.
    flip = (
        "update published_ballot set choice = case when choice = '\"yes\"' then '\"no\"'::jsonb "
        "else '\"yes\"'::jsonb end where proposal_id = $1 and position = 1"
    )
    # The box is append-only: only someone who can disable its trigger (the owner) changes it.
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await db.execute(flip, motion_id(motion))
    await db.execute("alter table published_ballot disable trigger published_ballot_append_only")
    await db.execute(flip, motion_id(motion))
    tampered = audit_verify(database_url, tmp_path)
    assert tampered.returncode == 1, tampered.stdout
    assert "does not match the hash recorded at the close" in tampered.stdout
    await db.execute(flip, motion_id(motion))  # put it back
    await db.execute("alter table published_ballot enable trigger published_ballot_append_only")

    # An audit entry changed: the trigger refuses it, so the attacker must be a superuser disabling it.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("update audit_event set data = '{}' where kind = 'ballot.cast'")
    await db.execute("alter table audit_event disable trigger audit_event_append_only")
    seq = await db.fetchval("select min(seq) from audit_event where kind = 'ballot.cast'")
    await db.execute("update audit_event set data = jsonb_set(data, '{channel}', '\"postal\"') where seq = $1", seq)
    await db.execute("alter table audit_event enable trigger audit_event_append_only")
    broken = audit_verify(database_url, tmp_path)
    assert broken.returncode == 1
    assert f"BROKEN at link {seq}" in broken.stdout and "does not match its digest" in broken.stdout


async def test_tampering_with_a_ballot_during_the_vote_voids_it(
    client: AsyncTestClient, coop: Coop, db: asyncpg.Connection
) -> None:
    _, motion = await open_motion(client, coop)
    for voter in coop.members[:3]:
        ok(await cast(client, voter, motion, "no"), 201)
    # Someone with write access to the database (but not the server's secret) moves one voter's
    # sealed ballot onto another's row, and writes a fresh ballot of their own onto a third.
    pid = motion_id(motion)
    rows = await db.fetch("select voter_id, ballot, seal from ballot_register where proposal_id = $1", pid)
    await db.execute(
        "update ballot_register set ballot = $1, seal = $2 where proposal_id = $3 and voter_id = $4",
        rows[0]["ballot"],
        rows[0]["seal"],
        pid,
        rows[1]["voter_id"],
    )
    await db.execute(
        "update ballot_register set ballot = $1 where proposal_id = $2 and voter_id = $3",
        b"not a ballot",
        pid,
        rows[2]["voter_id"],
    )
    ok(await client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers))
    proposal = ok(await client.get(f"/api/v1/proposals/{motion}", headers=coop.member(0).headers))
    assert proposal["outcome"] == "void" and proposal["action_applied_at"] is None
    assert await db.fetchval("select count(*) from contribution_rate") == 0


async def test_after_the_close_the_database_cannot_link_a_secret_ballot_to_its_voter(
    client: AsyncTestClient, coop: Coop, db: asyncpg.Connection
) -> None:
    _, motion = await open_motion(client, coop)
    receipt = ok(await cast(client, coop.member(0), motion, "no"), 201)
    ok(await cast(client, coop.member(1), motion, "yes"), 201)
    ok(await client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers))
    pid = motion_id(motion)
    assert await db.fetchval("select election_key_salt from proposal where id = $1", pid) is None
    assert (
        await db.fetchval(
            "select count(*) from ballot_register where proposal_id = $1 and (ballot is not null or seal is not null)",
            pid,
        )
        == 0
    )
    published = await db.fetch("select * from published_ballot where proposal_id = $1 order by position", pid)
    assert all(row["voter_id"] is None and row["cast_by"] is None and row["channel"] is None for row in published)
    assert [row["position"] for row in published] == [1, 2]
    assert sorted(row["tracker"] for row in published) == [row["tracker"] for row in published]
    assert receipt["tracker"] in {row["tracker"] for row in published}
    events = await db.fetch("select data from audit_event where kind = 'ballot.cast'")
    assert all("choice" not in e["data"] and receipt["tracker"] not in e["data"] for e in events)
