"""A static call graph of the ``arbiter`` package, down to the deletion primitives.

Rules the walker applies (an over-approximation: it may find too many entry points, never on
purpose too few):

1. Deletion primitives: a call of ``unlink``, ``rmtree``, ``rmdir``, ``os.remove`` or
   ``os.unlink``, and any SQL text containing ``DELETE FROM``.
2. Excluded: the clean-up of a temporary file the same function created. Precisely, an
   ``unlink`` whose receiver is a local name (or ``Path(name)``) that the same function bound to
   the result of ``tempfile.mkstemp``, ``_write_temporary`` or ``with_name(...)``, directly or
   through ``Path(...)``: such a file did not exist before the call, so removing it deletes
   nothing anyone had.
3. Calls resolve by name: ``f(...)`` to every function or class of that name in the package,
   ``x.m(...)`` to every function or method named ``m``; reading ``x.p`` reaches every property
   named ``p``. Building a class that ``arbiter.__all__`` does not export reaches all its methods
   (such an object is handed out by whatever builds it, so its methods are that builder's
   capability); building an exported class reaches only its constructor, since its public
   methods are entry points of their own.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import arbiter

ROOT = Path(arbiter.__file__).parent
_DELETE_SQL = re.compile(r"\bDELETE\s+FROM\b", re.IGNORECASE)
_REMOVERS = frozenset({"unlink", "rmtree", "rmdir"})
_TEMPORARY_MAKERS = frozenset({"mkstemp", "_write_temporary", "with_name"})


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _temporaries(function: ast.AST) -> set[str]:
    """Rule 2: local names bound to a temporary file this function created."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node in ast.walk(function):
            if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
                continue
            value = node.value
            makes = any(
                isinstance(c, ast.Call) and _called_name(c) in _TEMPORARY_MAKERS
                for c in ast.walk(value)
            )
            wraps = (
                _called_name(value) == "Path"
                and len(value.args) == 1
                and isinstance(value.args[0], ast.Name)
                and value.args[0].id in found
            )
            if not (makes or wraps):
                continue
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and name.id not in found:
                        found.add(name.id)
                        changed = True
    return found


def _is_temporary_cleanup(call: ast.Call, temporaries: set[str]) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr != "unlink":
        return False
    receiver = func.value
    if isinstance(receiver, ast.Call) and _called_name(receiver) == "Path" and receiver.args:
        receiver = receiver.args[0]
    return isinstance(receiver, ast.Name) and receiver.id in temporaries


def _deletes(function: ast.AST) -> bool:
    """Rules 1 and 2 for one function body."""
    temporaries = _temporaries(function)
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _DELETE_SQL.search(node.value)
        ):
            return True
        if isinstance(node, ast.Call):
            name = _called_name(node)
            func = node.func
            on_os = (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
                and name in {"remove", "unlink"}
            )
            if on_os or (name in _REMOVERS and not _is_temporary_cleanup(node, temporaries)):
                return True
    return False


class Graph:
    """Every function and method of the package, and what each can reach (rule 3)."""

    def __init__(self) -> None:
        """Parse every module of the package."""
        exported = {
            name for name in arbiter.__all__ if inspect.isclass(getattr(arbiter, name, None))
        }
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.classes: dict[str, list[str]] = {}  # class qualname -> its method qualnames
        self.by_name: dict[str, set[str]] = {}
        self.properties: dict[str, set[str]] = {}
        class_names: dict[str, set[str]] = {}
        for path in sorted(ROOT.rglob("*.py")):
            module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    self._add(f"{module}.{node.name}", node)
                elif isinstance(node, ast.ClassDef):
                    owner = f"{module}.{node.name}"
                    class_names.setdefault(node.name, set()).add(owner)
                    self.classes[owner] = []
                    for item in node.body:
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                            qualname = f"{owner}.{item.name}"
                            self._add(qualname, item)
                            self.classes[owner].append(qualname)
                            if any(
                                isinstance(d, ast.Name) and d.id == "property"
                                for d in item.decorator_list
                            ):
                                self.properties.setdefault(item.name, set()).add(qualname)
        self.edges: dict[str, set[str]] = {}
        for qualname, function in self.functions.items():
            reached: set[str] = set()
            for part in ast.walk(function):
                if isinstance(part, ast.Attribute):
                    reached |= self.properties.get(part.attr, set())
                if not isinstance(part, ast.Call):
                    continue
                name = _called_name(part)
                if name is None:
                    continue
                reached |= self.by_name.get(name, set())
                for owner in (
                    class_names.get(name, set()) if isinstance(part.func, ast.Name) else ()
                ):
                    if name in exported:
                        reached |= {
                            m
                            for m in self.classes[owner]
                            if m.rsplit(".", 1)[1] in {"__init__", "__attrs_post_init__"}
                        }
                    else:
                        reached |= set(self.classes[owner])
            self.edges[qualname] = reached
        self.deleting = self._close({q for q, f in self.functions.items() if _deletes(f)})

    def _add(self, qualname: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions[qualname] = node
        self.by_name.setdefault(node.name, set()).add(qualname)

    def _close(self, seeds: set[str]) -> frozenset[str]:
        """Every function from which a seed is reachable."""
        found = set(seeds)
        changed = True
        while changed:
            changed = False
            for qualname, reached in self.edges.items():
                if qualname not in found and reached & found:
                    found.add(qualname)
                    changed = True
        return frozenset(found)

    def entry_points(self) -> dict[str, str]:
        """Public entry points of ``arbiter.__all__``: public name -> qualname in the graph."""
        found: dict[str, str] = {}
        for name in arbiter.__all__:
            value = getattr(arbiter, name)
            module = getattr(value, "__module__", "")
            if not module.startswith("arbiter"):
                continue
            if inspect.isclass(value):
                owner = f"{module}.{value.__qualname__}"
                for method in self.classes.get(owner, []):
                    short = method.rsplit(".", 1)[1]
                    if not short.startswith("_") or short in {"__init__", "__attrs_post_init__"}:
                        found[f"{name}.{short}"] = method
            elif callable(value):
                found[name] = f"{module}.{value.__qualname__}"
        return found

    def deleting_entry_points(self) -> frozenset[str]:
        """The public entry points from which a deletion primitive is reachable."""
        return frozenset(
            public for public, qualname in self.entry_points().items() if qualname in self.deleting
        )
