"""The adapter between the cooperative's statutes and `governance/`: rules, electorates, errors.

The statutes are one JSON document (see `default_statutes`): for each kind of assembly and each
call, the statutory fields of a `governance.Rules` (quorum, threshold, proxy cap, colleges...), plus
the few rules of procedure `governance/` does not model (initiatives, early closing). A proposal
adds its own fields (method, options, seats...) on top; `governance.Rules.from_dict` validates the
whole and its `InvalidRules` errors become 400 problems naming the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import governance
from app.core.errors import AppError, Conflict, InvalidInput
from governance import presets

#: Fields a proposal sets; every other field of `governance.Rules` comes from the statutes.
PROPOSAL_FIELDS = frozenset(
    {"method", "options", "seats", "board_approved", "tie_break", "score_range", "grades", "schulze_strength"}
)
STATUTORY_FIELDS = frozenset(f.name for f in dataclasses.fields(governance.Rules)) - PROPOSAL_FIELDS
KINDS = ("ordinary", "extraordinary")
CALLS = ("first_call", "second_call")


class InvalidBallotProblem(AppError):
    status_code = 422
    slug = "invalid-ballot"
    title = "The ballot does not fit the voting method"


class ProxyRefused(AppError):
    status_code = 422
    slug = "proxy-refused"
    title = "The statutes do not allow this proxy"


class VoteNotOpen(AppError):
    status_code = 409
    slug = "vote-not-open"
    title = "The vote is not open"


class NotInElectorate(AppError):
    status_code = 403
    slug = "not-in-electorate"
    title = "You are not in the electorate of this vote"


class ProxyNotHeld(AppError):
    status_code = 403
    slug = "proxy-not-held"
    title = "You hold no proxy from this member for this vote"


class VotedInPerson(AppError):
    status_code = 409
    slug = "voted-in-person"
    title = "The member has voted in person: their own ballot overrides the proxy"

    def __init__(self, detail: str = "This member has voted in person; a proxy ballot cannot replace it.") -> None:
        super().__init__(detail)


class BallotStands(AppError):
    status_code = 409
    slug = "ballot-stands"
    title = "The member's own ballot stands"


class SecretRunningResults(AppError):
    status_code = 422
    slug = "secret-running-results"
    title = "A secret vote shows only participation while it is open"


class StatutesFrozen(AppError):
    status_code = 409
    slug = "statutes-frozen"
    title = "The statutes cannot change while an assembly is convened or a vote is open"


class KeySharesNeeded(AppError):
    status_code = 409
    slug = "key-shares-needed"
    title = "The scrutineers' key shares are needed to count this vote"


class InvalidKeyShare(AppError):
    status_code = 422
    slug = "invalid-key-share"
    title = "A key share is malformed or does not open this vote's ballots"


def _statutory(rules: governance.Rules) -> dict[str, Any]:
    data = rules.to_dict()
    return {key: value for key, value in data.items() if key in STATUTORY_FIELDS}


def default_statutes(preset_name: str) -> dict[str, Any]:
    preset = presets.get(preset_name)
    colleges = preset.ordinary.first_call.colleges
    return {
        "preset": preset_name,
        "ordinary": {
            "first_call": _statutory(preset.ordinary.first_call),
            "second_call": _statutory(preset.ordinary.second_call),
        },
        "extraordinary": {
            "first_call": _statutory(preset.extraordinary.first_call),
            "second_call": _statutory(preset.extraordinary.second_call),
        },
        "initiative_cosignatures": 3,
        "initiative_route": "next_assembly",
        "initiative_vote_days": 7,
        "chair_may_close_early": False,
        # Whether the chair may open an assembly's vote before its voting window (or its date).
        "chair_may_open_early": False,
        "default_college": colleges[0].name if colleges else None,
    }


def statutory_rules(statutes: Mapping[str, Any], kind: str, call: int) -> dict[str, Any]:
    return dict(statutes[kind][CALLS[call - 1]])


def colleges_of(statutes: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for kind in KINDS:
        for call in CALLS:
            names.update(c["name"] for c in statutes[kind][call].get("colleges", []))
    return names


def build_rules(statutory: Mapping[str, Any], proposal_fields: Mapping[str, Any]) -> governance.Rules:
    """The full rules of one decision; raises InvalidInput naming the field."""
    data = {**statutory, **{k: v for k, v in proposal_fields.items() if v is not None}}
    try:
        return governance.Rules.from_dict(data)
    except governance.InvalidRules as error:
        field = error.field or "rules"
        raise InvalidInput.field(field, error.reason) from None


def rules_from_stored(data: Mapping[str, Any]) -> governance.Rules:
    return governance.Rules.from_dict(data)


def amend(statutes: dict[str, Any], kind: str | None, call: str | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Statutes with `changes` applied to the rules of `kind`/`call` (both when None), validated."""
    unknown = set(changes) - STATUTORY_FIELDS
    if unknown:
        raise InvalidInput.field("changes", f"not a statutory rule: {', '.join(sorted(unknown))}")
    amended = {**statutes, "ordinary": dict(statutes["ordinary"]), "extraordinary": dict(statutes["extraordinary"])}
    for k in (kind,) if kind else KINDS:
        for c in (call,) if call else CALLS:
            merged = {**amended[k][c], **changes}
            check_statutory(merged, f"{k}.{c}")
            amended[k][c] = merged
    return amended


def check_statutory(statutory: Mapping[str, Any], where: str) -> None:
    try:
        governance.Rules.from_dict({**statutory, "method": "motion"})
    except governance.InvalidRules as error:
        raise InvalidInput.field(f"{where}.{error.field or 'rules'}", error.reason) from None


def electorate_of(voters: Iterable[tuple[str, str | None]]) -> governance.Electorate:
    return governance.Electorate(tuple(governance.Voter(voter, college) for voter, college in voters))


def check_choice(rules: governance.Rules, choice: Any, reason: str | None) -> None:
    """Refuse a ballot the method cannot count, with the engine's reason (one-ballot count)."""
    single = dataclasses.replace(rules, colleges=(), quorum=None) if rules.colleges or rules.quorum else rules
    try:
        governance.tally(single, governance.Electorate.of(["v"]), [governance.Ballot("v", choice, reason)])
    except governance.InvalidBallot as error:
        raise InvalidBallotProblem(error.reason) from None
    except governance.GovernanceError as error:  # any other refusal of the engine is the ballot's fault here
        raise InvalidBallotProblem(str(error)) from None


def proxy_problem(violations: Iterable[governance.ProxyViolation], concerns: Callable[[Any], bool]) -> None:
    """Raise the first violation that concerns the proxy being declared."""
    for violation in violations:
        if concerns(violation):
            raise ProxyRefused(f"{violation.reason} [{violation.code}]")


def check_college(statutes: Mapping[str, Any], college: str | None) -> None:
    if college is not None and college not in colleges_of(statutes):
        names = ", ".join(sorted(colleges_of(statutes))) or "none"
        raise Conflict(f"{college!r} is not a college of the statutes (colleges: {names}).")
