"""Result certificates: a canonical, hashable record anyone can recompute offline.

A certificate body is the canonical JSON (see :mod:`governance.canonical`) of::

    {"format": "coop-governance-certificate/1",
     "rules": Rules.to_dict(),
     "electorate": {"size": N, "colleges": {college: size, ...}},
     "ballots": [{"choice": ..., "college": ..., "count": n[, "reason": ...]}, ...],
     "result": Result.to_dict(),
     "attendance": {"in_person": n, "by_proxy": n, "blank_proxies": n, "cancelled_proxies": n}}

``ballots`` are the counted ballots after proxy resolution, anonymous (no member ids), normalised
(e.g. approval sets sorted) and aggregated: identical ballots are one entry with a ``count``. Entries
are sorted by the canonical JSON of the entry without its count. The same list, as canonical JSON,
is what the SHA-256 seed of any lot is computed from. ``attendance`` is covered by the hash but
cannot be recomputed from anonymous ballots. The certificate's ``sha256`` is the hex
SHA-256 of the canonical JSON of the body.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .canonical import canonical_json, sha256_hex
from .counting import choice_to_json
from .errors import GovernanceError, InvalidCertificate
from .model import Rules, freeze
from .result import Result

FORMAT = "coop-governance-certificate/1"


def canonical_ballots(
    rules: Rules,
    by_college: dict[str | None, Counter[Any]],
    block_reasons: Counter[tuple[str | None, str | None]] | None = None,
) -> list[dict[str, Any]]:
    """The sorted, aggregated, anonymous list of counted ballots (see module docstring).

    ``by_college`` maps a college (``None`` without colleges) to normalised ballots and counts;
    ``block_reasons`` splits consent blocks by (college, reason).
    """
    entries: list[tuple[bytes, dict[str, Any]]] = []
    for college, counts in by_college.items():
        for key, n in counts.items():
            if n <= 0:
                continue
            if key == "block" and block_reasons:
                continue
            entry = {"choice": choice_to_json(rules.method, rules, key), "college": college}
            entries.append((canonical_json(entry), {**entry, "count": n}))
    for (college, reason), n in (block_reasons or {}).items():
        entry = {"choice": "block", "college": college}
        if reason is not None:
            entry["reason"] = reason
        entries.append((canonical_json(entry), {**entry, "count": n}))
    entries.sort(key=lambda pair: pair[0])
    return [entry for _, entry in entries]


def canonical_ballots_bytes(
    rules: Rules, by_college: dict[str | None, Counter[Any]], block_reasons: Counter[Any] | None = None
) -> bytes:
    return canonical_json(canonical_ballots(rules, by_college, block_reasons))


@dataclass(frozen=True)
class Certificate:
    """A published result: ``body`` (plain data) and ``sha256`` of its canonical JSON."""

    body: dict[str, Any]
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"certificate": self.body, "sha256": self.sha256}

    def to_json(self) -> str:
        """Canonical JSON text of ``{"certificate": body, "sha256": hex}``, ready to publish."""
        return canonical_json(self.to_dict()).decode("utf-8")

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> Certificate:
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise InvalidCertificate(f"not JSON: {exc}", code="malformed") from None
        if not isinstance(data, Mapping) or not isinstance(data.get("certificate"), Mapping):
            raise InvalidCertificate("expected an object with 'certificate' and 'sha256'", code="malformed")
        digest = data.get("sha256")
        if not isinstance(digest, str):
            raise InvalidCertificate("the certificate has no 'sha256'", code="malformed")
        return cls(dict(data["certificate"]), digest)


def certify(result: Result, *, audit_head: Mapping[str, Any] | None = None) -> Certificate:
    """Build the certificate of a result returned by :func:`governance.tally`.

    ``audit_head``, when given, is the head of the organisation's audit log at the count: hashed into
    the certificate, so whoever keeps the certificate also keeps a link the log must still extend.
    """
    body: dict[str, Any] = {
        "format": FORMAT,
        "rules": result.rules.to_dict(),
        "electorate": {"size": result.electorate_size, "colleges": dict(sorted(result.college_sizes.items()))},
        "ballots": canonical_ballots(result.rules, result.by_college, result.block_reasons),
        "result": result.to_dict(),
        "attendance": dict(result.attendance),
    }
    if audit_head is not None:
        body["audit_head"] = dict(audit_head)
    body = json.loads(canonical_json(body))  # plain data exactly as published
    return Certificate(body, sha256_hex(canonical_json(body)))


def recount(certificate: Certificate | Mapping[str, Any] | str | bytes) -> Result:
    """Recount the ballots of a certificate under its rules (does not check the hash)."""
    cert = certificate if isinstance(certificate, Certificate) else Certificate.from_json(certificate)
    body = cert.body
    if body.get("format") != FORMAT:
        raise InvalidCertificate(f"unknown certificate format {body.get('format')!r}", code="malformed")
    from .tally import count

    try:
        rules = Rules.from_dict(body["rules"])
        electorate = body["electorate"]
        size = electorate["size"]
        colleges = electorate.get("colleges", {})
        counted: Counter[tuple[str | None, Any, str | None]] = Counter()
        for entry in body["ballots"]:
            extra = set(entry) - {"choice", "college", "count", "reason"}
            if extra or not isinstance(entry["count"], int) or entry["count"] < 1:
                raise InvalidCertificate(f"malformed ballot entry {entry!r}", code="malformed")
            counted[(entry["college"], freeze(entry["choice"]), entry.get("reason"))] += entry["count"]
        if not isinstance(size, int) or not isinstance(colleges, Mapping):
            raise InvalidCertificate("malformed electorate", code="malformed")
        return count(rules, size, dict(colleges), counted)
    except InvalidCertificate:
        raise
    except GovernanceError as exc:
        raise InvalidCertificate(f"the certificate does not recount: {exc}", code="does_not_recount") from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidCertificate(f"malformed certificate ({exc!r})", code="malformed") from None


def verify(certificate: Certificate | Mapping[str, Any] | str | bytes) -> bool:
    """Check a certificate: its SHA-256, and that recounting its ballots gives its published result.

    Returns ``True``; raises :class:`InvalidCertificate` (codes ``malformed``, ``hash_mismatch``,
    ``does_not_recount``, ``outcome_mismatch``) otherwise.
    """
    cert = certificate if isinstance(certificate, Certificate) else Certificate.from_json(certificate)
    if sha256_hex(canonical_json(cert.body)) != cert.sha256:
        raise InvalidCertificate("the SHA-256 does not match the certificate's content", code="hash_mismatch")
    result = recount(cert)
    published = cert.body.get("result")
    recomputed = json.loads(canonical_json(result.to_dict()))
    if published != recomputed:
        diff = sorted(k for k in recomputed if not isinstance(published, Mapping) or published.get(k) != recomputed[k])
        raise InvalidCertificate(
            f"recounting gives a different result (differs in: {', '.join(diff) or 'shape'})", code="outcome_mismatch"
        )
    return True


def box_differences(box: Result, certificate: Certificate | Mapping[str, Any] | str | bytes) -> list[str]:
    """What differs between a ballot box, recounted, and the certificate it is published with.

    The certificate must verify first (its hash and recount); then the box must give the same
    rules, electorate, counted ballots and result: a ballot flipped, added or dropped in the box
    changes the counted ballots the certificate's hash covers. An empty list means they agree.
    """
    cert = certificate if isinstance(certificate, Certificate) else Certificate.from_json(certificate)
    verify(cert)
    recounted = certify(box).body
    return [
        f"{part} differ"
        for part in ("rules", "electorate", "ballots", "result")
        if recounted.get(part) != cert.body.get(part)
    ]


def attendance_lines(offline: Mapping[str, int], certified: Mapping[str, Any]) -> list[str]:
    """The attendance as the server certified it, and why the file's own count may read otherwise."""

    def text(att: Mapping[str, Any]) -> str:
        return (
            f"{att.get('in_person', 0)} in person, {att.get('by_proxy', 0)} by proxy, "
            f"{att.get('blank_proxies', 0)} blank proxies, {att.get('cancelled_proxies', 0)} proxies cancelled"
        )

    lines = [f"Attendance (certified, covered by the certificate's hash): {text(certified)}."]
    keys = ("in_person", "by_proxy", "blank_proxies", "cancelled_proxies")
    if any(offline.get(k, 0) != certified.get(k, 0) for k in keys):
        lines.append(
            f"This file alone reads {text(offline)}: its ballots are the counted ones, after proxies were "
            "resolved, and do not say who cast them (a secret ballot keeps that apart), so every ballot looks "
            "cast in person here. The counted ballots are the same; only who brought them is not in the file."
        )
    return lines
