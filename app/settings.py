"""One settings object, read from the environment (prefix-free names, as operators expect)."""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_SECRET = "development-secret-do-not-use-in-production"  # noqa: S105 - the marker production refuses
# The Stripe placeholders development runs with (against localstripe); production refuses them too.
DEVELOPMENT_STRIPE_API_KEY = "sk_test_development"
DEVELOPMENT_STRIPE_WEBHOOK_SECRET = "whsec_development"  # noqa: S105 - the marker production refuses


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class InsecureSettingsError(RuntimeError):
    """Raised when production mode would start with development secrets or defaults."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("coop-platform", appauthor=False))


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class OidcProviderSettings(BaseSettings):
    """One "Sign in with ..." provider, discovered from its issuer URL."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    issuer: str
    client_id: str
    client_secret: SecretStr
    scope: str = "openid email profile"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    mode: Mode = Field(default=Mode.DEVELOPMENT, validation_alias="COOP_MODE")
    database_url: str | None = None
    # A direct connection for LISTEN/NOTIFY when DATABASE_URL goes through PgBouncer in transaction
    # pooling mode (a LISTEN must keep its server connection); unset: DATABASE_URL is used.
    database_listen_url: str | None = None
    data_dir: Path = Field(default_factory=default_data_dir, validation_alias="COOP_DATA_DIR")
    secret_key: SecretStr = Field(default=SecretStr(DEVELOPMENT_SECRET), validation_alias="COOP_SECRET_KEY")
    # PEM-encoded Ed25519 private keys; the first signs, all verify (rotation: prepend the new key).
    jwt_private_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, validation_alias="COOP_JWT_PRIVATE_KEYS"
    )
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=3600)
    email_token_ttl_seconds: int = Field(default=24 * 3600, ge=300)
    public_base_url: str = Field(default="http://127.0.0.1:8000", validation_alias="COOP_PUBLIC_BASE_URL")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="COOP_CORS_ORIGINS")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="COOP_TRUSTED_PROXIES"
    )
    redis_url: str | None = None
    # Database connections per process (docs/operations.md): enough for the requests it serves at
    # once, so that connections are reused instead of opened and closed under load.
    db_pool_size: int = Field(default=20, ge=1, le=500, validation_alias="COOP_DB_POOL_SIZE")
    db_pool_overflow: int = Field(default=5, ge=0, le=500, validation_alias="COOP_DB_POOL_OVERFLOW")
    db_reader_pool_size: int = Field(default=10, ge=1, le=500, validation_alias="COOP_DB_READER_POOL_SIZE")
    # asyncpg's prepared statements per connection; 0 behind PgBouncer in transaction pooling mode.
    db_statement_cache_size: int = Field(default=100, ge=0, le=10_000, validation_alias="COOP_DB_STATEMENT_CACHE_SIZE")
    max_body_bytes: int = Field(default=256 * 1024, validation_alias="COOP_MAX_BODY_BYTES")
    # Per client address, auth requests other than sign-in, refresh and sign-out (register, resets...).
    auth_rate_limit_per_minute: int = Field(default=30, ge=1, validation_alias="COOP_AUTH_RATE_LIMIT")
    # Sign-in (docs/security.md): free failures per account, then a backoff doubling from 1 s to the cap;
    # failures per client address in a window, sized so a venue behind one address stays under it.
    sign_in_free_failures: int = Field(default=5, ge=1, validation_alias="COOP_SIGN_IN_FREE_FAILURES")
    sign_in_account_window_seconds: int = Field(default=900, ge=60)
    sign_in_max_backoff_seconds: int = Field(default=900, ge=1)
    sign_in_address_failures: int = Field(default=100, ge=1, validation_alias="COOP_SIGN_IN_ADDRESS_FAILURES")
    sign_in_address_window_seconds: int = Field(default=900, ge=60)
    refresh_per_session_per_minute: int = Field(default=30, ge=1, validation_alias="COOP_REFRESH_PER_SESSION")
    # The needs diagnostic's questionnaire (YAML, see docs/seed-services.md); None: the shipped one.
    diagnostic_file: Path | None = Field(default=None, validation_alias="COOP_DIAGNOSTIC_FILE")
    # Largest CV file read (bytes); below the upload route's own 8 MiB body limit.
    cv_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, le=7 * 1024 * 1024, validation_alias="COOP_CV_MAX_BYTES"
    )
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # None: upgrade with STARTTLS whenever the server offers it; True: require it; False: never.
    smtp_starttls: bool | None = None
    mail_from: str = Field(default="Cooperative <no-reply@coop.localhost>", validation_alias="COOP_MAIL_FROM")
    oidc_providers: list[OidcProviderSettings] = Field(default_factory=list, validation_alias="COOP_OIDC_PROVIDERS")
    log_level: str = Field(default="INFO", validation_alias="COOP_LOG_LEVEL")
    # Assemblies: the statutes' starting preset, the notice period of convocations, reminders, and how
    # often each process looks for votes to open or close and mails to send (see docs/assemblies.md).
    statute_preset: str = Field(default="scop_sarl", validation_alias="COOP_STATUTE_PRESET")
    convocation_notice_days: int = Field(default=15, ge=0, le=365, validation_alias="COOP_CONVOCATION_NOTICE_DAYS")
    reminder_hours_before_close: float = Field(default=24, ge=0, validation_alias="COOP_REMINDER_HOURS")
    # Marketplace digests: a member on the daily digest gets one when their oldest waiting event is this
    # old; every process looks for due digests this often.
    digest_interval_hours: float = Field(default=24, gt=0, validation_alias="COOP_DIGEST_INTERVAL_HOURS")
    digest_check_seconds: float = Field(default=600, gt=0, validation_alias="COOP_DIGEST_CHECK_SECONDS")
    assembly_tick_seconds: float = Field(default=1.0, gt=0, le=3600, validation_alias="COOP_ASSEMBLY_TICK_SECONDS")
    # Derives the election keys of secret votes that have no bureau of scrutineers. Kept out of the
    # database on purpose; defaults to COOP_SECRET_KEY (see docs/assemblies.md, "Secret ballots").
    ballot_secret: SecretStr | None = Field(default=None, validation_alias="COOP_BALLOT_SECRET")
    # The role the application connects as: it may read and write rows, never alter a table or
    # disable a trigger (migrations run as the owner). Empty: connect as DATABASE_URL's own user.
    database_app_role: str = Field(default="coop_app", validation_alias="COOP_DATABASE_APP_ROLE")
    app_database_url: str | None = Field(default=None, validation_alias="COOP_APP_DATABASE_URL")
    # With password authentication: `coop migrate` gives the role this password, the app uses it.
    app_database_password: SecretStr | None = Field(default=None, validation_alias="COOP_APP_DATABASE_PASSWORD")
    # Payments (see docs/payments.md): Stripe (STRIPE_API_BASE points at localstripe in development and
    # tests), escrow auto-release, the background loop, and the cooperative's legal details as seller.
    stripe_api_key: SecretStr = Field(default=SecretStr(DEVELOPMENT_STRIPE_API_KEY), validation_alias="STRIPE_API_KEY")
    stripe_api_base: str | None = Field(default=None, validation_alias="STRIPE_API_BASE")
    stripe_webhook_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_STRIPE_WEBHOOK_SECRET), validation_alias="STRIPE_WEBHOOK_SECRET"
    )
    escrow_release_days: int = Field(default=14, ge=0, le=365, validation_alias="COOP_ESCROW_RELEASE_DAYS")
    payments_tick_seconds: float = Field(default=1.0, gt=0, le=3600, validation_alias="COOP_PAYMENTS_TICK_SECONDS")
    payment_terms_days: int = Field(default=30, ge=0, le=60, validation_alias="COOP_PAYMENT_TERMS_DAYS")
    coop_legal_name: str = Field(default="Coopérative des indépendants SCOP SARL", validation_alias="COOP_LEGAL_NAME")
    coop_siret: str = Field(default="90123456700013", validation_alias="COOP_SIRET")
    coop_vat_number: str = Field(default="FR15901234567", validation_alias="COOP_VAT_NUMBER")
    coop_iban: str = Field(default="FR7630006000011234567890189", validation_alias="COOP_IBAN")
    coop_bic: str = Field(default="AGRIFRPP", validation_alias="COOP_BIC")
    # 32 bytes, base64: the key members' IBANs were encrypted with before revision 0011 sealed them under
    # each member's own data key (docs/payments.md). Read only by that revision (and its downgrade) to
    # open them; unset, it was derived from COOP_SECRET_KEY. Nothing new is encrypted with it.
    payments_encryption_key: SecretStr | None = Field(default=None, validation_alias="COOP_PAYMENTS_KEY")
    coop_address: str = Field(default="10 rue des Coopératives\n69001 Lyon", validation_alias="COOP_ADDRESS")
    # Vault (see docs/vault.md): master keys wrapping each member's data key, `version:base64key` entries
    # separated by commas (the highest version wraps; all unwrap); without any, version 1 derives from
    # COOP_SECRET_KEY. Archive import limits: upload size, unpacked size, compression ratio.
    vault_issuer_name: str = Field(default="Cooperative", max_length=200, validation_alias="COOP_VAULT_ISSUER_NAME")
    vault_master_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, validation_alias="COOP_VAULT_MASTER_KEYS"
    )
    vault_import_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, validation_alias="COOP_VAULT_IMPORT_MAX_BYTES"
    )
    vault_import_max_unpacked_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1024, validation_alias="COOP_VAULT_IMPORT_MAX_UNPACKED_BYTES"
    )
    vault_export_ttl_hours: int = Field(default=72, ge=1, le=24 * 30, validation_alias="COOP_VAULT_EXPORT_TTL_HOURS")

    @field_validator("vault_master_keys", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("jwt_private_keys", "cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _csv_or_list(cls, value: Any) -> Any:
        if isinstance(value, str) and "-----BEGIN" in value:
            # Several PEM keys may be concatenated: split on their armour.
            blocks = value.split("-----END PRIVATE KEY-----")
            return [block.strip() + "\n-----END PRIVATE KEY-----\n" for block in blocks if block.strip()]
        return _split_csv(value)

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Settings:
        if self.mode is not Mode.PRODUCTION:
            return self
        problems = []
        if self.secret_key.get_secret_value() == DEVELOPMENT_SECRET or len(self.secret_key) < 32:
            problems.append("COOP_SECRET_KEY must be set to a random value of at least 32 characters")
        if not self.jwt_private_keys:
            problems.append("COOP_JWT_PRIVATE_KEYS must hold at least one Ed25519 private key (PEM)")
        if not self.database_url:
            problems.append("DATABASE_URL must point to the production PostgreSQL server")
        if not self.public_base_url.startswith("https://"):
            problems.append("COOP_PUBLIC_BASE_URL must be an https:// URL")
        if not self.smtp_host:
            problems.append("SMTP_HOST must be set so that verification and reset mails are delivered")
        problems.extend(self._payments_problems())
        if problems:
            raise InsecureSettingsError("refusing to start in production mode: " + "; ".join(problems))
        return self

    def _payments_problems(self) -> list[str]:
        """Production collects real money: no development placeholder. COOP_PAYMENTS_KEY is no longer
        required (IBANs are sealed under members' data keys); when given, for revision 0011 to open the
        IBANs it encrypted, it must be a real key (empty counts as unset)."""
        problems = []
        if self.stripe_api_key.get_secret_value() in ("", DEVELOPMENT_STRIPE_API_KEY):
            problems.append("STRIPE_API_KEY must be the cooperative's Stripe secret key, not the development one")
        if self.stripe_webhook_secret.get_secret_value() in ("", DEVELOPMENT_STRIPE_WEBHOOK_SECRET):
            problems.append(
                "STRIPE_WEBHOOK_SECRET must be the webhook endpoint's signing secret (whsec_...),"
                " not the development one"
            )
        key = self.payments_encryption_key
        if key is not None and key.get_secret_value():
            try:
                length = len(base64.b64decode(key.get_secret_value(), validate=True))
            except binascii.Error:
                length = -1
            if length != 32:
                problems.append("COOP_PAYMENTS_KEY must be 32 bytes, base64-encoded")
        return problems

    @property
    def is_development(self) -> bool:
        return self.mode is Mode.DEVELOPMENT


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
