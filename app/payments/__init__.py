"""Payments routed through the cooperative: quotes, invoices, Stripe collection, escrow, the ledger."""
