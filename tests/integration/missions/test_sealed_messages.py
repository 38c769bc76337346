"""Applications' messages, reviews' texts and questions are sealed at rest under their author's data key;
the API shows them to whoever may read them; revision 0010 seals the texts written in clear before it (and
its downgrade opens them again)."""

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
from tests.integration.missions.helpers import apply, open_mission, staffed_and_delivered
from tests.integration.platform.conftest import connect

MESSAGE = "Disponible et motivée."
QUESTION = "Le poste est-il ouvert au télétravail complet ?"
REVIEW = "Une collaboration exemplaire, merci."


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


async def test_personal_texts_are_ciphertext_at_rest_and_text_through_the_api(
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

        # A question (public on the mission) and a review (public once published), sealed alike.
        asked = await client.post(
            f"/api/v1/missions/{mission['id']}/questions", json={"body": QUESTION}, headers=actors.owner.headers
        )
        assert asked.status_code == 201 and asked.json()["body"] == QUESTION, asked.text
        delivered = await staffed_and_delivered(client, actors.client, actors.owner, title="Refonte du portail")
        reviewed = await client.post(
            f"/api/v1/missions/{delivered['id']}/reviews",
            json={"subject_id": actors.client.account_id, "rating": 5, "text": REVIEW},
            headers=actors.owner.headers,
        )
        assert reviewed.status_code == 201 and reviewed.json()["text"] == REVIEW, reviewed.text

        async def texts() -> set[str]:
            rows = await db.fetch(
                "select body as value from mission_question union all select text from review"
                " union all select message from application"
            )
            return {row["value"] for row in rows}

        assert all(value.startswith("coop-sealed:1:") for value in await texts())

        async def shown_texts() -> tuple[list[str], list[str]]:
            questions = await client.get(f"/api/v1/missions/{mission['id']}/questions")
            reviews = await client.get(f"/api/v1/missions/{delivered['id']}/reviews", headers=actors.owner.headers)
            assert questions.status_code == 200 and reviews.status_code == 200, (questions.text, reviews.text)
            return [q["body"] for q in questions.json()["items"]], [r["text"] for r in reviews.json()["items"]]

        assert await shown_texts() == ([QUESTION], [REVIEW])

        # Before revision 0010 the texts were plaintext; the revision seals them, its downgrade opens them.
        await _migrate(database_url, settings, "0009", down=True)
        assert await texts() == {MESSAGE, QUESTION, REVIEW}
        await _migrate(database_url, settings, "head")
        resealed = await stored()
        assert all(value.startswith("coop-sealed:1:") for value in await texts())
        assert resealed[other["id"]] != at_rest[other["id"]], "sealed again, with a fresh nonce"
        assert await shown(actors.client) == {application["id"]: MESSAGE, other["id"]: MESSAGE}
        assert await shown_texts() == ([QUESTION], [REVIEW])
    finally:
        await db.close()
