"""The whole story through the API: found the statutes, plan, convene, proxies, open, vote (secret and
public, online, by proxy, by post, in the room, with colleges), close, verify, binding action, minutes."""

from __future__ import annotations

import json
import subprocess
import sys

from litestar.testing import AsyncTestClient

import governance
from tests.conftest import Mailbox
from tests.integration.assemblies.conftest import Coop, cast, convened_assembly, eventually, ok
from tests.integration.conftest import admit, register

MOTION = {
    "title": "Set the contribution at 8.5 %",
    "text": "The cooperative keeps 8.5 % of each invoice.",
    "board_approved": True,
    "action": {"type": "set_contribution_rate", "basis_points": 850},
}
ELECTION = {
    "title": "Elect the board's secretary",
    "text": "One seat.",
    "method": "single_choice",
    "options": [{"id": "ana", "label": "Ana"}, {"id": "bob", "label": "Bob"}],
    "secret": False,
}


async def test_an_assembly_from_convocation_to_verified_minutes(
    client: AsyncTestClient, coop: Coop, mailbox: Mailbox, tmp_path
) -> None:
    m = coop.members
    assembly_id, (motion, election) = await convened_assembly(client, coop, [MOTION, ELECTION])
    assembly = ok(await client.get(f"/api/v1/assemblies/{assembly_id}", headers=m[0].headers))
    assert assembly["state"] == "convened" and assembly["electorate_size"] == 7  # 6 members + the client
    await eventually(lambda: len([x for x in coop.mail(mailbox) if "Convocation" in x["Subject"]]) == 7)

    # A member admitted after the convocation is not in the frozen electorate.
    late = await register(client, name="Late Member")
    await admit(client, coop.admin, late)

    # Proxies before the vote opens: m4 -> m0 (named), m3 -> the board (blank).
    ok(
        await client.put(
            f"/api/v1/assemblies/{assembly_id}/proxy", json={"holder_id": m[0].account_id}, headers=m[4].headers
        )
    )
    ok(await client.put(f"/api/v1/assemblies/{assembly_id}/proxy", json={"holder_id": None}, headers=m[3].headers))
    # The SCIC statutes cap proxies at 2 per holder: a third one to m0 is refused.
    ok(
        await client.put(
            f"/api/v1/assemblies/{assembly_id}/proxy", json={"holder_id": m[0].account_id}, headers=m[5].headers
        )
    )
    refused = await client.put(
        f"/api/v1/assemblies/{assembly_id}/proxy", json={"holder_id": m[0].account_id}, headers=m[2].headers
    )
    assert refused.status_code == 422 and refused.json()["type"] == "urn:coop:problem:proxy-refused", refused.text
    ok(await client.delete(f"/api/v1/assemblies/{assembly_id}/proxy", headers=m[5].headers), 204)

    early = await cast(client, m[1], motion, "yes")
    assert early.status_code == 409 and early.json()["type"] == "urn:coop:problem:vote-not-open"
    ok(await client.post(f"/api/v1/assemblies/{assembly_id}/open", headers=coop.admin.headers))
    late_proxy = await client.put(
        f"/api/v1/assemblies/{assembly_id}/proxy", json={"holder_id": None}, headers=m[5].headers
    )
    assert late_proxy.status_code == 409

    # The secret motion.
    receipts = {}
    receipts["m0"] = ok(await cast(client, m[0], motion, "yes"), 201)
    receipts["m4"] = ok(await cast(client, m[0], motion, "yes", on_behalf_of=m[4].account_id), 201)
    assert receipts["m4"]["channel"] == "proxy"
    ok(await cast(client, m[1], motion, "no"), 201)
    receipts["m1"] = ok(await cast(client, m[1], motion, "yes"), 201)  # changed: the last one counts
    receipts["client"] = ok(await cast(client, coop.client, motion, "yes"), 201)
    ok(
        await client.post(
            f"/api/v1/proposals/{motion}/paper-ballots",
            json={"voter_id": m[2].account_id, "channel": "postal", "choice": "no"},
            headers=coop.admin.headers,
        ),
        201,
    )
    ok(
        await client.post(
            f"/api/v1/assemblies/{assembly_id}/attendance",
            json={"account_id": m[5].account_id},
            headers=coop.admin.headers,
        )
    )
    ok(
        await client.post(
            f"/api/v1/proposals/{motion}/paper-ballots",
            json={"voter_id": m[5].account_id, "channel": "room", "choice": "abstain"},
            headers=coop.admin.headers,
        ),
        201,
    )
    # Clear refusals.
    for actor, body, status, slug in [
        (late, {"choice": "yes"}, 403, "not-in-electorate"),
        (coop.admin, {"choice": "yes"}, 403, "not-in-electorate"),
        (m[1], {"choice": "yes", "on_behalf_of": m[3].account_id}, 403, "proxy-not-held"),
        (m[1], {"choice": "maybe"}, 422, "invalid-ballot"),
        (m[1], {"choice": ["yes", "no"]}, 422, "invalid-ballot"),
    ]:
        response = await client.post(f"/api/v1/proposals/{motion}/ballots", json=body, headers=actor.headers)
        assert response.status_code == status and response.json()["type"] == f"urn:coop:problem:{slug}", response.text
    hidden = await client.get(f"/api/v1/proposals/{motion}/results", headers=m[0].headers)
    assert hidden.status_code == 409  # running results are hidden by default
    mine = ok(await client.get(f"/api/v1/proposals/{motion}/ballot", headers=m[0].headers))
    assert mine["voted"] and mine["voted_for"] == [m[4].account_id]
    participation = ok(await client.get(f"/api/v1/proposals/{motion}/participation", headers=m[0].headers))
    assert participation["voted"] == 6 and participation["by_channel"] == {
        "online": 3,
        "proxy": 1,
        "postal": 1,
        "room": 1,
    }

    # The public election.
    for actor, choice in [(m[0], "ana"), (m[1], "bob"), (m[2], "ana"), (coop.client, "bob"), (m[5], "ana")]:
        ok(await cast(client, actor, election, choice), 201)
    ok(await cast(client, m[0], election, "ana", on_behalf_of=m[4].account_id), 201)
    # m4 votes in person afterwards: their own ballot overrides the proxy's.
    ok(await cast(client, m[4], election, "bob"), 201)
    overridden = await cast(client, m[0], election, "ana", on_behalf_of=m[4].account_id)
    assert overridden.status_code == 409

    closed = ok(await client.post(f"/api/v1/assemblies/{assembly_id}/close", headers=coop.admin.headers))
    assert closed["state"] == "closed" and closed["minutes_sha256"]

    # The motion: adopted, certificate verifies offline, box recounts, the action was applied.
    result = ok(await client.get(f"/api/v1/proposals/{motion}/results", headers=m[1].headers))
    assert result["final"] and result["outcome"] == "adopted", result
    certificate = ok(await client.get(f"/api/v1/proposals/{motion}/certificate", headers=m[1].headers))
    assert governance.verify(certificate)
    assert certificate["sha256"] == result["certificate_sha256"]
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(certificate))
    checked = subprocess.run(  # noqa: ASYNC221 - the offline tool, as a member would run it
        [sys.executable, "-m", "governance", "verify", str(path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    box = ok(await client.get(f"/api/v1/proposals/{motion}/box", headers=m[1].headers))
    trackers = {ballot["tracker"] for ballot in box["ballots"]}
    assert receipts["m1"]["tracker"] in trackers and receipts["client"]["tracker"] in trackers
    assert all(set(b) <= {"voter", "choice", "reason", "cast_by", "tracker"} for b in box["ballots"])
    assert all(b["voter"] == b["tracker"] for b in box["ballots"])  # secret: no member id anywhere
    assert len(box["ballots"]) == 7  # 6 cast + m3's blank proxy, voted by the board's rule
    box_path = tmp_path / "box.json"
    box_path.write_text(json.dumps(box))
    recount = subprocess.run(  # noqa: ASYNC221
        [sys.executable, "-m", "governance", "--json", "tally", str(box_path), "--certificate", str(path)],
        capture_output=True,
        text=True,
    )
    assert recount.returncode == 0, recount.stderr
    assert json.loads(recount.stdout)["outcome"] == "adopted"
    assert "The box matches certificate" in recount.stderr and "by proxy" in recount.stderr
    # One ballot changed in the published box: the offline tool says so and exits non-zero.
    flipped = next(b for b in box["ballots"] if b["choice"] in ("yes", "no"))
    flipped["choice"] = "no" if flipped["choice"] == "yes" else "yes"
    box_path.write_text(json.dumps(box))
    tampered = subprocess.run(  # noqa: ASYNC221
        [sys.executable, "-m", "governance", "tally", str(box_path), "--certificate", str(path)],
        capture_output=True,
        text=True,
    )
    assert tampered.returncode == 1 and "does not match certificate" in tampered.stderr
    statutes = ok(await client.get("/api/v1/statutes", headers=m[0].headers))
    assert statutes["contribution_rate_basis_points"] == 850
    proposal = ok(await client.get(f"/api/v1/proposals/{motion}", headers=m[0].headers))
    assert proposal["action_applied_at"] is not None

    # The election: public box names the voters; m4's own ballot counted, not the proxy's.
    box = ok(await client.get(f"/api/v1/proposals/{election}/box", headers=m[1].headers))
    named = {b["voter"]: b for b in box["ballots"]}
    assert named[m[4].account_id]["choice"] == "bob" and named[m[4].account_id]["channel"] == "online"
    assert governance.verify(ok(await client.get(f"/api/v1/proposals/{election}/certificate", headers=m[1].headers)))

    minutes = ok(await client.get(f"/api/v1/assemblies/{assembly_id}/minutes", headers=m[0].headers))
    assert "Procès-verbal" in minutes["markdown"] and "<table>" in minutes["html"]
    assert "represented by" in minutes["markdown"] and "Attendance sheet" in minutes["markdown"]
    await eventually(lambda: len([x for x in coop.mail(mailbox) if x["Subject"].startswith("Result")]) == 14)
