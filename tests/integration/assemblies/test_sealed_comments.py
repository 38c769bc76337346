"""Proposal comments are sealed at rest under their author's data key: every reader of the discussion
sees the text, the author's archive holds it, revision 0011 seals the comments written in clear before it
(its downgrade opens them), and a damaged comment answers a stable 500 problem, never someone else's text."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

from alembic import command
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrations import alembic_config
from app.settings import Settings
from tests.integration.assemblies.conftest import Coop, ok, soon
from tests.integration.platform.conftest import connect

FIRST = "Je soutiens, à condition d'un bilan après six mois."
SECOND = "Contre : nos clients attendent une présence le vendredi."


async def migrate(database_url: URL, settings: Settings, revision: str, *, down: bool = False) -> None:
    engine = create_async_engine(database_url)

    def run(sync) -> None:  # type: ignore[no-untyped-def]
        config = alembic_config(database_url, sync)
        config.attributes["settings"] = settings
        (command.downgrade if down else command.upgrade)(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def test_comments_are_ciphertext_at_rest_and_text_for_every_reader(
    client: AsyncTestClient, coop: Coop, database_url: URL, settings: Settings
) -> None:
    m = coop.members
    draft = ok(
        await client.post(
            "/api/v1/proposals",
            json={"title": "Four-day week", "text": "Let us try it.", "closes_at": soon(days=2)},
            headers=m[0].headers,
        ),
        201,
    )
    path = f"/api/v1/proposals/{draft['id']}/comments"
    written = ok(await client.post(path, json={"body": FIRST}, headers=m[1].headers), 201)
    assert written["body"] == FIRST
    ok(await client.post(path, json={"body": SECOND}, headers=m[2].headers), 201)

    async def thread(actor) -> list[str]:  # type: ignore[no-untyped-def]
        return [item["body"] for item in ok(await client.get(path, headers=actor.headers))["items"]]

    db = await connect(database_url)
    try:

        async def stored() -> dict[uuid.UUID, str]:
            rows = await db.fetch(
                "select id, body from proposal_comment where proposal_id = $1", uuid.UUID(draft["id"])
            )
            return {row["id"]: row["body"] for row in rows}

        at_rest = await stored()
        assert len(at_rest) == 2 and all(body.startswith("coop-sealed:1:") for body in at_rest.values())
        assert not any("soutiens" in body or "vendredi" in body for body in at_rest.values())
        assert await thread(m[3]) == [FIRST, SECOND] and await thread(coop.admin) == [FIRST, SECOND]
        assert await stored() == at_rest, "reading never writes the text back in clear"

        # The author's archive holds their comment, opened.
        started = ok(await client.post("/api/v1/me/vault/exports", headers=m[1].headers), 201)
        archive = zipfile.ZipFile(io.BytesIO((await client.get(started["download_url"], headers=m[1].headers)).content))
        [row] = json.loads(archive.read("proposal_comments.json"))
        assert (row["id"], row["body"], row["proposal_title"]) == (written["id"], FIRST, "Four-day week")

        # Before revision 0011 the comments were plaintext; it seals them, its downgrade opens them.
        await migrate(database_url, settings, "0010", down=True)
        assert set((await stored()).values()) == {FIRST, SECOND}
        await migrate(database_url, settings, "head")
        resealed = await stored()
        assert all(body.startswith("coop-sealed:1:") for body in resealed.values())
        assert all(resealed[id_] != at_rest[id_] for id_ in at_rest), "sealed again, with fresh nonces"
        assert await thread(m[3]) == [FIRST, SECOND]

        # A ciphertext copied onto another comment does not open there: a stable 500, not the other text.
        first_id, second_id = uuid.UUID(written["id"]), next(id_ for id_ in resealed if str(id_) != written["id"])
        await db.execute(
            "update proposal_comment set body = (select body from proposal_comment where id = $2) where id = $1",
            second_id,
            first_id,
        )
        damaged = await client.get(path, headers=m[3].headers)
        assert damaged.status_code == 500 and damaged.headers["content-type"].startswith("application/problem+json")
        assert damaged.json()["type"] == "urn:coop:problem:sealed-data-damaged"
        assert "soutiens" not in damaged.text and "vendredi" not in damaged.text
    finally:
        await db.close()
