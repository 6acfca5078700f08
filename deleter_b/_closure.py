"""Candidates shared with kept objects: reachability over refs (spec §7.3).

Rules:

1. ``L`` is every object that is not a candidate; a candidate is ``shared`` iff a path
   ``l -> x1 -> ... -> xn`` exists with ``l`` in ``L`` and every ``xi`` a candidate
   (spec §7.3). Paths therefore never pass through a non-candidate, and non-candidates are
   never in the result.
2. Dangling refs (to no object) are ignored (spec §7.3): only candidates are ever reached.
3. The result is a least fixpoint computed semi-naively, level by level over sets, with no
   recursion and no depth-first stack (spec §7.3: any length, cycles included):
   ``frontier_0 = targets(L) & candidates``; ``frontier_{k+1} = targets(frontier_k) &
   candidates - shared_k``, where ``shared_k`` is the union of the frontiers so far; stop when
   the frontier is empty. Each candidate enters a frontier at most once, so the work is linear
   in the number of candidates and their refs, and cycles terminate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from collections.abc import Set as AbstractSet

    from ._records import Key

__all__ = ["shared_candidates"]


def shared_candidates(
    *,
    candidates: AbstractSet[Key],
    targets_of_kept: Iterable[Key],
    refs: Mapping[Key, Iterable[Key]],
) -> set[Key]:
    """Return the candidates reachable from ``L`` through candidates (rules 1-3).

    Args:
        candidates: The candidates of spec §7.2.
        targets_of_kept: The targets of every ref whose source is in ``L`` (repeats and
            dangling targets allowed).
        refs: The targets of the refs of each candidate (a candidate may be absent: no refs).

    Returns:
        The candidates to keep as ``shared``.
    """
    frontier = set(targets_of_kept) & candidates
    shared: set[Key] = set()
    while frontier:
        shared |= frontier
        reached: set[Key] = set()
        for source in frontier:
            reached.update(refs.get(source, ()))
        frontier = (reached & candidates) - shared
    return shared
