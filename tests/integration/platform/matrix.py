"""The shape of an authorization-matrix row, shared by the feature packages that contribute rows.

Each feature may keep its rows in `tests/integration/<feature>/matrix_rows.py` as `ROWS: list[Rule]`;
`test_authorization_matrix.py` gathers them into one MATRIX.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actor, Actors

ACTOR_ORDER = ("anonymous", "client", "other_member", "owner", "admin")  # the admin, who may change others, last

PROBLEM_TYPES = {
    401: "urn:coop:problem:not-authenticated",
    403: "urn:coop:problem:forbidden",
    404: "urn:coop:problem:not-found",
}


def expect(owner: int, other_member: int, client: int, admin: int, anonymous: int) -> dict[str, int]:
    return {"owner": owner, "other_member": other_member, "client": client, "admin": admin, "anonymous": anonymous}


EVERYONE_SIGNED_IN = {"owner": 200, "other_member": 200, "client": 200, "admin": 200, "anonymous": 401}
ANYONE = expect(200, 200, 200, 200, 200)


@dataclass(frozen=True)
class Rule:
    method: str
    path: str  # the OpenAPI path template
    expected: dict[str, int]
    url: Callable[[Actors], str] | None = None  # fills the template; defaults to the template itself
    body: dict[str, Any] | Callable[[Actors, Actor], dict[str, Any]] | None = None
    why: str = ""
    # More precise problem types a row may answer with instead of the generic one of its status
    # (e.g. `not-in-electorate`, a 403 that says why).
    problem_types: frozenset[str] = frozenset()
    # Creates what the row needs (a profile, a mission...) once, before the actors call; its result is
    # `actors.context`, which `url` and `body` may read.
    setup: Callable[[AsyncTestClient, Actors], Awaitable[dict[str, Any]]] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def target(self, actors: Actors) -> str:
        return self.url(actors) if self.url else self.path
