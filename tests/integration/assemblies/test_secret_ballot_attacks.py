"""Attacks on the secret ballot and on the record, as issue 8 found them on the former design.

Each test plays someone with full SQL access (the server's superuser: relation files, the WAL) or
the application's own database role, and checks what they can and cannot learn or change.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

import governance
from app.db.url import asyncpg_dsn
from tests.conftest import Mailbox
from tests.integration.assemblies.conftest import Coop, cast, convened_assembly, ok

MOTION = {"title": "Motion", "text": "Adopt it.", "action": {"type": "set_contribution_rate", "basis_points": 700}}


@pytest.fixture
async def db(database_url: URL):
    """The owner's connection (a superuser on the test servers): the strongest database reader."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    yield connection
    await connection.close()


@pytest.fixture
async def app_db(database_url: URL):
    """A connection with the application's own credentials (the `coop_app` role)."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url.set(username="coop_app", password=None)))
    yield connection
    await connection.close()


async def open_motion(client: AsyncTestClient, coop: Coop, **extra) -> tuple[str, str]:
    assembly_id, (motion,) = await convened_assembly(client, coop, [{**MOTION, **extra}])
    ok(await client.post(f"/api/v1/assemblies/{assembly_id}/open", headers=coop.admin.headers))
    return assembly_id, motion


def audit_cli(database_url: URL, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "COOP_DATA_DIR": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", *args], env=env, capture_output=True, text=True, timeout=60
    )


# -- 1. running results ---------------------------------------------------------------------------------------


async def test_a_secret_vote_cannot_show_running_results(client: AsyncTestClient, coop: Coop) -> None:
    body = {"title": "Secret", "text": "?", "method": "motion", "secret": True, "results_visible": True}
    assembly = ok(
        await client.post(
            "/api/v1/assemblies",
            json={
                "kind": "ordinary",
                "title": "AG",
                "scheduled_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            },
            headers=coop.admin.headers,
        ),
        201,
    )
    refused = await client.post(f"/api/v1/assemblies/{assembly['id']}/proposals", json=body, headers=coop.admin.headers)
    assert refused.status_code == 422
    assert refused.json()["type"] == "urn:coop:problem:secret-running-results"
    closes = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    standalone = await client.post("/api/v1/proposals", json={**body, "closes_at": closes}, headers=coop.admin.headers)
    assert standalone.status_code == 422

    # A plain member polling while the vote is open learns how many voted, never what.
    _, motion = await open_motion(client, coop)
    watcher = coop.member(5)
    for index, choice in enumerate(["yes", "no", "yes"]):
        ok(await cast(client, coop.member(index), motion, choice), 201)
        assert (await client.get(f"/api/v1/proposals/{motion}/results", headers=watcher.headers)).status_code == 409
        participation = ok(await client.get(f"/api/v1/proposals/{motion}/participation", headers=watcher.headers))
        assert participation["voted"] == index + 1 and "running" not in participation


# -- 2. a database reader, during the vote and after it --------------------------------------------------------


async def _relation_bytes(db: asyncpg.Connection) -> bytes:
    """Every relation file of the database (tables, their TOAST, indexes), as the disk holds it."""
    await db.execute("checkpoint")
    paths = await db.fetch(
        """
        select pg_relation_filepath(c.oid) as path from pg_class c
         where c.relnamespace in ('public'::regnamespace, 'pg_toast'::regnamespace)
           and c.relkind in ('r', 't', 'i', 'm') and pg_relation_filepath(c.oid) is not null
        """
    )
    chunks = []
    for row in paths:
        try:
            chunks.append(await db.fetchval("select pg_read_binary_file($1::text)", row["path"]))
        except asyncpg.UndefinedFileError:  # a relation whose file does not exist yet (never written)
            continue
    return b"".join(chunks)


async def _wal_since(db: asyncpg.Connection, since: datetime) -> list[tuple[int, bytes]]:
    """The WAL segments written since `since`, each with the LSN it starts at."""
    size = int(await db.fetchval("select setting from pg_settings where name = 'wal_segment_size'"))
    names = await db.fetch(
        "select name from pg_ls_waldir() where modification >= $1 and name ~ '^[0-9A-F]{24}$' order by name",
        since - timedelta(seconds=5),
    )
    segments = []
    for row in names:
        name = row["name"]
        start = (int(name[8:16], 16) << 32) + int(name[16:24], 16) * size
        try:
            segments.append((start, await db.fetchval("select pg_read_binary_file($1::text)", f"pg_wal/{name}")))
        except asyncpg.UndefinedFileError:  # recycled since it was listed
            continue
    return segments


async def _lsn(db: asyncpg.Connection) -> int:
    high, low = (await db.fetchval("select pg_current_wal_insert_lsn()::text")).split("/")
    return (int(high, 16) << 32) + int(low, 16)


async def test_a_database_reader_cannot_link_a_secret_ballot_to_its_voter(
    client: AsyncTestClient, coop: Coop, db: asyncpg.Connection
) -> None:
    started = datetime.now(UTC)
    _, motion = await open_motion(client, coop)
    pid = uuid.UUID(motion)
    voters = coop.members[:5]
    markers = {voter.account_id: f"marker-{secrets.token_hex(12)}" for voter in voters}
    trackers = {}
    for voter, choice in zip(voters, ["yes", "no", "yes", "abstain", "no"], strict=True):
        ok(await cast(client, voter, motion, "blank", reason="first thoughts"), 201)  # overwritten: a dead version
        receipt = ok(await cast(client, voter, motion, choice, reason=markers[voter.account_id]), 201)
        trackers[voter.account_id] = receipt["tracker"]
    secrets_written = [m.encode() for m in markers.values()] + [t.encode() for t in trackers.values()]

    # During the vote: the xmin join of the former design now yields ciphertexts only...
    rows = await db.fetch(
        "select a.email, r.ballot, r.xmin from ballot_register r join account a on a.id = r.voter_id "
        "where r.proposal_id = $1",
        pid,
    )
    assert len(rows) == 5
    for row in rows:
        assert not any(s in row["ballot"] for s in secrets_written)
        assert b'"choice"' not in row["ballot"]
    # ...and no relation file, live or dead tuples, nor any WAL written since the vote began holds a
    # marker or a tracker.
    files = await _relation_bytes(db)
    wal = b"".join(data for _, data in await _wal_since(db, started))
    for needle in secrets_written:
        assert needle not in files and needle not in wal, needle

    close_lsn = await _lsn(db)
    ok(await client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers))
    # After the close: ciphertexts erased, the key's salt gone, the box anonymous and in an order
    # that is not the order of casting.
    assert (
        await db.fetchval("select count(*) from ballot_register where proposal_id = $1 and ballot is not null", pid)
        == 0
    )
    assert await db.fetchval("select election_key_salt from proposal where id = $1", pid) is None
    published = await db.fetch("select * from published_ballot where proposal_id = $1 order by position", pid)
    assert {row["tracker"] for row in published} == set(trackers.values())
    assert {row["reason"] for row in published} == set(markers.values())
    assert all(row["voter_id"] is None and row["cast_by"] is None and row["channel"] is None for row in published)
    assert [row["tracker"] for row in published] == sorted(trackers.values())
    # In the WAL, trackers and markers appear only from the close on: written together, in one
    # transaction, in tracker order, next to no ballot of the vote.
    for start, data in await _wal_since(db, started):
        for needle in secrets_written:
            at = data.find(needle)
            while at != -1:
                assert start + at >= close_lsn, f"{needle!r} is in the WAL before the close"
                at = data.find(needle, at + 1)


# -- 3. forging the record ----------------------------------------------------------------------------------------


async def test_the_application_role_cannot_rewrite_a_result_or_disable_a_trigger(
    client: AsyncTestClient, coop: Coop, app_db: asyncpg.Connection
) -> None:
    _, motion = await open_motion(client, coop)
    ok(await cast(client, coop.member(0), motion, "yes"), 201)
    ok(await client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers))
    pid = uuid.UUID(motion)
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await app_db.execute("update proposal set outcome = 'void' where id = $1", pid)
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await app_db.execute("delete from published_ballot where proposal_id = $1", pid)
    for statement in (
        "alter table audit_event disable trigger audit_event_append_only",
        "alter table proposal disable trigger proposal_result_frozen",
        "drop index ux_audit_event_one_close",
        "alter table published_ballot disable trigger user",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_db.execute(statement)


async def test_audit_verify_catches_a_vote_turned_void(
    client: AsyncTestClient, coop: Coop, db: asyncpg.Connection, database_url: URL, tmp_path
) -> None:
    _, motion = await open_motion(client, coop)
    for voter in coop.members[:3]:
        ok(await cast(client, voter, motion, "yes"), 201)
    ok(await client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers))
    assert audit_cli(database_url, tmp_path, "verify").returncode == 0
    # Only the owner can get past the trigger; verify still sees the close event says otherwise.
    await db.execute("alter table proposal disable trigger proposal_result_frozen")
    await db.execute("update proposal set outcome = 'void' where id = $1", uuid.UUID(motion))
    await db.execute("alter table proposal enable trigger proposal_result_frozen")
    forged = audit_cli(database_url, tmp_path, "verify")
    assert forged.returncode == 1, forged.stdout
    assert "stored outcome 'void' differs from 'adopted' recorded" in forged.stdout


async def test_audit_verify_catches_a_recomputed_result_with_a_second_close_event(
    client: AsyncTestClient, coop: Coop, db: asyncpg.Connection, database_url: URL, tmp_path
) -> None:
    _, motion = await open_motion(client, coop)
    for voter, choice in zip(coop.members[:5], ["yes", "yes", "yes", "no", "no"], strict=True):
        ok(await cast(client, voter, motion, choice), 201)
    ok(await client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers))
    pid = uuid.UUID(motion)
    kept_head = audit_cli(database_url, tmp_path, "head").stdout.strip()
    proposal = await db.fetchrow("select * from proposal where id = $1", pid)
    assert proposal["outcome"] == "adopted"

    # The forger flips two "yes" into "no" in the published box and recomputes a coherent result.
    await db.execute("alter table published_ballot disable trigger published_ballot_append_only")
    await db.execute(
        "update published_ballot set choice = '\"no\"' where proposal_id = $1 and position in "
        "(select position from published_ballot where proposal_id = $1 and choice = '\"yes\"' limit 2)",
        pid,
    )
    await db.execute("alter table published_ballot enable trigger published_ballot_append_only")
    rows = await db.fetch("select tracker, choice, college from published_ballot where proposal_id = $1", pid)
    rules = governance.Rules.from_dict(json.loads(proposal["rules"]))
    missing = dict(json.loads(proposal["certificate"])["electorate"]["colleges"])
    voters = [governance.Voter(row["tracker"], row["college"]) for row in rows]
    for row in rows:
        missing[row["college"]] -= 1
    voters += [governance.Voter(f"absent-{c}-{i}", c) for c, n in missing.items() for i in range(n)]
    ballots = [governance.Ballot(row["tracker"], json.loads(row["choice"])) for row in rows]
    forged = governance.certify(governance.tally(rules, governance.Electorate(tuple(voters)), ballots))
    forged_outcome = forged.body["result"]["outcome"]
    assert forged_outcome != "adopted"
    await db.execute("alter table proposal disable trigger proposal_result_frozen")
    await db.execute(
        "update proposal set outcome = $4, certificate = $2, certificate_sha256 = $3, result = $5 where id = $1",
        pid,
        json.dumps(forged.body),
        forged.sha256,
        forged_outcome,
        json.dumps(forged.body["result"]),
    )
    await db.execute("alter table proposal enable trigger proposal_result_frozen")
    # A second close event is refused by the database...
    event = await db.fetchrow("select * from audit_event where proposal_id = $1 and kind = 'proposal.closed'", pid)
    second = (
        "insert into audit_event (uid, at, kind, proposal_id, data, digest) "
        "values ($1, now(), 'proposal.closed', $2, $3, $4)"
    )
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(second, uuid.uuid4(), pid, json.dumps({"outcome": forged_outcome}), event["digest"])
    # ...and when the owner drops the index to force it in, the first close event still counts.
    await db.execute("drop index ux_audit_event_one_close")
    await db.execute(second, uuid.uuid4(), pid, json.dumps({"outcome": forged_outcome}), event["digest"])
    report = audit_cli(database_url, tmp_path, "verify")
    assert report.returncode == 1, report.stdout
    assert "2 close events" in report.stdout
    assert "differs from 'adopted' recorded" in report.stdout
    assert "does not match the hash recorded at the close" in report.stdout

    # A head kept before the forgery is still in the chain (the forger appended, did not rewrite).
    still = audit_cli(database_url, tmp_path, "verify", "--since", kept_head)
    assert "the chain still extends it" in still.stdout
    gone = audit_cli(database_url, tmp_path, "verify", "--since", "7:" + "ab" * 32)
    assert gone.returncode == 1 and "no longer holds the head you kept" in gone.stdout


async def test_the_chain_head_is_in_the_certificate_the_results_and_the_minutes(
    client: AsyncTestClient, coop: Coop, database_url: URL, tmp_path
) -> None:
    assembly, motion = await open_motion(client, coop)
    sealed_before_the_ballot = int(audit_cli(database_url, tmp_path, "head").stdout.split(":")[0])
    ok(await cast(client, coop.member(0), motion, "yes"), 201)
    ok(await client.post(f"/api/v1/assemblies/{assembly}/close", headers=coop.admin.headers))
    certificate = ok(await client.get(f"/api/v1/proposals/{motion}/certificate", headers=coop.member(1).headers))
    head = certificate["certificate"]["audit_head"]
    # The close seals what is pending before it reads the head, so the head printed in the
    # certificate covers this vote's ballot, not whatever the background sequencer had reached.
    assert head["seq"] > sealed_before_the_ballot and len(head["hash"]) == 64
    assert governance.verify(certificate)
    minutes = ok(await client.get(f"/api/v1/assemblies/{assembly}/minutes", headers=coop.member(1).headers))
    assert "Audit log chain head" in minutes["markdown"]


# -- 4. ballot order and who may replace whose ballot ------------------------------------------------------------


async def test_in_person_beats_proxy_whatever_the_order(client: AsyncTestClient, coop: Coop, mailbox: Mailbox) -> None:
    assembly_id, (motion,) = await convened_assembly(client, coop, [MOTION])
    principal, holder = coop.member(0), coop.member(1)
    ok(
        await client.put(
            f"/api/v1/assemblies/{assembly_id}/proxy", json={"holder_id": holder.account_id}, headers=principal.headers
        )
    )
    ok(await client.post(f"/api/v1/assemblies/{assembly_id}/open", headers=coop.admin.headers))
    paper = {"voter_id": principal.account_id, "channel": "postal", "choice": "no"}
    ok(await client.post(f"/api/v1/proposals/{motion}/paper-ballots", json=paper, headers=coop.admin.headers), 201)
    proxy = await cast(client, holder, motion, "yes", on_behalf_of=principal.account_id)
    assert proxy.status_code == 409 and proxy.json()["type"] == "urn:coop:problem:voted-in-person"

    # The chair's paper ballot never silently replaces a member's own online ballot...
    voter = coop.member(2)
    ok(await cast(client, voter, motion, "yes"), 201)
    over = {"voter_id": voter.account_id, "channel": "room", "choice": "no"}
    refused = await client.post(f"/api/v1/proposals/{motion}/paper-ballots", json=over, headers=coop.admin.headers)
    assert refused.status_code == 409 and refused.json()["type"] == "urn:coop:problem:ballot-stands"
    # ...a correction is explicit, logged, and the member is told.
    corrected = {**over, "correction": "The member handed in a paper ballot at the desk"}
    ok(await client.post(f"/api/v1/proposals/{motion}/paper-ballots", json=corrected, headers=coop.admin.headers), 201)
    deadline = asyncio.get_running_loop().time() + 10
    while not any("corrected" in str(m["Subject"]) for m in mailbox.to(voter.email)):
        assert asyncio.get_running_loop().time() < deadline, "the member was not told of the correction"
        await asyncio.sleep(0.05)
    mine = ok(await client.get(f"/api/v1/proposals/{motion}/ballot", headers=voter.headers))
    assert mine["channel"] == "room"


async def test_the_ballot_that_counts_is_the_one_on_the_last_receipt(client: AsyncTestClient, coop: Coop) -> None:
    _, motion = await open_motion(client, coop)
    member = coop.member(0)
    choices = ["yes", "no", "abstain", "blank"]
    responses = await asyncio.gather(*(cast(client, member, motion, choices[i % 4]) for i in range(20)))
    receipts = [ok(r, 201) for r in responses]
    orders = [r["order"] for r in receipts]
    assert len(set(orders)) == 20
    last = max(receipts, key=lambda r: r["order"])
    assert last == max(receipts, key=lambda r: r["cast_at"])  # the database's order and the clock agree
    ok(await client.post(f"/api/v1/proposals/{motion}/close", headers=coop.admin.headers))
    box = ok(await client.get(f"/api/v1/proposals/{motion}/box", headers=member.headers))
    trackers = {ballot["tracker"] for ballot in box["ballots"]}
    assert last["tracker"] in trackers
    assert not trackers & {r["tracker"] for r in receipts if r is not last}


# -- the bureau's key: no single party can open the ballots ----------------------------------------------------


def _trustee(tmp_path, name: str) -> tuple[str, str]:
    key_file = tmp_path / f"{name}.pem"
    made = subprocess.run(
        [sys.executable, "-m", "app.cli", "trustee", "keygen", "--out", str(key_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    return str(key_file), made.stdout.strip()


def _open_share(key_file: str, document: str) -> str:
    opened = subprocess.run(
        [sys.executable, "-m", "app.cli", "trustee", "open-share", "--key", key_file],
        input=document,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert opened.returncode == 0, opened.stderr
    return opened.stdout.strip()


async def test_a_bureau_of_scrutineers_counts_with_two_of_three_shares(
    client: AsyncTestClient, coop: Coop, db: asyncpg.Connection, tmp_path
) -> None:
    scrutineers = coop.members[3:6]
    keys = []
    for index, scrutineer in enumerate(scrutineers):
        key_file, public = _trustee(tmp_path, f"scrutineer{index}")
        ok(await client.put("/api/v1/me/trustee-key", json={"public_key": public}, headers=scrutineer.headers), 204)
        keys.append(key_file)
    assembly = ok(
        await client.post(
            "/api/v1/assemblies",
            json={
                "kind": "ordinary",
                "title": "AG with a bureau",
                "scheduled_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                "voting_closes_at": (datetime.now(UTC) + timedelta(hours=3)).isoformat(),
            },
            headers=coop.admin.headers,
        ),
        201,
    )
    aid = assembly["id"]
    motion = ok(await client.post(f"/api/v1/assemblies/{aid}/proposals", json=MOTION, headers=coop.admin.headers), 201)
    bureau = {"trustees": [s.account_id for s in scrutineers], "threshold": 2}
    ok(await client.put(f"/api/v1/assemblies/{aid}/bureau", json=bureau, headers=coop.admin.headers))
    ok(await client.post(f"/api/v1/assemblies/{aid}/convene", headers=coop.admin.headers))
    ok(await client.post(f"/api/v1/assemblies/{aid}/open", headers=coop.admin.headers))
    pid = motion["id"]
    for voter, choice in zip(coop.members[:4], ["yes", "yes", "no", "yes"], strict=True):
        ok(await cast(client, voter, pid, choice), 201)

    # The server alone cannot count: no key, no derivation, nothing in the database.
    alone = await client.post(f"/api/v1/proposals/{pid}/close", headers=coop.admin.headers)
    assert alone.status_code == 409 and alone.json()["type"] == "urn:coop:problem:key-shares-needed"
    await db.execute(
        "update proposal set opens_at = now() - interval '2 seconds', closes_at = now() - interval '1 second' "
        "where id = $1",
        uuid.UUID(pid),
    )
    await asyncio.sleep(0.6)  # the background loop closes due votes every 0.2 s: it must leave this one alone
    assert (await db.fetchval("select state from proposal where id = $1", uuid.UUID(pid))) == "open"

    documents = [(await client.get(f"/api/v1/proposals/{pid}/key-share", headers=s.headers)).text for s in scrutineers]
    shares = [_open_share(key, document) for key, document in zip(keys, documents, strict=True)]
    # Wrong or too few shares are refused, and the vote stays countable.
    one = await client.post(f"/api/v1/proposals/{pid}/count", json={"shares": shares[:1]}, headers=coop.admin.headers)
    assert one.status_code == 409
    bad = shares[0].rsplit(".", 1)[0] + ".1234"
    wrong = await client.post(
        f"/api/v1/proposals/{pid}/count", json={"shares": [bad, shares[1]]}, headers=scrutineers[0].headers
    )
    assert wrong.status_code == 422 and wrong.json()["type"] == "urn:coop:problem:invalid-key-share"
    stranger = await client.post(
        f"/api/v1/proposals/{pid}/count", json={"shares": shares[1:]}, headers=coop.member(0).headers
    )
    assert stranger.status_code == 403
    counted = ok(
        await client.post(
            f"/api/v1/proposals/{pid}/count", json={"shares": [shares[2], shares[0]]}, headers=scrutineers[1].headers
        )
    )
    assert counted["state"] == "closed" and counted["outcome"] == "adopted"
    assert await db.fetchval("select count(*) from ballot_key_share where proposal_id = $1", uuid.UUID(pid)) == 0
