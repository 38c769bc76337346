"""Helpers for the browser journeys: visiting with an accessibility check, signing in, reading mail."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from tests.conftest import TEST_PASSWORD, Mailbox
from tests.web.conftest import AXE

BLOCKING = ("serious", "critical")


def check_accessibility(page: Page) -> None:
    """axe-core on the page as it stands: no serious or critical violation (WCAG 2.x A and AA rules)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
            resultTypes: ['violations']})"""
    )
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"{page.url}:\n" + "\n".join(blocking)


def visit(page: Page, url: str) -> None:
    page.goto(url)
    check_accessibility(page)


def submit(page: Page, button: str) -> None:
    """Press a form's button and wait for the next page, then check that page."""
    with page.expect_navigation():
        page.get_by_role("button", name=button).first.click()
    check_accessibility(page)


def sign_in(page: Page, base: str, email: str, password: str = TEST_PASSWORD) -> None:
    visit(page, f"{base}/sign-in")
    page.fill("#field-email", email)
    page.fill("#field-password", password)
    submit(page, "Se connecter")
    assert page.url.endswith("/dashboard"), page.url


def mailed_link(mailbox: Mailbox, address: str, path: str) -> str:
    body = mailbox.wait_for(address)[-1].get_payload(decode=True).decode()
    found = re.search(rf"(https?://\S+{re.escape(path)}\?token=\S+)", body)
    assert found, body
    return found.group(1)
