"""Everyone is told what happens on the marketplace (issue 9, item 12): an application received,
shortlisted, accepted or declined, a question answered, a review published, a mission staffed; each
member chooses a mail at once, a daily digest or nothing, and unsubscribes in one click (RFC 8058)."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.core.mail import SmtpMailer
from app.db.engine import open_database
from app.notifications.digests import send_digests
from app.settings import Settings
from tests.conftest import Mailbox
from tests.integration.conftest import Actors, admit, register, verify_email
from tests.integration.missions.helpers import apply, move, open_mission


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _subjects(mailbox: Mailbox, address: str | None) -> list[str]:
    assert address is not None
    return [_subject(message) for message in mailbox.to(address)]


def _text(message: Message) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[union-attr]


def _titled(messages: list[Message], subject: str) -> Message:
    """Mails leave from after-commit tasks over separate SMTP sessions: find them by subject, not rank."""
    return next(message for message in messages if _subject(message) == subject)


async def test_the_marketplace_mails_each_side_and_respects_each_members_choice(
    client: AsyncTestClient, actors: Actors, mailbox: Mailbox, settings: Settings, database_url: URL
) -> None:
    rival = await register(client, name="Rival Member")
    await admit(client, actors.admin, rival)
    await verify_email(client, mailbox, rival)
    mailbox.messages.clear()

    mission = await open_mission(client, actors.client, seats=[{"title": "Back-end"}])
    application = await apply(client, actors.owner, mission)
    await apply(client, rival, mission)
    received = mailbox.wait_for(actors.client.email, 2)
    assert [_subject(m) for m in received] == [f"New application for {mission['title']}"] * 2
    first = next(m for m in received if "Owner Member applied" in _text(m))
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = str(first["List-Unsubscribe"]).strip("<>")
    assert unsubscribe_url.startswith("http://coop.test/api/v1/notifications/unsubscribe?token=")
    assert "Owner Member applied" in _text(first) and unsubscribe_url in _text(first)

    base = f"/api/v1/missions/{mission['id']}/applications/{application['id']}"
    assert (await client.post(f"{base}/shortlist", headers=actors.client.headers)).status_code == 200
    asked = await client.post(
        f"/api/v1/missions/{mission['id']}/questions", json={"body": "Télétravail ?"}, headers=rival.headers
    )
    answered = await client.post(
        f"/api/v1/missions/{mission['id']}/questions/{asked.json()['id']}/answer",
        json={"answer": "Deux jours par semaine."},
        headers=actors.client.headers,
    )
    assert answered.status_code == 200
    assert (await client.post(f"{base}/accept", headers=actors.client.headers)).status_code == 200
    owner_mail = mailbox.wait_for(actors.owner.email, 3)
    assert sorted(_subjects(mailbox, actors.owner.email)) == sorted(
        [
            f"You are shortlisted for {mission['title']}",
            f"Accepted: {mission['title']}",
            f"Staffed: {mission['title']}",
        ]
    ), "one seat: accepting it staffs the mission"
    assert "1 member" in _text(_titled(owner_mail, f"Staffed: {mission['title']}"))
    rival_mail = mailbox.wait_for(rival.email, 2)
    answered_mail = _titled(rival_mail, f"Your question about {mission['title']} is answered")
    declined_mail = _titled(rival_mail, f"Your application to {mission['title']}")
    assert "Deux jours par semaine." in _text(answered_mail) and "another member" in _text(declined_mail)
    assert f"Staffed: {mission['title']}" in _subjects(mailbox, actors.client.email)

    # The member switches to a daily digest: nothing at once, one digest later.
    preference = await client.put("/api/v1/me/notifications", json={"mode": "daily"}, headers=actors.owner.headers)
    assert preference.status_code == 200 and preference.json()["mode"] == "daily"
    await move(client, actors.client, mission["id"], "in_progress")
    await move(client, actors.client, mission["id"], "delivered")
    reviews = f"/api/v1/missions/{mission['id']}/reviews"
    for author, subject in ((actors.client, actors.owner), (actors.owner, actors.client)):
        posted = await client.post(
            reviews, json={"subject_id": subject.account_id, "rating": 5, "text": "Très bien."}, headers=author.headers
        )
        assert posted.status_code == 201
    mailbox.wait_for(actors.client.email, 5)
    assert "A review about you is published" in _subjects(mailbox, actors.client.email)
    assert len(mailbox.to(actors.owner.email)) == 3, "the review of the owner waits for the digest"
    waiting = (await client.get("/api/v1/me/notifications", headers=actors.owner.headers)).json()
    assert waiting == {"mode": "daily", "pending": 1, "updated_at": None}
    # What the digest loop of every server process does (or `coop notifications send-digests`).
    database = open_database(settings, database_url)
    try:
        assert await send_digests(database.sessionmaker, settings, SmtpMailer(settings)) == 0, "not a day old yet"
        assert await send_digests(database.sessionmaker, settings, SmtpMailer(settings), older_than=timedelta(0)) == 1
    finally:
        await database.dispose()
    digest = mailbox.wait_for(actors.owner.email, 4)[-1]
    assert _subject(digest) == "Your marketplace digest: 1 update"
    assert "A review about you is published" in _text(digest) and digest["List-Unsubscribe"]
    assert (await client.get("/api/v1/me/notifications", headers=actors.owner.headers)).json()["pending"] == 0

    # One click, as a mail client does it (RFC 8058): no credentials, a form body.
    token = unsubscribe_url.split("token=", 1)[1]
    clicked = await client.post(
        "/api/v1/notifications/unsubscribe",
        params={"token": token},
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert clicked.status_code == 200, clicked.text and clicked.json()["mode"] == "off"
    assert (await client.get("/api/v1/me/notifications", headers=actors.client.headers)).json()["mode"] == "off"
    forged = await client.post("/api/v1/notifications/unsubscribe", params={"token": token[:-2] + "xx"})
    assert forged.status_code == 401 and forged.json()["type"] == "urn:coop:problem:invalid-token"
    before = len(mailbox.to(actors.client.email))
    second = await open_mission(client, actors.client, seats=[{"title": "Design"}])
    await apply(client, rival, second)
    assert len(mailbox.wait_for(actors.client.email, before + 1, timeout=1.0)) == before, "unsubscribed: no mail"
