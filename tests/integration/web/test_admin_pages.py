"""Administration in the browser (no JavaScript): verifying client organisations, founding the
statutes and admitting to colleges, an assembly's bureau and the count with the scrutineers' shares,
the second call, and the audit log's head (the same as `coop audit head`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.assemblies.audit import chain_head_text
from app.db.engine import open_database
from app.settings import Settings
from tests.integration.assemblies.conftest import Coop, cast, convened_assembly, ok

# The assemblies' fixtures: a founded SCIC with admitted members, no notice period, a quick loop.
from tests.integration.assemblies.conftest import coop as coop
from tests.integration.assemblies.conftest import settings as settings
from tests.integration.assemblies.test_secret_ballot_attacks import MOTION, _open_share, _trustee
from tests.integration.conftest import Actors, register
from tests.integration.platform.conftest import connect
from tests.integration.web.conftest import Browsers
from tests.integration.web.helpers import Browser, signed_in


def _paris_local(delta: timedelta) -> str:
    """A `datetime-local` value as a browser sends it (the page reads it in Europe/Paris)."""
    from zoneinfo import ZoneInfo

    return (datetime.now(UTC) + delta).astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")


async def test_an_administrator_verifies_a_client_organisation(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    newcomer = await register(client, role="client", name="Nouvelle Régie")
    admin = browsers.admin
    waiting = await admin.get("/admin/organisations")
    assert waiting.status_code == 200 and f'id="organisation-{newcomer.organisation_id}"' in waiting.text
    verify = f"/admin/organisations/{newcomer.organisation_id}/verify"
    assert f'action="{verify}"' in waiting.text
    assert f"organisation-{actors.client.organisation_id}" not in waiting.text  # already verified: not waiting
    assert (await browsers.client.post(verify)).status_code == 403
    assert (await admin.post(verify)).status_code == 303
    assert f"organisation-{newcomer.organisation_id}" not in (await admin.get("/admin/organisations")).text
    everyone = await admin.get("/admin/organisations?all=1")
    assert f'id="organisation-{newcomer.organisation_id}"' in everyone.text
    assert f'action="{verify}"' not in everyone.text
    shown = await client.get(f"/api/v1/organisations/{newcomer.organisation_id}", headers=actors.admin.headers)
    assert shown.json()["verified"] is True
    assert (await admin.post(f"/admin/organisations/{actors.owner.account_id}/verify")).status_code == 404


async def test_an_administrator_founds_the_statutes_and_admits_to_a_college(
    client: AsyncTestClient, actors: Actors, browsers: Browsers, database_url: URL
) -> None:
    admin = browsers.admin
    assert (await admin.get("/admin/statutes")).status_code == 200
    wrong = await admin.post("/admin/statutes", {"preset": "monarchy"})
    assert wrong.status_code == 400 and "error-summary" in wrong.text
    founded = await admin.post(
        "/admin/statutes", {"preset": "scic_sas", "default_college": "workers", "chair_may_close_early": "on"}
    )
    assert founded.status_code == 303, founded.text
    statutes = (await client.get("/api/v1/statutes", headers=actors.admin.headers)).json()
    assert statutes["document"]["preset"] == "scic_sas" and statutes["document"]["chair_may_close_early"] is True
    assert statutes["document"]["chair_may_open_early"] is False
    page = await admin.get("/admin/statutes")
    assert "beneficiaries" in page.text and 'action="/admin/colleges"' in page.text

    unknown = await admin.post("/admin/colleges", {"account_id": actors.client.account_id, "college": "kings"})
    assert unknown.status_code == 409 and "error-summary" in unknown.text
    assigned = await admin.post("/admin/colleges", {"account_id": actors.client.account_id, "college": "beneficiaries"})
    assert assigned.status_code == 303
    connection = await connect(database_url)
    try:
        college = await connection.fetchval(
            "select college from college_membership where account_id = $1", actors.client.account_id
        )
    finally:
        await connection.close()
    assert college == "beneficiaries"
    nobody = await admin.post("/admin/colleges", {"account_id": "not-a-uuid", "college": "beneficiaries"})
    assert nobody.status_code == 400


async def test_a_bureau_is_named_and_the_vote_counted_with_its_shares(
    client: AsyncTestClient, coop: Coop, tmp_path: Any
) -> None:
    admin = await signed_in(client, coop.admin.email or "")
    scrutineer = coop.member(4)
    key_file, public = _trustee(tmp_path, "scrutineer")
    ok(await client.put("/api/v1/me/trustee-key", json={"public_key": public}, headers=scrutineer.headers), 204)
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
    pid = motion["id"]

    page = await admin.get(f"/admin/assemblies/{aid}")
    assert page.status_code == 200 and f'action="/admin/assemblies/{aid}/bureau"' in page.text
    keyless = await admin.post(
        f"/admin/assemblies/{aid}/bureau", {"trustee": [coop.member(0).account_id], "threshold": "1"}
    )
    assert keyless.status_code == 400 and 'id="error-trustees"' in keyless.text  # no registered key
    named = await admin.post(f"/admin/assemblies/{aid}/bureau", {"trustee": [scrutineer.account_id], "threshold": "1"})
    assert named.status_code == 303, named.text
    member = await signed_in(client, coop.member(0).email or "")
    assert (await member.post(f"/admin/assemblies/{aid}/bureau", {"trustee": [], "threshold": "1"})).status_code == 403

    ok(await client.post(f"/api/v1/assemblies/{aid}/convene", headers=coop.admin.headers))
    ok(await client.post(f"/api/v1/assemblies/{aid}/open", headers=coop.admin.headers))
    for voter, choice in zip(coop.members[:3], ["yes", "yes", "no"], strict=True):
        ok(await cast(client, voter, pid, choice), 201)
    page = await admin.get(f"/admin/assemblies/{aid}")
    assert f'action="/admin/proposals/{pid}/count"' in page.text
    alone = await admin.post(f"/admin/proposals/{pid}/count", {"shares": ""})
    assert alone.status_code == 409 and "error-summary" in alone.text  # the server alone cannot count
    document = (await client.get(f"/api/v1/proposals/{pid}/key-share", headers=scrutineer.headers)).text
    counted = await admin.post(f"/admin/proposals/{pid}/count", {"shares": _open_share(key_file, document)})
    assert counted.status_code == 303, counted.text
    result = ok(await client.get(f"/api/v1/proposals/{pid}", headers=coop.admin.headers))
    assert result["state"] == "closed"


async def test_a_second_call_after_a_missed_quorum_and_the_audit_head(
    client: AsyncTestClient, coop: Coop, settings: Settings, database_url: URL
) -> None:
    admin = await signed_in(client, coop.admin.email or "")
    aid, _ = await convened_assembly(client, coop, [{"title": "Accounts", "text": "Approve them."}])
    ok(await client.post(f"/api/v1/assemblies/{aid}/open", headers=coop.admin.headers))
    ok(await client.post(f"/api/v1/assemblies/{aid}/close", headers=coop.admin.headers))  # nobody voted
    page = await admin.get(f"/admin/assemblies/{aid}")
    assert f'action="/admin/assemblies/{aid}/second-call"' in page.text
    missing = await admin.post(f"/admin/assemblies/{aid}/second-call", {"scheduled_at": ""})
    assert missing.status_code == 400 and "error-summary" in missing.text
    when = {"scheduled_at": _paris_local(timedelta(days=15)), "voting_closes_at": _paris_local(timedelta(days=16))}
    second = await admin.post(f"/admin/assemblies/{aid}/second-call", when)
    assert second.status_code == 303, second.text
    second_page = await admin.get(second.headers["location"])
    assert "second call" in second_page.text
    again = await admin.post(f"/admin/assemblies/{aid}/second-call", when)
    assert again.status_code == 409

    # The audit head: what `coop audit head` prints once everything is chained.
    database = open_database(settings, database_url)
    try:
        expected = await chain_head_text(database.sessionmaker)
    finally:
        await database.dispose()
    audit = await admin.get("/admin/audit")
    assert audit.status_code == 200
    shown = re.search(r'<code id="audit-head">([0-9]+:[0-9a-f]{64})</code>', audit.text)
    assert shown and shown.group(1) == expected and int(expected.split(":")[0]) > 0
    member = await signed_in(client, coop.member(0).email or "")
    assert (await member.get("/admin/audit")).status_code == 403
    assert (await Browser(client).get("/admin/audit")).status_code == 303
