"""Screenshots of the web client's main pages, desktop and phone, from a demo instance.

    python -m bench.screenshots [--out docs/screenshots]

Starts `coop serve --demo` on a free port (an embedded PostgreSQL in a temporary directory, or the
server of DATABASE_URL), convenes and opens the demo assembly through the API so the voting booth
shows, then drives Debian's Chromium (/usr/bin/chromium) with Playwright. Writes
`<page>-desktop.png` and `<page>-phone.png` and an index, `README.md`, in the output directory.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from app.demo import ADMIN_EMAIL, DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 360, "height": 740}}
MEMBER = "camille.martin@demo.coop"
TRAINER = "ines.moreau@demo.coop"  # the demo's member with a ledger: paid, invoiced and refunded milestones
CLIENT = "marc.aubert@mairie-saint-flour.demo"  # the commune: its invoice and its diagnostic


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_demo(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "COOP_DATA_DIR": str(data_dir),
        "COOP_PUBLIC_BASE_URL": base,
        "COOP_CONVOCATION_NOTICE_DAYS": "0",
        "COOP_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--demo", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.5)
    process.terminate()
    raise SystemExit("the demo instance did not start")


def api_token(base: str, email: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/sign-in", json={"email": email, "password": DEMO_PASSWORD}, timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


def open_demo_assembly(base: str) -> tuple[str | None, str | None]:
    """Convene and open the demo's planned assembly; return its id and its first agenda item."""
    headers = {"Authorization": f"Bearer {api_token(base, ADMIN_EMAIL)}"}
    assemblies = httpx.get(f"{base}/api/v1/assemblies", headers=headers, timeout=30).json()["items"]
    if not assemblies:
        return None, None
    assembly = assemblies[0]
    for step in ("convene", "open"):
        httpx.post(f"{base}/api/v1/assemblies/{assembly['id']}/{step}", headers=headers, timeout=60)
    agenda = httpx.get(f"{base}/api/v1/assemblies/{assembly['id']}", headers=headers, timeout=30).json()["agenda"]
    return assembly["id"], (agenda[-1] if agenda else None)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("#field-email", email)
    page.fill("#field-password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def first_link(page: Page, prefix: str) -> str | None:
    """The first link in the page's content to an address under `prefix` (a demo object's page)."""
    links = page.locator(f'main a[href^="{prefix}"]')
    return links.first.get_attribute("href") if links.count() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="coop-screens-") as data_dir:
        process, base = start_demo(Path(data_dir))
        try:
            assembly_id, proposal_id = open_demo_assembly(base)
            shots: list[tuple[str, str]] = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for size, viewport in SIZES.items():
                    anonymous = browser.new_context(locale="fr-FR", viewport=viewport).new_page()
                    member = browser.new_context(locale="fr-FR", viewport=viewport).new_page()
                    admin = browser.new_context(locale="fr-FR", viewport=viewport).new_page()
                    trainer = browser.new_context(locale="fr-FR", viewport=viewport).new_page()
                    client = browser.new_context(locale="fr-FR", viewport=viewport).new_page()
                    sign_in(member, base, MEMBER)
                    sign_in(admin, base, ADMIN_EMAIL)
                    sign_in(trainer, base, TRAINER)
                    sign_in(client, base, CLIENT)
                    client.goto(f"{base}/payments")
                    invoice = first_link(client, "/payments/invoices/")
                    admin.goto(f"{base}/payments/payout-runs")
                    run = first_link(admin, "/payments/payout-runs/")
                    anonymous.goto(f"{base}/missions")
                    first_mission = anonymous.locator("#results h3 a").first.get_attribute("href")
                    member.goto(f"{base}/profiles?q=python")
                    first_profile = member.locator("#results h3 a").first.get_attribute("href")
                    pages = [
                        ("home", anonymous, "/"),
                        ("sign-up", anonymous, "/sign-up"),
                        ("missions", anonymous, "/missions"),
                        ("mission", member, first_mission or "/missions"),
                        ("profiles", member, "/profiles?q=python"),
                        ("profile", member, first_profile or "/profiles"),
                        ("dashboard", member, "/dashboard"),
                        ("my-profile", member, "/me/profile"),
                        ("admin-members", admin, "/admin/members"),
                        ("admin-organisations", admin, "/admin/organisations?all=1"),
                        ("admin-audit", admin, "/admin/audit"),
                        ("payments-account", trainer, "/payments/account"),
                        ("payments-cooperative", member, "/payments/cooperative"),
                        ("payout-runs", admin, "/payments/payout-runs"),
                        ("vault", member, "/vault"),
                        ("vault-conventions", member, "/vault/conventions"),
                        ("cv", member, "/me/cv"),
                        ("trainings", anonymous, "/trainings"),
                        ("diagnostic", anonymous, "/diagnostic"),
                    ]
                    if invoice:
                        pages.append(("invoice", client, invoice))
                    if run:
                        pages.append(("payout-run", admin, run))
                    if assembly_id:
                        pages.append(("assembly", admin, f"/assemblies/{assembly_id}"))
                    if proposal_id:
                        pages.append(("voting-booth", member, f"/proposals/{proposal_id}"))
                    for name, page, path in pages:
                        page.goto(base + path)
                        target = options.out / f"{name}-{size}.png"
                        page.screenshot(path=str(target), full_page=size == "desktop")
                        shots.append((name, size))
                        print(f"wrote {target}")
                browser.close()
            names = list(dict.fromkeys(name for name, _ in shots))
            index = [
                "# Screenshots of the web client",
                "",
                "Made by `python -m bench.screenshots` from a demo instance (`coop serve --demo`).",
                "",
            ]
            for name in names:
                index += [
                    f"## {name}",
                    "",
                    f"![{name}, desktop]({name}-desktop.png) ![{name}, phone]({name}-phone.png)",
                    "",
                ]
            (options.out / "README.md").write_text("\n".join(index))
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
