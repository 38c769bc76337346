"""Canonical JSON and hashing, so that anyone can recompute a published result byte for byte.

Canonical JSON here means: ``json.dumps`` with sorted keys, no whitespace (``","`` and ``":"``
separators), UTF-8 (``ensure_ascii=False``), and :class:`fractions.Fraction` written as the string
``"n/d"`` (``"1/1"`` for one). Only ``dict``, ``list``/``tuple``, ``str``, ``int``, ``bool``,
``None`` and ``Fraction`` may appear: floats are refused, because they are not exact.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from typing import Any


def fraction_str(value: Fraction) -> str:
    """``Fraction(2, 3)`` -> ``"2/3"``; always with a denominator, so the form is unambiguous."""
    return f"{value.numerator}/{value.denominator}"


def to_plain(value: Any) -> Any:
    """Convert fractions (recursively) to their ``"n/d"`` strings; refuse floats."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, Fraction):
        return fraction_str(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    raise TypeError(f"cannot put {type(value).__name__} in canonical JSON")


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 JSON bytes of ``value`` (see module docstring)."""
    return json.dumps(
        to_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_fraction(value: Any, what: str) -> Fraction:
    """Read a share written as an int, ``"n/d"`` or a decimal string ``"0.25"``; floats are refused."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a fraction like '1/4', not a boolean")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{what} must be a fraction like '1/4', got {value!r}") from None
    raise ValueError(f"{what} must be a fraction written as a string like '1/4', got {type(value).__name__}")
