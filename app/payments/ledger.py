"""The double-entry journal's vocabulary: account codes, postings and the arithmetic of splitting money.

Pure functions over integers (minor units); nothing here touches the database or Stripe. The
repository writes what these functions compute, and PostgreSQL refuses any transaction that does not
balance, so a mistake here fails loudly instead of losing a cent.

Sign convention: a positive amount is a debit, a negative one a credit. Asset and expense accounts
are debit-normal; liability and revenue accounts credit-normal (their balance is shown negated).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.models import AccountKind

TREASURY = "treasury"
VAT_PAYABLE = "vat_payable"
CONTRIBUTIONS = "contributions"
PROCESSOR_FEES = "processor_fees"
DISPUTE_FEES = "dispute_fees"

FIXED_ACCOUNTS: dict[str, tuple[AccountKind, str]] = {
    TREASURY: (AccountKind.ASSET, "Treasury (Stripe balance and bank)"),
    VAT_PAYABLE: (AccountKind.LIABILITY, "VAT collected, owed to the State"),
    CONTRIBUTIONS: (AccountKind.REVENUE, "The cooperative's contribution"),
    PROCESSOR_FEES: (AccountKind.EXPENSE, "Payment processor fees"),
    DISPUTE_FEES: (AccountKind.EXPENSE, "Dispute fees"),
}

# FEC account numbers (plan comptable général) for the export.
PCG_NUMBERS = {
    "treasury": ("512000", "Banque"),
    "vat_payable": ("445710", "TVA collectée"),
    "contributions": ("706000", "Prestations de services"),
    "processor_fees": ("627000", "Services bancaires"),
    "dispute_fees": ("627100", "Frais de litiges"),
    "escrow": ("419100", "Clients - avances reçues"),
    "member": ("467000", "Autres comptes débiteurs ou créditeurs"),
}


def escrow_account(mission_id: uuid.UUID) -> str:
    return f"escrow:{mission_id}"


def member_account(member_id: uuid.UUID) -> str:
    return f"member:{member_id}"


def normal_sign(kind: str) -> int:
    """+1 for debit-normal accounts, -1 for credit-normal ones: balance shown = sign * sum(entries)."""
    return 1 if kind in (AccountKind.ASSET, AccountKind.EXPENSE) else -1


@dataclass(frozen=True)
class Posting:
    account: str  # an account code
    amount_minor: int  # positive debit, negative credit


def balanced(postings: list[Posting]) -> list[Posting]:
    """Drop zero lines and check the sum before the database does (a bug here is ours, not the user's)."""
    kept = [p for p in postings if p.amount_minor != 0]
    if sum(p.amount_minor for p in kept) != 0 or len(kept) < 2:
        raise ValueError(f"unbalanced postings: {postings}")
    return kept


def vat_of(ht_minor: int, rate_bp: int) -> int:
    """VAT on an amount, rounded half up to the cent."""
    return (ht_minor * rate_bp + 5000) // 10000


def contribution_of(ht_minor: int, rate_bp: int) -> int:
    """The cooperative's contribution on an amount before tax, rounded half up (the member gets the rest)."""
    return (ht_minor * rate_bp + 5000) // 10000


@dataclass(frozen=True)
class Split:
    """How a sum received from a client divides: VAT, the contribution and the member's share."""

    vat_minor: int
    contribution_minor: int
    member_minor: int

    @property
    def total_minor(self) -> int:
        return self.vat_minor + self.contribution_minor + self.member_minor


def split(total_ttc_minor: int, vat_minor: int, contribution_rate_bp: int) -> Split:
    ht = total_ttc_minor - vat_minor
    contribution = contribution_of(ht, contribution_rate_bp)
    return Split(vat_minor=vat_minor, contribution_minor=contribution, member_minor=ht - contribution)


def share(whole: Split, part_minor: int, taken: Split | None = None) -> Split:
    """The part of `whole` that `part_minor` stands for, once `taken` (earlier refunds) is set aside:
    each component in proportion to what is left of it, rounded by largest remainder. So every part
    is non-negative and within what is left, and the last part takes exactly the rest: successive
    partial refunds add up to the whole, to the cent."""
    taken = taken or Split(0, 0, 0)
    left = (
        whole.vat_minor - taken.vat_minor,
        whole.contribution_minor - taken.contribution_minor,
        whole.member_minor - taken.member_minor,
    )
    total = sum(left)
    if not 0 < part_minor <= total:
        raise ValueError("a part must be positive and at most what is left")
    if part_minor == total:
        return Split(*left)
    shares = [amount * part_minor // total for amount in left]
    remainders = [amount * part_minor % total for amount in left]
    for index in sorted(range(3), key=lambda i: (-remainders[i], i))[: part_minor - sum(shares)]:
        shares[index] += 1
    return Split(*shares)


def payment_postings(mission_id: uuid.UUID, amount_minor: int) -> list[Posting]:
    """Money from the client lands in the treasury and is held on the mission's escrow account."""
    return balanced([Posting(TREASURY, amount_minor), Posting(escrow_account(mission_id), -amount_minor)])


def release_postings(mission_id: uuid.UUID, member_id: uuid.UUID, whole: Split) -> list[Posting]:
    """Escrow released: VAT to the State, the gross amount before tax to the member."""
    return balanced(
        [
            Posting(escrow_account(mission_id), whole.total_minor),
            Posting(VAT_PAYABLE, -whole.vat_minor),
            Posting(member_account(member_id), -(whole.contribution_minor + whole.member_minor)),
        ]
    )


def contribution_postings(member_id: uuid.UUID, contribution_minor: int) -> list[Posting]:
    """The contribution the members voted, taken from the member's gross share."""
    return balanced(
        [Posting(member_account(member_id), contribution_minor), Posting(CONTRIBUTIONS, -contribution_minor)]
    )


def refund_postings(mission_id: uuid.UUID, member_id: uuid.UUID, part: Split, *, released: bool) -> list[Posting]:
    """Money back to the client: from escrow while it is held; once released, from VAT, contribution and
    the member's account (which may go negative if the member was already paid: netted on later payouts)."""
    amount = part.total_minor
    if not released:
        postings = [Posting(escrow_account(mission_id), amount)]
    else:
        postings = [
            Posting(VAT_PAYABLE, part.vat_minor),
            Posting(CONTRIBUTIONS, part.contribution_minor),
            Posting(member_account(member_id), part.member_minor),
        ]
    postings.append(Posting(TREASURY, -amount))
    return balanced(postings)


def dispute_reversal_postings(
    mission_id: uuid.UUID, member_id: uuid.UUID, part: Split, *, released: bool
) -> list[Posting]:
    """A dispute the cooperative won: Stripe reinstates the money, and it goes where it would be had
    there been no dispute: back to escrow while the milestone is held, otherwise to VAT, the
    contribution and the member (a re-release, also when the milestone was released in between)."""
    refund = refund_postings(mission_id, member_id, part, released=released)
    return [Posting(p.account, -p.amount_minor) for p in refund]


def fee_postings(fee_minor: int, account: str = PROCESSOR_FEES) -> list[Posting]:
    """A processor fee, or a dispute fee (`DISPUTE_FEES`), paid out of the treasury."""
    return balanced([Posting(account, fee_minor), Posting(TREASURY, -fee_minor)])


def payout_postings(member_id: uuid.UUID, amount_minor: int) -> list[Posting]:
    return balanced([Posting(member_account(member_id), amount_minor), Posting(TREASURY, -amount_minor)])
