"""The primary audit log's head on PostgreSQL, as a backup restore reads and advances it.

The head is the ``meta`` row ``audit_head``, which the restore role may not touch: it goes
through the reviewed script's two ``SECURITY DEFINER`` functions (``schema`` rule 4). Rules:

1. ``read_head`` calls ``twinpurge.audit_head()``; ``advance_head`` calls
   ``twinpurge.advance_audit_head(seq, hash)``, which the server refuses unless the head moves
   forward by one or two records (``insufficient_privilege``, passed on as PostgreSQL raised it).
2. A store provisioned by a script without these functions is a ``UsageError`` that says how to
   bring it up to date (run the reviewed script again); nothing else is sent.
3. The caller's connection decides the transaction: in autocommit, the new head is committed,
   durably, when ``advance_head`` returns.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import TYPE_CHECKING

from psycopg import errors as pgerrors

from arbiter.core.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from arbiter.stores.postgres.rows import Db

__all__ = ["advance_head", "read_head"]


@contextmanager
def _provisioned() -> Iterator[None]:
    """Rule 2."""
    try:
        yield
    except pgerrors.UndefinedFunction as exc:
        raise UsageError(
            f"{exc.diag.message_primary}: the store was provisioned before the audit head"
            " functions existed; run the reviewed script again as the administrator"
            " (docs/postgresql.md)"
        ) from exc


def read_head(db: Db) -> tuple[int, str] | None:
    """The head's (seq, hash), or None when the log has none yet.

    Raises:
        UsageError: the store lacks the function (rule 2).
    """
    with _provisioned():
        row = db.execute("SELECT twinpurge.audit_head()").fetchone()
    if row is None or row[0] is None:
        return None
    data = json.loads(row[0])
    return int(data["seq"]), str(data["hash"])


def advance_head(db: Db, seq: int, digest: str) -> None:
    """Move the head forward to record ``seq`` whose hash is ``digest``.

    Raises:
        UsageError: the store lacks the function (rule 2).
        psycopg.errors.InsufficientPrivilege: not one or two records forward (the server's
            refusal); nothing changed.
    """
    with _provisioned():
        db.execute("SELECT twinpurge.advance_audit_head(%s, %s)", (seq, digest))
