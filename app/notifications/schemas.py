"""Request and response bodies of the notifications feature."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from app.core.schemas import Input

ModeText = Literal["immediate", "daily", "off"]


class PreferenceInput(Input, kw_only=True):
    mode: ModeText


class PreferenceOut(msgspec.Struct, kw_only=True):
    mode: str
    # Events waiting for the next daily digest.
    pending: int
    updated_at: datetime | None


class UnsubscribedOut(msgspec.Struct, kw_only=True):
    mode: str
    detail: str
