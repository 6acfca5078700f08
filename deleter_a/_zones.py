"""Loading time zones from the ``tzdata`` package.

Rules (spec §3, §4.2, §4.4 item 11):

1. Zone rules come from the ``tzdata`` Python package, never from the operating system's copy
   (§3): files are read through ``importlib.resources`` and handed to ``ZoneInfo.from_file``.
   ``zoneinfo``'s global search path is left untouched.
2. A name is a zone iff it is listed in the package's ``zones`` index (§4.2). Directory names
   (``America``), index files and OS-only names (``localtime``) are therefore not zones.
3. Before the index is consulted, a name is checked to be a safe relative path: non-empty, no
   NUL, no backslash, no leading ``/``, no empty, ``.`` or ``..`` component.
4. Loading is deterministic; loaded zones are memoised by name.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Final
from zoneinfo import ZoneInfo

__all__ = ["is_safe_zone_name", "load_zone", "zone_names"]

_PACKAGE: Final = "tzdata"
_DATA_PACKAGE: Final = "tzdata.zoneinfo"
_INDEX: Final = "zones"


def is_safe_zone_name(name: str) -> bool:
    """Tell whether ``name`` is a safe relative path of zone file components.

    Args:
        name: A candidate zone name.

    Returns:
        ``False`` for the empty name, names with NUL or backslash, absolute names and names with
        an empty, ``.`` or ``..`` component; ``True`` otherwise.
    """
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return False
    return all(part not in {"", ".", ".."} for part in name.split("/"))


@functools.cache
def zone_names() -> frozenset[str]:
    """Return the names of all zones in the ``tzdata`` package.

    Returns:
        The names listed in the package's ``zones`` index.
    """
    text = importlib.resources.files(_PACKAGE).joinpath(_INDEX).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


@functools.cache
def _load(name: str) -> ZoneInfo:
    resource = importlib.resources.files(_DATA_PACKAGE)
    for part in name.split("/"):
        resource = resource.joinpath(part)
    with resource.open("rb") as stream:
        return ZoneInfo.from_file(stream, key=name)


def load_zone(name: str) -> ZoneInfo | None:
    """Load a zone of the ``tzdata`` package.

    Args:
        name: An IANA zone name such as ``"Asia/Tokyo"``.

    Returns:
        The zone, or ``None`` when ``name`` is not a (safe) zone name of the package.
    """
    if not is_safe_zone_name(name) or name not in zone_names():
        return None
    return _load(name)
