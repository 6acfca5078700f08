"""Canonical JSON: the one spelling of a value that the arbiter hashes, signs or chains.

Rules:

1. Keys sorted, no whitespace (``","`` and ``":"``), non-ASCII characters as themselves, UTF-8.
2. ``NaN`` and the infinities are refused: they are not JSON, and would make two spellings of one
   value (or none at all).
3. Every digest the arbiter records (plan digests, approval payloads, audit record hashes,
   archive lines, fingerprints of slices and policies, restore requests) is the SHA-256 of these
   bytes, so a value has one digest wherever it is computed.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["canonical_digest", "canonical_json"]


def canonical_json(value: object, *, default: Callable[[object], object] | None = None) -> bytes:
    """The canonical JSON bytes of ``value`` (rules 1 and 2).

    Args:
        value: JSON-shaped plain data.
        default: how to spell a value JSON has no spelling for; by default such a value is an
            error.

    Returns:
        UTF-8 bytes.

    Raises:
        TypeError: ``value`` holds something JSON cannot spell and no ``default`` was given.
        ValueError: ``value`` holds ``NaN`` or an infinity.
    """
    text = json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=default,
    )
    return text.encode("utf-8")


def canonical_digest(value: object, *, default: Callable[[object], object] | None = None) -> str:
    """SHA-256 of ``value``'s canonical JSON, in hex (rule 3).

    Args:
        value: JSON-shaped plain data.
        default: as for ``canonical_json``.

    Returns:
        64 lowercase hex digits.

    Raises:
        TypeError: as for ``canonical_json``.
        ValueError: as for ``canonical_json``.
    """
    return hashlib.sha256(canonical_json(value, default=default)).hexdigest()
