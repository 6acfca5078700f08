"""The backup site: per-tenant backup generations, encrypted and authenticated with the backup key.

A site is a directory standing for the remote site::

    site.json                          format, creation time, key check
    audit.jsonl                        the site's own hash-chained audit log (arbiter.audit.log)
    audit-head.sealed                  that log's head, sealed with the backup key
    tenants/NAME/tenant.sealed         the tenant's id, sealed
    tenants/NAME/GENERATION.gen        one backup generation of the tenant

Rules:

1. Every file holding data is AES-256-GCM (``cryptography``) with a fresh 96-bit nonce, under
   the backup key only (``BackupCredentials``). The associated data binds each file to its
   place: a generation to its tenant and generation id, a tenant file to its directory, the
   audit head to the site. A file that was edited, forged, moved to another tenant or renamed
   fails authentication (``BackupTamperedError``) and nothing of it is used. Whoever holds only
   the primary credentials can neither read a backup nor write one that this module accepts.
2. Opening a site decrypts the key check of ``site.json`` before anything else: a wrong key is a
   ``CredentialError`` and no backup is read.
3. A tenant's directory is named by HMAC-SHA256 of its id under the backup key (32 hex digits):
   the name reveals nothing, cannot traverse a path, and only the key's holder can find it.
   Generation ids match ``YYYYMMDDTHHMMSSffffffZ-xxxxxxxx`` (the instant written, a random
   suffix); nothing else ever becomes a path.
4. A generation is written whole or not at all and never overwrites another
   (``arbiter.durable.files.create``); every file of the site is readable by its owner only.
5. Retention lock: a generation carries ``locked_until`` (written time plus
   ``retention_lock_days``) inside its authenticated content, and ``delete`` refuses it before
   then (``RetentionLockError``). ``delete`` authenticates the file before removing it.
6. Every write, deletion and restore is appended to the site's own audit log. Its head is sealed
   with the backup key inside the site: the backup domain has only read access to the primary
   store, where the primary log keeps its head. Rolling back both files to an older copy
   together is not detected.
7. This module is the backup domain's. The primary purge modules never import it
   (import-linter enforces it), and it never imports them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from arbiter.audit.log import AuditHead, AuditLog
from arbiter.auth.credentials import BackupCredentials, require_backup
from arbiter.core.canonical import canonical_json
from arbiter.core.errors import (
    AuditTamperedError,
    BackupTamperedError,
    CredentialError,
    RetentionLockError,
    UsageError,
)
from arbiter.core.instants import format_instant, parse_instant, utc_now
from arbiter.durable.files import atomic_write, create, remove

if TYPE_CHECKING:
    from collections.abc import Callable

# ``format_instant`` and ``parse_instant`` are re-exported for older importers; they live in
# ``arbiter.core.instants``.
__all__ = ["BackupSite", "Generation", "GenerationInfo"]

SITE_FORMAT = "twinpurge-backup-site-1"
GENERATION_FORMAT = "twinpurge-backup-generation-1"
_KEY_CHECK = b"twinpurge backup key check"
_NONCE = 12
_GENERATION = re.compile(r"\A(\d{8}T\d{12}Z)-[0-9a-f]{8}\Z")
_TENANT_DIR = re.compile(r"\A[0-9a-f]{32}\Z")
_SUFFIX = ".gen"
_MODE = 0o600  # the site's files are the backup domain's alone


@attrs.frozen
class GenerationInfo:
    """A generation as its file name tells it (not yet authenticated)."""

    tenant: str
    generation: str
    created_at: str
    path: Path
    size: int

    def sha256(self) -> str:
        """SHA-256 of the file as it is now (what a restore request binds)."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@attrs.frozen
class Generation:
    """A generation read back and authenticated.

    Attributes:
        info: where it is.
        locked_until: the end of its retention lock.
        tenant_record: the tenant (id, events, legal_hold) as it was.
        objects: the tenant's full rows as they were: payload and blob bytes (or None), refs.
    """

    info: GenerationInfo
    locked_until: str
    tenant_record: dict[str, Any]
    objects: tuple[dict[str, Any], ...]


class _SealedHead:
    """Rule 6: the site audit log's head, sealed with the backup key."""

    def __init__(self, path: Path, aead: AESGCM) -> None:
        self._path = path
        self._aead = aead

    def read_audit_head(self) -> AuditHead | None:
        try:
            sealed = self._path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(
                self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], b"twinpurge/audit-head")
            )
            return AuditHead(seq=int(data["seq"]), hash=str(data["hash"]))
        except (InvalidTag, ValueError, KeyError, TypeError) as exc:
            raise AuditTamperedError(
                "the sealed head of the backup site's audit log fails authentication"
            ) from exc

    def write_audit_head(self, head: AuditHead) -> None:
        nonce = os.urandom(_NONCE)
        plain = canonical_json({"seq": head.seq, "hash": head.hash})
        sealed = nonce + self._aead.encrypt(nonce, plain, b"twinpurge/audit-head")
        atomic_write(self._path, sealed, mode=_MODE)


def _encode_rows(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    encoded = []
    for row in objects:
        record = {k: v for k, v in row.items() if k not in {"payload", "blob"}}
        for name in ("payload", "blob"):
            value = row.get(name)
            record[f"{name}_b64"] = None if value is None else base64.b64encode(value).decode()
        encoded.append(record)
    return encoded


def _decode_rows(records: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    rows = []
    for record in records:
        row = {k: v for k, v in record.items() if not k.endswith("_b64")}
        for name in ("payload", "blob"):
            value = record.get(f"{name}_b64")
            row[name] = None if value is None else base64.b64decode(value)
        rows.append(row)
    return tuple(rows)


class BackupSite:
    """An opened backup site (this module's rules). Only ``BackupCredentials`` open one."""

    def __init__(
        self, directory: Path, credentials: BackupCredentials, clock: Callable[[], datetime]
    ) -> None:
        """Use ``BackupSite.create`` or ``BackupSite.open``.

        Raises:
            CredentialError: ``credentials`` are not backup credentials (nothing is opened).
        """
        credentials = require_backup(credentials, purpose="a backup site")
        self.directory = directory
        self._credentials = credentials
        self._aead = AESGCM(credentials.key)
        self._clock = clock
        self.audit = AuditLog(
            directory / "audit.jsonl", _SealedHead(directory / "audit-head.sealed", self._aead)
        )

    @classmethod
    def create(
        cls,
        directory: str | Path,
        credentials: BackupCredentials,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> BackupSite:
        """Create an empty site whose key check is ``credentials``' key.

        Raises:
            UsageError: a site already exists there.
            CredentialError: ``credentials`` are not backup credentials.
        """
        credentials = require_backup(credentials, purpose="creating a backup site")
        directory = Path(directory)
        path = directory / "site.json"
        if path.exists():
            raise UsageError(f"{path} exists; refusing to overwrite a backup site")
        directory.mkdir(parents=True, exist_ok=True)
        nonce = os.urandom(_NONCE)
        check = nonce + AESGCM(credentials.key).encrypt(nonce, _KEY_CHECK, SITE_FORMAT.encode())
        site = {
            "format": SITE_FORMAT,
            "created_at": format_instant(clock()),
            "key_check": base64.b64encode(check).decode("ascii"),
        }
        create(path, json.dumps(site, indent=2).encode("utf-8") + b"\n", mode=_MODE)
        opened = cls(directory, credentials, clock)
        opened.audit.append("site-created", {"site": str(directory)}, actor="backup-service")
        return opened

    @classmethod
    def open(
        cls,
        directory: str | Path,
        credentials: BackupCredentials,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> BackupSite:
        """Open a site, checking the key before anything else (rule 2).

        Raises:
            CredentialError: ``credentials`` are not backup credentials, or not this site's key.
            UsageError: there is no site at ``directory``.
        """
        credentials = require_backup(credentials, purpose="opening the backup site")
        directory = Path(directory)
        path = directory / "site.json"
        try:
            site = json.loads(path.read_text(encoding="utf-8"))
            check = base64.b64decode(site["key_check"], validate=True)
            fmt = site["format"]
        except FileNotFoundError:
            raise UsageError(
                f"no backup site at {directory} (create one with `twinpurge backup init`)"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{path} is not a backup site file: {exc}") from None
        if fmt != SITE_FORMAT:
            raise UsageError(f"{path} has an unknown format {fmt!r}")
        try:
            AESGCM(credentials.key).decrypt(check[:_NONCE], check[_NONCE:], SITE_FORMAT.encode())
        except (InvalidTag, ValueError):
            raise CredentialError(
                "backup",
                f"the key from {credentials.source} does not open the backup site at {directory}"
                " (its key check fails); no backup was read",
            ) from None
        return cls(directory, credentials, clock)

    # -- naming (rule 3) -----------------------------------------------------------------------

    def _tenant_dir(self, tenant: str) -> Path:
        digest = hmac.new(self._credentials.key, b"tenant\x00" + tenant.encode(), "sha256")
        return self.directory / "tenants" / digest.hexdigest()[:32]

    @staticmethod
    def _aad(tenant: str, generation: str) -> bytes:
        return canonical_json(
            {"format": GENERATION_FORMAT, "generation": generation, "tenant": tenant}
        )

    def _seal(self, plain: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plain, aad)

    def _open_sealed(self, path: Path, aad: bytes) -> bytes:
        try:
            sealed = path.read_bytes()
        except OSError as exc:
            raise BackupTamperedError(str(path), f"cannot read it: {exc.strerror}") from None
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
        except (InvalidTag, ValueError):
            raise BackupTamperedError(
                str(path), "changed, forged, moved or renamed (AES-GCM tag does not verify)"
            ) from None

    # -- reading -------------------------------------------------------------------------------

    def tenants(self) -> list[str]:
        """The ids of every tenant with a directory in the site, sorted.

        Raises:
            BackupTamperedError: a tenant file fails authentication.
        """
        root = self.directory / "tenants"
        found = []
        for entry in sorted(root.iterdir()) if root.is_dir() else []:
            if not _TENANT_DIR.match(entry.name):
                continue
            aad = f"twinpurge/tenant/{entry.name}".encode()
            tenant = self._open_sealed(entry / "tenant.sealed", aad).decode("utf-8")
            if self._tenant_dir(tenant) != entry:
                raise BackupTamperedError(str(entry), "the directory is not the tenant's")
            found.append(tenant)
        return sorted(found)

    def tenant_directory(self, tenant: str) -> Path:
        """Where the tenant's files are (rule 3); it may not exist."""
        return self._tenant_dir(tenant)

    def generations(self, tenant: str) -> list[GenerationInfo]:
        """The tenant's generations, oldest first, as their file names tell (rule 3)."""
        directory = self._tenant_dir(tenant)
        found = []
        for entry in sorted(directory.iterdir()) if directory.is_dir() else []:
            match = _GENERATION.match(entry.name.removesuffix(_SUFFIX))
            if not entry.name.endswith(_SUFFIX) or match is None:
                continue
            stamp = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
            found.append(
                GenerationInfo(
                    tenant=tenant,
                    generation=entry.name.removesuffix(_SUFFIX),
                    created_at=format_instant(stamp),
                    path=entry,
                    size=entry.stat().st_size,
                )
            )
        return found

    def info(self, tenant: str, generation: str) -> GenerationInfo | None:
        """One generation of the tenant, or None."""
        return next((g for g in self.generations(tenant) if g.generation == generation), None)

    def read(self, info: GenerationInfo) -> Generation:
        """Read and authenticate a generation (rule 1).

        Raises:
            BackupTamperedError: the file fails authentication, or its content is not what
                its place says.
        """
        plain = self._open_sealed(info.path, self._aad(info.tenant, info.generation))
        data = json.loads(plain)
        if (data.get("format"), data.get("tenant"), data.get("generation")) != (
            GENERATION_FORMAT,
            info.tenant,
            info.generation,
        ):
            raise BackupTamperedError(str(info.path), "its content names another generation")
        return Generation(
            info=info,
            locked_until=data["locked_until"],
            tenant_record=data["content"]["tenant"],
            objects=_decode_rows(data["content"]["objects"]),
        )

    # -- writing and deleting ------------------------------------------------------------------

    def write(
        self,
        tenant: str,
        content: dict[str, Any],
        *,
        lock_days: int,
        created: datetime | None = None,
    ) -> GenerationInfo:
        """Write a new generation of ``tenant`` (rules 1, 4 and 5).

        Args:
            tenant: the tenant id.
            content: ``tenant`` (its record) and ``objects`` (full rows with ``payload`` and
                ``blob`` bytes or None), as ``PrimaryReader.tenant_content`` gives them.
            lock_days: the retention lock, in days.
            created: the instant written (default: now).

        Returns:
            The new generation.
        """
        moment = (created or self._clock()).astimezone(UTC)
        generation = f"{moment:%Y%m%dT%H%M%S}{moment.microsecond:06d}Z-{secrets.token_hex(4)}"
        directory = self._tenant_dir(tenant)
        tenant_file = directory / "tenant.sealed"
        if not tenant_file.exists():
            aad = f"twinpurge/tenant/{directory.name}".encode()
            create(tenant_file, self._seal(tenant.encode("utf-8"), aad), mode=_MODE)
        body = {
            "format": GENERATION_FORMAT,
            "tenant": tenant,
            "generation": generation,
            "created_at": format_instant(moment),
            "locked_until": format_instant(moment + timedelta(days=lock_days)),
            "content": {
                "tenant": content["tenant"],
                "objects": _encode_rows(content["objects"]),
            },
        }
        path = directory / f"{generation}{_SUFFIX}"
        create(path, self._seal(canonical_json(body), self._aad(tenant, generation)), mode=_MODE)
        return GenerationInfo(tenant, generation, format_instant(moment), path, path.stat().st_size)

    def delete(self, info: GenerationInfo, *, now: datetime) -> None:
        """Delete one generation: authenticate it, honour its retention lock (rule 5).

        Raises:
            BackupTamperedError: the file fails authentication (it is not deleted).
            RetentionLockError: it is still locked at ``now`` (it is not deleted).
        """
        generation = self.read(info)
        if parse_instant(generation.locked_until) > now:
            raise RetentionLockError(info.generation, generation.locked_until)
        remove(info.path)
        if not self.generations(info.tenant):
            shutil.rmtree(info.path.parent)  # the sealed tenant id goes with its last backup
