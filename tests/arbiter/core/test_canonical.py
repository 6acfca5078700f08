"""Canonical JSON (arbiter.core.canonical)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbiter.core.canonical import canonical_digest, canonical_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_key_order_does_not_change_the_bytes(value: dict[str, Any]) -> None:
    """The same mapping in any insertion order has one spelling, which parses back to it."""
    reordered = dict(reversed(list(value.items())))
    assert canonical_json(value) == canonical_json(reordered)
    assert value == json.loads(canonical_json(value))


def test_the_spelling_is_compact_sorted_and_utf8() -> None:
    """Sorted keys, no spaces, non-ASCII as itself."""
    assert '{"a":[1,2],"b":"é"}'.encode() == canonical_json({"b": "é", "a": [1, 2]})


def test_digest_is_sha256_of_the_bytes() -> None:
    """The digest is the SHA-256 of the canonical bytes."""
    value = {"tenant": "globex", "n": 3}
    assert hashlib.sha256(canonical_json(value)).hexdigest() == canonical_digest(value)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_not_a_number_is_refused(bad: float) -> None:
    """NaN and the infinities have no JSON spelling."""
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"x": bad})


def test_default_spells_what_json_cannot() -> None:
    """A default turns an unknown value into something JSON can spell; without it, TypeError."""
    assert b'{"x":"{1}"}' == canonical_json({"x": {1}}, default=str)
    with pytest.raises(TypeError):
        canonical_json({"x": {1}})
