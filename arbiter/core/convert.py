"""The strict cattrs converter every (de)serialisation boundary of the arbiter uses.

Rules:

1. Unknown keys are errors, at every level (``forbid_extra_keys``).
2. No coercion: ``"1"`` is not an int, ``1`` is not a bool, ``True`` is not an int, ``1.5`` is
   not an int, ``None`` is only accepted where the type says ``| None``.
3. Sequences are structured into tuples (values are frozen) from JSON/TOML lists.
4. Errors are turned into one-line messages naming the field path (``error_fields``), and a
   file read strictly names the file too (``read_json_file``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin

import cattrs

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["error_fields", "strict_converter"]

T = TypeVar("T")


def _strict(kind: type, *, exclude_bool: bool = False) -> Callable[[object, object], object]:
    def hook(value: object, _type: object) -> object:
        if not isinstance(value, kind) or (exclude_bool and isinstance(value, bool)):
            msg = f"expected {kind.__name__}, got {type(value).__name__} {value!r}"
            raise TypeError(msg)
        return value

    return hook


def _origin_is(origin: type) -> Callable[[Any], bool]:
    def predicate(type_: Any) -> bool:  # noqa: ANN401 -- cattrs hands any type here
        return bool(get_origin(type_) == origin)

    return predicate


def strict_converter() -> cattrs.Converter:
    """A cattrs converter under the rules of this module.

    Returns:
        A new converter; callers may register more hooks on it.
    """
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _strict(str))
    converter.register_structure_hook(bool, _strict(bool))
    converter.register_structure_hook(int, _strict(int, exclude_bool=True))

    def structure_float(value: object, _type: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"expected a number, got {type(value).__name__} {value!r}"
            raise TypeError(msg)
        return float(value)

    converter.register_structure_hook(float, structure_float)

    def structure_tuple(value: object, type_: object) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            msg = f"expected a list, got {type(value).__name__} {value!r}"
            raise TypeError(msg)
        (item_type, *_rest) = get_args(type_)
        return tuple(converter.structure(item, item_type) for item in value)

    converter.register_structure_hook_func(_origin_is(tuple), structure_tuple)

    def structure_dict(value: object, type_: object) -> dict[Any, Any]:
        if not isinstance(value, dict):
            msg = f"expected a table, got {type(value).__name__} {value!r}"
            raise TypeError(msg)
        args = get_args(type_)
        if not args:
            return dict(value)
        key_type, value_type = args
        return {
            converter.structure(k, key_type): (
                v if value_type is Any else converter.structure(v, value_type)
            )
            for k, v in value.items()
        }

    converter.register_structure_hook_func(_origin_is(dict), structure_dict)
    return converter


def _format(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, ValueError | TypeError) and str(exc):
        return str(exc)
    return cattrs.v.format_exception(exc, type_)


_AT = re.compile(r"^(?P<message>.*?) @ \$(?P<path>.*)$")


def error_fields(exc: Exception) -> list[tuple[str, str]]:
    """Turn a cattrs structuring error into ``(field path, message)`` pairs.

    Args:
        exc: the error cattrs raised.

    Returns:
        One pair per leaf error; the path is dotted (``limits.batch_size``, ``webhooks[0].url``).
    """
    found: list[tuple[str, str]] = []
    for line in cattrs.transform_error(exc, path="$", format_exception=_format):
        match = _AT.match(line)
        if match is None:
            found.append(("", line))
            continue
        path = match.group("path").lstrip(".")
        message = match.group("message")
        extra = re.match(r"extra fields found \((?P<names>.*)\)", message)
        if extra:
            found.extend(
                (f"{path}.{name}" if path else name, "unknown field")
                for name in extra.group("names").split(", ")
            )
            continue
        found.append((path, message))
    return found
