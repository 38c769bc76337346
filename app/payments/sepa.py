"""SEPA credit transfer files (ISO 20022 pain.001.001.09) for payout runs, built with `sepaxml`, which
validates the document against the schema it ships before returning it.

Pure: takes plain values, returns XML bytes; never touches the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sepaxml import SepaTransfer

SCHEMA = "pain.001.001.09"


@dataclass(frozen=True)
class Transfer:
    end_to_end_id: str  # our payout line id: how the bank statement is matched back
    name: str
    iban: str
    bic: str | None
    amount_minor: int
    description: str


def credit_transfer(
    *, message_id: str, debtor: str, iban: str, bic: str, execution_date: date, transfers: list[Transfer]
) -> bytes:
    document = _RunTransfer(
        {"name": debtor, "IBAN": iban, "BIC": bic, "batch": True, "currency": "EUR"}, message_id=message_id
    )
    for transfer in transfers:
        payment = {
            "name": transfer.name,
            "IBAN": transfer.iban,
            "amount": transfer.amount_minor,
            "execution_date": execution_date,
            "description": transfer.description,
            "endtoend_id": transfer.end_to_end_id,
        }
        if transfer.bic:
            payment["BIC"] = transfer.bic
        document.add_payment(payment)
    return document.export(validate=True)


class _RunTransfer(SepaTransfer):
    """`sepaxml` writes the group header, and its generated message id, while it is constructed: the id has
    to be in place before that, or the file names a message the payout run does not know."""

    def __init__(self, config: dict[str, object], *, message_id: str) -> None:
        self._run_message_id = message_id
        super().__init__(config, schema=SCHEMA, clean=True)

    def _create_header(self) -> None:
        self.msg_id = self._run_message_id
        super()._create_header()


def message_id() -> str:
    return f"COOP{uuid.uuid4().hex[:28].upper()}"
