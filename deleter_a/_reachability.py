"""Sharing: which candidates are reachable from the kept objects.

Rules (spec §7.3):

1. ``L`` is every object that is not a candidate: all objects of other tenants and the tenant's
   objects kept by §7.2. Their ref targets are the roots of the marking.
2. A candidate is ``shared`` iff it is the target of a ref from ``L``, or the target of a ref
   from a shared candidate (every intermediate object of the path is a candidate).
3. Refs to non-candidates and dangling refs are ignored; repeated refs, self refs and cycles are
   harmless because each candidate is marked at most once.
4. The marking is a depth-first search with an explicit stack: it never recurses, so chains of
   any length work, and its result (a set) does not depend on the order of objects or refs.
5. For the streamed plan (§8.1), where only the objects that carry refs are held,
   ``mark_targets`` marks every target met (candidate or not, T's or not) instead of only the
   candidates: an object without refs is then shared iff it is a candidate and marked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = ["mark_targets", "shared_candidates"]

Node = TypeVar("Node")


def shared_candidates(
    roots: Iterable[Node], candidate_refs: Mapping[Node, Sequence[Node]]
) -> set[Node]:
    """Mark the candidates reachable from the ref targets of ``L``.

    Args:
        roots: The targets of the refs of every object of ``L`` (repeats allowed).
        candidate_refs: For each candidate, the targets of its refs.

    Returns:
        The candidates reachable from ``roots`` through candidates only.
    """
    marked: set[Node] = set()
    stack: list[Node] = []
    for root in roots:
        if root in candidate_refs and root not in marked:
            marked.add(root)
            stack.append(root)
    while stack:
        node = stack.pop()
        for target in candidate_refs[node]:
            if target in candidate_refs and target not in marked:
                marked.add(target)
                stack.append(target)
    return marked


def mark_targets(
    marked: set[Node],
    kept_refs: Iterable[Sequence[Node]],
    candidate_refs: Callable[[Node], Sequence[Node] | None],
) -> None:
    """Add to ``marked`` every target reachable from ``L`` through candidates (rule 5).

    Args:
        marked: On entry, the targets of refs from ``L`` given apart (``shared``); on return,
            every target reachable from ``L`` through candidates. Updated in place.
        kept_refs: The refs of the held objects of ``L`` (``T``'s kept objects with refs).
        candidate_refs: For a node, its refs when it is a candidate carrying refs, else ``None``.
    """
    stack = [node for node in marked if candidate_refs(node) is not None]
    for refs in kept_refs:
        for target in refs:
            if target not in marked:
                marked.add(target)
                if candidate_refs(target) is not None:
                    stack.append(target)
    while stack:
        for target in candidate_refs(stack.pop()) or ():
            if target not in marked:
                marked.add(target)
                if candidate_refs(target) is not None:
                    stack.append(target)
