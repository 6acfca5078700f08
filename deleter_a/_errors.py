"""Errors raised by the planner.

Rules (spec §4.4, §8):

1. ``PlannerError`` is the root of every error this package defines.
2. ``PlanInputError`` is raised for bad input, and only for bad input (§8). Any other exception
   escaping ``plan`` is a planner failure.
3. A ``PlanInputError`` carries ``source`` (one of ``"inventory"``, ``"policy"``, ``"tenant"``,
   ``"as_of"``), ``field`` (a 0-based path into that source, e.g. ``tenants[3].events[0].at``)
   and ``message`` (what is wrong, for people).
4. ``str(error)`` is a single line that includes ``field``: line breaks in the parts are escaped.
   The root of an argument (e.g. an inventory that is not a mapping) has the empty path ``""``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SOURCES", "PlanInputError", "PlannerError", "one_line"]

SOURCES: Final = frozenset({"inventory", "policy", "tenant", "as_of"})


def one_line(text: str) -> str:
    """Return ``text`` with every character that could break a line escaped.

    Args:
        text: Any string.

    Returns:
        ``text`` unchanged when it is printable, otherwise its escaped form (without quotes).
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


class PlannerError(Exception):
    """Root of the errors raised by ``deleter_a``."""


class PlanInputError(PlannerError):
    """The input is bad (spec §4.4); no verdict can be computed.

    Attributes:
        source: Which argument is bad: ``"inventory"``, ``"policy"``, ``"tenant"`` or ``"as_of"``.
        field: Where in that argument, as a path such as ``objects[1].refs[0]``.
        message: What is wrong, for people.
    """

    source: str
    field: str
    message: str

    def __init__(self, source: str, field: str, message: str) -> None:
        """Create the error.

        Args:
            source: One of ``"inventory"``, ``"policy"``, ``"tenant"``, ``"as_of"``.
            field: The path of the bad part within ``source``.
            message: A description of the problem.

        Raises:
            ValueError: ``source`` is not one of the four sources (a programming error).
        """
        if source not in SOURCES:
            raise ValueError(f"unknown error source {source!r}")
        super().__init__(source, field, message)
        self.source = source
        self.field = field
        self.message = message

    def __str__(self) -> str:
        """Return ``"<source>: <field>: <message>"`` on one line (no field part at the root)."""
        if not self.field:
            return f"{self.source}: {one_line(self.message)}"
        return f"{self.source}: {one_line(self.field)}: {one_line(self.message)}"
