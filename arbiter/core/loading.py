"""Reading the operator's files into the plain data the planners take (spec §4, §9).

Rules:

1. A file must be valid UTF-8; a byte-order mark is refused (it is not JSON, and hides typos).
2. JSON objects must not repeat a key: ``{"legal_hold": true, "legal_hold": false}`` would
   otherwise keep only the last value and could silently drop a hold.
3. ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON and are refused.
4. Every error names the file, and the field where one can be named.
5. Nothing here interprets the content: validation of fields is the planners' job (each does its
   own), so that the arbiter adds no third reading of the rules.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from arbiter.core.convert import error_fields
from arbiter.core.errors import InputError

if TYPE_CHECKING:
    import cattrs

__all__ = ["load_inventory", "load_policy", "read_json_file"]

T = TypeVar("T")


def _read_text(path: Path, source: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            source=source, file=str(path), field="", message=f"cannot read: {exc.strerror}"
        ) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        raise InputError(
            source=source, file=str(path), field="", message="starts with a byte-order mark"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            source=source,
            file=str(path),
            field="",
            message=f"not UTF-8 (byte {exc.start})",
        ) from exc


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            msg = f"duplicate key {key!r} in one JSON object"
            raise ValueError(msg)
        result[key] = value
    return result


def _no_constants(name: str) -> NoReturn:
    msg = f"{name} is not a JSON number"
    raise ValueError(msg)


def parse_inventory_json(text: str, *, file: str | None = None) -> dict[str, Any]:
    """Parse inventory JSON text under the rules of this module.

    Args:
        text: the JSON document.
        file: the file it came from, for error messages.

    Returns:
        The parsed plain data (not yet validated against the spec).

    Raises:
        InputError: the text is not acceptable JSON, or its top level is not an object.
    """
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise InputError(
            source="inventory",
            file=file,
            field="",
            message=f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from exc
    except ValueError as exc:
        raise InputError(source="inventory", file=file, field="", message=str(exc)) from exc
    if not isinstance(data, dict):
        raise InputError(
            source="inventory",
            file=file,
            field="",
            message=f"the top level must be a JSON object, not {type(data).__name__}",
        )
    return data


def load_inventory(path: str | Path) -> dict[str, Any]:
    """Read a portable inventory file (spec §4.1).

    Args:
        path: the JSON file.

    Returns:
        The parsed plain data (not yet validated against the spec).

    Raises:
        InputError: the file is unreadable, not UTF-8, or not acceptable JSON.
    """
    path = Path(path)
    return parse_inventory_json(_read_text(path, "inventory"), file=str(path))


def parse_policy_toml(text: str, *, file: str | None = None) -> dict[str, Any]:
    """Parse policy TOML text.

    Args:
        text: the TOML document.
        file: the file it came from, for error messages.

    Returns:
        The parsed plain data (not yet validated against the spec).

    Raises:
        InputError: the text is not valid TOML.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            source="policy", file=file, field="", message=f"not valid TOML: {exc}"
        ) from exc


def load_policy(path: str | Path) -> dict[str, Any]:
    """Read a retention policy file (spec §4.2).

    Args:
        path: the TOML file.

    Returns:
        The parsed plain data (not yet validated against the spec).

    Raises:
        InputError: the file is unreadable, not UTF-8, or not valid TOML.
    """
    path = Path(path)
    return parse_policy_toml(_read_text(path, "policy"), file=str(path))


def read_json_file(path: Path, cls: type[T], *, source: str, converter: cattrs.Converter) -> T:
    """Read a JSON file strictly into ``cls`` (plan files, restore requests).

    Args:
        path: the file.
        cls: the attrs class to structure into.
        source: what the file is, for errors (``"plan"``, ``"request"``).
        converter: a converter from ``strict_converter`` with any extra hooks.

    Returns:
        The structured value.

    Raises:
        InputError: unreadable, not JSON, or an unknown, missing or mistyped field; names the file
            and the field.
    """
    try:
        return converter.structure(json.loads(path.read_text(encoding="utf-8")), cls)
    except OSError as exc:
        raise InputError(
            source=source, file=str(path), field="", message=f"cannot read: {exc.strerror}"
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            source=source, file=str(path), field="", message=f"not JSON: {exc}"
        ) from exc
    except Exception as exc:
        fields = error_fields(exc)
        field, message = fields[0] if fields else ("", str(exc))
        raise InputError(source=source, file=str(path), field=field, message=message) from exc
