"""What a French invoice must say, computed from a quote's milestone: parties (with SIREN/SIRET and VAT
numbers checked by python-stdnum), lines, VAT per line, totals and the legal mentions.

Pure functions; numbering (which needs the database's lock) and storage are the repository's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from app.payments.ledger import vat_of

INVOICE_SERIES = "F"
CREDIT_NOTE_SERIES = "AV"

LATE_PAYMENT_MENTIONS = [
    "Pénalités de retard : trois fois le taux d'intérêt légal, exigibles dès le lendemain de l'échéance.",
    "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €"
    " (art. D441-5 du Code de commerce).",
    "Pas d'escompte pour paiement anticipé.",
]


class LegalIdError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_siren_or_siret(value: str, field: str) -> str:
    """A SIREN (9 digits) or SIRET (14 digits) with a valid check digit, compacted."""
    compact = fr_siret.compact(value)
    try:
        if len(compact) == 9:
            return fr_siren.validate(compact)
        return fr_siret.validate(compact)
    except ValidationError:
        raise LegalIdError(field, "Not a valid SIREN (9 digits) or SIRET (14 digits): the check digit fails.") from None


def check_vat_number(value: str, field: str) -> str:
    try:
        return eu_vat.validate(value)
    except ValidationError:
        raise LegalIdError(field, "Not a valid intra-EU VAT number (country prefix and check digits).") from None


def party(name: str, address: str, registration: str | None, vat_number: str | None, *, prefix: str) -> dict[str, Any]:
    """Seller or buyer legal details, validated; `prefix` names the field in errors."""
    details: dict[str, Any] = {"name": name, "address": address}
    if registration:
        compact = check_siren_or_siret(registration, f"{prefix}.registration")
        details["siren"] = compact[:9]
        if len(compact) == 14:
            details["siret"] = compact
    if vat_number:
        details["vat_number"] = check_vat_number(vat_number, f"{prefix}.vat_number")
    return details


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price_minor: int
    vat_rate_bp: int

    @property
    def total_ht_minor(self) -> int:
        return self.quantity * self.unit_price_minor

    @property
    def vat_minor(self) -> int:
        return vat_of(self.total_ht_minor, self.vat_rate_bp)

    def as_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "quantity": self.quantity,
            "unit_price_minor": self.unit_price_minor,
            "vat_rate_bp": self.vat_rate_bp,
            "total_ht_minor": self.total_ht_minor,
            "vat_minor": self.vat_minor,
        }


@dataclass(frozen=True)
class Totals:
    ht_minor: int
    vat_minor: int

    @property
    def ttc_minor(self) -> int:
        return self.ht_minor + self.vat_minor


def totals(lines: list[Line]) -> Totals:
    return Totals(sum(line.total_ht_minor for line in lines), sum(line.vat_minor for line in lines))


def mentions(*, vat_exemption: str | None, contribution_rate_bp: int, due_date: date) -> list[str]:
    shown = [f"Échéance : {due_date.isoformat()}.", *LATE_PAYMENT_MENTIONS]
    if vat_exemption:
        shown.append(vat_exemption)
    shown.append(
        f"Contribution coopérative votée par les associés : {contribution_rate_bp / 100:.2f} % du montant hors taxes."
    )
    return shown


def reference(series: str, year: int, number: int) -> str:
    return f"{series}-{year}-{number:06d}"
