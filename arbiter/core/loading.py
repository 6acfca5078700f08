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
8. An inventory file can be read whole (``load_inventory``) or streamed (``InventoryStream``):
   its ``objects`` array one value at a time, each parsed by the same decoder with the same
   hooks, so that a file with one error gets the same error either way. The streamed reader
   keeps at most the unread text, one block and the value being read.
"""

from __future__ import annotations

import codecs
import contextlib
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
    from collections.abc import Callable, Iterator
    from typing import BinaryIO

    import cattrs

__all__ = [
    "MAX_DEPTH",
    "InventoryStream",
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


def check_depth(
    text: str,
    *,
    source: str,
    file: str | None,
    depth: int = 0,
    where: Callable[[int], tuple[int, int]] | None = None,
) -> None:
    """Refuse a JSON text nested deeper than ``MAX_DEPTH`` levels (rule 6).

    Args:
        text: the JSON document (or one value of it), not yet parsed.
        source: what the input is, for the error.
        file: the file it came from, for the error.
        depth: how deep ``text`` sits in its document (a streamed array's element: 2).
        where: the (line, column) in the file of a position in ``text``; by default ``text``
            is the whole file.

    Raises:
        InputError: nested too deep; names the line and column of the first bracket too deep.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH - depth:
        return  # cannot nest deeper than it has brackets
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in {"[", "{"}:
            depth += 1
            if depth > MAX_DEPTH:
                start = match.start()
                line, column = (
                    (text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start))
                    if where is None
                    else where(start)
                )
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


# What the streamed reader reads at a time, and how much consumed text it keeps (rule 8).
_READ = 1 << 20
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class InventoryStream:
    """A portable inventory file read as it is used, its ``objects`` in chunks (rule 8).

    Open one with ``InventoryStream.open(path)`` (a context manager); ``head`` holds every
    top-level member except a streamed ``objects`` array, and ``chunks`` yields that array's
    objects with the index of the first. Memory is bounded by the chunk, the tenants and the
    largest single value, when ``tenants`` comes before ``objects`` in the file (as ``twinpurge
    export`` writes it); otherwise the objects are held until the tenants are read.

    Every error is the one ``load_inventory`` gives for the same file, where the file has one
    error: the same message, line and column (rules 1 to 4 and 6).
    """

    def __init__(self, path: Path, handle: BinaryIO) -> None:
        """Use ``InventoryStream.open``."""
        self._file = str(path)
        self._handle = handle
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._json = json.JSONDecoder(
            object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants
        )
        self._bytes = 0  # bytes read from the file
        self._text = ""  # decoded, not yet consumed
        self._pos = 0
        self._lines = 0  # newlines before ``_text``
        self._column = 0  # characters of ``_text``'s first line that came before it
        self._eof = False
        self.head: dict[str, Any] = {}
        self.streamed = False  # whether ``objects`` is an array read by ``chunks``
        self._held: list[Any] | None = None
        self._start()

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: str | Path) -> Iterator[InventoryStream]:
        """Open an inventory file and read it up to its objects.

        Args:
            path: the JSON file.

        Yields:
            The stream, its ``head`` read.

        Raises:
            InputError: unreadable, a byte-order mark, not UTF-8, not JSON, nested too deep, or
                a top level that is not an object; names the file (and line and column).
        """
        path = Path(path)
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise InputError(
                source="inventory", file=str(path), field="", message=f"cannot read: {exc.strerror}"
            ) from exc
        with handle:
            yield cls(path, handle)

    def chunks(self, size: int) -> Iterator[tuple[int, list[Any]]]:
        """The objects, ``size`` at a time, each chunk with the index of its first object.

        Raises:
            InputError: the rest of the file is not acceptable JSON (as ``open`` says).
        """
        if self._held is not None:
            held, self._held = self._held, None
            for start in range(0, len(held), size):
                yield start, held[start : start + size]
            return
        if not self.streamed:
            return
        chunk: list[Any] = []
        start = 0
        for item in self._array_items():
            chunk.append(item)
            if len(chunk) == size:
                yield start, chunk
                start += size
                chunk = []
        self._after_objects()
        if chunk:
            yield start, chunk

    # -- the top level ---------------------------------------------------------------------

    def _start(self) -> None:
        first = self._handle.read(3)
        if first.startswith(b"\xef\xbb\xbf"):
            raise self._error("starts with a byte-order mark")
        self._feed(first)
        self._skip()
        if self._peek() != "{":
            value = self._value(0)  # json's own error when it is no value at all
            self._end()
            raise self._error(f"the top level must be a JSON object, not {type(value).__name__}")
        self._pos += 1
        self._skip()
        if self._peek() == "}":
            self._pos += 1
            self._end()
            return
        self._members()

    def _members(self) -> None:
        """Members up to the top level's end, or to the start of a streamed ``objects`` array."""
        while True:
            if self._peek() != '"':
                raise self._syntax("Expecting property name enclosed in double quotes")
            key = self._value(1)
            self._skip()
            if self._peek() != ":":
                raise self._syntax("Expecting ':' delimiter")
            self._pos += 1
            self._skip()
            if key in self.head or (key == "objects" and self.streamed):
                raise self._error(f"duplicate key {key!r} in one JSON object")
            if key == "objects" and self._peek() == "[":
                self.streamed = True
                self._pos += 1
                if "tenants" in self.head:
                    return  # ``chunks`` reads on from here
                self._held = list(self._array_items())
            else:
                self.head[key] = self._value(1)
            if self._next_member():
                return

    def _next_member(self) -> bool:
        """After a member's value: True at the top level's end (checked), False before the next."""
        self._skip()
        if self._peek() == "}":
            self._pos += 1
            self._end()
            return True
        if self._peek() != ",":
            raise self._syntax("Expecting ',' delimiter")
        self._pos += 1
        self._skip()
        return False

    def _after_objects(self) -> None:
        """The members after a streamed ``objects`` array, read once its last item is."""
        if not self._next_member():
            self._members()

    def _array_items(self) -> Iterator[Any]:
        """The items of the array whose ``[`` was just passed, then past its ``]``."""
        self._skip()
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            yield self._value(2)
            self._skip()
            if self._peek() == "]":
                self._pos += 1
                return
            if self._peek() != ",":
                raise self._syntax("Expecting ',' delimiter")
            self._pos += 1
            self._skip()

    def _end(self) -> None:
        self._skip()
        if self._peek() != "":
            raise self._syntax("Extra data")

    # -- values and text -------------------------------------------------------------------

    def _value(self, depth: int) -> Any:  # noqa: ANN401 -- any JSON value
        """The JSON value at the current position, read whole (more text is read as needed)."""
        while True:
            try:
                value, end = self._json.raw_decode(self._text, self._pos)
            except json.JSONDecodeError as exc:
                if not self._eof:
                    self._more()
                    continue
                raise self._syntax(exc.msg, exc.pos) from None
            except RecursionError:
                self._check_depth(self._text[self._pos :], depth)
                raise
            except ValueError as exc:  # a repeated key or a constant, whole (rules 2, 3)
                raise self._error(str(exc)) from None
            if end == len(self._text) and not self._eof:
                self._more()  # a number may go on in the next block
                continue
            self._check_depth(self._text[self._pos : end], depth)
            self._pos = end
            return value

    def _check_depth(self, text: str, depth: int) -> None:
        base = self._pos
        check_depth(
            text,
            source="inventory",
            file=self._file,
            depth=depth,
            where=lambda at: self._line_column(base + at),
        )

    def _skip(self) -> None:
        while True:
            self._pos = _WHITESPACE.match(self._text, self._pos).end()  # type: ignore[union-attr]  # matches the empty string
            if self._pos < len(self._text) or self._eof:
                return
            self._more()

    def _peek(self) -> str:
        if self._pos >= len(self._text) and not self._eof:
            self._more()
        return self._text[self._pos] if self._pos < len(self._text) else ""

    def _more(self) -> None:
        """Read the next block (twice as much as is unread, at least one block)."""
        if self._pos > _READ:
            self._drop()
        block = self._handle.read(max(_READ, len(self._text) - self._pos))
        self._feed(block)

    def _feed(self, block: bytes) -> None:
        pending = len(self._decoder.getstate()[0])
        try:
            self._text += self._decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            raise self._error(f"not UTF-8 (byte {self._bytes - pending + exc.start})") from None
        self._bytes += len(block)
        self._eof = not block

    def _drop(self) -> None:
        """Forget the consumed text, keeping count of its lines for error positions."""
        gone = self._text[: self._pos]
        newlines = gone.count("\n")
        if newlines:
            self._lines += newlines
            self._column = len(gone) - gone.rfind("\n") - 1
        else:
            self._column += len(gone)
        self._text = self._text[self._pos :]
        self._pos = 0

    def _line_column(self, pos: int) -> tuple[int, int]:
        newlines = self._text.count("\n", 0, pos)
        if newlines:
            return self._lines + newlines + 1, pos - self._text.rfind("\n", 0, pos)
        return self._lines + 1, self._column + pos + 1

    def _syntax(self, message: str, pos: int | None = None) -> InputError:
        line, column = self._line_column(self._pos if pos is None else pos)
        return self._error(f"not valid JSON: {message} at line {line} column {column}")

    def _error(self, message: str) -> InputError:
        return InputError(source="inventory", file=self._file, field="", message=message)


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
