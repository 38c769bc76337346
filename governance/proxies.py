"""Proxies: checking them against the rules, and deciding which ballots count.

Rules applied (see the README for their legal sources):

* a proxy is given by a member (the principal) to another member (the holder) for exactly one
  decision or one assembly; a blank proxy names no holder;
* no chains: a member who gave a proxy cannot hold one; one proxy per principal;
* a holder may not carry more proxies than the cap of the rules (:class:`~governance.model.ProxyCap`);
* a principal who votes in person cancels their proxy (the in-person ballot counts);
* a blank proxy, unless cancelled, casts the vote the ``blank_proxies`` rule says: with ``"board"``,
  yes on a resolution the board approved and no on the others (motions; for other methods it counts
  as a blank ballot), with ``"abstain"`` an abstention (blank for choices); ``"refuse"`` rejects it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from .errors import InvalidBallot, ProxyViolation
from .model import Ballot, Electorate, Method, Proxy, Rules

_voter = attrgetter("voter")
_choice = attrgetter("choice")
_cast_by = attrgetter("cast_by")
_reason = attrgetter("reason")


def validate_proxies(
    proxies: Iterable[Proxy],
    rules: Rules,
    electorate: Electorate,
    *,
    decision: str | None = None,
    assembly: str | None = None,
) -> tuple[ProxyViolation, ...]:
    """Every way the proxies break the rules, as :class:`ProxyViolation` (empty when all are valid).

    Each violation has a stable ``code``: ``not_a_member``, ``self_proxy``, ``bad_scope``,
    ``wrong_scope``, ``duplicate_proxy``, ``proxy_chain``, ``over_cap``, ``blank_proxy_refused``.
    """
    proxies = list(proxies)
    problems: list[ProxyViolation] = []
    members = electorate.ids
    by_principal: Counter[str] = Counter()
    for p in proxies:
        if p.principal not in members:
            problems.append(
                ProxyViolation(
                    f"{p.principal!r} is not a member of the electorate", p.principal, p.holder, code="not_a_member"
                )
            )
        if p.holder is not None and p.holder not in members:
            problems.append(
                ProxyViolation(
                    f"a proxy can only be given to another member; {p.holder!r} is not one",
                    p.principal,
                    p.holder,
                    code="not_a_member",
                )
            )
        if p.holder is not None and p.holder == p.principal:
            problems.append(
                ProxyViolation("a member cannot hold their own proxy", p.principal, p.holder, code="self_proxy")
            )
        if (p.decision is None) == (p.assembly is None):
            problems.append(
                ProxyViolation(
                    "a proxy is given for exactly one decision or one assembly", p.principal, p.holder, code="bad_scope"
                )
            )
        elif (decision is not None or assembly is not None) and not (
            (p.decision is not None and p.decision == decision) or (p.assembly is not None and p.assembly == assembly)
        ):
            problems.append(
                ProxyViolation(
                    "this proxy was given for another decision or assembly", p.principal, p.holder, code="wrong_scope"
                )
            )
        if p.holder is None and rules.blank_proxies == "refuse":
            problems.append(
                ProxyViolation("these rules do not accept blank proxies", p.principal, None, code="blank_proxy_refused")
            )
        by_principal[p.principal] += 1
    for principal, n in sorted(by_principal.items()):
        if n > 1:
            problems.append(
                ProxyViolation(
                    f"{principal!r} gave {n} proxies; only one counts", principal, None, code="duplicate_proxy"
                )
            )
    principals = set(by_principal)
    holders: Counter[str] = Counter(p.holder for p in proxies if p.holder is not None and p.holder != p.principal)
    for holder in sorted(holders):
        if holder in principals:
            problems.append(
                ProxyViolation(
                    f"{holder!r} gave a proxy and cannot hold one (no chains of proxies)",
                    None,
                    holder,
                    code="proxy_chain",
                )
            )
    cap = rules.proxy_cap.cap(len(electorate))
    if cap is not None:
        for holder, n in sorted(holders.items()):
            if n > cap:
                why = (
                    "SCOP rule: one extra vote under 20 associates, else one twentieth of the associates"
                    if rules.proxy_cap.kind == "scop"
                    else "cap set by the rules"
                )
                problems.append(
                    ProxyViolation(
                        f"{holder!r} holds {n} proxies, more than {cap} ({why})", None, holder, code="over_cap"
                    )
                )
    return tuple(problems)


@dataclass(frozen=True)
class Resolution:
    """Which ballots count.

    ``grouped`` maps a college (``None`` without colleges) to raw choices and their number of
    ballots; ``reasons`` counts consent ballots by (college, raw choice, reason) when a reason is
    given. :attr:`counted` is the flat view (college, raw choice, reason) -> number.
    """

    grouped: dict[str | None, Counter[Any]]
    reasons: Counter[tuple[str | None, Any, Any]]
    in_person: int
    by_proxy: int
    blank_proxies: int
    cancelled_proxies: tuple[str, ...] = field(default=())

    @property
    def counted(self) -> Counter[tuple[str | None, Any, str | None]]:
        flat: Counter[tuple[str | None, Any, str | None]] = Counter()
        for college, choices in self.grouped.items():
            for raw, n in choices.items():
                flat[(college, raw, None)] += n
        for (college, raw, reason), n in self.reasons.items():
            flat[(college, raw, None)] -= n
            flat[(college, raw, reason)] += n
        return +flat

    def summary(self) -> dict[str, int]:
        return {
            "in_person": self.in_person,
            "by_proxy": self.by_proxy,
            "blank_proxies": self.blank_proxies,
            "cancelled_proxies": len(self.cancelled_proxies),
        }


def resolve_ballots(
    rules: Rules,
    electorate: Electorate,
    ballots: Sequence[Ballot],
    proxies: Iterable[Proxy] = (),
    *,
    decision: str | None = None,
    assembly: str | None = None,
) -> Resolution:
    """Check ballots and proxies, and return the ballots that count (in-person overrides proxy).

    Raises :class:`ProxyViolation` (the first violation found) or :class:`InvalidBallot`
    (``not_in_electorate``, ``duplicate_ballot``, ``no_proxy``).
    """
    proxies = list(proxies)
    if proxies:
        problems = validate_proxies(proxies, rules, electorate, decision=decision, assembly=assembly)
        if problems:
            raise problems[0]
    members = electorate.ids
    voters = list(map(_voter, ballots))
    casters = list(map(_cast_by, ballots))
    direct_ballots: Sequence[Ballot] = ballots
    proxied: list[Ballot] = []
    if any(casters):
        direct_ballots = [b for b in ballots if b.cast_by is None or b.cast_by == b.voter]
        proxied = [b for b in ballots if b.cast_by is not None and b.cast_by != b.voter]
        voters = list(map(_voter, direct_ballots))
    voter_set = set(voters)
    if len(voter_set) != len(voters):
        dup = next(v for v, n in Counter(voters).items() if n > 1)
        raise InvalidBallot("this member voted twice", dup, code="duplicate_ballot")
    if not members.keys() >= voter_set:
        stranger = sorted(str(v) for v in voter_set - members.keys())[0]
        raise InvalidBallot("not a member of the electorate when the vote opened", stranger, code="not_in_electorate")

    use_colleges = bool(rules.colleges)
    keep_reason = rules.method is Method.CONSENT
    grouped: dict[str | None, Counter[Any]] = {}
    reasons: Counter[tuple[str | None, Any, Any]] = Counter()
    choices = list(map(_choice, direct_ballots))
    try:
        if use_colleges:
            colleges = list(map(members.__getitem__, voters))
            for (college, choice), n in Counter(zip(colleges, choices, strict=True)).items():
                grouped.setdefault(college, Counter())[choice] += n
        else:
            grouped[None] = Counter(choices)
    except TypeError:  # an unhashable choice slipped through: freeze and retry
        from .model import freeze

        choices = [freeze(c) for c in choices]
        grouped = {}
        for b, choice in zip(direct_ballots, choices, strict=True):
            college = members[b.voter] if use_colleges else None
            grouped.setdefault(college, Counter())[choice] += 1
    if keep_reason:
        for b in direct_ballots:
            if b.reason is not None:
                reasons[(members[b.voter] if use_colleges else None, b.choice, b.reason)] += 1

    def add(college: str | None, choice: Any, reason: Any) -> None:
        grouped.setdefault(college, Counter())[choice] += 1
        if keep_reason and reason is not None:
            reasons[(college, choice, reason)] += 1

    holder_of = {p.principal: p.holder for p in proxies}
    by_proxy = 0
    cancelled: list[str] = []
    seen_principals: set[str] = set()
    for b in proxied:
        if holder_of.get(b.voter, "\0") != b.cast_by or b.cast_by is None:
            raise ProxyViolation(
                f"{b.cast_by!r} holds no proxy from {b.voter!r} for this vote", b.voter, b.cast_by, code="no_proxy"
            )
        if b.voter in seen_principals:
            raise InvalidBallot("two ballots were cast by proxy for this member", b.voter, code="duplicate_ballot")
        seen_principals.add(b.voter)
        if b.voter in voter_set:
            cancelled.append(b.voter)  # the principal voted in person: the proxy is cancelled
            continue
        add(members[b.voter] if use_colleges else None, b.choice, b.reason)
        by_proxy += 1
    blank = 0
    for p in proxies:
        if p.holder is not None:
            continue
        if p.principal in voter_set:
            cancelled.append(p.principal)
            continue
        add(members[p.principal] if use_colleges else None, _blank_proxy_choice(rules), None)
        blank += 1
    return Resolution(grouped, reasons, len(voters), by_proxy, blank, tuple(sorted(cancelled)))


def _blank_proxy_choice(rules: Rules) -> Any:
    if rules.method is Method.MOTION:
        if rules.blank_proxies == "board":
            return "yes" if rules.board_approved else "no"
        return "abstain"
    if rules.method is Method.CONSENT:
        return "abstain"
    return None
