"""A tally of differential outcomes, printed at the end of the run (see conftest)."""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()
