"""What the ledger tells: the cooperative's aggregated accounts, a member's own lines, the FEC export
for the accountant, the integrity check and the reconciliation with Stripe (`coop payments reconcile`).

Reads only; never writes, never commits. Stripe is reached through the `Gateway` protocol.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from app.core.errors import NotFound
from app.db.transaction import UnitOfWork
from app.models import Account
from app.payments import ledger
from app.payments.gateway import Gateway, PaymentProviderError
from app.payments.repository import PaymentsRepository


class ReportsService:
    def __init__(self, unit_of_work: UnitOfWork, gateway: Gateway | None = None) -> None:
        self.repository = PaymentsRepository(unit_of_work.session)
        self.gateway = gateway

    async def summary(self) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, str, int]]]:
        """Aggregated accounts: members' accounts merged into one line, escrow accounts into another."""
        merged: dict[tuple[str, str], int] = {}
        for row in await self.repository.balances():
            family = (
                "members"
                if row.code.startswith("member:")
                else "escrow"
                if row.code.startswith("escrow:")
                else row.code
            )
            key = (family, row.kind)
            merged[key] = merged.get(key, 0) + ledger.normal_sign(row.kind) * int(row.sum_minor)
        balances = [(family, kind, amount) for (family, kind), amount in sorted(merged.items())]
        months = [(r.month, r.kind, r.account, int(r.sum_minor)) for r in await self.repository.monthly_summary()]
        return balances, months

    async def member_lines(
        self, viewer: Account, limit: int, offset: int, member_id: uuid.UUID | None = None
    ) -> tuple[int, list[Any], int]:
        """A member's account line by line: one's own, or anyone's for an administrator (else 404)."""
        member_id = member_id or viewer.id
        if member_id != viewer.id and viewer.role != "admin":
            raise NotFound()
        code = ledger.member_account(member_id)
        balance = -await self.repository.balance(code)
        rows, total = await self.repository.account_lines(code, limit, offset)
        return balance, rows, total

    async def fec(self) -> str:
        """The Fichier des Écritures Comptables: tab-separated, the 18 columns of art. A47 A-1 LPF."""
        header = [
            "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
            "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
            "ValidDate", "Montantdevise", "Idevise",
        ]  # fmt: skip
        lines = ["\t".join(header)]
        numbers: dict[uuid.UUID, int] = {}
        for row in await self.repository.journal():
            number = numbers.setdefault(row.transaction_id, len(numbers) + 1)
            family = row.code.split(":", 1)[0]
            account, label = ledger.PCG_NUMBERS.get(family, ("471000", "Compte d'attente"))
            auxiliary = row.code.split(":", 1)[1] if ":" in row.code else ""
            day = row.occurred_at.astimezone(UTC).strftime("%Y%m%d")
            debit = _fec_amount(row.amount_minor) if row.amount_minor > 0 else "0,00"
            credit = _fec_amount(-row.amount_minor) if row.amount_minor < 0 else "0,00"
            text = _fec_text(row.memo or row.kind)
            lines.append(
                "\t".join(
                    [
                        "BQ" if family == "treasury" else "OD",
                        "Banque" if family == "treasury" else "Opérations diverses",
                        str(number),
                        day,
                        account,
                        label,
                        auxiliary,
                        _fec_text(row.name) if auxiliary else "",
                        row.reference or (row.external_ref or str(row.transaction_id))[:40],
                        day,
                        text,
                        debit,
                        credit,
                        "",
                        "",
                        day,
                        "",
                        "",
                    ]
                )
            )
        return "\r\n".join(lines) + "\r\n"

    async def check(self) -> list[str]:
        """Integrity: every transaction balances (the database enforces it; this double-checks)."""
        return [f"unbalanced transaction {txn}" for txn in await self.repository.unbalanced_transactions()]

    async def reconcile(self) -> list[str]:
        """Compare the journal with Stripe: every succeeded PaymentIntent booked for its amount and its
        processing fee, every Stripe refund booked, nothing booked that Stripe does not know; and list
        the inbox entries that failed for good (a fee never read, an event never applied)."""
        if self.gateway is None:
            raise PaymentProviderError("No payment provider is configured.")
        gateway = self.gateway
        differences: list[str] = []
        payments = await self.repository.booked_amounts("client_payment")
        refunds = await self.repository.booked_amounts("refund")
        fees = await self.repository.booked_amounts("processor_fee")
        seen_refunds: set[str] = set()
        for payment in await self.repository.payments_with_intents():
            assert payment.payment_intent_id is not None
            try:
                intent = await gateway.retrieve_intent(payment.payment_intent_id)
            except PaymentProviderError as error:
                differences.append(f"{payment.payment_intent_id}: not found at Stripe ({error.detail})")
                continue
            booked = payments.get(intent.id)
            if intent.status == "succeeded" and booked != intent.amount_minor:
                differences.append(f"{intent.id}: Stripe received {intent.amount_minor}, ledger booked {booked or 0}")
            if intent.status != "succeeded" and booked:
                differences.append(f"{intent.id}: ledger booked {booked} but Stripe says {intent.status}")
            if intent.status == "succeeded":
                fee = await gateway.charge_fee(intent.id)
                booked_fee = -fees.get(fee.id, 0) if fee else 0
                if fee is not None and fee.amount_minor > 0 and booked_fee != fee.amount_minor:
                    differences.append(f"{intent.id}: Stripe's fee is {fee.amount_minor}, ledger booked {booked_fee}")
            for refund in await gateway.refunds_of(intent.id):
                seen_refunds.add(refund.id)
                booked_refund = -refunds.get(refund.id, 0)
                if refund.status == "succeeded" and booked_refund != refund.amount_minor:
                    differences.append(
                        f"{refund.id}: Stripe refunded {refund.amount_minor}, ledger booked {booked_refund}"
                    )
        for reference in set(refunds) - seen_refunds:
            differences.append(f"{reference}: refund booked in the ledger, unknown to Stripe")
        for event_id, event_type, error in await self.repository.abandoned_events():
            differences.append(f"inbox {event_id} ({event_type}): given up after 5 attempts: {error}")
        return differences


def _fec_amount(minor: int) -> str:
    return f"{minor // 100},{minor % 100:02d}"


def _fec_text(value: str) -> str:
    return " ".join(value.replace("\t", " ").split())[:200]
