"""Payouts: members' IBANs (checked with schwifty, sealed under the member's data key, shown masked), payout runs
prepared by one administrator and approved by another, the SEPA file written once at approval, and
each line's outcome (pending → submitted → executed or returned) booked on the ledger.

Knows nothing of HTTP; never commits. What a member is owed is derived from the ledger, so a refund
after a payout leaves a negative balance that simply keeps the member out of runs until it is netted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from app.core.errors import AppError, Conflict, NotFound
from app.core.sealing import MasterKeys, MemberKeyRing, master_keys_from_settings, open_text, seal_text
from app.db.transaction import UnitOfWork
from app.models import Account, BankAccount, PayoutLine, PayoutRun
from app.payments import ledger, sepa
from app.payments.repository import PaymentsRepository
from app.settings import Settings


class InvalidIban(AppError):
    status_code = 422
    slug = "invalid-iban"
    title = "The IBAN is not valid (country, length or check digits)"


class FourEyes(AppError):
    status_code = 403
    slug = "four-eyes"
    title = "A payout run is approved by another administrator than the one who prepared it"


def mask(last4: str) -> str:
    return f"**** **** **** {last4}"


# The associated data of each sealed column: the column's name and the member's id, so a ciphertext copied
# to another member's row, or from the name to the IBAN, does not open.
HOLDER_NAME = "member_bank_account.holder_name"
IBAN_SEALED = "member_bank_account.iban"


@dataclass(frozen=True)
class BankAccountView:
    """A bank account as its owner sees it: the holder's name opened, the IBAN only by its last four
    characters. Never the ORM row with the name written in (the session would flush it in clear)."""

    member_id: uuid.UUID
    holder_name: str
    iban_last4: str
    country: str
    bic: str | None
    updated_at: datetime


@dataclass(frozen=True)
class RunView:
    run: PayoutRun
    lines: list[PayoutLine]


class PayoutsService:
    def __init__(self, unit_of_work: UnitOfWork, settings: Settings, master_keys: MasterKeys | None = None) -> None:
        self.repository = PaymentsRepository(unit_of_work.session)
        self.settings = settings
        # The IBAN and the holder's name are sealed under the member's data key: erasing the member
        # destroys the key, so a backup's copy of them becomes noise (crypto-shredding).
        self.keys = MemberKeyRing(unit_of_work.session, master_keys or master_keys_from_settings(settings))

    async def save_bank_account(self, member: Account, holder_name: str, iban: str, bic: str | None) -> BankAccountView:
        try:
            parsed = IBAN(iban)
        except SchwiftyException:
            raise InvalidIban(errors=[{"field": "iban", "message": InvalidIban.title}]) from None
        if bic is None and parsed.bic is not None:
            bic = str(parsed.bic)
        key = await self.keys.key(member.id, create=True)
        assert key is not None
        sealed_name = seal_text(key, holder_name, table=HOLDER_NAME, row_id=member.id)
        sealed_iban = seal_text(key, parsed.compact, table=IBAN_SEALED, row_id=member.id)
        account = await self.repository.bank_account(member.id)
        if account is None:
            account = BankAccount(
                member_id=member.id,
                holder_name=sealed_name,
                iban_sealed=sealed_iban,
                iban_last4=parsed.compact[-4:],
                country=parsed.country_code,
                bic=bic,
            )
            await self.repository.add(account)
        else:
            account.holder_name, account.iban_sealed = sealed_name, sealed_iban
            account.iban_last4, account.country, account.bic = parsed.compact[-4:], parsed.country_code, bic
            account.updated_at = datetime.now(UTC)
        return self._view(account, holder_name)

    async def bank_account(self, member: Account) -> BankAccountView:
        account = await self.repository.bank_account(member.id)
        if account is None:
            raise NotFound("No IBAN on file: PUT /api/v1/payments/me/bank-account.")
        key = await self.keys.key(member.id, create=False)
        return self._view(account, open_text(key, account.holder_name, table=HOLDER_NAME, row_id=member.id))

    @staticmethod
    def _view(account: BankAccount, holder_name: str) -> BankAccountView:
        return BankAccountView(
            member_id=account.member_id,
            holder_name=holder_name,
            iban_last4=account.iban_last4,
            country=account.country,
            bic=account.bic,
            updated_at=account.updated_at,
        )

    async def prepare(self, admin: Account, execution_date: date | None) -> RunView:
        """Everyone owed a positive amount, with an IBAN on file and no payout under way."""
        owed = await self.repository.members_owed()
        if not owed:
            raise Conflict("Nobody is owed anything that can be paid out now.")
        run = PayoutRun(
            prepared_by_id=admin.id,
            execution_date=execution_date or (datetime.now(UTC).date() + timedelta(days=1)),
            total_minor=sum(amount for _, amount, _ in owed),
            message_id=sepa.message_id(),
        )
        await self.repository.add(run)
        lines = []
        for member_id, amount, last4 in owed:
            line = PayoutLine(run_id=run.id, member_id=member_id, amount_minor=amount, iban_last4=last4)
            await self.repository.add(line)
            lines.append(line)
        return RunView(run, lines)

    async def run(self, run_id: uuid.UUID, *, lock: bool = False) -> RunView:
        run = await self.repository.payout_run(run_id, lock=lock)
        if run is None:
            raise NotFound()
        return RunView(run, list(await self.repository.payout_lines(run.id)))

    async def runs(self, limit: int, offset: int) -> tuple[Sequence[PayoutRun], int]:
        """Every payout run, newest first, without their lines (read one run for those)."""
        return await self.repository.payout_runs(limit, offset)

    async def approve(self, admin: Account, run_id: uuid.UUID) -> RunView:
        """Four eyes: another administrator approves; the SEPA file is written now, once, and each line
        is submitted and booked (the money is on its way: what the member is owed drops at once)."""
        view = await self.run(run_id, lock=True)
        run = view.run
        if run.prepared_by_id == admin.id:
            raise FourEyes()
        if run.status != "prepared":
            raise Conflict(f"The run is already {run.status}.")
        transfers = []
        # Every member's key at once; the IBAN is opened here only, to write the file.
        await self.keys.load(line.member_id for line in view.lines)
        for line in view.lines:
            account = await self.repository.bank_account(line.member_id)
            key = self.keys.loaded(line.member_id)
            if account is None or key is None:
                raise Conflict("A member removed their IBAN since the run was prepared: prepare a new run.")
            iban = open_text(key, account.iban_sealed, table=IBAN_SEALED, row_id=line.member_id)
            name = open_text(key, account.holder_name, table=HOLDER_NAME, row_id=line.member_id)
            transfers.append(
                sepa.Transfer(
                    end_to_end_id=line.id.hex,
                    name=name,
                    iban=iban,
                    bic=account.bic,
                    amount_minor=line.amount_minor,
                    description=f"Coop payout {line.id.hex[:12]}",
                )
            )
        s = self.settings
        xml = sepa.credit_transfer(
            message_id=run.message_id,
            debtor=s.coop_legal_name,
            iban=s.coop_iban,
            bic=s.coop_bic,
            execution_date=run.execution_date,
            transfers=transfers,
        )
        now = datetime.now(UTC)
        run.status, run.approved_by_id, run.approved_at, run.sepa_xml = "approved", admin.id, now, xml.decode()
        for line in view.lines:
            line.status, line.updated_at = "submitted", now
            await self.repository.book(
                "payout",
                ledger.payout_postings(line.member_id, line.amount_minor),
                external_ref=line.id.hex,
                memo=f"Payout {line.id.hex[:12]} (SEPA)",
            )
        return view

    async def sepa_file(self, run_id: uuid.UUID) -> tuple[str, str]:
        view = await self.run(run_id)
        if view.run.sepa_xml is None:
            raise Conflict("The file exists once another administrator has approved the run.")
        return f"{view.run.message_id}.xml", view.run.sepa_xml

    async def outcome(self, line_id: uuid.UUID, outcome: str) -> PayoutLine:
        """What the bank statement says: executed, or returned (the money is owed to the member again)."""
        line = await self.repository.payout_line(line_id)
        if line is None:
            raise NotFound()
        if line.status != "submitted":
            raise Conflict(f"Only a submitted line has an outcome; this one is {line.status}.")
        line.status, line.updated_at = outcome, datetime.now(UTC)
        if outcome == "returned":
            await self.repository.book(
                "payout_return",
                [
                    ledger.Posting(ledger.TREASURY, line.amount_minor),
                    ledger.Posting(ledger.member_account(line.member_id), -line.amount_minor),
                ],
                external_ref=line.id.hex,
                memo=f"Payout {line.id.hex[:12]} returned by the bank",
            )
        return line
