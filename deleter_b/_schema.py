"""Table-driven validation machinery for the plain-data input (spec §4).

A record is described by a :class:`Schema`: a table of :class:`Field` rows, each with its
name, its checker and, when optional, its default. Checkers are small composable functions
``(value, where) -> parsed value`` that raise :class:`PlanInputError` at ``where``.

Rules:

1. A record is a mapping; anything else is the wrong type (spec §4.4 item 3).
2. A key that is not a field of the schema is an error named by its own path, e.g.
   ``objects[2].legalhold`` (spec §4.4 item 1, §8). A key that is not a string is such a key.
3. A missing required field is an error at the field's path (spec §4.4 item 2); a missing
   optional field takes its default.
4. ``None`` is never a valid value: every checker rejects it as the wrong type (§4.4 item 3).
5. A boolean is exactly ``True`` or ``False``; an integer is an ``int`` that is not a
   ``bool`` (Python's ``bool`` subclasses ``int``); a float is never an integer (§4.4 item 3).
6. A list is a ``list`` (the input is JSON-shaped builtins, spec §4): a tuple, a string or any
   other sequence is the wrong type. A list is iterated exactly once, front to back.
7. A non-empty string is a ``str`` of length at least one (spec §4.4 item 4).
8. Paths are 0-based: ``name`` under the root, ``parent.name`` for a field and
   ``parent[i]`` for a list item (spec §8).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeVar, cast

from ._errors import PlanInputError, Source

__all__ = [
    "Check",
    "Field",
    "Record",
    "Schema",
    "Where",
    "choice",
    "day_count",
    "flag",
    "list_of",
    "optional",
    "raw_list",
    "record",
    "required",
    "table_of",
    "text",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

MAX_DAYS = 36500
"""The largest day count allowed (spec §4.2)."""


class Where:
    """A position in the input: the argument and the path inside it (rule 8).

    The path is built only when asked for (on failure), so that checking costs no strings.

    Attributes:
        source: The argument of ``plan``.
        parent: The enclosing position; ``None`` for the whole argument.
        step: The field name or list index leading here from ``parent``.
        is_index: Whether ``step`` is a list index.
    """

    __slots__ = ("is_index", "parent", "source", "step")

    def __init__(
        self,
        source: Source,
        parent: Where | None = None,
        step: object = None,
        *,
        index: bool = False,
    ) -> None:
        """Create the position of ``step`` (a field name or an index) under ``parent``."""
        self.source: Source = source
        self.parent = parent
        self.step = step
        self.is_index = index

    @property
    def path(self) -> str:
        """The path inside ``source``; ``""`` for the whole argument."""
        if self.parent is None:
            return ""
        if self.is_index:
            return f"{self.parent.path}[{self.step}]"
        label = self.step if isinstance(self.step, str) else repr(self.step)
        parent = self.parent.path
        return f"{parent}.{label}" if parent else label

    def key(self, name: object) -> Where:
        """Return the position of field ``name`` of the record here."""
        return Where(self.source, self, name)

    def index(self, position: int) -> Where:
        """Return the position of item ``position`` of the list here."""
        return Where(self.source, self, position, index=True)

    def fail(self, message: str) -> NoReturn:
        """Raise the input error for this position.

        Args:
            message: What is wrong, for people.

        Raises:
            PlanInputError: Always.
        """
        raise PlanInputError(self.source, self.path, message)


Check = Callable[[object, Where], T_co]
"""A checker: returns the parsed value or raises :class:`PlanInputError` at the position."""


@dataclass(frozen=True, slots=True)
class Field(Generic[T_co]):
    """One row of a schema.

    Attributes:
        name: The key in the record.
        check: The checker of the value.
        default: ``None`` for a required field, else a function giving the default value.
    """

    name: str
    check: Check[T_co]
    default: Callable[[], T_co] | None = None


def required(name: str, check: Check[T]) -> Field[T]:
    """Describe a required field (rule 3)."""
    return Field(name, check)


def optional(name: str, check: Check[T], default: T) -> Field[T]:
    """Describe an optional field and its (immutable) default (rule 3)."""
    return Field(name, check, lambda: default)


class Record:
    """The checked values of one record, read back by their :class:`Field`."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, object]) -> None:
        """Wrap the checked values, keyed by field name."""
        self._values = values

    def __getitem__(self, field: Field[T]) -> T:
        """Return the checked value of ``field``; its checker guarantees the type."""
        return cast("T", self._values[field.name])


@dataclass(frozen=True, slots=True)
class Schema:
    """The table describing one kind of record.

    Attributes:
        fields: The rows, checked in this order.
    """

    fields: tuple[Field[Any], ...]

    def read(self, value: object, where: Where) -> Record:
        """Check ``value`` against the table (rules 1-3).

        Args:
            value: The raw record.
            where: Its position.

        Returns:
            The checked values.

        Raises:
            PlanInputError: ``value`` is not a mapping, has an unknown key, lacks a required
                field or holds a bad value.
        """
        if not isinstance(value, Mapping):
            where.fail(f"must be a table/object, not {_kind(value)}")
        names = {field.name for field in self.fields}
        for key in value:
            if key not in names:
                where.key(key).fail(f"unknown field {key!r}")
        values: dict[str, object] = {}
        for field in self.fields:
            if field.name in value:
                values[field.name] = field.check(value[field.name], where.key(field.name))
            elif field.default is None:
                where.key(field.name).fail("required field is missing")
            else:
                values[field.name] = field.default()
        return Record(values)


def _kind(value: object) -> str:
    """Name the type of ``value`` for messages."""
    return "null" if value is None else type(value).__name__


def text(value: object, where: Where) -> str:
    """Check a non-empty string (rule 7)."""
    if not isinstance(value, str):
        where.fail(f"must be a string, not {_kind(value)}")
    if not value:
        where.fail("must not be empty")
    return value


def flag(value: object, where: Where) -> bool:
    """Check a boolean (rule 5)."""
    if not isinstance(value, bool):
        where.fail(f"must be a boolean, not {_kind(value)}")
    return value


def day_count(value: object, where: Where) -> int:
    """Check an integer number of days in ``0..36500`` (rule 5, spec §4.2)."""
    if isinstance(value, bool) or not isinstance(value, int):
        where.fail(f"must be an integer, not {_kind(value)}")
    if not 0 <= value <= MAX_DAYS:
        where.fail(f"must be in 0..{MAX_DAYS}, not {value}")
    return value


def choice(options: Collection[str]) -> Check[str]:
    """Return a checker of a string that is one of ``options``."""

    def check(value: object, where: Where) -> str:
        if not isinstance(value, str):
            where.fail(f"must be a string, not {_kind(value)}")
        if value not in options:
            where.fail(f"unknown value {value!r}; expected one of {sorted(options)}")
        return value

    return check


def raw_list(value: object, where: Where) -> list[object]:
    """Check that ``value`` is a list, without touching its items (rule 6)."""
    if not isinstance(value, list):
        where.fail(f"must be a list, not {_kind(value)}")
    return cast("list[object]", value)


def list_of(item: Check[T]) -> Check[tuple[T, ...]]:
    """Return a checker of a list whose items all pass ``item`` (rule 6)."""

    def check(value: object, where: Where) -> tuple[T, ...]:
        items = raw_list(value, where)
        return tuple(item(element, where.index(i)) for i, element in enumerate(items))

    return check


def record(schema: Schema, build: Callable[[Record, Where], T]) -> Check[T]:
    """Return a checker of a record of ``schema``, turned into a value by ``build``."""

    def check(value: object, where: Where) -> T:
        return build(schema.read(value, where), where)

    return check


def table_of(item: Check[T]) -> Check[dict[str, T]]:
    """Return a checker of a table whose keys are non-empty strings, values pass ``item``."""

    def check(value: object, where: Where) -> dict[str, T]:
        if not isinstance(value, Mapping):
            where.fail(f"must be a table, not {_kind(value)}")
        result: dict[str, T] = {}
        for key, element in value.items():
            if not isinstance(key, str) or not key:
                where.key(key).fail("a name must be a non-empty string")
            result[key] = item(element, where.key(key))
        return result

    return check
