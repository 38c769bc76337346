"""Applications' messages are sealed at rest under their author's data key; the API shows them to whoever
may read the application; revision 0010 seals the messages written in clear before it (and its downgrade
opens them again)."""

from __future__ import annotations

import uuid

from alembic import command
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.sealing import master_keys_from_settings
from app.db.migrations import alembic_config
from app.settings import Settings
from tests.integration.conftest import Actors
from tests.integration.missions.helpers import apply, open_mission
from tests.integration.platform.conftest import connect

MESSAGE = "Disponible et motivée."


async def _migrate(database_url: URL, settings: Settings, revision: str, *, down: bool = False) -> None:
    engine = create_async_engine(database_url)

    def run(sync) -> None:  # type: ignore[no-untyped-def]
        config = alembic_config(database_url, sync)
        config.attributes["vault_master_keys"] = master_keys_from_settings(settings)
        (command.downgrade if down else command.upgrade)(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def test_messages_are_ciphertext_at_rest_and_text_through_the_api(
    client: AsyncTestClient, actors: Actors, database_url: URL, settings: Settings
) -> None:
    mission = await open_mission(client, actors.client)
    application = await apply(client, actors.owner, mission)
    assert application["message"] == MESSAGE
    other = await apply(client, actors.other_member, mission)
    db = await connect(database_url)
    try:

        async def stored() -> dict[str, str]:
            rows = await db.fetch("select id, message from application where mission_id = $1", uuid.UUID(mission["id"]))
            return {str(row["id"]): row["message"] for row in rows}

        at_rest = await stored()
        assert all(value.startswith("coop-sealed:1:") and "Disponible" not in value for value in at_rest.values())
        assert at_rest[application["id"]] != at_rest[other["id"]], "each under its author's key, with its own nonce"
        keys = await db.fetchval(
            "select count(*) from vault_member_key where account_id = any($1::uuid[])",
            [uuid.UUID(actors.owner.account_id), uuid.UUID(actors.other_member.account_id)],
        )
        assert keys == 2

        async def shown(actor) -> dict[str, str]:  # type: ignore[no-untyped-def]
            page = await client.get(f"/api/v1/missions/{mission['id']}/applications", headers=actor.headers)
            assert page.status_code == 200, page.text
            return {item["id"]: item["message"] for item in page.json()["items"]}

        # The client reads every applicant's message; each applicant only their own.
        assert await shown(actors.client) == {application["id"]: MESSAGE, other["id"]: MESSAGE}
        assert await shown(actors.owner) == {application["id"]: MESSAGE}
        decided = await client.post(
            f"/api/v1/missions/{mission['id']}/applications/{other['id']}/shortlist", headers=actors.client.headers
        )
        assert decided.status_code == 200 and decided.json()["message"] == MESSAGE
        # A decision changes the status, never rewrites the message in clear.
        assert (await stored())[other["id"]] == at_rest[other["id"]]

        # Before revision 0010 messages were plaintext; the revision seals them, its downgrade opens them.
        await _migrate(database_url, settings, "0009", down=True)
        assert set((await stored()).values()) == {MESSAGE}
        await _migrate(database_url, settings, "head")
        resealed = await stored()
        assert all(value.startswith("coop-sealed:1:") for value in resealed.values())
        assert resealed[other["id"]] != at_rest[other["id"]], "sealed again, with a fresh nonce"
        assert await shown(actors.client) == {application["id"]: MESSAGE, other["id"]: MESSAGE}
    finally:
        await db.close()
