"""Reading the operator's files into the plain data the planners take (spec §4, §9).

Rules:

1. A file must be valid UTF-8; a byte-order mark is refused (it is not JSON, and hides typos).
2. JSON objects must not repeat a key: ``{"legal_hold": true, "legal_hold": false}`` would
   otherwise keep only the last value and could silently drop a hold.
3. ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON and are refused.
4. Every error names the file, and the field where one can be named.
5. Nothing here interprets the content: validation of fields is the planners' job (each does its
   own), so that the arbiter adds no third reading of the rules. The one exception is ``as_of``
   (rule 7): it is an argument, not content, and is checked before any work starts.
6. A JSON document (inventory, import, plan file, restore request) may nest arrays and objects at
   most ``MAX_DEPTH`` levels deep (a legitimate inventory nests 5: the top level, ``objects``, an
   object, its ``refs``, a ref). A deeper one is bad input naming the file, line and column of the
   first bracket too deep; it is refused before it is parsed, so no reader ever recurses into it.
7. ``check_as_of`` is the arbiter's own reading of spec §2.1: every API entry point and every
   ``--as-of`` calls it before planning or touching a store, so a typo is one ``InputError``
   (exit 2), never a refusal, alert and report per tenant. An empty value is bad input, not "now".
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from arbiter.core.convert import error_fields
from arbiter.core.errors import InputError
from arbiter.core.instants import format_instant

if TYPE_CHECKING:
    from collections.abc import Callable

    import cattrs

__all__ = [
    "MAX_DEPTH",
    "as_of_or_now",
    "check_as_of",
    "check_depth",
    "load_inventory",
    "load_policy",
    "read_json_file",
]

MAX_DEPTH = 64
"""How deep arrays and objects may nest in a JSON input (rule 6)."""

# A JSON string (skipped whole, so brackets inside it do not count) or one bracket (rule 6).
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{}]', re.DOTALL)

# Spec §2.1, digits ASCII only (``\d`` would admit other scripts' digits).
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6}))?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_INSTANT_FORM = "YYYY-MM-DDTHH:MM:SS[.F]OFFSET, e.g. 2026-11-25T00:00:00Z"


def check_depth(text: str, *, source: str, file: str | None) -> None:
    """Refuse a JSON text nested deeper than ``MAX_DEPTH`` levels (rule 6).

    Args:
        text: the JSON document, not yet parsed.
        source: what the input is, for the error.
        file: the file it came from, for the error.

    Raises:
        InputError: nested too deep; names the line and column of the first bracket too deep.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # cannot nest deeper than it has brackets
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in {"[", "{"}:
            depth += 1
            if depth > MAX_DEPTH:
                start = match.start()
                line = text.count("\n", 0, start) + 1
                column = start - text.rfind("\n", 0, start)
                raise InputError(
                    source=source,
                    file=file,
                    field=f"line {line} column {column}",
                    message=f"nested deeper than {MAX_DEPTH} levels of arrays and objects",
                )
        elif token in {"]", "}"}:
            depth -= 1


def check_as_of(value: str, *, source: str = "as_of", field: str = "as_of") -> str:
    """Check an ``as_of`` against spec §2.1 before any work starts (rule 7).

    Args:
        value: the instant's text, as given.
        source: which input it is, for the error (``"as_of"``, or ``"--as-of"`` on the CLI).
        field: the field or option that holds it.

    Returns:
        ``value`` itself: the planners read the text as given.

    Raises:
        InputError: empty, not the §2.1 syntax, no real date or time, offset ``-00:00``, or
            outside 1970-01-01T00:00:00Z .. 9000-12-31T23:59:59.999999Z.
    """

    def bad(why: str) -> InputError:
        return InputError(source=source, field=field, message=f"{value!r} {why}")

    if not isinstance(value, str) or not value:
        raise InputError(
            source=source,
            field=field,
            message=f"an instant is required ({_INSTANT_FORM}); an empty value is not now",
        )
    match = _INSTANT.fullmatch(value)
    if match is None:
        raise bad(f"is not an instant {_INSTANT_FORM}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, offset = match.group(7), match.group(8)
    if offset == "-00:00":
        raise bad("has offset -00:00, which RFC 3339 gives the meaning 'offset unknown'")
    if offset == "Z":
        zone = UTC
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:  # noqa: PLR2004 -- spec §2.1's ranges
            raise bad("has an offset outside -23:59 .. +23:59")
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    micro = int((fraction or "0").ljust(6, "0"))
    try:
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except ValueError as exc:
        raise bad(f"is no real date and time ({exc})") from None
    try:
        inside = _EARLIEST <= moment <= _LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise bad("is outside 1970-01-01T00:00:00Z .. 9000-12-31T23:59:59.999999Z")
    return value


def as_of_or_now(as_of: str | None, clock: Callable[[], datetime]) -> str:
    """An API entry point's ``as_of``: checked when given (rule 7), now when omitted (None).

    Args:
        as_of: the instant as given, or None for now.
        clock: the source of now.

    Returns:
        The instant's text.

    Raises:
        InputError: ``as_of`` was given and is not an instant (an empty string included).
    """
    if as_of is None:
        return format_instant(clock())
    return check_as_of(as_of)


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
        InputError: the text is not acceptable JSON, nests deeper than ``MAX_DEPTH``, or its top
            level is not an object.
    """
    check_depth(text, source="inventory", file=file)
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
    except RecursionError:
        # tomllib recurses per nested array or table; the depth is the bound, not the reader.
        raise InputError(
            source="policy", file=file, field="", message="nested too deeply to be a policy"
        ) from None


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
        InputError: unreadable, not UTF-8, nested deeper than ``MAX_DEPTH``, not JSON, or an
            unknown, missing or mistyped field; names the file and the field.
    """
    text = _read_text(path, source)
    check_depth(text, source=source, file=str(path))
    try:
        return converter.structure(json.loads(text), cls)
    except ValueError as exc:
        raise InputError(
            source=source, file=str(path), field="", message=f"not JSON: {exc}"
        ) from exc
    except Exception as exc:
        fields = error_fields(exc)
        field, message = fields[0] if fields else ("", str(exc))
        raise InputError(source=source, file=str(path), field=field, message=message) from exc
