"""Reading submitted forms: plain values for the services' schemas, nothing decided here."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Request

from app.web.rendering import FormRejected, field_errors

MAX_FIELD = 20_000
# Control characters (NUL above all) have no place in any field: PostgreSQL refuses NUL in text, and
# the API's schemas refuse the others. Line breaks and tabs stay for multi-line fields.
_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])


def clean(value: str | None, limit: int = MAX_FIELD) -> str:
    return (value or "")[:limit].translate(_CONTROL)


def query_text(request: Request, name: str, limit: int = 200) -> str:
    return clean(request.query_params.get(name), limit).strip()


T = TypeVar("T")


async def form_data(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """First value of each field, and every value of each field (for repeated inputs)."""
    form = await request.form()
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue  # no page takes uploads
        value = clean(value)
        single.setdefault(key, value)
        multi.setdefault(key, []).append(value)
    single.pop("_csrf_token", None)
    return single, multi


def optional_int(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def minor_units(value: str | None) -> int | None:
    """An amount typed in major units ("650" or "650,50") as integer minor units, or None."""
    text = (value or "").strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not text:
        return None
    whole, _, cents = text.partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        return -1  # the schema refuses it, with its own message
    return int(whole) * 100 + int((cents + "00")[:2])


def convert(data: dict[str, Any], schema: type[T], template: str, context: dict[str, Any]) -> T:
    """The feature's own schema validates the form, exactly as it validates an API body."""
    try:
        return msgspec.convert(data, schema, strict=False)
    except msgspec.ValidationError as error:
        summary, errors = field_errors(error)
        raise FormRejected(template, context=context, errors=errors, summary=summary) from error
