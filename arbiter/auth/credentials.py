"""Credential domains: who may delete primary data, and who holds the backups.

Backups must outlive a deletion program gone wrong, so the code and the processes that delete
primary data can never reach them. Rules:

1. Two domains, each with its own type. ``PrimaryCredentials`` give delete-capable access to the
   primary store: a secret whose SHA-256 the store records when the workspace is created and
   checks at every use. ``BackupCredentials`` are the 32-byte AES-GCM key of the backup site.
   Both classes are final and frozen, and never show their secret in ``repr`` or ``str``.
2. Functions take exactly one of the two types, so ``mypy --strict`` catches a swap; at run time
   each also checks the type it got (``require_primary``, ``require_backup``).
3. Each domain is loaded from its own source, never from ``twinpurge.toml``: the environment
   variable ``TWINPURGE_PRIMARY_CREDENTIALS`` or ``TWINPURGE_BACKUP_CREDENTIALS`` names a TOML
   credentials file. The file must be readable by its owner only, and its ``domain`` must be the
   domain asked for.
4. One process, one domain: asking for credentials of one domain in a process that holds the
   other raises ``CredentialDomainError`` naming both, before the file is even read. Holding
   starts when credentials are generated, loaded or built, and lasts as long as the process.
5. Credentials files are created whole, with mode 600, in a directory of mode 700, and never
   overwritten (``arbiter.durable.files.create``).
6. On a PostgreSQL store each domain's login roles (``arbiter.stores.postgres.schema``) log in
   with passwords derived from that domain's secret (``role_password``: HMAC-SHA-256 of the role
   name), so no other file holds a database password and neither domain can compute the other's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stat
import threading
import tomllib
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs

from arbiter.core.errors import CredentialDomainError, CredentialError
from arbiter.durable.files import create

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "BACKUP_ENV",
    "PRIMARY_ENV",
    "BackupCredentials",
    "Domain",
    "PrimaryCredentials",
    "check_domain_available",
    "generate_backup_credentials",
    "generate_primary_credentials",
    "held_domains",
    "load_backup_credentials",
    "load_primary_credentials",
    "new_primary_credentials",
    "require_backup",
    "require_primary",
    "reset_credential_domains_for_tests",
    "verify_primary",
    "write_primary_credentials",
]

Domain = Literal["primary", "backup"]
PRIMARY_ENV = "TWINPURGE_PRIMARY_CREDENTIALS"
BACKUP_ENV = "TWINPURGE_BACKUP_CREDENTIALS"
_ENV: dict[Domain, str] = {"primary": PRIMARY_ENV, "backup": BACKUP_ENV}
SECRET_BYTES = 32

_HELD: set[Domain] = set()
_LOCK = threading.Lock()


def _refuse_other(domain: Domain) -> None:
    for held in sorted(_HELD):
        if held != domain:
            raise CredentialDomainError(held=held, requested=domain)


def check_domain_available(domain: Domain) -> None:
    """Rule 4, before anything is read or written: raise if this process holds the other domain.

    Raises:
        CredentialDomainError: naming both domains.
    """
    with _LOCK:
        _refuse_other(domain)


def _claim(domain: Domain) -> None:
    with _LOCK:
        _refuse_other(domain)
        _HELD.add(domain)


def held_domains() -> frozenset[Domain]:
    """The credential domains this process holds (at most one)."""
    with _LOCK:
        return frozenset(_HELD)


def reset_credential_domains_for_tests() -> None:
    """Forget the domains held, as a fresh process would. For tests only."""
    with _LOCK:
        _HELD.clear()


def _role_password(secret: bytes, role: str) -> str:
    digest = hmac.new(secret, b"twinpurge postgresql role\x00" + role.encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _secret_length(_inst: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != SECRET_BYTES:
        msg = f"{attribute.name} must be {SECRET_BYTES} bytes"
        raise ValueError(msg)


@typing.final
@attrs.frozen(repr=False)
class PrimaryCredentials:
    """Delete-capable access to the primary store (rule 1). The secret is never shown.

    Attributes:
        secret: 32 random bytes; the store records their SHA-256.
        source: where they came from (a file path), for messages.
    """

    secret: bytes = attrs.field(validator=_secret_length)
    source: str = "generated"

    def __attrs_post_init__(self) -> None:
        """Holding primary credentials excludes backup credentials in this process."""
        _claim("primary")

    def __repr__(self) -> str:
        """The source only, never the secret."""
        return f"PrimaryCredentials(source={self.source!r})"

    @property
    def fingerprint(self) -> str:
        """The SHA-256 of the secret, as recorded in the primary store."""
        return hashlib.sha256(self.secret).hexdigest()

    def role_password(self, role: str) -> str:
        """The password of a PostgreSQL login role of this domain, derived from the secret.

        Each domain's roles log in with passwords only its own secret yields (rule 6), so the
        credentials file stays the one source of the domain's access.
        """
        return _role_password(self.secret, role)


@typing.final
@attrs.frozen(repr=False)
class BackupCredentials:
    """The backup site's AES-GCM key (rule 1). The key is never shown.

    Attributes:
        key: the 32-byte AES-256-GCM key.
        source: where it came from (a file path), for messages.
    """

    key: bytes = attrs.field(validator=_secret_length)
    source: str = "generated"

    def __attrs_post_init__(self) -> None:
        """Holding backup credentials excludes primary credentials in this process."""
        _claim("backup")

    def __repr__(self) -> str:
        """The source only, never the key."""
        return f"BackupCredentials(source={self.source!r})"

    def role_password(self, role: str) -> str:
        """The password of a PostgreSQL login role of the backup domain (rule 6)."""
        return _role_password(self.key, role)


def require_primary(credentials: object, *, purpose: str) -> PrimaryCredentials:
    """Rule 2 at run time: ``credentials`` must be primary credentials.

    Raises:
        CredentialError: missing, or of the backup domain; the message names both domains.
    """
    if isinstance(credentials, PrimaryCredentials):
        return credentials
    if isinstance(credentials, BackupCredentials):
        raise CredentialError(
            "primary",
            f"{purpose} needs primary credentials, and was given backup credentials"
            f" ({credentials.source}); backup credentials never open the primary store",
        )
    raise CredentialError(
        "primary",
        f"{purpose} needs primary credentials: set {PRIMARY_ENV} to the primary credentials"
        " file (mode 600)",
    )


def require_backup(credentials: object, *, purpose: str) -> BackupCredentials:
    """Rule 2 at run time: ``credentials`` must be backup credentials.

    Raises:
        CredentialError: missing, or of the primary domain; the message names both domains.
    """
    if isinstance(credentials, BackupCredentials):
        return credentials
    if isinstance(credentials, PrimaryCredentials):
        raise CredentialError(
            "backup",
            f"{purpose} needs backup credentials, and was given primary credentials"
            f" ({credentials.source}); primary credentials never open the backup site",
        )
    raise CredentialError(
        "backup",
        f"{purpose} needs backup credentials: set {BACKUP_ENV} to the backup credentials"
        " file (mode 600)",
    )


def verify_primary(credentials: PrimaryCredentials, recorded: str | None, *, store: str) -> None:
    """Check primary credentials against the SHA-256 recorded in the primary store.

    Raises:
        CredentialError: nothing recorded, or another secret.
    """
    if recorded is None:
        raise CredentialError(
            "primary", f"the primary store {store} records no primary credentials"
        )
    if not hmac.compare_digest(credentials.fingerprint, recorded):
        raise CredentialError(
            "primary",
            f"the credentials from {credentials.source} are not the primary credentials of {store}",
        )


def _credentials_path(domain: Domain, path: str | Path | None, environ: Mapping[str, str]) -> Path:
    if path is not None:
        return Path(path)
    variable = _ENV[domain]
    value = environ.get(variable, "")
    if not value:
        raise CredentialError(
            domain,
            f"none given: set {variable} to the path of the {domain} credentials file (mode 600)",
        )
    return Path(value)


def _read_secret(domain: Domain, path: Path) -> bytes:
    """Rule 3: an owner-only TOML file whose ``domain`` is ``domain``; its decoded secret."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise CredentialError(domain, f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise CredentialError(domain, f"{path} is not a file")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(
            domain,
            f"{path} is accessible by others (mode {stat.S_IMODE(mode):o}); chmod 600 it",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CredentialError(domain, f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CredentialError(domain, f"{path} is not a credentials file: {exc}") from None
    found = data.get("domain")
    if found in _ENV and found != domain:
        raise CredentialError(domain, f"{path} holds {found} credentials, not {domain} credentials")
    if set(data) != {"domain", "secret"} or found != domain:
        raise CredentialError(
            domain,
            f"{path} is not a {domain} credentials file (expected exactly the keys"
            f' domain = "{domain}" and secret)',
        )
    try:
        secret = base64.b64decode(str(data["secret"]), validate=True)
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != SECRET_BYTES:
        raise CredentialError(domain, f"{path}: secret is not the base64 of {SECRET_BYTES} bytes")
    return secret


def load_primary_credentials(
    path: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> PrimaryCredentials:
    """Load the primary credentials (rules 3 and 4).

    Args:
        path: the credentials file; by default the file ``TWINPURGE_PRIMARY_CREDENTIALS`` names.
        environ: the environment to read (default ``os.environ``).

    Returns:
        The credentials; this process holds the primary domain from now on.

    Raises:
        CredentialDomainError: this process holds backup credentials (the file is not read).
        CredentialError: no file given, unreadable, readable by others, or not a primary file.
    """
    check_domain_available("primary")
    where = _credentials_path("primary", path, os.environ if environ is None else environ)
    return PrimaryCredentials(_read_secret("primary", where), str(where))


def load_backup_credentials(
    path: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> BackupCredentials:
    """Load the backup credentials (rules 3 and 4).

    Args:
        path: the credentials file; by default the file ``TWINPURGE_BACKUP_CREDENTIALS`` names.
        environ: the environment to read (default ``os.environ``).

    Returns:
        The credentials; this process holds the backup domain from now on.

    Raises:
        CredentialDomainError: this process holds primary credentials (the file is not read).
        CredentialError: no file given, unreadable, readable by others, or not a backup file.
    """
    check_domain_available("backup")
    where = _credentials_path("backup", path, os.environ if environ is None else environ)
    return BackupCredentials(_read_secret("backup", where), str(where))


def _write_new(domain: Domain, path: Path, secret: bytes) -> None:
    """Rule 5."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = (
        f"# twinpurge {domain} credentials. Readable by its owner only (mode 600); never share it,"
        " never put it in twinpurge.toml.\n"
        f'domain = "{domain}"\n'
        f'secret = "{base64.b64encode(secret).decode("ascii")}"\n'
    )
    try:
        create(path, text, mode=0o600)
    except FileExistsError:
        raise CredentialError(domain, f"{path} exists; refusing to overwrite credentials") from None


def generate_primary_credentials(path: Path) -> PrimaryCredentials:
    """New primary credentials, written to ``path`` (mode 600; must not exist).

    Raises:
        CredentialDomainError: this process holds backup credentials (nothing is written).
        CredentialError: the file exists.
    """
    check_domain_available("primary")
    secret = os.urandom(SECRET_BYTES)
    _write_new("primary", path, secret)
    return PrimaryCredentials(secret, str(path))


def new_primary_credentials(path: Path) -> PrimaryCredentials:
    """New primary credentials, in memory only, to be written to ``path`` later.

    For a set-up that must succeed elsewhere first (a PostgreSQL store's roles) before any file
    is written; ``write_primary_credentials`` writes them.

    Raises:
        CredentialDomainError: this process holds backup credentials.
    """
    check_domain_available("primary")
    return PrimaryCredentials(os.urandom(SECRET_BYTES), str(path))


def write_primary_credentials(credentials: PrimaryCredentials, path: Path) -> None:
    """Write primary credentials to ``path`` (rule 5: mode 600, never over an existing file).

    Raises:
        CredentialError: the file exists.
    """
    _write_new("primary", path, credentials.secret)


def generate_backup_credentials(path: Path) -> BackupCredentials:
    """A new backup key, written to ``path`` (mode 600; must not exist).

    Raises:
        CredentialDomainError: this process holds primary credentials (nothing is written).
        CredentialError: the file exists.
    """
    check_domain_available("backup")
    key = os.urandom(SECRET_BYTES)
    _write_new("backup", path, key)
    return BackupCredentials(key, str(path))
