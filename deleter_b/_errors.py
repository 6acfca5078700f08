"""The errors deleter_b raises on purpose.

Rules:

1. Bad input (spec §4.4) raises :class:`PlanInputError` and nothing else (spec §8).
2. ``PlanInputError.source`` is one of ``"inventory"``, ``"policy"``, ``"tenant"`` and
   ``"as_of"``; ``field`` is a 0-based path into that source (spec §8), the empty string
   naming the source itself.
3. ``str(error)`` is one line and contains ``field`` (spec §8): characters that are not
   printable (a newline in an unknown key, say) are written as escapes.
4. :class:`PlannerError` is the root; raised directly it marks a planner failure, never bad
   input (spec §8: the arbiter treats it like a divergence, so the data is kept).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["PlanInputError", "PlannerError", "Source"]

Source = Literal["inventory", "policy", "tenant", "as_of"]
"""The argument of ``plan`` that bad input was found in (spec §8)."""


def _one_line(text: str) -> str:
    """Return ``text`` with every non-printable character escaped (rule 3)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class PlannerError(Exception):
    """Root of the errors raised by deleter_b (spec §8)."""


class PlanInputError(PlannerError):
    """The input is bad (spec §4.4); no verdict is given.

    Attributes:
        source: ``"inventory"``, ``"policy"``, ``"tenant"`` or ``"as_of"``.
        field: Path of the offending value inside ``source``, e.g.
            ``tenants[3].events[0].at``; ``""`` names ``source`` as a whole.
        message: What is wrong, for people.
    """

    source: str
    field: str
    message: str

    def __init__(self, source: Source, field: str, message: str) -> None:
        """Create the error.

        Args:
            source: The argument of ``plan`` holding the bad value.
            field: The path of the bad value inside ``source`` (``""`` for all of it).
            message: What is wrong, for people.
        """
        super().__init__(source, field, message)
        self.source = source
        self.field = field
        self.message = message

    def __str__(self) -> str:
        """Return ``"<source> <field>: <message>"`` on one line."""
        where = self.field or "(whole argument)"
        return _one_line(f"{self.source} {where}: {self.message}")
