"""Statute presets: documented starting values for common French cooperative forms.

Every number is only a starting value: each :class:`Preset` holds plain :class:`Rules` that callers
adapt with :func:`dataclasses.replace` to match their own statutes. The legal source (or the fact
that a number comes from typical model statutes rather than the law) is stated in ``sources`` and in
``governance/README.md``. Usage::

    from governance import presets
    rules = presets.get("scop_sarl").ordinary.first_call
    rules = dataclasses.replace(rules, quorum=Fraction(1, 3))
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .errors import InvalidRules
from .model import (
    ABSOLUTE_MAJORITY,
    SIMPLE_MAJORITY,
    THREE_QUARTERS,
    TWO_THIRDS,
    College,
    Method,
    ProxyCap,
    Rules,
)


@dataclass(frozen=True)
class Convocations:
    """Rules on first call, and on second call when the first lacked a quorum."""

    first_call: Rules
    second_call: Rules


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    ordinary: Convocations
    extraordinary: Convocations
    sources: tuple[str, ...]


def _motion(**kw: object) -> Rules:
    return Rules(method=Method.MOTION, **kw)  # type: ignore[arg-type]


_SCOP_PROXIES = {"proxy_cap": ProxyCap("scop", 0), "blank_proxies": "board"}

SCOP_SARL = Preset(
    name="scop_sarl",
    title="SCOP SARL (société coopérative et participative, form SARL)",
    ordinary=Convocations(
        # Typical statutes: no quorum; majority of all associates on first call...
        first_call=_motion(quorum=None, threshold=ABSOLUTE_MAJORITY, **_SCOP_PROXIES),
        # ...and on second call the majority of associates present or represented (abstentions and
        # blank ballots therefore count in the base).
        second_call=_motion(
            quorum=None,
            threshold=SIMPLE_MAJORITY,
            abstentions_count_as_cast=True,
            blanks_count_as_cast=True,
            **_SCOP_PROXIES,
        ),
    ),
    extraordinary=Convocations(
        first_call=_motion(quorum=Fraction(3, 4), threshold=THREE_QUARTERS, **_SCOP_PROXIES),
        second_call=_motion(quorum=Fraction(1, 2), threshold=THREE_QUARTERS, **_SCOP_PROXIES),
    ),
    sources=(
        "loi n° 47-1775 du 10 septembre 1947, art. 9: one member, one vote",
        "loi n° 78-763 du 19 juillet 1978 (statut des SCOP), assemblies section: proxies only to another "
        "associate; at most one extra vote under 20 associates, at most one twentieth of the associates from 20",
        "quorum and majorities: typical SCOP SARL statutes (not fixed by law); check your statutes",
        "blank proxies: rule of Code de commerce art. L225-106 (SA), commonly written into SCOP statutes",
    ),
)

SCOP_SA = Preset(
    name="scop_sa",
    title="SCOP SA (société coopérative et participative, form SA)",
    ordinary=Convocations(
        first_call=_motion(quorum=Fraction(1, 5), threshold=SIMPLE_MAJORITY, **_SCOP_PROXIES),
        second_call=_motion(quorum=None, threshold=SIMPLE_MAJORITY, **_SCOP_PROXIES),
    ),
    extraordinary=Convocations(
        first_call=_motion(quorum=Fraction(1, 4), threshold=TWO_THIRDS, **_SCOP_PROXIES),
        second_call=_motion(quorum=Fraction(1, 5), threshold=TWO_THIRDS, **_SCOP_PROXIES),
    ),
    sources=(
        "loi n° 47-1775 du 10 septembre 1947, art. 9: one member, one vote",
        "loi n° 78-763 du 19 juillet 1978: proxy cap (as for SCOP SARL); quorum and majority assessed on the "
        "votes of members present or represented",
        "Code de commerce art. L225-98 (ordinary: quorum 1/5 on first call, none on second; majority of votes cast)",
        "Code de commerce art. L225-96 (extraordinary: quorum 1/4, then 1/5; two thirds of votes cast)",
        "abstentions and blank ballots are not votes cast since loi n° 2019-744 du 19 juillet 2019",
        "blank proxies: Code de commerce art. L225-106",
    ),
)

_SCIC_COLLEGES = (
    College("workers", Fraction(2, 5)),
    College("beneficiaries", Fraction(3, 10)),
    College("supporters", Fraction(3, 10)),
)
_SCIC = {"colleges": _SCIC_COLLEGES, "proxy_cap": ProxyCap("fixed", 2), "blank_proxies": "board"}

SCIC_SAS = Preset(
    name="scic_sas",
    title="SCIC SAS (société coopérative d'intérêt collectif, form SAS), with colleges",
    ordinary=Convocations(
        first_call=_motion(quorum=Fraction(1, 5), threshold=SIMPLE_MAJORITY, **_SCIC),
        second_call=_motion(quorum=None, threshold=SIMPLE_MAJORITY, **_SCIC),
    ),
    extraordinary=Convocations(
        first_call=_motion(quorum=Fraction(1, 4), threshold=TWO_THIRDS, **_SCIC),
        second_call=_motion(quorum=Fraction(1, 5), threshold=TWO_THIRDS, **_SCIC),
    ),
    sources=(
        "loi n° 47-1775 du 10 septembre 1947, art. 19 septies (at least three categories of associates) and "
        "art. 19 octies (colleges: each between 10 % and 50 % of the votes)",
        "Code de commerce art. L227-9: a SAS's statutes set its own quorum and majorities; the values here "
        "are those of typical SCIC model statutes, which follow the SA rules (L225-96, L225-98)",
        "the three colleges and their weights are an example: replace them with your statutes' colleges",
        "proxy cap of 2: typical statutes, not law",
    ),
)

CAE = Preset(
    name="cae",
    title="CAE (coopérative d'activité et d'emploi), as a SCOP SA",
    ordinary=SCOP_SA.ordinary,
    extraordinary=SCOP_SA.extraordinary,
    sources=(
        "loi n° 2014-856 du 31 juillet 2014 (ESS), art. 47 and Code du travail art. L7331-1 ff.: a CAE is a "
        "SCOP or a SCIC; this preset takes the SCOP SA values above",
        "entrepreneurs-salariés become associates within three years (Code du travail art. L7331-3): "
        "the electorate is whoever is an associate when the vote opens",
    ),
)

ASSOCIATION = Preset(
    name="association",
    title="Association loi 1901",
    ordinary=Convocations(
        first_call=_motion(quorum=Fraction(1, 4), threshold=SIMPLE_MAJORITY, proxy_cap=ProxyCap("fixed", 2)),
        second_call=_motion(quorum=None, threshold=SIMPLE_MAJORITY, proxy_cap=ProxyCap("fixed", 2)),
    ),
    extraordinary=Convocations(
        first_call=_motion(quorum=Fraction(1, 2), threshold=TWO_THIRDS, proxy_cap=ProxyCap("fixed", 2)),
        second_call=_motion(quorum=None, threshold=TWO_THIRDS, proxy_cap=ProxyCap("fixed", 2)),
    ),
    sources=(
        "loi du 1er juillet 1901: sets no quorum, majority or proxy rule; everything here comes from typical "
        "association statutes and must be checked against yours",
    ),
)

PRESETS: dict[str, Preset] = {p.name: p for p in (SCOP_SARL, SCOP_SA, SCIC_SAS, CAE, ASSOCIATION)}


def names() -> tuple[str, ...]:
    return tuple(PRESETS)


def get(name: str) -> Preset:
    """The preset called ``name`` (one of :func:`names`); raises :class:`InvalidRules` otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidRules(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}", "preset") from None
