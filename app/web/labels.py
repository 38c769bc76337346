"""Words for the values the services store (roles, states, problem types), in the catalogue.

Stored values stay English identifiers; what the visitor reads is looked up here and translated.
"""

from __future__ import annotations

from app.web.i18n import N_, gettext

LABELS: dict[str, dict[str, str]] = {
    "role": {"member": N_("Member"), "client": N_("Client"), "admin": N_("Administrator")},
    "member_status": {"applicant": N_("applicant"), "member": N_("admitted member"), "departed": N_("departed")},
    "mission": {
        "draft": N_("draft"),
        "open": N_("open"),
        "staffed": N_("staffed"),
        "in_progress": N_("in progress"),
        "delivered": N_("delivered"),
        "closed": N_("closed"),
        "cancelled": N_("cancelled"),
    },
    "application": {
        "submitted": N_("submitted"),
        "shortlisted": N_("shortlisted"),
        "accepted": N_("accepted"),
        "declined": N_("declined"),
        "withdrawn": N_("withdrawn"),
    },
    "work_mode": {"on_site": N_("on site"), "remote": N_("remote"), "hybrid": N_("hybrid")},
    "visibility": {
        "public": N_("everyone"),
        "members": N_("members of the cooperative"),
        "hidden": N_("nobody but me"),
    },
    "assembly": {"planned": N_("planned"), "convened": N_("convened"), "open": N_("open"), "closed": N_("closed")},
    "assembly_kind": {"ordinary": N_("ordinary"), "extraordinary": N_("extraordinary")},
    "proposal": {
        "draft": N_("draft"),
        "qualified": N_("qualified"),
        "scheduled": N_("scheduled"),
        "open": N_("open to vote"),
        "closed": N_("closed"),
    },
    "method": {
        "motion": N_("motion (for, against, abstain)"),
        "consent": N_("consent"),
        "single_choice": N_("single choice"),
        "approval": N_("approval"),
        "score": N_("score"),
        "majority_judgment": N_("majority judgment"),
        "ranked": N_("ranked choice"),
        "stv": N_("single transferable vote"),
    },
    "problem": {
        "conflict": N_("This conflicts with the current state."),
        "email-taken": N_("An account with this email already exists."),
        "email-not-verified": N_("This needs a confirmed email address: open the link we mailed you."),
        "forbidden": N_("You are not allowed to do this."),
        "identity-provider-error": N_("The identity provider could not complete the sign-in."),
        "invalid-ballot": N_("This ballot is not valid."),
        "invalid-credentials": N_("The email or password is wrong."),
        "invalid-token": N_("This link is invalid, expired or already used."),
        "not-authenticated": N_("Sign in to see this page."),
        "not-found": N_("This page does not exist, or you may not see it."),
        "not-in-electorate": N_("You are not in this vote's electorate."),
        "proxy-not-held": N_("You do not hold this proxy."),
        "proxy-refused": N_("This proxy cannot be given."),
        "rate-limited": N_("Too many attempts: wait a minute and try again."),
        "validation-error": N_("Some fields need your attention."),
        "vote-not-open": N_("This vote is not open."),
        "weak-password": N_("This password is too easy to guess: choose a longer one."),
    },
}


def label(kind: str, value: str | None) -> str:
    if value is None:
        return ""
    text = LABELS.get(kind, {}).get(value)
    return gettext(text) if text else value
