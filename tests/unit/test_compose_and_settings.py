"""compose.yaml matches the CLI and the settings; production refuses development secrets."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from app.cli import cli
from app.settings import DEVELOPMENT_SECRET, InsecureSettingsError, Settings

ROOT = Path(__file__).resolve().parents[2]
PAYMENTS_SECRETS = {
    "STRIPE_API_KEY": "sk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "COOP_PAYMENTS_KEY": base64.b64encode(bytes(range(32))).decode(),
}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add((alias if isinstance(alias, str) else name).upper())
    return names


def test_services_and_healthchecks() -> None:
    services = _compose()["services"]
    assert {"db", "migrate", "app", "localstripe"} <= set(services)
    assert services["db"]["image"].startswith("postgres:18")
    assert "pgdata:/var/lib/postgresql" in services["db"]["volumes"]
    for name in ("db", "app", "localstripe"):
        assert services[name]["healthcheck"]["test"], name
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["app"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_commands_exist_in_the_cli() -> None:
    group = get_command(cli)
    services = _compose()["services"]
    for service in ("migrate", "app"):
        command = services[service]["command"]
        assert command[0] == "coop"
        subcommand = group.commands[command[1]]  # type: ignore[attr-defined]
        known_options = {opt for param in subcommand.params for opt in param.opts + param.secondary_opts}
        for word in command[2:]:
            if word.startswith("--"):
                assert word in known_options, f"{service}: unknown option {word}"


def test_environment_names_are_settings() -> None:
    known = _setting_names()
    for service in ("migrate", "app"):
        environment = _compose()["services"][service]["environment"]
        unknown = set(environment) - known
        assert not unknown, f"{service} sets variables the app does not read: {unknown}"
        assert environment["COOP_MODE"] == "production"
        assert ":?" in environment["COOP_SECRET_KEY"], "secrets must be required, never defaulted"


def test_production_refuses_development_secrets() -> None:
    with pytest.raises(InsecureSettingsError) as refused:
        Settings(COOP_MODE="production", database_url="postgresql://db/coop", COOP_SECRET_KEY=DEVELOPMENT_SECRET)
    assert "COOP_SECRET_KEY" in str(refused.value)
    assert "COOP_JWT_PRIVATE_KEYS" in str(refused.value)


def test_production_starts_with_real_secrets() -> None:
    from app.accounts.tokens import generate_private_key_pem

    settings = Settings(
        COOP_MODE="production",
        database_url="postgresql://db/coop",
        COOP_SECRET_KEY="x" * 40,
        COOP_JWT_PRIVATE_KEYS=generate_private_key_pem() + generate_private_key_pem(),
        COOP_PUBLIC_BASE_URL="https://coop.example.org",
        smtp_host="smtp.example.org",
        **PAYMENTS_SECRETS,
    )
    assert len(settings.jwt_private_keys) == 2


def test_production_refuses_development_stripe_secrets_and_a_malformed_legacy_iban_key() -> None:
    from app.accounts.tokens import generate_private_key_pem

    good = {
        "COOP_MODE": "production",
        "database_url": "postgresql://db/coop",
        "COOP_SECRET_KEY": "x" * 40,
        "COOP_JWT_PRIVATE_KEYS": generate_private_key_pem(),
        "COOP_PUBLIC_BASE_URL": "https://coop.example.org",
        "smtp_host": "smtp.example.org",
    }
    with pytest.raises(InsecureSettingsError) as refused:
        Settings(**good)  # the development Stripe placeholders
    message = str(refused.value)
    for name in ("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"):
        assert name in message
    assert "COOP_SECRET_KEY" not in message  # only what is wrong is named
    # IBANs are sealed under members' data keys: the payments key is only read by revision 0011 to open
    # the IBANs it encrypted. Unset (or empty) is fine; given, it must be a real key.
    stripe = {name: value for name, value in PAYMENTS_SECRETS.items() if name != "COOP_PAYMENTS_KEY"}
    assert Settings(**good, **stripe).payments_encryption_key is None
    assert Settings(**good, **stripe, COOP_PAYMENTS_KEY="").payments_encryption_key is not None
    with pytest.raises(InsecureSettingsError, match="COOP_PAYMENTS_KEY must be 32 bytes"):
        Settings(**good, **{**PAYMENTS_SECRETS, "COOP_PAYMENTS_KEY": base64.b64encode(b"short").decode()})
    # Development keeps its placeholders (localstripe accepts any key).
    assert Settings().stripe_webhook_secret.get_secret_value() == "whsec_development"


def test_cli_refuses_to_run_in_production_with_development_secrets(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        env={"COOP_MODE": "production", "COOP_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert "refusing to start in production mode" in result.stderr


def test_cli_names_the_missing_payments_secrets(tmp_path: Path) -> None:
    from app.accounts.tokens import generate_private_key_pem

    production = {
        "COOP_MODE": "production",
        "COOP_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgresql://db/coop",
        "COOP_SECRET_KEY": "x" * 40,
        "COOP_JWT_PRIVATE_KEYS": generate_private_key_pem(),
        "COOP_PUBLIC_BASE_URL": "https://coop.example.org",
        "SMTP_HOST": "smtp.example.org",
        "STRIPE_API_KEY": "sk_live_example",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        env=production,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    assert "refusing to start in production mode" in said
    assert "STRIPE_WEBHOOK_SECRET" in said and "STRIPE_API_KEY" not in said
    assert "COOP_PAYMENTS_KEY" not in said, "no longer required: IBANs are sealed under members' data keys"
