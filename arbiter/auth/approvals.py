"""Operators' keys and signed approvals: nobody purges (or restores) alone.

Rules:

1. An operator is a name registered in ``twinpurge.toml`` with an Ed25519 public key. Two names
   may not share a key: one person, one key.
2. An approval signs the canonical JSON (``arbiter.core.canonical``) of ``{action, plan_id,
   plan_digest, operator, approved_at}``: it binds the exact plan body (any change to it changes
   the digest), the action (``execute`` or ``restore``), the operator and the time.
3. An approval counts only if its operator is registered, its signature verifies under that
   operator's registered key, it is for this action and this digest, it is younger than the
   expiry and not from the future (beyond a small clock skew). Counting is by distinct operator:
   the same person twice counts once.
4. A private key file must be readable by its owner only; anything else is refused before the key
   is read. Private keys are never printed, logged, or written into a plan. A key file is created
   whole with mode 600 and never over an existing file (``arbiter.durable.files.create``).
5. Every two-person flow (manual purges and restores, backup restores, safe-mode resets) signs
   with ``approve`` and counts with ``check_configured``: one registry (the workspace's
   ``[operators]``), one key check, one expiry (``manual.approval_expiry_hours``).
"""

from __future__ import annotations

import base64
import binascii
import stat
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from arbiter.core.canonical import canonical_json
from arbiter.core.errors import InputError, UsageError
from arbiter.core.instants import format_instant, parse_instant
from arbiter.durable.files import create

if TYPE_CHECKING:
    from pathlib import Path

    from arbiter.core.config import WorkspaceConfig

__all__ = [
    "Action",
    "Approval",
    "ApprovalCheck",
    "approve",
    "check_approvals",
    "check_configured",
    "generate_key",
    "load_private_key",
    "public_key_text",
    "registered_operators",
    "require_operator",
    "sign_approval",
]

Action = Literal["execute", "restore", "reset-safe-mode"]
CLOCK_SKEW = timedelta(minutes=5)


@attrs.frozen
class Approval:
    """One operator's signature over one action on one plan."""

    action: Action
    operator: str
    approved_at: str
    signature: str

    def message(self, plan_id: str, plan_digest: str) -> bytes:
        """The bytes this approval signs (rule 2)."""
        return _message(self.action, plan_id, plan_digest, self.operator, self.approved_at)


def _message(action: str, plan_id: str, plan_digest: str, operator: str, approved_at: str) -> bytes:
    body = {
        "action": action,
        "approved_at": approved_at,
        "operator": operator,
        "plan_digest": plan_digest,
        "plan_id": plan_id,
    }
    return canonical_json(body)


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The base64 text of a public key, as registered in ``twinpurge.toml``."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def parse_public_key(text: str, *, field: str) -> Ed25519PublicKey:
    """Read a registered public key.

    Raises:
        InputError: not the base64 of a 32-byte Ed25519 key.
    """
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise InputError(
            source="config", field=field, message="not a base64 Ed25519 public key"
        ) from exc


def generate_key(path: Path) -> str:
    """Create a private key file readable by its owner only (rule 4).

    Args:
        path: where to write the key; must not exist.

    Returns:
        The public key text to register.

    Raises:
        UsageError: the file exists (it is left as it was).
        OSError: the file cannot be written (nothing is left at ``path``).
    """
    key = Ed25519PrivateKey.generate()
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        create(path, data, mode=0o600)
    except FileExistsError as exc:
        raise UsageError(f"{path} exists; refusing to overwrite a key") from exc
    return public_key_text(key)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an operator's private key, refusing a file others can read (rule 4).

    Raises:
        InputError: missing, readable by group or others, or not an Ed25519 key.
    """
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputError(
            source="key", file=str(path), field="", message=f"cannot read: {exc.strerror}"
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(
            source="key",
            file=str(path),
            field="",
            message=f"private key is accessible by others (mode {stat.S_IMODE(mode):o});"
            " chmod 600 it",
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(
            source="key", file=str(path), field="", message="not a private key"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(source="key", file=str(path), field="", message="not an Ed25519 key")
    return key


def sign_approval(  # noqa: PLR0913 -- each part of the signed message
    key: Ed25519PrivateKey,
    *,
    action: Action,
    plan_id: str,
    plan_digest: str,
    operator: str,
    approved_at: str,
) -> Approval:
    """Sign an approval (rule 2).

    Returns:
        The approval, carrying the base64 signature.
    """
    signature = key.sign(_message(action, plan_id, plan_digest, operator, approved_at))
    return Approval(action, operator, approved_at, base64.b64encode(signature).decode("ascii"))


@attrs.frozen
class ApprovalCheck:
    """The verdict on a plan's approvals for one action.

    Attributes:
        valid: the distinct operators whose approval counts.
        problems: one line per approval that does not count, saying why.
    """

    valid: tuple[str, ...]
    problems: tuple[str, ...]


def check_approvals(  # noqa: PLR0913 -- the plan, the action, the registry and the clock
    approvals: tuple[Approval, ...],
    *,
    action: Action,
    plan_id: str,
    plan_digest: str,
    operators: dict[str, Ed25519PublicKey],
    now: datetime,
    expiry: timedelta,
) -> ApprovalCheck:
    """Decide which approvals count (rule 3).

    Args:
        approvals: the plan's approvals.
        action: the action about to be taken.
        plan_id: the plan's id.
        plan_digest: the digest of the plan body *as it is now*.
        operators: registered operators and their public keys.
        now: the current instant.
        expiry: how old an approval may be.

    Returns:
        The distinct operators whose approval counts, and why the others do not.
    """
    valid: list[str] = []
    problems: list[str] = []
    for approval in approvals:
        who = approval.operator
        if approval.action != action:
            continue
        public = operators.get(who)
        if public is None:
            problems.append(f"{who}: not a registered operator")
            continue
        try:
            public.verify(
                base64.b64decode(approval.signature, validate=True),
                approval.message(plan_id, plan_digest),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            problems.append(f"{who}: signature does not verify for this plan as it is now")
            continue
        try:
            at = parse_instant(approval.approved_at)
        except ValueError:
            problems.append(f"{who}: approval time {approval.approved_at!r} is not an instant")
            continue
        if at > now + CLOCK_SKEW:
            problems.append(f"{who}: approval time {approval.approved_at} is in the future")
            continue
        if now - at > expiry:
            problems.append(f"{who}: approval of {approval.approved_at} has expired")
            continue
        if who in valid:
            problems.append(f"{who}: approved more than once; counts once")
            continue
        valid.append(who)
    return ApprovalCheck(tuple(valid), tuple(problems))


def registered_operators(config: WorkspaceConfig) -> dict[str, Ed25519PublicKey]:
    """The registered operators' public keys, which approvals are checked against (rule 5).

    Args:
        config: the workspace configuration that registers the operators.

    Returns:
        Each operator's name and public key.

    Raises:
        InputError: a registered public key is malformed.
    """
    return {
        name: parse_public_key(op.public_key, field=f"operators.{name}.public_key")
        for name, op in config.operators.items()
    }


def require_operator(config: WorkspaceConfig, operator: str) -> None:
    """Refuse anyone who is not a registered operator (rule 1).

    Args:
        config: the workspace configuration.
        operator: who acts.

    Raises:
        UsageError: ``operator`` is not registered.
    """
    if operator not in config.operators:
        raise UsageError(f"{operator!r} is not a registered operator")


def approve(  # noqa: PLR0913 -- who signs with which key, for what, when
    config: WorkspaceConfig,
    *,
    operator: str,
    key_path: Path,
    action: Action,
    subject_id: str,
    subject_digest: str,
    now: datetime,
) -> Approval:
    """Sign an approval of one document (plan, restore request, reset request) (rule 5).

    Args:
        config: the workspace configuration that registers the operators.
        operator: who approves.
        key_path: their private key file.
        action: what they approve.
        subject_id: the document's id.
        subject_digest: the digest of the document's body as it is now.
        now: the approval's instant.

    Returns:
        The signed approval.

    Raises:
        UsageError: unregistered operator, or a key that is not the operator's registered key.
        InputError: a bad key file.
    """
    require_operator(config, operator)
    key = load_private_key(key_path)
    if public_key_text(key) != config.operators[operator].public_key:
        raise UsageError(
            f"the key in {key_path} is not the registered key of operator {operator!r}"
        )
    return sign_approval(
        key,
        action=action,
        plan_id=subject_id,
        plan_digest=subject_digest,
        operator=operator,
        approved_at=format_instant(now),
    )


def check_configured(  # noqa: PLR0913 -- the document, the action, the registry and the clock
    config: WorkspaceConfig,
    approvals: tuple[Approval, ...],
    *,
    action: Action,
    subject_id: str,
    subject_digest: str,
    now: datetime,
) -> ApprovalCheck:
    """Decide which approvals count, with the workspace's registry and expiry (rules 3 and 5).

    Args:
        config: the workspace configuration.
        approvals: the document's approvals.
        action: the action about to be taken.
        subject_id: the document's id.
        subject_digest: the digest of the document's body as it is now.
        now: the current instant.

    Returns:
        The distinct operators whose approval counts, and why the others do not.

    Raises:
        InputError: a registered public key is malformed.
    """
    return check_approvals(
        approvals,
        action=action,
        plan_id=subject_id,
        plan_digest=subject_digest,
        operators=registered_operators(config),
        now=now,
        expiry=timedelta(hours=config.manual.approval_expiry_hours),
    )
