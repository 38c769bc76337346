"""Languages of the web client: French by default, English; catalogues compiled from .po at load.

The request's locale lives in a context variable set by the web middleware, so templates, filters
and form errors all speak the same language without passing it around. Message ids are English;
`locales/fr/LC_MESSAGES/messages.po` translates them (edit it, nothing to compile by hand).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
LOCALE_COOKIE = "coop_lang"
# Times are shown where the cooperative is; stored times stay aware UTC.
DISPLAY_TIMEZONE = ZoneInfo("Europe/Paris")
LOCALE_DIR = Path(__file__).parent / "locales"

current_locale: ContextVar[str] = ContextVar("coop_web_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    """The catalogue of `locale`, compiled in memory from its .po file (cached per process)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def choose_locale(cookie: str | None, accept_language: str | None) -> str:
    """The switch's choice (a cookie) first, then the browser's preferences, then French."""
    if cookie in LOCALES:
        return cookie
    preferred = []
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            preferred.append((quality, tag.strip().replace("-", "_")))
    ordered = [tag for _, tag in sorted(preferred, key=lambda item: -item[0])]
    return negotiate_locale(ordered, list(LOCALES)) or DEFAULT_LOCALE if ordered else DEFAULT_LOCALE


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; it is translated where it is shown."""
    return message


def gettext(message: str, **variables: Any) -> str:
    text = translations(current_locale.get()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current_locale.get()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


def _babel_locale() -> Locale:
    return Locale.parse(current_locale.get())


def datetime_text(value: datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    if style != "medium":
        return format_datetime(value, style, tzinfo=DISPLAY_TIMEZONE, locale=_babel_locale())
    # A date and an hour, without seconds nobody reads ("4 déc. 2026, 17:45" / "4 Dec 2026, 5:45 PM").
    local = value.astimezone(DISPLAY_TIMEZONE)
    locale = _babel_locale()
    return f"{format_date(local, 'medium', locale=locale)}, {format_time(local, 'short', locale=locale)}"


def date_text(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(DISPLAY_TIMEZONE).date()
    return format_date(value, style, locale=_babel_locale())


def money_text(minor: int | None, currency: str = "EUR") -> str:
    """Amounts are integer minor units everywhere; only display divides them."""
    if minor is None:
        return ""
    return format_currency(minor / 100, currency, locale=_babel_locale())


def number_text(value: float | int | None) -> str:
    return "" if value is None else format_decimal(value, locale=_babel_locale())


FILTERS: Mapping[str, Any] = {
    "datetime": datetime_text,
    "date": date_text,
    "money": money_text,
    "number": number_text,
}
