"""Email addresses as accounts are keyed by: one normal form, and a skeleton to catch look-alikes.

Owns the normal form of an address (Unicode NFKC, then the domain through IDNA's UTS #46
mapping, lowercase) and its confusable skeleton (UTS #39, computed by ICU's spoof checker from
Unicode's own confusables data), so that `admin@demo.coop` spelt with a Cyrillic a, in fullwidth
letters, or with a Cyrillic e in the domain cannot stand beside the real one. Never queries the
database: the accounts service compares skeletons through its repository.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError, validate_email

from app.core.errors import InvalidInput

if TYPE_CHECKING:
    import icu


def normalise_email(raw: str) -> str:
    """The one spelling an address is stored, signed in and compared with."""
    try:
        checked = validate_email(unicodedata.normalize("NFKC", raw).strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput.field("email", str(error)) from error
    # email_validator has already put the domain through IDNA (UTS #46 mapping, NFC, lowercase).
    return unicodedata.normalize("NFKC", f"{checked.local_part}@{checked.domain}").lower()


@cache
def _spoof_checker() -> icu.SpoofChecker:
    # Imported on first use: PyICU holds ~9 MiB per process, needed only where addresses are compared.
    import icu

    return icu.SpoofChecker()


def email_skeleton(normalised: str) -> str:
    """Two addresses with the same skeleton look alike to a reader (UTS #39 section 4)."""
    return str(_spoof_checker().getSkeleton(0, unicodedata.normalize("NFKC", normalised).casefold()))
