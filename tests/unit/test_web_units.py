"""The web client's pure pieces: the session cookie's signature, the locale choice, formats, catalogues."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from app.web import i18n
from app.web.rendering import safe_next
from app.web.session_cookie import CookieSession, SessionCookies


def test_a_session_cookie_is_refused_when_tampered_with_or_expired() -> None:
    cookies = SessionCookies("a secret of at least thirty-two characters")
    session = CookieSession(uuid.uuid4(), uuid.uuid4(), datetime.now(UTC) + timedelta(hours=1))
    value = cookies.encode(session)
    assert cookies.decode(value) == CookieSession(
        session.account_id, session.session_id, session.expires_at.replace(microsecond=0)
    )
    other_account = value.replace(session.account_id.hex, uuid.uuid4().hex)
    assert cookies.decode(other_account) is None
    assert cookies.decode(value[:-2] + "xx") is None
    assert SessionCookies("another secret entirely, also long enough").decode(value) is None
    assert cookies.decode(value, now=datetime.now(UTC) + timedelta(hours=2)) is None
    assert cookies.decode("") is None and cookies.decode("v1.a.b.c.d") is None and cookies.decode("x" * 500) is None


def test_the_locale_is_the_switch_then_the_browser_then_french() -> None:
    assert i18n.choose_locale(None, None) == "fr"
    assert i18n.choose_locale(None, "en-GB,en;q=0.9") == "en"
    assert i18n.choose_locale(None, "de-DE,de;q=0.9") == "fr"
    assert i18n.choose_locale(None, "de;q=1, en;q=0.5, fr;q=0.1") == "en"
    assert i18n.choose_locale("en", "fr") == "en"
    assert i18n.choose_locale("xx", "q=;;,,") == "fr"


def test_catalogues_translate_and_format_per_locale() -> None:
    token = i18n.current_locale.set("fr")
    try:
        assert i18n.gettext("Sign in") == "Se connecter"
        assert i18n.ngettext("%(num)d profile", "%(num)d profiles", 2) == "2 profils"
        assert i18n.money_text(123450) == "1\u202f234,50\xa0€"
        assert i18n.datetime_text(datetime(2026, 12, 4, 16, 45, tzinfo=UTC)) == "4 déc. 2026, 17:45"
        i18n.current_locale.set("en")
        assert i18n.gettext("Sign in") == "Sign in"
        assert i18n.money_text(123450) == "€1,234.50"
    finally:
        i18n.current_locale.reset(token)


def test_only_local_paths_are_followed_after_sign_in() -> None:
    assert safe_next("/missions?q=x") == "/missions?q=x"
    for hostile in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", ""):
        assert safe_next(hostile) == "/dashboard"


def test_a_non_editable_install_ships_every_template_catalogue_and_static_file() -> None:
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["app.web"]
    web = root / "app" / "web"
    shipped = [p for p in web.rglob("*") if p.is_file() and p.suffix in {".html", ".po", ".css", ".js", ".txt"}]
    assert len(shipped) > 30

    def globbed(relative: str, pattern: str) -> bool:  # setuptools' globs: `*` never crosses a folder
        parts, wanted = relative.split("/"), pattern.split("/")
        return len(parts) == len(wanted) and all(fnmatch.fnmatch(a, b) for a, b in zip(parts, wanted, strict=True))

    for path in shipped:
        relative = path.relative_to(web).as_posix()
        assert any(globbed(relative, pattern) for pattern in patterns), f"{relative} is not package data"
