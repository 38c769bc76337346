"""Domain errors of the governance engine.

Every error subclasses :class:`GovernanceError` and carries a stable machine ``code`` (a short
snake_case string the API can map to its own responses) and a human ``reason``. No HTTP status
codes live here: the engine knows nothing of the web.
"""

from __future__ import annotations


class GovernanceError(Exception):
    """Base class of every error raised by :mod:`governance`."""

    code: str = "governance_error"

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, object]:
        """A plain, JSON-ready description of the error."""
        return {"code": self.code, "reason": self.reason}


class InvalidRules(GovernanceError):
    """The rules of a decision are inconsistent or malformed; ``field`` names the culprit."""

    code = "invalid_rules"

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "reason": self.reason, "field": self.field}


class InvalidElectorate(GovernanceError):
    """The electorate snapshot is malformed (duplicate member, unknown college...)."""

    code = "invalid_electorate"


class InvalidBallot(GovernanceError):
    """A ballot cannot be counted; ``voter`` names whose ballot it is, when known."""

    code = "invalid_ballot"

    def __init__(self, reason: str, voter: str | None = None, *, code: str | None = None) -> None:
        super().__init__(reason, code=code)
        self.voter = voter

    def __str__(self) -> str:
        return f"ballot of {self.voter!r}: {self.reason}" if self.voter is not None else self.reason

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "reason": self.reason, "voter": self.voter}


class ProxyViolation(GovernanceError):
    """A proxy breaks the rules (over the cap, chain, non-member, duplicate...)."""

    code = "proxy_violation"

    def __init__(
        self, reason: str, principal: str | None = None, holder: str | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(reason, code=code)
        self.principal = principal
        self.holder = holder

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "reason": self.reason, "principal": self.principal, "holder": self.holder}


class InvalidCertificate(GovernanceError):
    """A certificate is malformed, its hash does not match, or its outcome does not recompute."""

    code = "invalid_certificate"
