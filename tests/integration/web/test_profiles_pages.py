"""Profile pages: edit with référentiel skills, publish, public profile, search, suggestions; admissions."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors, register
from tests.integration.web.conftest import Browsers
from tests.integration.web.helpers import signed_in

PROFILE_FORM = {
    "display_name": "Camille Martin",
    "headline": "Développeuse Python et PostgreSQL",
    "bio": "Des API pour des coopératives.",
    "skill": ["Python", "postgres", ""],
    "level": ["4", "3", "3"],
    "years": ["6", "2", "0"],
    "day_rate_min": "450",
    "day_rate_max": "600,50",
    "city": "Lyon",
    "postal_code": "69004",
    "region": "Auvergne-Rhône-Alpes",
    "work_mode": "hybrid",
    "visibility": "members",
    "contact_email": "camille@example.org",
}


async def test_edit_publish_show_and_search_a_profile(actors: Actors, browsers: Browsers) -> None:
    owner = browsers.owner
    assert (await owner.get("/me/profile")).status_code == 200

    unknown = await owner.post("/me/profile", {**PROFILE_FORM, "skill": ["Klingon opera"]})
    assert unknown.status_code == 400 and 'id="error-skill-0"' in unknown.text and "Klingon opera" in unknown.text
    inverted = await owner.post("/me/profile", {**PROFILE_FORM, "day_rate_min": "700"})
    assert inverted.status_code == 400 and 'id="error-day_rate_max"' in inverted.text
    bad_amount = await owner.post("/me/profile", {**PROFILE_FORM, "day_rate_min": "beaucoup"})
    assert bad_amount.status_code == 400 and 'id="error-day_rate_min"' in bad_amount.text

    saved = await owner.post("/me/profile", PROFILE_FORM)
    assert saved.status_code == 303, saved.text
    edit = await owner.get("/me/profile")
    assert 'value="Python"' in edit.text and 'value="600.5"' in edit.text

    profile_path = f"/profiles/{actors.owner.account_id}"
    assert (await browsers.other_member.get(profile_path)).status_code == 404  # not published yet
    published = await owner.post("/me/profile/publish")
    assert published.status_code == 303 and published.headers["location"] == profile_path
    seen = await browsers.other_member.get(profile_path)
    assert seen.status_code == 200 and "Camille Martin" in seen.text and "600,50" in seen.text
    assert "camille@example.org" not in seen.text  # contact is for the member and administrators
    assert "camille@example.org" in (await browsers.admin.get(profile_path)).text
    assert (await browsers.anonymous.get(profile_path)).status_code == 404  # shared with members only

    found = await browsers.other_member.get("/profiles?q=devloppeuse")  # a typo is forgiven
    assert found.status_code == 200 and profile_path in found.text
    by_skill = await browsers.other_member.get("/profiles?skill=Python&work_mode=hybrid")
    assert profile_path in by_skill.text
    assert profile_path not in (await browsers.anonymous.get("/profiles?q=python")).text
    refused = await browsers.other_member.get("/profiles?skill=Klingon")
    assert refused.status_code == 200 and 'class="error-summary"' in refused.text

    suggestions = await owner.get("/skills/suggest?skill=pyth")
    assert '<option value="Python">' in suggestions.text

    withdrawn = await owner.post("/me/profile/unpublish")
    assert withdrawn.status_code == 303
    assert (await browsers.other_member.get(profile_path)).status_code == 404


async def test_admin_admits_an_applicant(client: AsyncTestClient, browsers: Browsers) -> None:
    applicant = await register(client, name="Nouvelle Candidate")
    page = await browsers.admin.get("/admin/members")
    assert page.status_code == 200 and "Nouvelle Candidate" in page.text
    browser = await signed_in(client, applicant.email or "")
    assert (await browser.get("/me/profile")).status_code == 403  # applicants have no profile yet
    admitted = await browsers.admin.post(f"/admin/members/{applicant.account_id}/status", {"status": "member"})
    assert admitted.status_code == 303
    assert (await browser.get("/me/profile")).status_code == 200
    bogus = await browsers.admin.post(f"/admin/members/{applicant.account_id}/status", {"status": "king"})
    assert bogus.status_code == 400
