"""Operators' keys and credentials files: one spelling signed, secrets written whole and private."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from arbiter.auth.approvals import (
    Approval,
    check_approvals,
    generate_key,
    load_private_key,
    public_key_text,
    sign_approval,
)
from arbiter.auth.credentials import generate_backup_credentials, generate_primary_credentials
from arbiter.core.canonical import canonical_json
from arbiter.core.errors import CredentialError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_an_approval_signs_the_canonical_json_of_its_fields() -> None:
    """The signed bytes are core.canonical's spelling: sorted, compact, non-ASCII as itself."""
    approval = Approval("execute", "Zoë", "2026-05-01T12:00:00Z", "")
    body = {
        "action": "execute",
        "approved_at": "2026-05-01T12:00:00Z",
        "operator": "Zoë",
        "plan_digest": "d" * 64,
        "plan_id": "p-1",
    }
    signed = approval.message("p-1", "d" * 64)
    assert canonical_json(body) == signed
    assert body == json.loads(signed)


def test_a_signed_approval_by_a_non_ascii_operator_counts() -> None:
    """A name outside ASCII signs and verifies like any other."""
    key = Ed25519PrivateKey.generate()
    approval = sign_approval(
        key,
        action="execute",
        plan_id="p-1",
        plan_digest="d" * 64,
        operator="Zoë",
        approved_at="2026-05-01T11:00:00Z",
    )
    check = check_approvals(
        (approval,),
        action="execute",
        plan_id="p-1",
        plan_digest="d" * 64,
        operators={"Zoë": key.public_key()},
        now=NOW,
        expiry=timedelta(hours=24),
    )
    assert (("Zoë",), ()) == (check.valid, check.problems)


def test_an_approval_time_without_offset_is_not_an_instant() -> None:
    """A naive approval time does not count, and the problem says it is not an instant."""
    key = Ed25519PrivateKey.generate()
    approval = sign_approval(
        key,
        action="execute",
        plan_id="p-1",
        plan_digest="d" * 64,
        operator="ann",
        approved_at="2026-05-01T11:00:00",
    )
    check = check_approvals(
        (approval,),
        action="execute",
        plan_id="p-1",
        plan_digest="d" * 64,
        operators={"ann": key.public_key()},
        now=NOW,
        expiry=timedelta(hours=24),
    )
    assert ((), ("ann: approval time '2026-05-01T11:00:00' is not an instant",)) == (
        check.valid,
        check.problems,
    )


def test_a_key_file_is_private_whole_and_never_overwritten(tmp_path: Path) -> None:
    """generate_key writes mode 600, leaves no temporary file, and refuses an existing file."""
    path = tmp_path / "keys" / "ann.pem"
    public = generate_key(path)
    assert 0o600 == path.stat().st_mode & 0o777
    assert public == public_key_text(load_private_key(path))
    before = path.read_bytes()
    with pytest.raises(UsageError, match="refusing to overwrite"):
        generate_key(path)
    assert (before, ["ann.pem"]) == (path.read_bytes(), [p.name for p in path.parent.iterdir()])


@pytest.mark.parametrize("generate", [generate_primary_credentials, generate_backup_credentials])
def test_a_credentials_file_is_private_whole_and_never_overwritten(
    tmp_path: Path, generate: Callable[[Path], object]
) -> None:
    """Credentials files are mode 600 and an existing one is left as it was."""
    path = tmp_path / "secrets" / "credentials.toml"
    generate(path)
    assert 0o600 == path.stat().st_mode & 0o777
    before = path.read_bytes()
    with pytest.raises(CredentialError, match="refusing to overwrite"):
        generate(path)
    assert (before, ["credentials.toml"]) == (
        path.read_bytes(),
        [p.name for p in path.parent.iterdir()],
    )
