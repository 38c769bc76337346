"""Seed services in the browser (no JavaScript): a CV read and its skills accepted into the profile,
training paths toward skills, the needs diagnostic drafting a mission (anonymous then claimed)."""

from __future__ import annotations

import re

import lxml.html
from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.cv import files
from tests.integration.members.factories import profile_body
from tests.integration.training.helpers import import_catalogue, seat_mission
from tests.integration.web.conftest import Browsers

CV_LINES = [
    "Camille Martin — Développeuse back-end",
    "2018 - 2024 : Développeuse Python chez Coop Numérique. API REST avec Django et PostgreSQL.",
    "Compétences : Python (6 ans), Docker, méthodes agiles.",
]
_SUGGESTION = re.compile(r'action="(/me/cv/[0-9a-f-]{36}/suggestions/[0-9a-f-]{36})"')


async def test_a_member_reads_a_cv_and_accepts_a_suggested_skill(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    owner = browsers.owner
    saved = await client.put("/api/v1/me/profile", json=profile_body([]), headers=actors.owner.headers)
    assert saved.status_code == 200, saved.text
    form = await owner.get("/me/cv")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text and 'href="/me/cv"' in form.text

    empty = await owner.post("/me/cv", {"text": "   "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text
    token = {"_csrf_token": await owner.csrf()}
    binary = await owner._send("POST", "/me/cv", data=token, files={"file": ("cv.docx", b"\x00\x01binary", "x/y")})
    assert binary.status_code == 415 and "error-summary" in binary.text  # the feature's refusal, shown on the form

    uploaded = await owner._send(
        "POST",
        "/me/cv",
        data={"_csrf_token": await owner.csrf()},
        files={"file": ("camille.pdf", files.docx(CV_LINES), "application/pdf")},
    )
    assert uploaded.status_code == 303, uploaded.text
    page = await owner.get("/me/cv")
    assert "Python" in page.text and "Django" in page.text and "Python (6 ans)" in page.text  # the evidence
    python_row = next(row for row in page.text.split("<tr>") if "<td>Python" in row)
    decide = _SUGGESTION.search(python_row)
    assert decide
    assert (await owner.post(decide.group(1), {"decision": "accept", "level": "4"})).status_code == 303
    again = await owner.post(decide.group(1), {"decision": "reject"})
    assert again.status_code == 409 and "error-summary" in again.text

    profile = (await client.get("/api/v1/me/profile", headers=actors.owner.headers)).json()
    assert [(s["slug"], s["level"], s["provenance"]) for s in profile["skills"]] == [("python", 4, "from_cv")]
    # Another member cannot decide on, or delete, this member's suggestions: they do not exist for them.
    assert (await browsers.other_member.post(decide.group(1), {"decision": "accept"})).status_code == 404
    extraction = decide.group(1).split("/suggestions/")[0]
    assert (await browsers.other_member.post(f"{extraction}/delete")).status_code == 404

    pasted = await owner.post("/me/cv", {"text": "\n".join(CV_LINES)})  # pasting works the same
    assert pasted.status_code == 303
    assert (await owner.post(f"{extraction}/delete")).status_code == 303
    profile = (await client.get("/api/v1/me/profile", headers=actors.owner.headers)).json()
    assert [s["slug"] for s in profile["skills"]] == ["python"]  # accepted skills stay


async def test_a_member_plans_and_follows_a_training_path(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    await import_catalogue(client, actors.admin)
    saved = await client.put("/api/v1/me/profile", json=profile_body([]), headers=actors.owner.headers)
    assert saved.status_code == 200, saved.text
    catalogue = await browsers.anonymous.get("/trainings?skill=docker")
    assert catalogue.status_code == 200 and "Docker pour les développeurs" in catalogue.text
    assert "Python avancé" not in catalogue.text
    unknown = await browsers.anonymous.get("/trainings?skill=zzzz-nothing")
    assert unknown.status_code == 400 and "error-summary" in unknown.text

    owner = browsers.owner
    assert (await owner.get("/me/training-paths")).status_code == 200
    target = {"skill": ["Python", "Docker", ""], "level": ["4", "3", "3"], "optimise": "duration"}
    wrong = await owner.post("/me/training-paths/plan", {**target, "skill": ["Pythonnn-nope", "", ""]})
    assert wrong.status_code == 400 and 'id="error-skill-0"' in wrong.text
    planned = await owner.post("/me/training-paths/plan", target)
    assert planned.status_code == 200 and "Python avancé" in planned.text
    assert "Docker pour les développeurs" in planned.text
    followed = await owner.post("/me/training-paths", target)
    assert followed.status_code == 303, followed.text
    path = followed.headers["location"]
    shown = await owner.get(path)
    done = re.findall(r'action="(' + re.escape(path) + r'/steps/[0-9a-f-]{36}/done)"', shown.text)
    assert len(done) == 2
    assert (await owner.post(done[0])).status_code == 303
    assert (await owner.post(done[0])).status_code == 409
    assert (await browsers.other_member.get(path)).status_code == 404  # a member's path is theirs alone
    assert (await browsers.other_member.post(done[1])).status_code == 404
    profile = (await client.get("/api/v1/me/profile", headers=actors.owner.headers)).json()
    assert {s["provenance"] for s in profile["skills"]} == {"trained"}
    assert path in (await owner.get("/me/training-paths")).text


ANSWERS = {
    "answer:organisation": "commune",
    "answer:existing": ["old_website"],
    "answer:goals": ["showcase_site", "booking"],
    "answer:budget": "from_15k_to_40k",
    "answer:deadline": "one_quarter",
    "answer:place": "hybrid",
}


async def test_the_diagnostic_drafts_a_mission_anonymously_then_claimed_and_posted(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    anonymous = browsers.anonymous
    form = await anonymous.get("/diagnostic")
    assert form.status_code == 200 and 'name="answer:organisation"' in form.text
    unknown = await anonymous.post("/diagnostic", {"answer:organisation": "spaceship"})
    assert unknown.status_code == 400 and "error-summary" in unknown.text
    taken = await anonymous.post("/diagnostic", ANSWERS)
    assert taken.status_code == 200 and 'id="claim-token"' in taken.text
    assert "Because you answered" in taken.text or "Parce que vous avez répondu" in taken.text
    token = re.search(r"<code>([A-Za-z0-9_-]{40,})</code>", taken.text)
    assert token

    customer = browsers.client
    claimed = await customer.post("/diagnostic/claim", {"token": token.group(1)})
    assert claimed.status_code == 303, claimed.text
    result = claimed.headers["location"]
    again = await customer.post("/diagnostic/claim", {"token": token.group(1)})
    assert again.status_code == 401 and "error-summary" in again.text  # a code is used once
    assert (await browsers.owner.get(result)).status_code == 404  # someone else's result does not exist
    shown = await customer.get(result)
    assert shown.status_code == 200 and f'action="{result}/mission"' in shown.text
    assert (await browsers.owner.post(f"{result}/mission")).status_code == 404
    posted = await customer.post(f"{result}/mission")
    assert posted.status_code == 303 and posted.headers["location"].startswith("/missions/")
    mission = await customer.get(posted.headers["location"])
    assert mission.status_code == 200
    assert f'action="{result}/mission"' not in (await customer.get(result)).text  # one result, one mission
    assert (await customer.post(f"{result}/mission")).status_code == 409

    # The draft is rewritten from the web: its form, sent back as it is shown, changes nothing but what is typed.
    path = posted.headers["location"]
    mission_id = path.rsplit("/", 1)[1]
    before = (await client.get(f"/api/v1/missions/{mission_id}", headers=actors.client.headers)).json()
    edit = await customer.get(f"{path}/edit")
    assert edit.status_code == 200, edit.text[-1500:]
    [form] = [f for f in lxml.html.fromstring(edit.text).forms if f.action == f"{path}/edit"]
    fields: dict[str, list[str]] = {}
    for name, value in form.form_values():
        fields.setdefault(name, []).append(value)
    sent = {name: values if name.startswith("seat_") else values[0] for name, values in fields.items()}
    sent.pop("_csrf_token", None)
    sent["title"] = "Site de la commune, revu"
    saved = await customer.post(f"{path}/edit", sent)
    assert saved.status_code == 303, saved.text[-1500:]
    after = (await client.get(f"/api/v1/missions/{mission_id}", headers=actors.client.headers)).json()
    assert after["title"] == "Site de la commune, revu"
    for key in ("description", "budget_amount_minor", "budget_kind", "starts_on", "ends_on", "work_mode"):
        assert after[key] == before[key], key

    def seats(mission: dict) -> list:
        return [
            (
                seat["title"],
                seat["day_rate_minor"],
                seat["days"],
                sorted((k["skill_id"], k["min_level"]) for k in seat["skills"]),
            )
            for seat in mission["seats"]
        ]

    assert seats(after) == seats(before) and before["seats"]

    signed_in = await browsers.owner.post("/diagnostic", ANSWERS)  # signed in: the result is theirs at once
    assert signed_in.status_code == 303 and signed_in.headers["location"].startswith("/diagnostic/results/")


async def test_a_path_toward_an_open_missions_seat(client: AsyncTestClient, actors: Actors, browsers: Browsers) -> None:
    await import_catalogue(client, actors.admin)
    saved = await client.put("/api/v1/me/profile", json=profile_body([]), headers=actors.other_member.headers)
    assert saved.status_code == 200, saved.text
    mission = await seat_mission(client, actors.owner)
    seat = mission["seats"][0]["id"]
    link = f"/me/training-paths?mission_id={mission['id']}&amp;seat_id={seat}"
    shown = await browsers.other_member.get(f"/missions/{mission['id']}")
    assert link in shown.text  # the seat's skills lead to the trainings that reach them
    form = await browsers.other_member.get(link.replace("&amp;", "&"))
    assert f'name="seat_id" value="{seat}"' in form.text
    planned = await browsers.other_member.post(
        "/me/training-paths/plan", {"mission_id": mission["id"], "seat_id": seat, "optimise": "cost"}
    )
    assert planned.status_code == 200 and "Parcours back-end complet" in planned.text  # the cheapest cover
    assert mission["title"] in planned.text  # the seat it opens
    wrong = await browsers.other_member.post(
        "/me/training-paths/plan", {"mission_id": mission["id"], "seat_id": actors.owner.account_id, "optimise": "cost"}
    )
    assert wrong.status_code == 400 and "error-summary" in wrong.text
