"""The `coop` command: serve, migrate, demo, create-admin, audit, trustee, notifications, payments, vault,
version."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import sys
import uuid
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress

from app import __version__
from app.accounts.passwords import Passwords
from app.accounts.service import AccountService
from app.accounts.tokens import SigningKeys
from app.assemblies.audit import audit_database, chain_head_text
from app.assemblies.secrecy import InvalidShare, b64, decrypt_share, public_bytes, unb64
from app.core.errors import AppError
from app.core.logging import configure_logging
from app.core.mail import build_mailer
from app.db import migrations
from app.db.engine import Database, open_database
from app.db.transaction import UnitOfWork
from app.demo import ADMIN_EMAIL, DEMO_PASSWORD, DEMO_SIZE, load_demo
from app.notifications.digests import send_digests
from app.payments.reports import ReportsService
from app.payments.stripe_gateway import StripeGateway
from app.settings import InsecureSettingsError, get_settings
from app.vault.crypto import new_master_key_entry
from app.vault.importer import sign_recovery_proof
from app.vault.keys import master_keys_from_settings, rotate_member_keys

cli = typer.Typer(help="Run and administer the cooperative's API.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True, soft_wrap=True)


@asynccontextmanager
async def _database() -> AsyncIterator[Database]:
    database = open_database(get_settings())
    try:
        yield database
    finally:
        await database.dispose()
        if database.embedded is not None:
            database.embedded.stop()


@cli.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply the database migrations (up to head by default)."""

    async def run() -> None:
        settings = get_settings()
        async with _database() as database:
            await migrations.upgrade(database.url, revision)
            console.print(f"database at revision {await migrations.current_revision(database.url)}")
            if settings.app_database_password and settings.database_app_role:
                await migrations.set_role_password(
                    database.url, settings.database_app_role, settings.app_database_password.get_secret_value()
                )
                console.print(f"password of role {settings.database_app_role} set")

    asyncio.run(run())


@cli.command()
def demo() -> None:
    """Load the demo cooperative (idempotent): an admin, a dozen members, two clients."""
    asyncio.run(_load_demo())


async def _load_demo() -> None:
    settings = get_settings()
    if not settings.is_development:
        # The demo accounts' password is published in the README.
        console.print("[red]refusing to load the demo cooperative in production mode[/red]")
        raise typer.Exit(code=2)
    async with _database() as database:
        await migrations.upgrade(database.url)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Loading the demo cooperative", total=DEMO_SIZE)
            report = await load_demo(
                database,
                settings,
                Passwords(),
                build_mailer(settings),
                progress=lambda name: progress.update(task, advance=1, description=f"Loaded {name}"),
            )
    console.print(f"demo cooperative: {report.created} accounts created, {report.skipped} already there")
    console.print(
        "demo assembly: planned with its agenda (convene, open, vote and close it now: the demo statutes allow it)"
        if report.assembly_planned
        else "demo assembly: already there, left as it is"
    )
    console.print(f"sign in as {ADMIN_EMAIL} (or any demo member) with the password: {DEMO_PASSWORD}")


@cli.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(prompt=True, help="The administrator's email")],
    display_name: Annotated[str, typer.Option(prompt=True, help="Name shown to members")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="COOP_ADMIN_PASSWORD",
            help="Prompted for when not given (or read from COOP_ADMIN_PASSWORD)",
        ),
    ],
) -> None:
    """Create an administrator account."""

    async def run() -> None:
        settings = get_settings()
        async with _database() as database:
            await migrations.upgrade(database.url)
            # The service needs a unit of work like a request's; the CLI owns this one.
            async with database.sessionmaker() as session, session.begin():
                service = AccountService(
                    UnitOfWork(session),
                    settings,
                    Passwords(),
                    SigningKeys.from_settings(settings),
                    build_mailer(settings),
                )
                account = await service.create_admin(email=email, password=password, display_name=display_name)
            console.print(f"administrator {account.email} created ({account.id})")

    try:
        asyncio.run(run())
    except AppError as error:
        console.print(f"[red]{error.title}[/red]: {error.detail}")
        raise typer.Exit(code=1) from None


audit_cli = typer.Typer(help="The governance audit log.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")


@audit_cli.command("verify")
def audit_verify(
    since: Annotated[
        str | None,
        typer.Option(help="A head you kept (SEQ:HASH, from `coop audit head`, a certificate or the minutes)"),
    ] = None,
) -> None:
    """Check the audit chain (first broken link), a head you kept, and every closed vote against its close event."""

    async def run() -> bool:
        async with _database() as database:
            try:
                report = await audit_database(database.sessionmaker, since=since)
            except ValueError as error:
                console.print(f"[red]{error}[/red]")
                return False
        for line in report.lines():
            typer.echo(line)
        return report.ok

    if not asyncio.run(run()):
        raise typer.Exit(code=1)


@audit_cli.command("head")
def audit_head() -> None:
    """Print the audit chain's head (SEQ:HASH): keep it somewhere the database cannot reach."""

    async def run() -> str:
        async with _database() as database:
            return await chain_head_text(database.sessionmaker)

    typer.echo(asyncio.run(run()))


trustee_cli = typer.Typer(help="A scrutineer's side of a secret vote's key, on your own machine.", no_args_is_help=True)
cli.add_typer(trustee_cli, name="trustee")


@trustee_cli.command("keygen")
def trustee_keygen(
    out: Annotated[Path, typer.Option(help="Where to write your private key (keep it; it never leaves here)")],
) -> None:
    """Make your scrutineer's key pair; prints the public key to register (PUT /api/v1/me/trustee-key)."""
    if out.exists():
        console.print(f"[red]{out} exists: refusing to overwrite a key[/red]")
        raise typer.Exit(code=1)
    key = X25519PrivateKey.generate()
    out.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    out.chmod(0o600)
    typer.echo(b64(public_bytes(key.public_key())))


@trustee_cli.command("open-share")
def trustee_open_share(
    key: Annotated[Path, typer.Option(help="Your private key file (from `coop trustee keygen`)")],
    share_file: Annotated[
        typer.FileText, typer.Argument(help="The JSON of GET /api/v1/proposals/{id}/key-share (default: stdin)")
    ] = sys.stdin,  # type: ignore[assignment]
) -> None:
    """Decrypt your share of a vote's key; bring the line it prints to the count (POST .../count)."""
    try:
        document = json.loads(share_file.read())
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
        if not isinstance(private, X25519PrivateKey):
            raise InvalidShare("this is not an X25519 key from `coop trustee keygen`")
        share = decrypt_share(
            unb64(document["encrypted_share"]),
            private,
            uuid.UUID(document["proposal_id"]),
            uuid.UUID(document["trustee_id"]),
        )
    except (InvalidShare, ValueError, KeyError, TypeError) as error:
        console.print(f"[red]cannot open this share: {error}[/red]")
        raise typer.Exit(code=1) from error
    typer.echo(share.encode())


notifications_cli = typer.Typer(help="Marketplace mails.", no_args_is_help=True)
cli.add_typer(notifications_cli, name="notifications")


@notifications_cli.command("send-digests")
def send_digests_command(
    everything: Annotated[
        bool, typer.Option("--all", help="Send every waiting digest now, not only those a day old")
    ] = False,
) -> None:
    """Send the daily digests that are due (each server process also does it on its own every few minutes)."""

    async def run() -> int:
        settings = get_settings()
        async with _database() as database:
            return await send_digests(
                database.sessionmaker,
                settings,
                build_mailer(settings),
                older_than=timedelta(0) if everything else None,
            )

    typer.echo(f"{asyncio.run(run())} digests sent")


payments_cli = typer.Typer(help="Payments: the ledger and Stripe.", no_args_is_help=True)
cli.add_typer(payments_cli, name="payments")


@payments_cli.command("reconcile")
def payments_reconcile() -> None:
    """Compare the ledger with Stripe (payments and refunds) and check every transaction balances."""

    async def run() -> list[str]:
        settings = get_settings()
        gateway = StripeGateway(
            settings.stripe_api_key.get_secret_value(),
            settings.stripe_webhook_secret.get_secret_value(),
            settings.stripe_api_base,
        )
        async with _database() as database, database.sessionmaker() as session, session.begin():
            reports = ReportsService(UnitOfWork(session), gateway)
            return [*await reports.check(), *await reports.reconcile()]

    differences = asyncio.run(run())
    for difference in differences:
        typer.echo(difference)
    typer.echo(f"{len(differences)} difference(s) between the ledger and Stripe")
    if differences:
        raise typer.Exit(code=1)


vault_cli = typer.Typer(help="The members' data vault.", no_args_is_help=True)
cli.add_typer(vault_cli, name="vault")


@vault_cli.command("rotate-keys")
def vault_rotate_keys() -> None:
    """Re-wrap every member's data key under the newest key of COOP_VAULT_MASTER_KEYS."""

    async def run() -> int:
        settings = get_settings()
        async with _database() as database:
            return await rotate_member_keys(database, master_keys_from_settings(settings))

    console.print(f"{asyncio.run(run())} member keys re-wrapped")


@vault_cli.command("new-master-key")
def vault_new_master_key(version: Annotated[int, typer.Argument(min=1, help="The new key's version")]) -> None:
    """Print a new master key entry (`version:base64`) to add to COOP_VAULT_MASTER_KEYS."""
    typer.echo(new_master_key_entry(version))


@vault_cli.command("prove")
def vault_prove(
    archive: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The exported archive (zip)")],
    key: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Your recovery key (PEM)")],
    to: Annotated[str, typer.Option(help="The did:web of the cooperative you move to")],
) -> None:
    """Print the Coop-Recovery-Proof header that proves ARCHIVE is yours (no old cooperative needed)."""
    with zipfile.ZipFile(archive) as opened:
        manifest = opened.read("manifest.json")
    typer.echo(sign_recovery_proof(key.read_text(), manifest, to))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes")] = 1,
    load_demo_data: Annotated[bool, typer.Option("--demo", help="Load the demo cooperative first")] = False,
    migrate_first: Annotated[
        bool | None,
        typer.Option("--migrate/--no-migrate", help="Apply pending migrations (default on the embedded database)"),
    ] = None,
) -> None:
    """Serve the API. Without DATABASE_URL, an embedded PostgreSQL is started and migrated."""
    settings = get_settings()
    configure_logging(settings.log_level)
    database = open_database(settings)
    try:
        should_migrate = migrate_first if migrate_first is not None else database.embedded is not None
        if should_migrate:
            asyncio.run(migrations.upgrade(database.url))
        asyncio.run(database.dispose())
        if load_demo_data:
            os.environ["DATABASE_URL"] = database.url.render_as_string(hide_password=False)
            get_settings.cache_clear()
            asyncio.run(_load_demo())
        # Workers are separate processes: they reach the (possibly embedded) server by its URL.
        os.environ["DATABASE_URL"] = database.url.render_as_string(hide_password=False)
        get_settings.cache_clear()
        base = f"http://{host}:{port}"
        console.print(f"Web client:   {base}/")
        console.print(f"API:          {base}/api/v1")
        console.print(f"OpenAPI docs: {base}/schema  (JSON at {base}/schema/openapi.json)")
        _run_server(host, port, workers)
    finally:
        if database.embedded is not None:
            database.embedded.stop()
        # The process exits next: its final garbage collection, over every object the app and its
        # libraries made, took 0.7-1.9 s of the stop on a loaded machine; nothing left needs it.
        gc.freeze()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _run_server(host: str, port: int, workers: int) -> None:
    # uvicorn re-raises the signal that stopped it once it has shut down; with the default SIGTERM
    # disposition that kills the process before `serve` can stop the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The C event loop and HTTP parser: the pure-Python defaults (asyncio, h11) took 39 % of
        # the samples of an authenticated read (bench/README.md).
        loop="uvloop",
        http="httptools",
        proxy_headers=False,  # X-Forwarded-For is interpreted by the app, from trusted proxies only
        server_header=False,
        log_config=None,
        access_log=False,
        # Open live streams (SSE) never finish by themselves: give requests 3 s, then cut them, so
        # SIGTERM stops the server (and the embedded PostgreSQL) within seconds.
        timeout_graceful_shutdown=3,
    )


def main() -> None:
    try:
        cli()
    except (InsecureSettingsError, ValidationError) as error:
        console.print(f"[red]configuration error[/red]: {error}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
