"""The `coop` command, run as a user runs it: migrate, demo, create-admin, version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from app import __version__
from app.demo import ADMIN_EMAIL, DEMO_PASSWORD, DEMO_SIZE, MEMBERS
from tests.conftest import TEST_PASSWORD
from tests.integration.live import coop_server


def coop(*args: str, database_url: URL, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "COOP_DATA_DIR": str(data_dir),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_version(empty_database_url: URL, tmp_path: Path) -> None:
    result = coop("version", database_url=empty_database_url, data_dir=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == __version__


def test_migrate_demo_and_sign_in(empty_database_url: URL, tmp_path: Path, signing_key_pem: str) -> None:
    migrated = coop("migrate", database_url=empty_database_url, data_dir=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "database at revision" in migrated.stderr

    first = coop("demo", database_url=empty_database_url, data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"{DEMO_SIZE} accounts created" in first.stderr
    assert "demo assembly: planned" in first.stderr
    again = coop("demo", database_url=empty_database_url, data_dir=tmp_path)
    assert f"0 accounts created, {DEMO_SIZE} already there" in again.stderr
    assert "demo assembly: already there" in again.stderr

    with coop_server(empty_database_url, tmp_path, signing_key_pem) as base:
        tokens = httpx.post(f"{base}/api/v1/auth/sign-in", json={"email": ADMIN_EMAIL, "password": DEMO_PASSWORD})
        assert tokens.status_code == 200, tokens.text
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        members = httpx.get(f"{base}/api/v1/accounts", params={"role": "member", "limit": 100}, headers=headers).json()
        assert members["total"] == 12
        assert {m["member_status"] for m in members["items"]} == {"member", "applicant", "departed"}
        clients = httpx.get(f"{base}/api/v1/accounts", params={"role": "client"}, headers=headers).json()
        assert clients["total"] == 2

        # The demo assembly runs to its result in minutes: convene, open, vote, close.
        assembly = httpx.get(f"{base}/api/v1/assemblies", headers=headers).json()["items"][0]
        for step in ("convene", "open"):
            done = httpx.post(f"{base}/api/v1/assemblies/{assembly['id']}/{step}", headers=headers)
            assert done.status_code == 200, done.text
        voter_email = next(email for _, email, status in MEMBERS if status == "member")
        voter = httpx.post(f"{base}/api/v1/auth/sign-in", json={"email": voter_email, "password": DEMO_PASSWORD})
        voter_headers = {"Authorization": f"Bearer {voter.json()['access_token']}"}
        agenda = httpx.get(f"{base}/api/v1/assemblies/{assembly['id']}", headers=headers).json()["agenda"]
        cast = httpx.post(f"{base}/api/v1/proposals/{agenda[0]}/ballots", json={"choice": "yes"}, headers=voter_headers)
        assert cast.status_code == 201, cast.text
        closed = httpx.post(f"{base}/api/v1/assemblies/{assembly['id']}/close", headers=headers)
        assert closed.status_code == 200, closed.text
        assert closed.json()["state"] == "closed"


def test_create_admin(empty_database_url: URL, tmp_path: Path, signing_key_pem: str) -> None:
    created = coop(
        "create-admin",
        "--email",
        "Treasurer@Example.org",
        "--display-name",
        "Trésorière",
        database_url=empty_database_url,
        data_dir=tmp_path,
        COOP_ADMIN_PASSWORD=TEST_PASSWORD,
    )
    assert created.returncode == 0, created.stderr
    assert "administrator treasurer@example.org created" in created.stderr
    duplicate = coop(
        "create-admin",
        "--email",
        "treasurer@example.org",
        "--display-name",
        "Again",
        database_url=empty_database_url,
        data_dir=tmp_path,
        COOP_ADMIN_PASSWORD=TEST_PASSWORD,
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    weak = coop(
        "create-admin",
        "--email",
        "weak@example.org",
        "--display-name",
        "Weak",
        database_url=empty_database_url,
        data_dir=tmp_path,
        COOP_ADMIN_PASSWORD="password",
    )
    assert weak.returncode == 1
    with coop_server(empty_database_url, tmp_path, signing_key_pem) as base:
        signed_in = httpx.post(
            f"{base}/api/v1/auth/sign-in", json={"email": "treasurer@example.org", "password": TEST_PASSWORD}
        )
        assert signed_in.status_code == 200
        me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
        assert me.json()["role"] == "admin"
