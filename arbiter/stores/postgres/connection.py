"""Connecting to the PostgreSQL store as one role, with one-line errors for what goes wrong.

Rules:

1. The store URL (``twinpurge.toml``) names the server and the database only: a user or a
   password in it is refused (``StoreAddressError``). The role is chosen by the step being run
   and its password comes from that role's credential domain's file.
2. The driver's failures become the project's errors (``arbiter.core.errors``), one line each,
   naming the store (its URL without any password) and the role: a malformed URL
   (``StoreAddressError``), a refused password (``StoreLoginError``), a missing database
   (``StoreMissingError``), a server that cannot be reached or goes away while in use
   (``StoreUnavailableError``). Errors the server raises about a statement (a permission
   refused, a constraint) are not connection errors and pass through unchanged.
3. The causes are told apart by the server's message (libpq reports no SQLSTATE for a failed
   connection); a server answering in another language than English is reported as
   unavailable, with its own message.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import TYPE_CHECKING

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from arbiter.core.errors import (
    StoreAddressError,
    StoreConnectionError,
    StoreLoginError,
    StoreMissingError,
    StoreUnavailableError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["CONNECT_TIMEOUT", "connect", "redact", "store_errors"]

CONNECT_TIMEOUT = 10  # seconds: an unreachable host fails instead of hanging

_SCHEMES = ("postgresql://", "postgres://")


def redact(url: str) -> str:
    """The URL (or key=value string) without its password, for messages."""
    url = re.sub(r"(://[^:/@?#]*):[^@/?#]*@", r"\1:***@", url)
    return re.sub(r"(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)


def _first_line(error: BaseException) -> str:
    """The server's or libpq's own reason, on one line, without libpq's "connection ..." prefix."""
    text = " ".join(str(error).split())
    text = re.sub(r"^connection (?:failed|is bad): ", "", text)
    return re.sub(r"^connection to server at .*? failed: ", "", text)


def _classify(error: psycopg.OperationalError, *, store: str, role: str) -> StoreConnectionError:
    """The project's error for a driver failure (rule 3)."""
    reason = _first_line(error)
    if "password authentication failed" in reason or "no password supplied" in reason:
        return StoreLoginError(
            store=store,
            role=role,
            reason=f"the server refused the password of {role} (or knows no such role):"
            " check the credentials file of its domain",
        )
    missing = re.search(r'database "(.*)" does not exist', reason)
    if missing:
        return StoreMissingError(
            store=store,
            role=role,
            reason=f"database {missing.group(1)!r} does not exist: check the store URL, or"
            " initialise the store (twinpurge init --store)",
        )
    if "invalid" in reason and "connection option" in reason:
        return StoreAddressError(store=store, role=role, reason=f"bad store URL: {reason}")
    return StoreUnavailableError(
        store=store, role=role, reason=f"the server cannot be reached or went away: {reason}"
    )


@contextmanager
def store_errors(url: str, *, role: str) -> Iterator[None]:
    """Turn the driver's connection failures inside the block into the project's errors (rule 2).

    Args:
        url: the store URL (shown without its password).
        role: the role connected as.

    Raises:
        StoreConnectionError: a subclass naming the cause; the driver's error is its cause.
    """
    try:
        yield
    except psycopg.OperationalError as error:
        raise _classify(error, store=redact(url), role=role) from error


def _parse(url: str, role: str) -> dict[str, str]:
    """The URL's connection parameters (rule 1)."""
    shown = redact(url)
    if not url.startswith(_SCHEMES):
        raise StoreAddressError(
            store=shown, role=role, reason="bad store URL: it must start with postgresql://"
        )
    try:
        params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    except psycopg.ProgrammingError as error:
        raise StoreAddressError(
            store=shown, role=role, reason=f"bad store URL: {_first_line(error)}"
        ) from error
    if "password" in params:
        raise StoreAddressError(
            store=shown,
            role=role,
            reason="the store URL carries a password; passwords come from the credentials"
            " files only",
        )
    if "user" in params:
        raise StoreAddressError(
            store=shown,
            role=role,
            reason=f"the store URL names user {params['user']!r}; each step connects as its"
            " own role",
        )
    return params


def connect(url: str, *, role: str, password: str) -> psycopg.Connection[tuple[object, ...]]:
    """A connection to the store as ``role``, or one of the project's errors (rules 1 and 2).

    Args:
        url: the store URL, without user or password (``postgresql://host:port/database``).
        role: the login role (``twinpurge_purge``, ``twinpurge_snapshot`` ...).
        password: the role's password, from its credential domain's file.

    Returns:
        An open connection (not in autocommit: every statement runs in a transaction the caller
        commits or rolls back). The caller closes it.

    Raises:
        StoreAddressError: the URL is malformed or carries a user or a password.
        StoreLoginError: the server refused the password (or knows no such role).
        StoreMissingError: the URL's database does not exist.
        StoreUnavailableError: the server cannot be reached.
    """
    params = _parse(url, role)
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT))
    with store_errors(url, role=role):
        return psycopg.connect(
            make_conninfo("", **params), user=role, password=password, application_name=role
        )
