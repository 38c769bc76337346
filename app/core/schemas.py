"""Shared request/response building blocks: strict structs, safe strings, pagination."""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

import msgspec
from litestar.params import QueryParameter

T = TypeVar("T")

# No control characters (tabs and newlines aside in free text); bounded lengths everywhere.
SINGLE_LINE = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=SINGLE_LINE)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=SINGLE_LINE)]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=MULTI_LINE)]
EmailText = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=SINGLE_LINE)]
PasswordText = Annotated[str, msgspec.Meta(min_length=1, max_length=256, pattern=SINGLE_LINE)]
TokenText = Annotated[str, msgspec.Meta(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000  # deeper pages cost the database more than anyone reading them needs

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Items to skip")]

# Search filters shared by the profile and mission searches.
SearchText = Annotated[
    str | None, QueryParameter(min_length=1, max_length=200, pattern=SINGLE_LINE, description="Full text, FR or EN")
]
ShortFilter = Annotated[str | None, QueryParameter(min_length=1, max_length=120, pattern=SINGLE_LINE)]
Money = Annotated[int | None, QueryParameter(ge=0, le=100_000_000, description="Integer minor units")]
CurrencyFilter = Annotated[str | None, QueryParameter(pattern=r"^[A-Z]{3}$")]
SkillFilters = Annotated[
    list[Annotated[str, QueryParameter(max_length=130)]] | None,
    QueryParameter(
        max_items=10, description="`slug` or `slug:min_level` (a name or alias works too); repeat for several"
    ),
]
WorkModes = Annotated[list[Literal["on_site", "remote", "hybrid"]] | None, QueryParameter(max_items=3)]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are an error, not silently dropped."""


class Page(msgspec.Struct, Generic[T], kw_only=True):
    items: list[T]
    total: int
    limit: int
    offset: int
