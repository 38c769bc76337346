"""Rules of the payments feature: quotes on engagements, milestones, invoices and credit notes, Stripe
collection and refunds, the webhook inbox's processing, escrow release and what members may read.

Knows nothing of HTTP. Never commits, with one documented exception: a payment or refund attempt is
made durable before Stripe is called (`_durable`), so a retry finds it and reuses its idempotency key.
Reads missions and the voted contribution rate through its own repository's queries; imports no
other feature's internals. Stripe is reached only through the `Gateway` protocol.

`PaymentsService` is composed of one mixin per part (`service_*.py`), over the same repository.
"""

from __future__ import annotations

from app.payments.service_base import DISPUTE_FEE_MINOR, InvoiceView, QuoteView, is_admin
from app.payments.service_collection import CollectionRules
from app.payments.service_inbox import InboxRules
from app.payments.service_invoices import InvoiceRules
from app.payments.service_quotes import QuoteRules


class PaymentsService(QuoteRules, InvoiceRules, CollectionRules, InboxRules):
    pass


__all__ = ["DISPUTE_FEE_MINOR", "InvoiceView", "PaymentsService", "QuoteView", "is_admin"]
