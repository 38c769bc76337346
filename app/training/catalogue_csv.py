"""The catalogue's CSV import format, parsed and checked line by line (pure: no database).

Columns (a header line first; comma-separated, UTF-8, RFC 4180 quoting):
    reference, title, provider, duration_hours, cost_minor, format, place, cpf_eligible, skills, description
`cost_minor` is in euro cents; `format` is on_site, remote or hybrid; `cpf_eligible` is yes/no
(oui/non, true/false, 1/0); `skills` is `slug:level` pairs separated by `;` (e.g. `python:3;django:2`).
`place` and `description` may be empty. A reference already in the catalogue updates that entry.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

COLUMNS = (
    "reference",
    "title",
    "provider",
    "duration_hours",
    "cost_minor",
    "format",
    "place",
    "cpf_eligible",
    "skills",
    "description",
)
MAX_ROWS = 2000
_TRUE = {"yes", "oui", "true", "1", "y", "o"}
_FALSE = {"no", "non", "false", "0", "n", ""}
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Row:
    line: int
    reference: str
    title: str
    provider: str
    duration_hours: int
    cost_minor: int
    format: str
    place: str
    cpf_eligible: bool
    skills: dict[str, int]  # slug -> level
    description: str


class CsvErrors(Exception):
    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


def parse(text: str) -> list[Row]:
    """Every row, or CsvErrors listing every bad line (nothing is imported from a file with errors)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except (StopIteration, csv.Error) as error:
        raise CsvErrors([(1, "The file needs a header line.")]) from error
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise CsvErrors([(1, f"Missing columns: {', '.join(missing)}.")])
    rows, errors, seen = [], [], set()
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append((number, f"At most {MAX_ROWS} trainings per import."))
                break
            record = dict(zip(header, (cell.strip() for cell in cells), strict=False))
            try:
                row = _row(number, record)
            except ValueError as error:
                errors.append((number, str(error)))
                continue
            if row.reference in seen:
                errors.append((number, f"Reference {row.reference!r} appears twice."))
                continue
            seen.add(row.reference)
            rows.append(row)
    except csv.Error as error:
        errors.append((reader.line_num, f"Unreadable CSV: {error}"))
    if errors:
        raise CsvErrors(errors)
    return rows


def _text(record: dict[str, str], column: str, *, required: bool, limit: int) -> str:
    value = record.get(column, "")
    if required and not value:
        raise ValueError(f"{column} is required.")
    if len(value) > limit:
        raise ValueError(f"{column} has more than {limit} characters.")
    if _CONTROL.search(value) or (column != "description" and ("\n" in value or "\t" in value)):
        raise ValueError(f"{column} contains control characters.")
    return value


def _integer(record: dict[str, str], column: str, low: int, high: int) -> int:
    value = record.get(column, "")
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"{column} must be a whole number from {low} to {high}.")
    return int(value)


def _row(number: int, record: dict[str, str]) -> Row:
    reference = _text(record, "reference", required=True, limit=60)
    if not _REFERENCE.match(reference):
        raise ValueError("reference uses letters, digits, '.', '_' and '-' only.")
    training_format = record.get("format", "").lower()
    if training_format not in ("on_site", "remote", "hybrid"):
        raise ValueError("format is on_site, remote or hybrid.")
    cpf = record.get("cpf_eligible", "").lower()
    if cpf not in _TRUE | _FALSE:
        raise ValueError("cpf_eligible is yes or no.")
    skills: dict[str, int] = {}
    for part in filter(None, (item.strip() for item in record.get("skills", "").split(";"))):
        slug, _, level = part.partition(":")
        if not slug or not level.isdigit() or not 1 <= int(level) <= 5:
            raise ValueError(f"skill {part[:40]!r} is not written slug:level (level 1 to 5).")
        skills[slug.strip().lower()] = max(skills.get(slug.strip().lower(), 0), int(level))
    if not 1 <= len(skills) <= 20:
        raise ValueError("skills lists 1 to 20 slug:level pairs.")
    return Row(
        line=number,
        reference=reference,
        title=_text(record, "title", required=True, limit=200),
        provider=_text(record, "provider", required=True, limit=120),
        duration_hours=_integer(record, "duration_hours", 1, 5000),
        cost_minor=_integer(record, "cost_minor", 0, 100_000_000),
        format=training_format,
        place=_text(record, "place", required=False, limit=120),
        cpf_eligible=cpf in _TRUE,
        skills=skills,
        description=_text(record, "description", required=False, limit=5000),
    )
