"""Who may open which page and send which form: one row per case, one expected status per actor.

A member never sees another's private page: someone else's object answers 404, like a missing one.
Pages that need a signed-in visitor send anonymous browsers to the sign-in page (303); forms answer
them 401. Rows run in ACTOR_ORDER (the admin, who may change things, last).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.members.factories import profile_body
from tests.integration.missions.helpers import mission_body
from tests.integration.platform.matrix import ACTOR_ORDER, expect
from tests.integration.web.conftest import Browsers

SIGNED_IN_PAGE = expect(200, 200, 200, 200, 303)


@dataclass(frozen=True)
class Row:
    method: str
    url: Callable[[dict[str, Any]], str]
    expected: dict[str, int]
    why: str
    body: dict[str, str] | None = None


def _session_of(access_token: str) -> str:
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]


ROWS = [
    Row("GET", lambda c: "/dashboard", SIGNED_IN_PAGE, "each visitor's own dashboard"),
    Row("GET", lambda c: "/account", SIGNED_IN_PAGE, "one's own settings"),
    Row("GET", lambda c: "/account/sessions", SIGNED_IN_PAGE, "one's own sessions"),
    Row("GET", lambda c: "/me/profile", expect(200, 200, 403, 403, 303), "admitted members edit their profile"),
    Row(
        "GET",
        lambda c: f"/profiles/{c['owner']}",
        expect(200, 404, 404, 200, 404),
        "an unpublished profile exists for its member and administrators only",
    ),
    Row("GET", lambda c: "/admin/members", expect(403, 403, 403, 200, 303), "the member register is for admins"),
    Row("GET", lambda c: "/missions/new", expect(200, 200, 200, 403, 303), "clients and members post missions"),
    Row(
        "GET",
        lambda c: f"/missions/{c['draft']}",
        expect(404, 404, 200, 200, 404),
        "a draft mission is its client's (and administrators') alone",
    ),
    Row(
        "GET",
        lambda c: f"/missions/{c['draft']}/edit",
        expect(404, 404, 200, 200, 303),
        "a draft is rewritten by its client and administrators; to others it does not exist",
    ),
    Row(
        "POST",
        lambda c: f"/missions/{c['draft']}/edit",
        expect(404, 404, 400, 400, 401),
        "the draft's client and administrators rewrite it (this empty title is refused by the schema)",
        body={"title": ""},
    ),
    Row("GET", lambda c: "/assemblies", expect(200, 200, 403, 200, 303), "assemblies are for members and admins"),
    Row("GET", lambda c: "/assemblies/new", expect(403, 403, 403, 200, 303), "the chair plans assemblies"),
    Row(
        "POST",
        lambda c: "/assemblies/new",
        expect(403, 403, 403, 400, 401),
        "the chair plans assemblies (this empty form is refused by the schema)",
        body={"title": ""},
    ),
    Row(
        "POST",
        lambda c: "/proposals/new",
        expect(400, 400, 403, 400, 401),
        "members propose initiatives, admins decisions; clients outside every college may not (empty form)",
        body={"title": ""},
    ),
    Row("GET", lambda c: "/sign-in/oidc/unknown", expect(404, 404, 404, 404, 404), "no such provider"),
    Row(
        "POST",
        lambda c: f"/account/sessions/{c['owner_session']}/end",
        expect(303, 404, 404, 404, 401),
        "only its owner ends a session; to others it does not exist",
    ),
    Row(
        "POST",
        lambda c: "/me/profile/publish",
        expect(303, 404, 403, 403, 401),
        "publishes the caller's own profile (the other member has none)",
    ),
    Row(
        "POST",
        lambda c: f"/missions/{c['draft']}/transition",
        expect(404, 404, 409, 409, 401),
        "only the mission's client and administrators move it (draft cannot be staffed)",
        body={"to": "staffed"},
    ),
    Row(
        "POST",
        lambda c: f"/admin/members/{c['owner']}/status",
        expect(403, 403, 403, 303, 401),
        "admission is the administrators' act",
        body={"status": "member"},
    ),
    # Seed services: a member's CVs and training paths are theirs; the catalogue and diagnostic are open.
    Row("GET", lambda c: "/me/cv", expect(200, 200, 403, 403, 303), "admitted members read their CVs"),
    Row("GET", lambda c: "/me/training-paths", expect(200, 200, 403, 403, 303), "admitted members plan paths"),
    Row("GET", lambda c: "/trainings", expect(200, 200, 200, 200, 200), "the training catalogue is public"),
    Row("GET", lambda c: "/diagnostic", expect(200, 200, 200, 200, 200), "anyone takes the diagnostic"),
    Row(
        "GET",
        lambda c: f"/diagnostic/results/{c['owner']}",
        expect(404, 404, 404, 404, 303),
        "a result is its owner's (no such result here)",
    ),
    Row(
        "POST",
        lambda c: f"/me/cv/{c['owner']}/delete",
        expect(404, 404, 403, 403, 401),
        "a CV extraction exists for its member only (none here)",
    ),
    # Administration: every page and form is the administrators' alone.
    Row("GET", lambda c: "/admin/organisations", expect(403, 403, 403, 200, 303), "organisations to verify"),
    Row("GET", lambda c: "/admin/statutes", expect(403, 403, 403, 200, 303), "statutes and colleges"),
    Row("GET", lambda c: "/admin/audit", expect(403, 403, 403, 200, 303), "the audit log's head"),
    Row(
        "GET",
        lambda c: f"/admin/assemblies/{c['owner']}",
        expect(403, 403, 403, 404, 303),
        "an assembly's bureau page (no such assembly here)",
    ),
    Row(
        "POST",
        lambda c: f"/admin/organisations/{c['client_organisation']}/verify",
        expect(403, 403, 403, 303, 401),
        "verifying a client organisation is the administrators' act",
    ),
    Row(
        "POST",
        lambda c: "/admin/colleges",
        expect(403, 403, 403, 404, 401),
        "college admissions are the administrators' (no such account here)",
        body={"account_id": "00000000-0000-4000-8000-000000000000", "college": ""},
    ),
]


async def test_html_routes_authorization_matrix(client: AsyncTestClient, actors: Actors, browsers: Browsers) -> None:
    saved = await client.put("/api/v1/me/profile", json=profile_body(), headers=actors.owner.headers)
    assert saved.status_code == 200, saved.text
    draft = await client.post("/api/v1/missions", json=mission_body(), headers=actors.client.headers)
    assert draft.status_code == 201, draft.text
    context = {
        "owner": actors.owner.account_id,
        "draft": draft.json()["id"],
        "owner_session": _session_of(actors.owner.access_token or ""),
        "client_organisation": actors.client.organisation_id,
    }
    failures = []
    for row in ROWS:
        for name in ACTOR_ORDER:
            browser = browsers.by_name(name)
            url = row.url(context)
            response = await (browser.get(url) if row.method == "GET" else browser.post(url, row.body))
            if response.status_code != row.expected[name]:
                failures.append(f"{row.method} {url} as {name}: {response.status_code} != {row.expected[name]}")
            elif response.status_code == 303 and name == "anonymous" and row.method == "GET":
                assert response.headers["location"].startswith("/sign-in?next=")
    assert not failures, "\n".join(failures)
