"""Authorization-matrix rows of the notifications feature (the unsubscribe link is a public operation:
the signed token in it says whose mail stops)."""

from __future__ import annotations

from tests.integration.platform.matrix import EVERYONE_SIGNED_IN, Rule

ROWS: list[Rule] = [
    Rule("GET", "/api/v1/me/notifications", EVERYONE_SIGNED_IN, why="the caller's own preference"),
    Rule(
        "PUT",
        "/api/v1/me/notifications",
        EVERYONE_SIGNED_IN,
        body={"mode": "daily"},
        why="only ever changes the caller's own preference",
    ),
]
