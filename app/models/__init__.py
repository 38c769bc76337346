"""Every table of the application, imported in one place so Alembic sees the whole schema."""

from app.models.accounts import (
    Account,
    AuthSession,
    ClientOrganisation,
    EmailToken,
    EmailTokenPurpose,
    MemberStatus,
    OidcIdentity,
    OidcLoginAttempt,
    RefreshToken,
    Role,
)
from app.models.base import metadata, utcnow
from app.models.kv import KeyValue

__all__ = [
    "Account",
    "AuthSession",
    "ClientOrganisation",
    "EmailToken",
    "EmailTokenPurpose",
    "KeyValue",
    "MemberStatus",
    "OidcIdentity",
    "OidcLoginAttempt",
    "RefreshToken",
    "Role",
    "metadata",
    "utcnow",
]
