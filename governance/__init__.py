"""Pure, verifiable engine for cooperative decisions (standard library only).

Given a decision's :class:`Rules`, the :class:`Electorate` snapshot, the :class:`Ballot` list and
any :class:`Proxy`, :func:`tally` returns a :class:`Result` with a full explanation; :func:`certify`
turns it into a :class:`Certificate` anyone can check offline with :func:`verify` or
``python -m governance verify FILE.json``. See ``governance/README.md``.
"""

from . import presets
from .blt import to_blt
from .certificate import Certificate, certify, recount, verify
from .errors import (
    GovernanceError,
    InvalidBallot,
    InvalidCertificate,
    InvalidElectorate,
    InvalidRules,
    ProxyViolation,
)
from .model import (
    ABSOLUTE_MAJORITY,
    SIMPLE_MAJORITY,
    THREE_QUARTERS,
    TWO_THIRDS,
    UNANIMITY,
    Ballot,
    College,
    Electorate,
    Method,
    Proxy,
    ProxyCap,
    Rules,
    Threshold,
    Voter,
)
from .proxies import resolve_ballots, validate_proxies
from .result import Result
from .tally import count, tally

__all__ = [
    "ABSOLUTE_MAJORITY",
    "SIMPLE_MAJORITY",
    "THREE_QUARTERS",
    "TWO_THIRDS",
    "UNANIMITY",
    "Ballot",
    "Certificate",
    "College",
    "Electorate",
    "GovernanceError",
    "InvalidBallot",
    "InvalidCertificate",
    "InvalidElectorate",
    "InvalidRules",
    "Method",
    "Proxy",
    "ProxyCap",
    "ProxyViolation",
    "Result",
    "Rules",
    "Threshold",
    "Voter",
    "certify",
    "count",
    "presets",
    "recount",
    "resolve_ballots",
    "tally",
    "to_blt",
    "validate_proxies",
    "verify",
]
