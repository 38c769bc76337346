"""The data the engine works on: rules, electorate, ballots and proxies (frozen dataclasses).

Everything here is plain data, validated on creation. :class:`Rules` round-trips through plain
dicts (:meth:`Rules.to_dict` / :meth:`Rules.from_dict`) so that it can be stored as JSON; bad
fields raise :class:`~governance.errors.InvalidRules` naming the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

from .canonical import fraction_str, parse_fraction
from .errors import InvalidElectorate, InvalidRules


class Method(StrEnum):
    """How ballots are expressed and counted."""

    MOTION = "motion"  #: yes / no / abstain / blank on one resolution
    CONSENT = "consent"  #: agree / abstain / disagree / block; adopted unless someone blocks
    SINGLE_CHOICE = "single_choice"  #: one option per ballot (plurality; top-k for k seats)
    APPROVAL = "approval"  #: any number of options per ballot (top-k for k seats)
    SCORE = "score"  #: an integer score per option within ``score_range``; highest total wins
    MAJORITY_JUDGMENT = "majority_judgment"  #: a grade per option; highest median grade wins
    INSTANT_RUNOFF = "instant_runoff"  #: ranked, eliminate the last round by round
    SCHULZE = "schulze"  #: ranked (ties allowed), strongest paths over the pairwise matrix
    STV = "stv"  #: ranked, several seats, Droop quota, Weighted Inclusive Gregory (Scottish rules)


CHOICE_METHODS = frozenset(Method) - {Method.MOTION, Method.CONSENT}
RANKED_METHODS = frozenset({Method.INSTANT_RUNOFF, Method.SCHULZE, Method.STV})

MOTION_CHOICES = ("yes", "no", "abstain", "blank")
CONSENT_CHOICES = ("agree", "abstain", "disagree", "block", "blank")


@dataclass(frozen=True, slots=True)
class Threshold:
    """The share of the base that must vote yes for a motion to be adopted.

    ``base`` is ``"cast"`` (votes cast, see the abstention/blank settings of :class:`Rules`) or
    ``"electorate"`` (every eligible member). ``strict`` means "more than ``share``" (a majority);
    otherwise "at least ``share``" (two thirds, three quarters, unanimity). Comparisons are exact.
    """

    share: Fraction
    strict: bool = False
    base: str = "cast"

    def __post_init__(self) -> None:
        if not isinstance(self.share, Fraction) or not 0 <= self.share <= 1:
            raise InvalidRules("the threshold share must be a fraction between 0 and 1", "threshold")
        if self.base not in ("cast", "electorate"):
            raise InvalidRules("the threshold base must be 'cast' or 'electorate'", "threshold")
        if self.strict and self.share == 1:
            raise InvalidRules("'more than 100%' can never be reached", "threshold")

    @property
    def name(self) -> str | None:
        for key, value in NAMED_THRESHOLDS.items():
            if value == self:
                return key
        return None

    def describe(self) -> str:
        word = "more than" if self.strict else "at least"
        base = "of votes cast" if self.base == "cast" else "of the electorate"
        return f"{word} {fraction_str(self.share)} {base}"

    def to_dict(self) -> str | dict[str, Any]:
        name = self.name
        if name is not None:
            return name
        return {"share": fraction_str(self.share), "strict": self.strict, "base": self.base}

    @classmethod
    def from_value(cls, value: Any) -> Threshold:
        if isinstance(value, Threshold):
            return value
        if isinstance(value, str):
            if value not in NAMED_THRESHOLDS:
                names = ", ".join(sorted(NAMED_THRESHOLDS))
                raise InvalidRules(f"unknown threshold {value!r}; use one of {names} or an object", "threshold")
            return NAMED_THRESHOLDS[value]
        if isinstance(value, Mapping):
            unknown = set(value) - {"share", "strict", "base"}
            if unknown:
                raise InvalidRules(f"unknown threshold key(s): {', '.join(sorted(unknown))}", "threshold")
            try:
                share = parse_fraction(value.get("share"), "threshold.share")
            except ValueError as exc:
                raise InvalidRules(str(exc), "threshold.share") from None
            strict = value.get("strict", False)
            if not isinstance(strict, bool):
                raise InvalidRules("must be true or false", "threshold.strict")
            return cls(share, strict, value.get("base", "cast"))
        raise InvalidRules("must be a threshold name or an object {share, strict, base}", "threshold")


SIMPLE_MAJORITY = Threshold(Fraction(1, 2), strict=True, base="cast")
ABSOLUTE_MAJORITY = Threshold(Fraction(1, 2), strict=True, base="electorate")
TWO_THIRDS = Threshold(Fraction(2, 3))
THREE_QUARTERS = Threshold(Fraction(3, 4))
UNANIMITY = Threshold(Fraction(1))
NAMED_THRESHOLDS: dict[str, Threshold] = {
    "simple_majority": SIMPLE_MAJORITY,
    "absolute_majority": ABSOLUTE_MAJORITY,
    "two_thirds": TWO_THIRDS,
    "three_quarters": THREE_QUARTERS,
    "unanimity": UNANIMITY,
}


@dataclass(frozen=True, slots=True)
class College:
    """A college of voters (SCIC style) and its weight in the final result."""

    name: str
    weight: Fraction


@dataclass(frozen=True, slots=True)
class ProxyCap:
    """How many proxies one member may hold.

    ``kind`` is ``"fixed"`` (at most ``limit``; ``limit=0`` forbids proxies), ``"scop"`` (loi
    n° 78-763: at most one extra vote under 20 associates, otherwise at most one twentieth of the
    associates, rounded down) or ``"unlimited"``.
    """

    kind: str = "fixed"
    limit: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "scop", "unlimited"):
            raise InvalidRules("the proxy cap must be a number, 'scop' or 'unlimited'", "proxy_cap")
        if self.kind == "fixed" and (isinstance(self.limit, bool) or not isinstance(self.limit, int)):
            raise InvalidRules("the proxy cap must be a whole number", "proxy_cap")
        if self.kind == "fixed" and self.limit < 0:
            raise InvalidRules("the proxy cap cannot be negative", "proxy_cap")

    def cap(self, electorate_size: int) -> int | None:
        """Maximum proxies per holder for an electorate of this size (``None`` = no cap)."""
        if self.kind == "unlimited":
            return None
        if self.kind == "scop":
            return 1 if electorate_size < 20 else electorate_size // 20
        return self.limit

    def to_dict(self) -> int | str:
        return self.limit if self.kind == "fixed" else self.kind

    @classmethod
    def from_value(cls, value: Any) -> ProxyCap:
        if isinstance(value, ProxyCap):
            return value
        if value is None or value == "unlimited":
            return cls("unlimited", 0)
        if value == "scop":
            return cls("scop", 0)
        if isinstance(value, int) and not isinstance(value, bool):
            return cls("fixed", value)
        raise InvalidRules("the proxy cap must be a whole number, 'scop' or 'unlimited'", "proxy_cap")


DEFAULT_GRADES = ("excellent", "very_good", "good", "fair", "poor", "reject")

_EMPTY_COLLEGE_RULES = ("redistribute", "abstain")
_BLANK_PROXY_RULES = ("board", "abstain", "refuse")
_TIE_BREAKS = ("lot", "none")
_STRENGTHS = ("winning_votes", "margins")


@dataclass(frozen=True)
class Rules:
    """Everything that decides how one decision is counted. Validated on creation.

    Use :func:`dataclasses.replace` to derive rules (validation runs again). All shares are
    :class:`fractions.Fraction`; thresholds and quorums are compared exactly.

    Fields:
        method: how ballots are expressed and counted (:class:`Method`).
        options: the candidates or options (choice methods only; empty for motion and consent).
        seats: how many options win (``top-k`` for single choice/approval/score/MJ/Schulze; STV seats).
        quorum: share of the electorate that must take part (ballots counted, blank and abstention
            included, proxies counted), or ``None`` for no quorum. Met when participants >= quorum x
            electorate.
        threshold: for motions, the :class:`Threshold` to reach.
        abstentions_count_as_cast / blanks_count_as_cast: whether ``abstain`` / blank ballots enter
            the votes cast (then they weigh against adoption). Default: they do not.
        colleges: SCIC-style colleges with weights summing to 1; empty for none.
        college_weight_bounds: (min, max) each college weight must respect, or ``None``; statutes
            say between 10 % and 50 %.
        empty_college: ``"redistribute"`` (an empty college's weight is shared among the other
            colleges in proportion to their weights) or ``"abstain"`` (it counts, but for nothing).
        proxy_cap: :class:`ProxyCap`.
        blank_proxies: what a proxy without a named holder does: ``"board"`` (yes for a resolution the
            board approved, no for the others — the usual SCOP statutes' wording), ``"abstain"``, or
            ``"refuse"`` (blank proxies are rejected).
        board_approved: whether this resolution is proposed or approved by the board (for blank proxies).
        tie_break: ``"lot"`` (a reproducible draw seeded by the SHA-256 of the canonical ballots) or
            ``"none"`` (a tie for a seat is reported as a tie, with no winner for the tied seats).
        score_range: (min, max) integer scores for the score method.
        grades: majority-judgment grades, best first.
        schulze_strength: ``"winning_votes"`` (Schulze's recommendation) or ``"margins"``.
    """

    method: Method
    options: tuple[str, ...] = ()
    seats: int = 1
    quorum: Fraction | None = None
    threshold: Threshold = SIMPLE_MAJORITY
    abstentions_count_as_cast: bool = False
    blanks_count_as_cast: bool = False
    colleges: tuple[College, ...] = ()
    college_weight_bounds: tuple[Fraction, Fraction] | None = (Fraction(1, 10), Fraction(1, 2))
    empty_college: str = "redistribute"
    proxy_cap: ProxyCap = field(default_factory=ProxyCap)
    blank_proxies: str = "board"
    board_approved: bool = False
    tie_break: str = "lot"
    score_range: tuple[int, int] = (0, 5)
    grades: tuple[str, ...] = DEFAULT_GRADES
    schulze_strength: str = "winning_votes"

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "method", Method(self.method))
        except ValueError:
            names = ", ".join(m.value for m in Method)
            raise InvalidRules(f"unknown method {self.method!r}; use one of {names}", "method") from None
        method = self.method
        options = self.options
        if isinstance(options, str) or not isinstance(options, (tuple, list)):
            raise InvalidRules("options must be a list of option identifiers", "options")
        options = tuple(options)
        object.__setattr__(self, "options", options)
        for opt in options:
            if not isinstance(opt, str) or not opt:
                raise InvalidRules("every option must be a non-empty string", "options")
        if len(set(options)) != len(options):
            raise InvalidRules("options must be distinct", "options")
        _check_int(self.seats, "seats")
        if method in (Method.MOTION, Method.CONSENT):
            if options:
                raise InvalidRules(f"a {method.value} has no options", "options")
            if self.seats != 1:
                raise InvalidRules(f"a {method.value} has no seats", "seats")
        else:
            if len(options) < 1:
                raise InvalidRules("a choice needs at least one option", "options")
            if not 1 <= self.seats <= len(options):
                raise InvalidRules(f"seats must be between 1 and the number of options ({len(options)})", "seats")
            if method is Method.INSTANT_RUNOFF and self.seats != 1:
                raise InvalidRules("instant-runoff fills one seat; use stv for several", "seats")
        if self.quorum is not None and (not isinstance(self.quorum, Fraction) or not 0 <= self.quorum <= 1):
            raise InvalidRules("the quorum must be a fraction between 0 and 1, or none", "quorum")
        if not isinstance(self.threshold, Threshold):
            raise InvalidRules("the threshold must be a Threshold", "threshold")
        for name in ("abstentions_count_as_cast", "blanks_count_as_cast", "board_approved"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidRules("must be true or false", name)
        self._check_colleges()
        if self.empty_college not in _EMPTY_COLLEGE_RULES:
            raise InvalidRules("empty_college must be 'redistribute' or 'abstain'", "empty_college")
        if not isinstance(self.proxy_cap, ProxyCap):
            raise InvalidRules("the proxy cap must be a ProxyCap", "proxy_cap")
        if self.blank_proxies not in _BLANK_PROXY_RULES:
            raise InvalidRules("blank_proxies must be 'board', 'abstain' or 'refuse'", "blank_proxies")
        if self.tie_break not in _TIE_BREAKS:
            raise InvalidRules("tie_break must be 'lot' or 'none'", "tie_break")
        lo_hi = tuple(self.score_range)
        if len(lo_hi) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in lo_hi):
            raise InvalidRules("score_range must be two whole numbers [min, max]", "score_range")
        if lo_hi[0] >= lo_hi[1]:
            raise InvalidRules("score_range minimum must be below its maximum", "score_range")
        object.__setattr__(self, "score_range", lo_hi)
        grades = self.grades
        if isinstance(grades, str) or not isinstance(grades, (tuple, list)):
            raise InvalidRules("grades must be a list of grade names, best first", "grades")
        grades = tuple(grades)
        object.__setattr__(self, "grades", grades)
        if len(grades) < 2 or len(set(grades)) != len(grades) or not all(isinstance(g, str) and g for g in grades):
            raise InvalidRules("grades must be at least two distinct non-empty names, best first", "grades")
        if self.schulze_strength not in _STRENGTHS:
            raise InvalidRules("schulze_strength must be 'winning_votes' or 'margins'", "schulze_strength")
        if self.colleges and method is Method.STV:
            raise InvalidRules("colleges are not supported with STV (its quota counts whole ballots)", "colleges")

    def _check_colleges(self) -> None:
        colleges = self.colleges
        if not isinstance(colleges, (tuple, list)):
            raise InvalidRules("colleges must be a list", "colleges")
        colleges = tuple(colleges)
        object.__setattr__(self, "colleges", colleges)
        if not colleges:
            return
        bounds = self.college_weight_bounds
        if bounds is not None:
            bounds = tuple(bounds)
            if len(bounds) != 2 or not all(isinstance(b, Fraction) for b in bounds) or bounds[0] > bounds[1]:
                raise InvalidRules("college_weight_bounds must be [min, max] fractions", "college_weight_bounds")
            object.__setattr__(self, "college_weight_bounds", bounds)
        names = set()
        for college in colleges:
            if not isinstance(college, College) or not isinstance(college.name, str) or not college.name:
                raise InvalidRules("every college needs a non-empty name", "colleges")
            if college.name in names:
                raise InvalidRules(f"college {college.name!r} is listed twice", "colleges")
            names.add(college.name)
            if not isinstance(college.weight, Fraction) or college.weight <= 0:
                raise InvalidRules(f"college {college.name!r} needs a positive weight", "colleges")
            if bounds is not None and not bounds[0] <= college.weight <= bounds[1]:
                raise InvalidRules(
                    f"college {college.name!r} weighs {fraction_str(college.weight)}, outside the statutory "
                    f"bounds {fraction_str(bounds[0])}..{fraction_str(bounds[1])}",
                    "colleges",
                )
        total = sum((c.weight for c in colleges), Fraction(0))
        if total != 1:
            raise InvalidRules(f"college weights must sum to 1 (100%), they sum to {fraction_str(total)}", "colleges")

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; fractions as ``"n/d"`` strings. Inverse of :meth:`from_dict`."""
        return {
            "method": self.method.value,
            "options": list(self.options),
            "seats": self.seats,
            "quorum": None if self.quorum is None else fraction_str(self.quorum),
            "threshold": self.threshold.to_dict(),
            "abstentions_count_as_cast": self.abstentions_count_as_cast,
            "blanks_count_as_cast": self.blanks_count_as_cast,
            "colleges": [{"name": c.name, "weight": fraction_str(c.weight)} for c in self.colleges],
            "college_weight_bounds": None
            if self.college_weight_bounds is None
            else [fraction_str(b) for b in self.college_weight_bounds],
            "empty_college": self.empty_college,
            "proxy_cap": self.proxy_cap.to_dict(),
            "blank_proxies": self.blank_proxies,
            "board_approved": self.board_approved,
            "tie_break": self.tie_break,
            "score_range": list(self.score_range),
            "grades": list(self.grades),
            "schulze_strength": self.schulze_strength,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Rules:
        """Build rules from untrusted plain data; raise :class:`InvalidRules` naming the bad field.

        Only ``method`` is required; every other key takes the default of :class:`Rules`.
        """
        if not isinstance(data, Mapping):
            raise InvalidRules("rules must be a JSON object", None)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidRules(f"unknown field {unknown[0]!r}", unknown[0])
        if "method" not in data:
            raise InvalidRules("a method is required", "method")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key == "quorum":
                kwargs[key] = None if value is None else _fraction(value, "quorum")
            elif key == "threshold":
                kwargs[key] = Threshold.from_value(value)
            elif key == "colleges":
                kwargs[key] = _colleges_from(value)
            elif key == "college_weight_bounds":
                if value is None:
                    kwargs[key] = None
                elif not isinstance(value, (list, tuple)) or len(value) != 2:
                    raise InvalidRules("must be [min, max]", key)
                else:
                    kwargs[key] = (_fraction(value[0], key), _fraction(value[1], key))
            elif key == "proxy_cap":
                kwargs[key] = ProxyCap.from_value(value)
            elif key in ("options", "grades", "score_range"):
                if not isinstance(value, (list, tuple)):
                    raise InvalidRules("must be a list", key)
                kwargs[key] = tuple(value)
            else:
                kwargs[key] = value
        return cls(**kwargs)


def _check_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRules("must be a whole number", name)


def _fraction(value: Any, name: str) -> Fraction:
    try:
        return parse_fraction(value, name)
    except ValueError as exc:
        raise InvalidRules(str(exc), name) from None


def _colleges_from(value: Any) -> tuple[College, ...]:
    if not isinstance(value, (list, tuple)):
        raise InvalidRules("colleges must be a list of {name, weight}", "colleges")
    out = []
    for item in value:
        if isinstance(item, College):
            out.append(item)
            continue
        if not isinstance(item, Mapping) or set(item) != {"name", "weight"}:
            raise InvalidRules("each college must be an object {name, weight}", "colleges")
        out.append(College(item["name"], _fraction(item["weight"], "colleges")))
    return tuple(out)


# ---------------------------------------------------------------------------- electorate


@dataclass(frozen=True, slots=True)
class Voter:
    """A member eligible when the vote opened, with their college (or ``None``)."""

    id: str
    college: str | None = None


@dataclass(frozen=True)
class Electorate:
    """The snapshot of eligible members taken when the vote opened."""

    voters: tuple[Voter, ...]

    def __post_init__(self) -> None:
        voters = tuple(self.voters)
        object.__setattr__(self, "voters", voters)
        colleges: dict[str, str | None] = {}
        for voter in voters:
            if not isinstance(voter, Voter) or not isinstance(voter.id, str) or not voter.id:
                raise InvalidElectorate("every voter needs a non-empty string id")
            if voter.id in colleges:
                raise InvalidElectorate(f"member {voter.id!r} appears twice in the electorate")
            colleges[voter.id] = voter.college
        object.__setattr__(self, "_colleges", colleges)

    @classmethod
    def of(cls, ids: Iterable[str] | Mapping[str, str | None]) -> Electorate:
        """``Electorate.of(["ann", "bob"])`` or ``Electorate.of({"ann": "workers", ...})``."""
        if isinstance(ids, Mapping):
            return cls(tuple(Voter(i, c) for i, c in ids.items()))
        return cls(tuple(Voter(i) for i in ids))

    def __len__(self) -> int:
        return len(self.voters)

    def __contains__(self, voter_id: object) -> bool:
        return voter_id in self._colleges  # type: ignore[attr-defined]

    def college_of(self, voter_id: str) -> str | None:
        return self._colleges[voter_id]  # type: ignore[attr-defined]

    @property
    def ids(self) -> dict[str, str | None]:
        """Mapping member id -> college (read it, do not change it)."""
        return self._colleges  # type: ignore[attr-defined]

    def college_sizes(self) -> dict[str | None, int]:
        sizes: dict[str | None, int] = {}
        for voter in self.voters:
            sizes[voter.college] = sizes.get(voter.college, 0) + 1
        return sizes


# ---------------------------------------------------------------------------- ballots and proxies


_FLAT = frozenset({str, int})


def freeze(value: Any) -> Any:
    """Make a choice hashable: lists become tuples, dicts become sorted tuples of pairs."""
    if isinstance(value, (str, int)) or value is None:
        return value
    if isinstance(value, Mapping):
        if _FLAT.issuperset(map(type, value.values())):
            return tuple(sorted(value.items()))
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        if _FLAT.issuperset(map(type, value)):
            return tuple(value)
        return tuple(freeze(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return tuple(freeze(v) for v in sorted(value))
    return value


@dataclass(frozen=True, slots=True)
class Ballot:
    """One member's vote on one decision.

    ``voter`` is the member whose vote this is; ``cast_by`` is the proxy holder who cast it for them
    (``None`` when cast in person). ``choice`` depends on the method:

    * motion: ``"yes"``, ``"no"``, ``"abstain"`` or ``"blank"`` (``None`` means blank);
    * consent: ``"agree"``, ``"abstain"``, ``"disagree"``, ``"block"`` (``reason`` may explain a block);
    * single choice: an option id (``None`` = blank);
    * approval: a collection of option ids (empty = blank);
    * score: a mapping option -> integer score (options left out get the minimum score);
    * majority judgment: a mapping option -> grade name (options left out get the worst grade);
    * instant-runoff, STV: a sequence of option ids, most preferred first (may be truncated);
    * Schulze: a sequence whose items are option ids or lists of equally ranked option ids;
      options left out are ranked equally below all ranked ones.

    Lists and dicts are frozen into tuples on creation so that ballots are hashable.
    """

    voter: str
    choice: Any = None
    reason: str | None = None
    cast_by: str | None = None

    def __post_init__(self) -> None:
        choice = self.choice
        if choice is not None and choice.__class__ is not str:
            object.__setattr__(self, "choice", freeze(choice))


@dataclass(frozen=True, slots=True)
class Proxy:
    """``principal`` gives ``holder`` (``None`` = a blank proxy) the power to vote for them.

    A proxy is given for one ``decision`` or for one ``assembly`` (exactly one of the two).
    """

    principal: str
    holder: str | None
    decision: str | None = None
    assembly: str | None = None
