"""Who may call what: one row per operation, one expected status per actor.

Actors (see tests/integration/conftest.py): `owner` and `other_member` are admitted members, `client`
acts for a client organisation, `admin` is an administrator, `anonymous` sends no token. Rows that
name an object use the owner's account or the client's organisation, so the row also proves the
object-level check: someone else's object answers 404, exactly like a missing one.

`test_every_operation_is_in_the_matrix` walks the OpenAPI document: an endpoint added without a row
here (or a reasoned place in PUBLIC_OPERATIONS) fails the suite.
"""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.accounts import matrix_rows as accounts_rows
from tests.integration.assemblies import matrix_rows as governance_rows
from tests.integration.assemblies import matrix_setups as governance_setups
from tests.integration.conftest import Actor, Actors
from tests.integration.cv import matrix_rows as cv_rows
from tests.integration.diagnostic import matrix_rows as diagnostic_rows
from tests.integration.members import matrix_setups as marketplace
from tests.integration.members.factories import profile_body
from tests.integration.missions import matrix_rows as missions_rows
from tests.integration.missions import matrix_setups as missions
from tests.integration.missions.helpers import mission_body
from tests.integration.notifications import matrix_rows as notifications_rows
from tests.integration.payments import matrix_rows as payments_rows
from tests.integration.platform.conftest import assert_problem, operations
from tests.integration.platform.matrix import (
    ACTOR_ORDER,
    ANYONE,
    EVERYONE_SIGNED_IN,
    PROBLEM_TYPES,
    Rule,
    expect,
)
from tests.integration.training import matrix_rows as training_rows
from tests.integration.vault import matrix_rows as vault_rows

MATRIX: list[Rule] = [
    Rule("GET", "/api/v1/me", EVERYONE_SIGNED_IN, why="your own account"),
    Rule(
        "PATCH",
        "/api/v1/me",
        EVERYONE_SIGNED_IN,
        body={"display_name": "Renamed"},
        why="only ever changes the caller's own account",
    ),
    Rule("GET", "/api/v1/accounts", expect(403, 403, 403, 200, 401), why="the member register is for admins"),
    Rule(
        "GET",
        "/api/v1/accounts/{account_id}",
        expect(200, 404, 404, 200, 401),
        url=lambda a: f"/api/v1/accounts/{a.owner.account_id}",
        why="the owner's account: the owner and admins see it; to others it does not exist",
    ),
    Rule(
        "PATCH",
        "/api/v1/accounts/{account_id}/member-status",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/accounts/{a.owner.account_id}/member-status",
        body={"status": "member"},
        why="admission is the administrators' act, even on one's own account",
    ),
    Rule(
        "GET",
        "/api/v1/organisations/{organisation_id}",
        expect(404, 404, 200, 200, 401),
        url=lambda a: f"/api/v1/organisations/{a.client.organisation_id}",
        why="the client's organisation: its people and admins see it; to members it does not exist",
    ),
    Rule("POST", "/api/v1/auth/sign-out", expect(204, 204, 204, 204, 401), why="ends the caller's own session"),
    Rule(
        "POST",
        "/api/v1/auth/verify-email/request",
        expect(202, 202, 202, 202, 401),
        why="mails the caller's own address",
    ),
    # Public reads: the same answer for everyone, a token or none.
    Rule("GET", "/api/v1/auth/oidc", ANYONE, why="which providers exist is public"),
    Rule("GET", "/health/live", ANYONE, why="probe"),
    Rule("GET", "/health/ready", ANYONE, why="probe"),
    Rule("GET", "/.well-known/jwks.json", ANYONE, why="public keys are public"),
    # Marketplace: profiles and the skills référentiel (tests/integration/members).
    Rule("GET", "/api/v1/profiles", ANYONE, why="search; what each caller finds is tested in members/"),
    Rule(
        "GET",
        "/api/v1/profiles/{account_id}",
        expect(200, 200, 404, 200, 404),
        url=lambda a: f"/api/v1/profiles/{a.owner.account_id}",
        setup=marketplace.owner_profile,
        why="a members-only profile: admitted members and admins see it; to others it does not exist",
    ),
    Rule(
        "GET",
        "/api/v1/me/profile",
        expect(200, 404, 403, 403, 401),
        setup=marketplace.owner_profile,
        why="admitted members read their own profile (the other member has none yet)",
    ),
    Rule(
        "PUT",
        "/api/v1/me/profile",
        expect(200, 200, 403, 403, 401),
        body=profile_body(),
        why="only admitted members keep a profile, and only their own",
    ),
    Rule(
        "POST",
        "/api/v1/me/profile/publish",
        expect(200, 404, 403, 403, 401),
        setup=marketplace.owner_profile,
        why="publishes the caller's own profile",
    ),
    Rule(
        "POST",
        "/api/v1/me/profile/unpublish",
        expect(200, 404, 403, 403, 401),
        setup=marketplace.owner_profile,
        why="unpublishes the caller's own profile",
    ),
    Rule("GET", "/api/v1/skills", ANYONE, why="the référentiel is public"),
    Rule(
        "GET",
        "/api/v1/skills/{skill_id}",
        ANYONE,
        url=lambda a: f"/api/v1/skills/{a.context['skill']}",
        setup=marketplace.seeded_skill,
        why="the référentiel is public",
    ),
    Rule(
        "POST",
        "/api/v1/skills",
        expect(201, 201, 403, 201, 401),
        body=lambda a, actor: {"name": f"Skill proposed by {actor.name}"},
        why="admitted members propose skills; admins add them",
    ),
    Rule(
        "POST",
        "/api/v1/skills/{skill_id}/accept",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/skills/{a.context['proposal']}/accept",
        setup=marketplace.proposed_skill,
        why="accepting a proposal is the administrators' act",
    ),
    Rule(
        "POST",
        "/api/v1/skills/{skill_id}/merge",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/skills/{a.context['proposal']}/merge",
        body=lambda a, actor: {"into_skill_id": a.context["skill"]},
        setup=marketplace.proposed_skill,
        why="merging is the administrators' act",
    ),
    # Marketplace: missions, applications, questions, reviews, matching (tests/integration/missions).
    Rule("GET", "/api/v1/missions", ANYONE, why="search; leaks are tested in missions/"),
    Rule(
        "POST",
        "/api/v1/missions",
        expect(201, 201, 201, 403, 401),
        body=mission_body(),
        why="clients post missions; admitted members bring them as referrers",
    ),
    Rule(
        "GET",
        "/api/v1/missions/{mission_id}",
        expect(200, 200, 404, 200, 404),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}",
        setup=missions.members_only_mission_of_owner,
        why="a members-only mission does not exist for clients and anonymous visitors",
    ),
    Rule(
        "PUT",
        "/api/v1/missions/{mission_id}",
        expect(200, 404, 404, 200, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}",
        body=mission_body(),
        setup=missions.draft_of_owner,
        why="a draft: its owner and admins rewrite it; to others it does not exist",
    ),
    Rule(
        "POST",
        "/api/v1/missions/{mission_id}/transitions",
        expect(200, 404, 404, 200, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/transitions",
        body=lambda a, actor: {"to": "cancelled" if actor.name == "admin" else "open"},
        setup=missions.draft_of_owner,
        why="the owner opens its draft, the admin cancels it; others do not see a draft",
    ),
    Rule(
        "GET",
        "/api/v1/missions/{mission_id}/transitions",
        expect(200, 403, 404, 200, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/transitions",
        setup=missions.members_only_mission_of_owner,
        why="the log is for participants and admins; clients do not see a members-only mission",
    ),
    Rule(
        "GET",
        "/api/v1/missions/{mission_id}/applications",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/applications",
        setup=missions.members_only_mission_of_owner,
        why="the owner and admins see all applications, other members their own",
    ),
    Rule(
        "POST",
        "/api/v1/missions/{mission_id}/applications",
        expect(201, 201, 403, 403, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/applications",
        body=lambda a, actor: {"seat_id": a.context["seat"], "message": "Hello", "proposed_day_rate_minor": 40000},
        setup=missions.public_mission_of_client,
        why="admitted members apply; clients and admins do not",
    ),
    Rule(
        "POST",
        "/api/v1/missions/{mission_id}/applications/{application_id}/withdraw",
        expect(200, 404, 403, 403, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/applications/{a.context['application']}/withdraw",
        setup=missions.application_of_owner,
        why="only the applicant withdraws; another member does not see the application",
    ),
    Rule(
        "POST",
        "/api/v1/missions/{mission_id}/applications/{application_id}/shortlist",
        expect(403, 404, 200, 409, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/applications/{a.context['application']}/shortlist",
        setup=missions.application_of_owner,
        why="the mission's owner (the client) shortlists; the admin may too, but it already is (409)",
    ),
    Rule(
        "POST",
        "/api/v1/missions/{mission_id}/applications/{application_id}/accept",
        expect(403, 404, 200, 409, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/applications/{a.context['application']}/accept",
        setup=missions.application_of_owner,
        why="the mission's owner accepts; the admin may too, but it already is (409)",
    ),
    Rule(
        "POST",
        "/api/v1/missions/{mission_id}/applications/{application_id}/decline",
        expect(403, 404, 200, 409, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/applications/{a.context['application']}/decline",
        setup=missions.application_of_owner,
        why="the mission's owner declines; the admin may too, but it already is (409)",
    ),
    Rule(
        "GET",
        "/api/v1/missions/{mission_id}/questions",
        expect(200, 200, 404, 200, 404),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/questions",
        setup=missions.members_only_mission_of_owner,
        why="the thread is visible to whoever sees the mission",
    ),
    Rule(
        "POST",
        "/api/v1/missions/{mission_id}/questions",
        expect(201, 201, 403, 403, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/questions",
        body={"body": "Est-ce en télétravail ?"},
        setup=missions.public_mission_of_client,
        why="admitted members ask",
    ),
    Rule(
        "POST",
        "/api/v1/missions/{mission_id}/questions/{question_id}/answer",
        expect(403, 403, 200, 200, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/questions/{a.context['question']}/answer",
        body={"answer": "Oui."},
        setup=missions.question_of_owner,
        why="the mission's owner (the client) and admins answer",
    ),
    Rule(
        "GET",
        "/api/v1/missions/{mission_id}/reviews",
        ANYONE,
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/reviews",
        setup=missions.delivered_mission,
        why="published reviews of a public mission are public (unpublished ones only to their author)",
    ),
    Rule(
        "POST",
        "/api/v1/missions/{mission_id}/reviews",
        expect(201, 403, 201, 403, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/reviews",
        body=lambda a, actor: {
            "subject_id": a.client.account_id if actor.name in ("owner", "other_member") else a.owner.account_id,
            "rating": 5,
            "text": "Merci !",
        },
        setup=missions.delivered_mission,
        why="only participants (the client and the engaged owner) review each other",
    ),
    Rule(
        "GET",
        "/api/v1/missions/{mission_id}/matches",
        expect(403, 403, 200, 200, 401),
        url=lambda a: f"/api/v1/missions/{a.context['mission']}/matches",
        setup=missions.public_mission_of_client,
        why="matches are for the mission's owner and admins",
    ),
    Rule("GET", "/api/v1/me/missions", EVERYONE_SIGNED_IN, why="the caller's own missions"),
    Rule(
        "GET",
        "/api/v1/me/matches",
        expect(200, 404, 403, 403, 401),
        setup=marketplace.owner_profile,
        why="for admitted members with a profile (the other member has none)",
    ),
    Rule(
        "GET",
        "/api/v1/profiles/{account_id}/reviews",
        expect(200, 200, 404, 200, 404),
        url=lambda a: f"/api/v1/profiles/{a.owner.account_id}/reviews",
        setup=marketplace.owner_profile,
        why="reviews are shown where the (members-only) profile is",
    ),
    Rule("GET", "/api/v1/matching/policy", EVERYONE_SIGNED_IN, why="the cooperative's setting, shown to its users"),
    Rule(
        "PUT",
        "/api/v1/matching/policy",
        expect(403, 403, 403, 200, 401),
        body={"territorial_fairness": 20},
        why="administrators set the policy",
    ),
    # Assemblies (tests/integration/assemblies): the owner and the other member are admitted members,
    # in the electorate of whatever is convened or opened; the client is in no college, so assemblies do
    # not exist for them; the administrator chairs but does not vote.
    Rule("GET", "/api/v1/statutes", expect(200, 200, 403, 200, 401), why="governance participants read the statutes"),
    Rule(
        "PUT",
        "/api/v1/statutes",
        expect(403, 403, 403, 200, 401),
        body={"preset": "scop_sarl"},
        why="founding the statutes is the administrators' act; later changes are voted",
    ),
    Rule(
        "PUT",
        "/api/v1/statutes/colleges/{account_id}",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/statutes/colleges/{a.client.account_id}",
        body={"college": None},
        why="admission to a college is the administrators' act (or a vote's binding action)",
    ),
    Rule("GET", "/api/v1/assemblies", expect(200, 200, 403, 200, 401), why="members and admins see assemblies"),
    Rule(
        "POST",
        "/api/v1/assemblies",
        expect(403, 403, 403, 201, 401),
        body={"kind": "ordinary", "title": "AG", "scheduled_at": "2031-06-01T18:00:00Z"},
        why="the chair plans assemblies",
    ),
    Rule(
        "GET",
        "/api/v1/assemblies/{assembly_id}",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}",
        setup=governance_setups.planned,
        why="to a client outside every college an assembly does not exist",
    ),
    Rule(
        "POST",
        "/api/v1/assemblies/{assembly_id}/proposals",
        expect(403, 403, 403, 201, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/proposals",
        body={"title": "Budget", "text": "Adopt the budget."},
        setup=governance_setups.planned,
        why="the board sets the agenda; members go through initiatives",
    ),
    Rule(
        "POST",
        "/api/v1/assemblies/{assembly_id}/convene",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/convene",
        setup=governance_setups.planned,
        why="the chair convenes",
    ),
    Rule(
        "POST",
        "/api/v1/assemblies/{assembly_id}/open",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/open",
        setup=governance_setups.convened,
        why="the chair opens the vote (it also opens by itself on time)",
    ),
    Rule(
        "POST",
        "/api/v1/assemblies/{assembly_id}/close",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/close",
        setup=governance_setups.opened,
        why="the chair closes, early only if the statutes allow (they do in this setup)",
    ),
    Rule(
        "POST",
        "/api/v1/assemblies/{assembly_id}/second-call",
        expect(403, 403, 403, 409, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/second-call",
        body={"scheduled_at": "2031-06-15T18:00:00Z"},
        setup=governance_setups.closed,
        why="the chair's act; here every resolution had its quorum, so there is nothing to call again",
    ),
    Rule(
        "GET",
        "/api/v1/assemblies/{assembly_id}/attendance",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/attendance",
        setup=governance_setups.convened,
        why="the attendance sheet is the members'",
    ),
    Rule(
        "POST",
        "/api/v1/assemblies/{assembly_id}/attendance",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/attendance",
        body=lambda a, actor: {"account_id": a.owner.account_id},
        setup=governance_setups.convened,
        why="the chair records who is in the room",
    ),
    Rule(
        "GET",
        "/api/v1/assemblies/{assembly_id}/minutes",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/minutes",
        setup=governance_setups.closed,
        why="the minutes are the members'",
    ),
    Rule(
        "GET",
        "/api/v1/assemblies/{assembly_id}/convocations",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/convocations",
        setup=governance_setups.convened,
        why="the record of who was sent what holds addresses: administrators only",
    ),
    Rule(
        "PUT",
        "/api/v1/assemblies/{assembly_id}/proxy",
        expect(200, 200, 404, 403, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/proxy",
        body={"holder_id": None},
        setup=governance_setups.convened,
        problem_types=frozenset({"urn:coop:problem:not-in-electorate"}),
        why="members of the electorate give their own proxy; the admin is not in it",
    ),
    Rule(
        "DELETE",
        "/api/v1/assemblies/{assembly_id}/proxy",
        expect(204, 404, 404, 404, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/proxy",
        setup=governance_setups.convened_with_proxy,
        why="only the owner gave a proxy: only theirs can be withdrawn",
    ),
    Rule(
        "GET",
        "/api/v1/assemblies/{assembly_id}/proxies",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/proxies",
        setup=governance_setups.convened_with_proxy,
        why="members see the proxies they gave or hold; admins all of them",
    ),
    Rule("GET", "/api/v1/proposals", expect(200, 200, 403, 200, 401), why="members and admins see proposals"),
    Rule(
        "POST",
        "/api/v1/proposals",
        expect(201, 201, 403, 201, 401),
        body={"title": "Initiative", "text": "Let us decide.", "closes_at": "2031-06-01T18:00:00Z"},
        why="members draft initiatives, admins decisions between assemblies; clients outside colleges neither",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}",
        setup=governance_setups.planned,
        why="a proposal on an agenda is visible to members",
    ),
    Rule(
        "POST",
        "/api/v1/proposals/{proposal_id}/cosign",
        expect(409, 200, 404, 403, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/cosign",
        setup=governance_setups.initiative,
        why="other members co-sign the owner's initiative; its author does not, nor does the admin",
    ),
    Rule(
        "POST",
        "/api/v1/proposals/{proposal_id}/open",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/open",
        setup=governance_setups.standalone,
        why="the chair opens a decision between assemblies",
    ),
    Rule(
        "POST",
        "/api/v1/proposals/{proposal_id}/close",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/close",
        setup=governance_setups.opened,
        why="the chair closes (early only if the statutes allow)",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}/comments",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/comments",
        setup=governance_setups.planned,
        why="the discussion is the members'",
    ),
    Rule(
        "POST",
        "/api/v1/proposals/{proposal_id}/comments",
        expect(201, 201, 404, 201, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/comments",
        body={"body": "I support it."},
        setup=governance_setups.planned,
        why="members and the board discuss",
    ),
    Rule(
        "PUT",
        "/api/v1/proposals/{proposal_id}/proxy",
        expect(200, 200, 404, 403, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/proxy",
        body={"holder_id": None},
        setup=governance_setups.standalone,
        problem_types=frozenset({"urn:coop:problem:not-in-electorate"}),
        why="members give their own proxy for a decision between assemblies; the admin does not vote",
    ),
    Rule(
        "DELETE",
        "/api/v1/proposals/{proposal_id}/proxy",
        expect(204, 404, 404, 404, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/proxy",
        setup=governance_setups.standalone_with_proxy,
        why="only the owner gave a proxy",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}/proxies",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/proxies",
        setup=governance_setups.standalone_with_proxy,
        why="members see their own proxies; admins all",
    ),
    Rule(
        "POST",
        "/api/v1/proposals/{proposal_id}/ballots",
        expect(201, 201, 404, 403, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/ballots",
        body={"choice": "yes"},
        setup=governance_setups.opened,
        problem_types=frozenset({"urn:coop:problem:not-in-electorate"}),
        why="members of the electorate vote; the admin chairs but is not in it; clients never vote",
    ),
    Rule(
        "POST",
        "/api/v1/proposals/{proposal_id}/paper-ballots",
        expect(403, 403, 403, 201, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/paper-ballots",
        body=lambda a, actor: {"voter_id": a.owner.account_id, "channel": "postal", "choice": "yes"},
        setup=governance_setups.opened,
        why="the chair records postal and in-room ballots",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}/ballot",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/ballot",
        setup=governance_setups.opened,
        why="each caller's own ballot status",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}/participation",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/participation",
        setup=governance_setups.opened,
        why="participation is public to the members",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}/results",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/results",
        setup=governance_setups.closed,
        why="results are published to the members at the close",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}/certificate",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/certificate",
        setup=governance_setups.closed,
        why="the certificate is published to the members",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}/box",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/box",
        setup=governance_setups.closed,
        why="the ballot box is published to the members",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}/live",
        expect(200, 200, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/live",
        setup=governance_setups.closed,
        why="live updates for the members (a closed vote's stream ends after its result)",
    ),
    *governance_rows.ROWS,
    *accounts_rows.ROWS,
    *missions_rows.ROWS,
    *notifications_rows.ROWS,
    *cv_rows.ROWS,
    *training_rows.ROWS,
    *diagnostic_rows.ROWS,
    *payments_rows.ROWS,
    *vault_rows.ROWS,
]

# Operations whose caller is identified by what they send (credentials, a single-use token, an OIDC
# state), not by a bearer token; each has its own tests in tests/integration/accounts.
PUBLIC_OPERATIONS = {
    "POST /api/v1/auth/register": "anyone may apply",
    "POST /api/v1/auth/sign-in": "credentials in the body",
    "POST /api/v1/auth/refresh": "the refresh token in the body",
    "POST /api/v1/auth/verify-email": "the mailed single-use token",
    "POST /api/v1/auth/password-reset/request": "same answer whether the address exists or not",
    "POST /api/v1/auth/password-reset": "the mailed single-use token",
    "GET /api/v1/auth/oidc/{provider}/start": "begins an OIDC sign-in",
    "GET /api/v1/auth/oidc/{provider}/callback": "the provider's code and our one-time state",
    "POST /api/v1/notifications/unsubscribe": "the signed token of the mail's List-Unsubscribe link",
    "POST /api/v1/payments/stripe/webhook": "Stripe's signature on the raw body (tests/integration/payments)",
}


def _actor(actors: Actors, name: str) -> Actor:
    actor = getattr(actors, name)
    assert actor.name == name
    return actor


async def _call(
    client: AsyncTestClient, rule: Rule, actors: Actors, actor: Actor, headers: dict[str, str] | None = None
):
    return await client.request(
        rule.method,
        rule.target(actors),
        json=rule.body(actors, actor) if callable(rule.body) else rule.body,
        headers=actor.headers if headers is None else headers,
    )


def test_every_operation_is_in_the_matrix(app: Litestar) -> None:
    documented = {op.id for op in operations(app)}
    in_matrix = [rule.id for rule in MATRIX]
    assert len(in_matrix) == len(set(in_matrix)), "an operation has two rows"
    missing = documented - set(in_matrix) - set(PUBLIC_OPERATIONS)
    assert not missing, f"add these operations to MATRIX (or, with a reason, PUBLIC_OPERATIONS): {sorted(missing)}"
    stale = (set(in_matrix) | set(PUBLIC_OPERATIONS)) - documented
    assert not stale, f"these rows name operations the API no longer has: {sorted(stale)}"
    assert not set(in_matrix) & set(PUBLIC_OPERATIONS)


@pytest.mark.parametrize("rule", MATRIX, ids=lambda rule: rule.id)
async def test_authorization_matrix(rule: Rule, client: AsyncTestClient, actors: Actors) -> None:
    actors.context = await rule.setup(client, actors) if rule.setup else {}
    actual: dict[str, int] = {}
    problems: list[str] = []
    for name in ACTOR_ORDER:
        response = await _call(client, rule, actors, _actor(actors, name))
        actual[name] = response.status_code
        if response.status_code >= 400:
            try:
                body = assert_problem(response, context=f"as {name}")
                expected_type = PROBLEM_TYPES.get(response.status_code)
                assert expected_type is None or body["type"] in {expected_type, *rule.problem_types}, (
                    f"as {name}: type {body['type']}"
                )
            except AssertionError as failure:
                problems.append(str(failure).splitlines()[0])
    table = "\n".join(
        f"  {name:<13} expected {rule.expected[name]}  got {actual[name]}"
        + ("" if actual[name] == rule.expected[name] else "   <--")
        for name in ACTOR_ORDER
    )
    assert actual == rule.expected, f"{rule.id} ({rule.why}):\n{table}"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "rule", [rule for rule in MATRIX if rule.expected["anonymous"] == 401], ids=lambda rule: rule.id
)
async def test_a_bad_token_is_refused_like_no_token(rule: Rule, client: AsyncTestClient, actors: Actors) -> None:
    """A forged, truncated or wrongly-typed credential never counts as someone."""
    actors.context = await rule.setup(client, actors) if rule.setup else {}
    forged = actors.owner.access_token[:-4] + ("AAAA" if not actors.owner.access_token.endswith("AAAA") else "BBBB")
    for header in (f"Bearer {forged}", "Bearer not-a-jwt", f"Basic {actors.owner.access_token}", "Bearer "):
        response = await _call(client, rule, actors, actors.anonymous, headers={"Authorization": header})
        assert response.status_code == 401, (header, response.text)
        assert_problem(response, context=header[:20])


@pytest.mark.parametrize(
    ("path", "viewer"),
    [
        ("/api/v1/accounts/{owner}", "other_member"),
        ("/api/v1/accounts/{owner}", "client"),
        ("/api/v1/organisations/{organisation}", "owner"),
        ("/api/v1/organisations/{organisation}", "other_member"),
    ],
)
async def test_hidden_objects_look_exactly_like_missing_ones(
    path: str, viewer: str, client: AsyncTestClient, actors: Actors
) -> None:
    """A 404 for someone else's object tells nothing a 404 for a random id would not."""
    caller = _actor(actors, viewer)
    hidden = path.format(owner=actors.owner.account_id, organisation=actors.client.organisation_id)
    missing = path.format(owner=uuid.uuid4(), organisation=uuid.uuid4())
    answers = []
    for url in (hidden, missing):
        response = await client.get(url, headers=caller.headers)
        body = assert_problem(response, context=viewer)
        answers.append((response.status_code, {k: v for k, v in body.items() if k not in ("instance", "request_id")}))
    assert answers[0] == answers[1]
    assert answers[0][0] == 404
