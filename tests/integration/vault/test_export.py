"""Export: a signed zip with open formats, verifiable credentials and the member's history, nothing more."""

from __future__ import annotations

import csv
import io
import json

import msgspec
from joserfc import jwt
from litestar.testing import AsyncTestClient

from app.vault import records
from tests.integration.assemblies import matrix_setups as governance
from tests.integration.conftest import Actors
from tests.integration.vault.helpers import did_keys, export, member_with_history, ok, verified_manifest


async def test_a_members_export_is_signed_complete_and_theirs_alone(client: AsyncTestClient, actors: Actors) -> None:
    history = await member_with_history(client, actors)
    # A secret ballot: the archive proves the member took part, never what they chose.
    vote = await governance.opened(client, actors)
    receipt = ok(
        await client.post(
            f"/api/v1/proposals/{vote['proposal']}/ballots",
            json={"choice": "no", "reason": "Raison très personnelle du vote"},
            headers=actors.owner.headers,
        ),
        201,
    )
    ok(await client.post(f"/api/v1/assemblies/{vote['assembly']}/close", headers=actors.admin.headers))

    data, archive = await export(client, actors.owner)
    jwks = ok(await client.get("/.well-known/jwks.json"))
    did = ok(await client.get("/.well-known/did.json"))
    assert did["id"] == "did:web:coop.test"
    assert [m["publicKeyJwk"]["x"] for m in did["verificationMethod"]] == [k["x"] for k in jwks["keys"]]

    manifest = verified_manifest(archive, did)
    assert manifest["format"] == "coop-vault" and manifest["format_version"] == "1.0"
    assert manifest["issuer"]["did"] == did["id"]
    assert manifest["subject"]["id"] == f"urn:uuid:{actors.owner.account_id}"
    names = set(archive.namelist())
    for section in ("applications", "engagements", "reviews_given", "reviews_received", "ballot_receipts", "proxies"):
        assert {f"{section}.json", f"{section}.csv"} <= names

    # The profile in three open formats; skills carry ESCO URIs.
    resume = json.loads(archive.read("resume.json"))
    assert resume["basics"]["name"] == "Camille Martin"
    python = next(s for s in resume["skills"] if s["name"] == "Python")
    assert python["url"].startswith("http://data.europa.eu/esco/skill/")
    assert resume["work"][0]["position"] == "Back-end developer"
    person = json.loads(archive.read("person.jsonld"))
    assert person["@context"] == "https://schema.org" and person["@type"] == "Person"
    assert any(term.get("@id", "").startswith("http://data.europa.eu/esco/") for term in person["knowsAbout"])

    # Tabular data twice: JSON for machines, CSV for spreadsheets.
    applications = json.loads(archive.read("applications.json"))
    assert {a["mission_id"] for a in applications} == {history["mission"], history["other_mission"]}
    rows = list(csv.DictReader(io.StringIO(archive.read("applications.csv").decode())))
    assert len(rows) == len(applications) and rows[0]["message"] == "Disponible et motivée."
    received = json.loads(archive.read("reviews_received.json"))
    assert [r["rating"] for r in received] == [5] and received[0]["skills_seen"] == ["python", "web-accessibility"]
    assert [r["rating"] for r in json.loads(archive.read("reviews_given.json"))] == [4]

    ballots = json.loads(archive.read("ballot_receipts.json"))
    assert [(b["proposal_id"], b["channel"]) for b in ballots] == [(vote["proposal"], "online")]
    assert "choice" not in ballots[0]
    assert receipt["tracker"].encode() not in data, "the ballot's tracker would link the member to their choice"
    for entry in archive.namelist():
        assert b"Raison tr" not in archive.read(entry), f"{entry} holds the ballot's reason"

    # Credentials: one per completed engagement, one per attested skill, verifiable with the published keys.
    credentials = sorted(n for n in names if n.startswith("credentials/"))
    assert len(credentials) == 3, credentials  # the engagement, python and web-accessibility
    for name in credentials:
        token = archive.read(name).decode()
        decoded = jwt.decode(token, did_keys(did), algorithms=["EdDSA"])
        assert decoded.header["typ"] == "vc+jwt" and decoded.header["kid"].startswith(did["id"] + "#")
        vc = decoded.claims
        assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
        assert vc["issuer"]["id"] == did["id"]
        assert vc["credentialSubject"]["id"] == f"urn:uuid:{actors.owner.account_id}"
    skill = jwt.decode(
        archive.read("credentials/skill-python.jwt").decode(), did_keys(did), algorithms=["EdDSA"]
    ).claims
    assert skill["credentialSubject"]["skill"]["id"].startswith("http://data.europa.eu/esco/skill/")

    # Every JSON file follows its published schema (docs/vault/ is generated from these very structs).
    msgspec.json.decode(archive.read("resume.json"), type=records.Resume)
    msgspec.json.decode(archive.read("person.jsonld"), type=records.Person)
    msgspec.json.decode(archive.read("profile.json"), type=records.ProfileFile)
    msgspec.json.decode(archive.read("account.json"), type=records.AccountFile)
    msgspec.json.decode(archive.read("manifest.json"), type=records.Manifest)
    for section in records.SECTIONS:
        msgspec.json.decode(archive.read(f"{section.name}.json"), type=list[section.row])
    for name in credentials:
        payload = jwt.decode(archive.read(name).decode(), did_keys(did), algorithms=["EdDSA"]).claims
        kind = records.SkillCredential if "/skill-" in name else records.EngagementCredential
        msgspec.convert(payload, kind)

    index = archive.read("index.html").decode()
    assert "<h1>Data vault of Camille Martin</h1>" in index and "resume.json" in index

    # Nothing of anyone else: the other member's name is not in the archive.
    assert b"Other Member" not in b"".join(archive.read(n) for n in names)
    log = ok(await client.get("/api/v1/me/vault/access-log", headers=actors.owner.headers))
    assert [item["action"] for item in log["items"]][:2] == ["export.downloaded", "export.requested"]


async def test_someone_elses_export_does_not_exist(client: AsyncTestClient, actors: Actors) -> None:
    started = ok(await client.post("/api/v1/me/vault/exports", headers=actors.owner.headers), 201)
    stolen = await client.get(started["download_url"], headers=actors.other_member.headers)
    assert stolen.status_code == 404
    assert stolen.headers["content-type"].startswith("application/problem+json")
    assert ok(await client.get("/api/v1/me/vault/exports", headers=actors.other_member.headers)) == []
