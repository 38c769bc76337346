"""Quotes on engagements and their milestones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Account, Milestone, Quote
from app.payments import invoicing
from app.payments.schemas import BuyerInput, QuoteInput
from app.payments.service_base import PaymentsServiceBase, QuoteNotAcceptable, QuoteView, is_admin


class QuoteRules(PaymentsServiceBase):
    # -- quotes --------------------------------------------------------------------------------------

    async def _quote_view(self, quote: Quote) -> QuoteView:
        frozen = quote.contribution_rate_bp is not None
        rate = quote.contribution_rate_bp if frozen else await self.contribution_rate_in_force()
        return QuoteView(quote, await self.repository.milestones(quote.id), int(rate or 0), frozen)

    async def _visible_quote(self, viewer: Account, quote_id: uuid.UUID, *, lock: bool = False) -> Quote:
        quote = await self.repository.quote(quote_id, lock=lock)
        if quote is None or not (is_admin(viewer) or viewer.id in (quote.member_id, quote.client_id)):
            raise NotFound()
        return quote

    @staticmethod
    def _buyer(data: BuyerInput) -> dict[str, Any]:
        try:
            return invoicing.party(data.name, data.address, data.registration, data.vat_number, prefix="buyer")
        except invoicing.LegalIdError as error:
            raise InvalidInput.field(error.field, str(error)) from None

    async def propose(self, viewer: Account, engagement_id: uuid.UUID, data: QuoteInput) -> QuoteView:
        """The engaged member (or an administrator) quotes; a new version supersedes an unaccepted one."""
        found = await self.repository.engagement(engagement_id)
        if found is None:
            raise NotFound()
        engagement, mission = found
        if not is_admin(viewer) and viewer.id != engagement.member_id:
            if viewer.id in (mission.owner_id, mission.referrer_id):
                raise Forbidden("The engaged member or an administrator writes the quote; the client accepts it.")
            raise NotFound()
        if mission.status == "cancelled":
            raise Conflict("The mission is cancelled.")
        if data.pricing == "day_rate":
            rate = data.day_rate_minor or engagement.day_rate_minor
            days = data.days or engagement.days
            if not days:
                raise InvalidInput.field("days", "A day-rate quote says for how many days.")
            if rate <= 0:
                raise InvalidInput.field("day_rate_minor", "A day-rate quote needs a day rate.")
            total = rate * days
        else:
            if data.fixed_price_minor is None:
                raise InvalidInput.field("fixed_price_minor", "A fixed-price quote states its price.")
            rate, days, total = None, None, data.fixed_price_minor
        if not data.milestones:
            raise InvalidInput.field("milestones", "A quote has at least one milestone.")
        if sum(m.amount_ht_minor for m in data.milestones) != total:
            raise InvalidInput.field("milestones", f"The milestones must add up to the total before tax ({total}).")
        if data.vat_rate_bp == 0 and not data.vat_exemption:
            raise InvalidInput.field(
                "vat_exemption", "Without VAT, the invoice states the exemption (e.g. art. 293 B)."
            )
        buyer = self._buyer(data.buyer)
        previous = await self.repository.live_quote(engagement.id)
        if previous is not None:
            if previous.status == "accepted":
                raise QuoteNotAcceptable("The client accepted a quote: its terms are frozen.")
            previous.status = "superseded"
            await self.repository.session.flush()
        quote = Quote(
            engagement_id=engagement.id,
            mission_id=mission.id,
            member_id=engagement.member_id,
            client_id=mission.owner_id,
            version=await self.repository.quote_count(engagement.id) + 1,
            pricing=data.pricing,
            day_rate_minor=rate,
            days=days,
            total_ht_minor=total,
            currency=mission.currency,
            vat_rate_bp=data.vat_rate_bp,
            vat_exemption=data.vat_exemption,
            buyer=buyer,
        )
        await self.repository.add(quote)
        for position, item in enumerate(data.milestones):
            await self.repository.add(
                Milestone(
                    quote_id=quote.id,
                    position=position,
                    title=item.title,
                    amount_ht_minor=item.amount_ht_minor,
                    due_on=item.due_on,
                )
            )
        return await self._quote_view(quote)

    async def quote(self, viewer: Account, quote_id: uuid.UUID) -> QuoteView:
        return await self._quote_view(await self._visible_quote(viewer, quote_id))

    async def quotes(self, viewer: Account, limit: int, offset: int) -> tuple[list[QuoteView], int]:
        rows, total = await self.repository.quotes_for(None if is_admin(viewer) else viewer.id, limit, offset)
        return [await self._quote_view(row) for row in rows], total

    async def _client_decides(self, viewer: Account, quote_id: uuid.UUID) -> Quote:
        quote = await self._visible_quote(viewer, quote_id, lock=True)
        if viewer.id != quote.client_id:
            raise Forbidden("Only the client accepts a quote or asks for a revision.")
        if quote.status != "proposed":
            raise QuoteNotAcceptable(f"The quote is {quote.status}.")
        return quote

    async def accept_quote(self, viewer: Account, quote_id: uuid.UUID) -> QuoteView:
        """Acceptance freezes the terms and the contribution rate in force now."""
        quote = await self._client_decides(viewer, quote_id)
        rate = await self.contribution_rate_in_force()  # read before the row changes (autoflush)
        quote.status, quote.contribution_rate_bp, quote.accepted_at = "accepted", rate, datetime.now(UTC)
        return await self._quote_view(quote)

    async def request_revision(self, viewer: Account, quote_id: uuid.UUID, note: str) -> QuoteView:
        quote = await self._client_decides(viewer, quote_id)
        quote.status, quote.revision_note = "revision_requested", note
        return await self._quote_view(quote)

    # -- milestones ----------------------------------------------------------------------------------

    async def _milestone(self, viewer: Account, milestone_id: uuid.UUID) -> tuple[Milestone, Quote]:
        found = await self.repository.milestone(milestone_id, lock=True)
        if found is None:
            raise NotFound()
        milestone, quote = found
        if not (is_admin(viewer) or viewer.id in (quote.member_id, quote.client_id)):
            raise NotFound()
        if quote.status != "accepted":
            raise QuoteNotAcceptable("Milestones move once the client has accepted the quote.")
        return milestone, quote

    async def deliver(self, viewer: Account, milestone_id: uuid.UUID) -> tuple[Milestone, Quote]:
        milestone, quote = await self._milestone(viewer, milestone_id)
        if viewer.id != quote.member_id and not is_admin(viewer):
            raise Forbidden("The engaged member declares a milestone delivered.")
        if milestone.status != "pending":
            raise Conflict(f"The milestone is already {milestone.status}.")
        milestone.status, milestone.delivered_at = "delivered", datetime.now(UTC)
        return milestone, quote

    async def accept_milestone(self, viewer: Account, milestone_id: uuid.UUID) -> tuple[Milestone, Quote]:
        """The client accepts the work: the money held in escrow for it is released (once paid)."""
        milestone, quote = await self._milestone(viewer, milestone_id)
        if viewer.id != quote.client_id:
            raise Forbidden("Only the client accepts a delivered milestone.")
        if milestone.status != "delivered":
            raise Conflict(f"Only a delivered milestone can be accepted; it is {milestone.status}.")
        milestone.status, milestone.accepted_at = "accepted", datetime.now(UTC)
        await self.release(milestone, quote)
        return milestone, quote
