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
    document = SepaTransfer(
        {"name": debtor, "IBAN": iban, "BIC": bic, "batch": True, "currency": "EUR"}, schema=SCHEMA, clean=True
    )
    document.msg_id = message_id
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


def message_id() -> str:
    return f"COOP{uuid.uuid4().hex[:28].upper()}"
