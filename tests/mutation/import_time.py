"""Planner code that runs at import time, run again under mutmut's active mutant.

mutmut switches mutants at call time, through a trampoline around each function. Functions that
are only called while a module is imported never see a mutant: deleter_b builds its input tables
(``deleter_b._records``) at import time with the combinators of ``deleter_b._schema``
(``required``, ``list_of``, ...), so a mutant of a combinator would survive without having run.
Under mutmut (``MUTANT_UNDER_TEST`` set) the tests' conftest therefore rebuilds those tables
before each test when the active mutant is one of these functions, and while mutmut collects
which tests reach which function (``stats``), so that every test that plans with deleter_b is
counted as reaching them.
"""

from __future__ import annotations

import importlib
import os
import sys

__all__ = ["IMPORT_TIME", "REBUILT", "active_mutant", "needs_rebuild", "rebuild"]

# Module -> functions called (also) at import time.
IMPORT_TIME: dict[str, frozenset[str]] = {
    "deleter_b._schema": frozenset(
        {"required", "optional", "choice", "list_of", "record", "table_of"}
    ),
}
# Modules re-executed, in order: the tables, the planner that bound them, the package's ``plan``.
REBUILT = ("deleter_b._records", "deleter_b._planner", "deleter_b")


def active_mutant() -> str:
    """The mutant mutmut has switched on in this process, or ``""`` outside mutmut."""
    return os.environ.get("MUTANT_UNDER_TEST", "")


def needs_rebuild(mutant: str) -> bool:
    """Whether import-time code must run again for ``mutant`` (or for mutmut's statistics)."""
    if mutant == "stats":
        return True
    module, _, function = mutant.rpartition(".")
    name = function.removeprefix("x_").rpartition("__mutmut_")[0]
    return name in IMPORT_TIME.get(module, frozenset())


def rebuild() -> None:
    """Re-execute the modules of ``REBUILT`` that are imported, so their tables are built anew."""
    for name in REBUILT:
        module = sys.modules.get(name)
        if module is not None:
            importlib.reload(module)
