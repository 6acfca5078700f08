"""The one crash-point test seam shared by every layer.

Rules:

1. ``crash_point(name)`` is inert unless the environment variable ``TWINPURGE_CRASH_AT`` names
   the point: ``NAME`` kills the process the first time ``NAME`` is reached, ``NAME:N`` the
   N-th time. Outside the fault-injection tests it is never set, and the call does nothing.
2. The process kills itself with ``SIGKILL``: no ``finally`` block, no flush, no ``atexit``
   handler runs, exactly as in a power cut or an OOM kill.
3. Points are named ``<area>-<where>`` (``audit-after-fsync``, ``journal-after-batch``...);
   the modules that call them list their points in their own docstrings.
"""

from __future__ import annotations

import os
import signal

__all__ = ["CRASH_ENV", "crash_point"]

CRASH_ENV = "TWINPURGE_CRASH_AT"

_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Die here with SIGKILL when ``TWINPURGE_CRASH_AT`` asks for this point (rules 1, 2).

    Args:
        name: the crash point's name.
    """
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(nth or "1"):
        os.kill(os.getpid(), signal.SIGKILL)
