"""Founding the statutes and assigning colleges (amendments go through a vote: closing.py)."""

from __future__ import annotations

import uuid
from typing import Any

import governance
from app.assemblies import statutes
from app.assemblies.service_base import ServiceBase, rules_change
from app.assemblies.statutes import (
    StatutesFrozen,
)
from app.core.errors import Conflict, InvalidInput, NotFound
from app.models import (
    Account,
    StatuteVersion,
)


class StatutesRules(ServiceBase):
    """Founding the statutes and assigning colleges (amendments go through a vote: closing.py)."""

    async def found_statutes(self, account: Account, data: Any) -> StatuteVersion:
        self.require_chair(account)
        if await self.repository.any_vote_in_progress():
            raise StatutesFrozen(
                "An assembly is convened or a vote is open: the procedure cannot change until it closes."
            )
        if await self.repository.any_vote_closed():
            raise Conflict(
                "Votes have been held: the statutes now change only by a vote of the members "
                "(a proposal carrying an amend_statutes action)."
            )
        try:
            document = statutes.default_statutes(data.preset)
        except governance.InvalidRules as error:
            raise InvalidInput.field("preset", error.reason) from None
        if data.changes is not None:
            document = statutes.amend(document, None, None, rules_change(data.changes))
        for key in (
            "initiative_cosignatures",
            "initiative_route",
            "initiative_vote_days",
            "chair_may_close_early",
            "chair_may_open_early",
        ):
            value = getattr(data, key)
            if value is not None:
                document[key] = value
        if data.default_college is not None:
            statutes.check_college(document, data.default_college)
            document["default_college"] = data.default_college
        current = await self.current_statutes()
        if current.document == document:
            return current  # an idempotent PUT writes nothing
        version = StatuteVersion(document=document, reason=f"founded on preset {data.preset}", created_by=account.id)
        await self.repository.add(version)
        self._audit("statutes.founded", actor_id=account.id, data={"version": version.id, "document": document})
        return version

    async def assign_college(self, account: Account, account_id: uuid.UUID, college: str | None) -> None:
        self.require_chair(account)
        target = await self.repository.get_account(account_id)
        if target is None:
            raise NotFound("No such account.")
        current = await self.current_statutes()
        statutes.check_college(current.document, college)
        await self.repository.set_college(account_id, college, account.id, None)
        self._audit("college.assigned", actor_id=account.id, data={"account": str(account_id), "college": college})
