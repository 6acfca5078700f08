"""Planning a tenant by streaming: each planner in a process of its own, compared in lockstep.

The engine behind issue 11 (spec §8.1, §9, §11 rule 1): the two planners run in parallel, each
in its own process, fed from one snapshot of the tenant's slice; the arbiter compares their
verdict streams in lockstep and spills the agreed plan to disk as it goes. Rules:

1. **One snapshot.** The arbiter writes the slice once, to a slice file in its private work
   directory: the tenant's record, the refs of other tenants' objects (``shared``) and the
   tenant's objects in ``(store, key)`` order, one canonical JSON line each
   (``arbiter.core.canonical`` rule 1), hashed as they are written. Both planner processes read
   only this file, after checking its SHA-256: they are fed the same bytes. The objects come as
   an iterator (a database cursor) and are never held: ``objects()`` in a planner process reads
   the file again at each call (the two passes of §8.1 rule 2), and the arbiter spills the
   identities it fed, as it writes them, to an anonymous file it reads back during the
   comparison. The slice file is made (mode 600) and removed by the call that plans the tenant.
   A value JSON has no spelling for is bad input (``InputError`` naming ``tenant``,
   ``shared[j]`` or ``objects[i]``); a tuple is written as a list.
2. **Isolation.** Each planner runs in a process of its own, started with ``multiprocessing``'s
   ``spawn`` context (a fresh interpreter: nothing of the arbiter's memory is inherited), which
   imports the planner's module by name (``StreamPlanner.module``) and calls its ``plan_stream``.
   Neither planner can reach the other's memory or the arbiter's, nor monkeypatch either. What
   a planner process sends is read as JSON, never unpickled: it cannot make the arbiter run its
   code. As with any ``spawn`` process, the program's main module must import without side
   effects (``if __name__ == "__main__":``): a planner process that cannot start is a failure.
3. **Protocol.** For each tenant a planner process sends its scalar fields, then its decisions in
   chunks of ``chunk_size``, then an end marker with its peak resident set. Its
   ``PlanInputError`` (from ``plan_stream``, or from the decisions in the second pass) is sent as
   a rejection with source, field and message; any other exception (from either pass), a result
   that is not a dict with ``decisions``, or a value JSON cannot carry, as a failure with its
   type and message. It sends at most ``window`` chunks beyond those the arbiter has taken
   (credits): the arbiter reads both processes in lockstep and neither runs more than ``window``
   chunks ahead of it.
4. **Pool.** ``PlannerProcesses`` starts the two processes once and plans many tenants, one at a
   time. A process that dies, sends what the protocol does not allow, or does not finish a
   tenant within ``timeout`` seconds is killed, counted as its planner's failure for that
   tenant, and started afresh for the next one. A process whose stream the comparison stops
   reading (its planner failed) is told to stop and drained, and stays.
5. **Comparison.** ``arbiter.core.lockstep``: scalars checked by the verdict's own rules, every
   decision checked against the object fed at its position, every key compared, a bounded
   report.
6. **Spill.** Agreed decisions are written as they are confirmed to the plan file (format 2 of
   ``arbiter.purge.journal`` rule 1) through ``durable.files.create_streamed``: the file exists
   whole after agreement, or not at all; after a refusal, a rejection or any error nothing is
   at its name and no temporary file is left in its directory. The plan digest (lockstep rule
   8, equal to ``plan_digest`` of the same verdict in memory) is computed while writing; the
   purge entries it needs at the end wait in an anonymous temporary file in the work directory.
7. **Memory.** The arbiter's process holds no list of the slice's objects, of ``shared`` or of
   the decisions: one line, one chunk per planner, a block of some 2,000 identities fed, the
   report's bounded lists and constant state. The planners' memory is theirs (§8.1 rule 5).
8. **Outcome.** Agreement: ``StreamedAgreement``. Both planners reject: ``InputError`` as the
   first planner saw it. A divergence, a failure, a single rejection, a death or a timeout:
   ``RefusedError`` with the report. Nothing is spilled in either case.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import importlib
import json
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

import deleter_a
import deleter_b
from arbiter.core.arbitrate import fingerprint
from arbiter.core.compare import PlannerFailure
from arbiter.core.errors import InputError, RefusedError, UsageError
from arbiter.core.lockstep import KEEP, Lockstep, PlannerStream, StreamEnd, VerdictDigest
from arbiter.core.verdict import IneligibleReason
from arbiter.durable.files import create_streamed
from arbiter.purge.journal import StreamedPlanWriter, new_purge_id, plan_file_path

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from types import TracebackType
    from typing import BinaryIO, Self

__all__ = [
    "PlannerProcesses",
    "StreamPlanner",
    "StreamedAgreement",
    "arbitrate_stream",
    "default_stream_planners",
]

CHUNK_SIZE = 4096
WINDOW = 4
TIMEOUT = 3600.0
START_TIMEOUT = 120.0
_BLOCK = 1 << 20
_ID_BLOCK = 1 << 16
# The longest message the arbiter reads from a planner process: a chunk of decisions is far
# shorter; a longer one (or a forged length) is a broken protocol, not an allocation.
_MAX_MESSAGE = 1 << 30


@attrs.frozen
class StreamPlanner:
    """A planner as the streaming engine runs it (rule 2).

    Attributes:
        name: ``"a"`` or ``"b"``, as in reports.
        version: its version, as in reports.
        module: an importable module exporting ``plan_stream`` and ``PlanInputError`` (spec
            §8.1); tests name deliberately wrong planners here.
    """

    name: str
    version: str
    module: str


def default_stream_planners() -> tuple[StreamPlanner, StreamPlanner]:
    """The two independently written planners, A and B."""
    return (
        StreamPlanner("a", deleter_a.__version__, "deleter_a"),
        StreamPlanner("b", deleter_b.__version__, "deleter_b"),
    )


@attrs.frozen
class StreamedAgreement:
    """Both planners' streams agreed: the plan, spilled to its plan file (rules 6 and 8).

    Attributes:
        tenant: the agreed verdict's tenant.
        as_of: its ``as_of`` (spec §2.2).
        eligible: whether the tenant is eligible.
        reason: why not, when it is not.
        primary_due: the primary due, when the tenant is cancelled.
        backup_due: the backup due, when the tenant is cancelled.
        purge_count: how many objects the plan purges.
        kept_by_reason: kept objects counted per reason.
        plan_digest: SHA-256 of the agreed verdict's canonical JSON, equal to ``plan_digest``
            of the same verdict held in memory.
        plan_path: the plan file (journal format 2), or None when none was asked for.
        plan_sha256: the plan file's SHA-256, or None with ``plan_path``.
        purge_id: the purge id in the plan file's header, or None with ``plan_path``.
        versions: each planner's version, by name.
        fingerprints: SHA-256 of the slice file (``slice``) and the policy's fingerprint
            (``policy``, ``arbiter.core.arbitrate.fingerprint``).
    """

    tenant: str
    as_of: str
    eligible: bool
    reason: IneligibleReason | None
    primary_due: str | None
    backup_due: str | None
    purge_count: int
    kept_by_reason: dict[str, int]
    plan_digest: str
    plan_path: Path | None
    plan_sha256: str | None
    purge_id: str | None
    versions: dict[str, str]
    fingerprints: dict[str, str]

    @property
    def kept_count(self) -> int:
        """How many objects the plan keeps."""
        return sum(self.kept_by_reason.values())


# --- the slice file (rule 1) -----------------------------------------------------------------


_SLICE_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_DECODER = json.JSONDecoder()
_ASCII = json.encoder.encode_basestring_ascii
_UNNAMED = b"[null,null]\n"


def _encoded(value: object, field: str) -> bytes:
    """``value`` in canonical JSON (rule 1), or bad input naming ``field``."""
    try:
        return _SLICE_ENCODER.encode(value).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise InputError(source="inventory", field=field, message=f"not JSON data: {exc}") from None


def _parse(line: bytes, kind: str) -> object:
    """The value of a slice file's line."""
    return _DECODER.decode(line.decode("utf-8"))[kind]


@attrs.frozen
class _SliceFile:
    """A written slice file: where its sections start, and its SHA-256."""

    path: str
    sha256: str
    shared_start: int
    objects_start: int


class _Snapshot:
    """The slice written to its file, and beside it the identities of its objects (rule 1).

    The slice file is made (``tempfile.mkstemp``, mode 600, in the work directory) and removed
    by ``PlannerProcesses.plan``, around the tenant's planning.

    The identities are spilled as the objects are written, one ``[store, key]`` line each, to
    an anonymous temporary file in the work directory: reading them back costs a fraction of
    reading the records again.
    """

    def __init__(  # noqa: PLR0913 -- the file, where its spill goes, and the slice
        self,
        fd: int,
        path: str,
        directory: Path,
        *,
        tenant: Mapping[str, object],
        objects: Iterable[Mapping[str, object]],
        shared: Iterable[object],
    ) -> None:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as handle:
            self._identities = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 -- close()
            try:

                def write(*parts: bytes) -> None:
                    for part in parts:
                        digest.update(part)
                        handle.write(part)

                write(b'{"tenant":', _encoded(tenant, "tenant"), b"}\n")
                shared_start = handle.tell()
                for j, ref in enumerate(shared):
                    write(b'{"shared":', _encoded(ref, f"shared[{j}]"), b"}\n")
                objects_start = handle.tell()
                for i, record in enumerate(objects):
                    write(b'{"object":', _encoded(record, f"objects[{i}]"), b"}\n")
                    self._identities.write(_identity(record))
            except BaseException:
                self._identities.close()
                raise
        self.file = _SliceFile(path, digest.hexdigest(), shared_start, objects_start)

    def identities(self) -> Iterator[list[object]]:
        """The ``[store, key]`` of each object fed, in order, parsed some 2,000 at a time."""
        self._identities.flush()
        self._identities.seek(0)
        rest = b""
        while block := self._identities.read(_ID_BLOCK):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                lines = block[: cut - 1].replace(b"\n", b",").decode("ascii")
                yield from _DECODER.decode(f"[{lines}]")

    def close(self) -> None:
        """Drop the identities (an anonymous file: nothing is left behind)."""
        self._identities.close()


def _identity(record: object) -> bytes:
    """An object's ``[store, key]`` line; ``[null, null]`` when it has no such pair of strings."""
    if isinstance(record, Mapping):
        store, key = record.get("store"), record.get("key")
        if isinstance(store, str) and isinstance(key, str):
            return f"[{_ASCII(store)},{_ASCII(key)}]\n".encode("ascii")
    return _UNNAMED


# --- the planner process (rules 2 and 3) -----------------------------------------------------


@attrs.frozen
class _Job:
    """One tenant for a planner process: the slice file, the policy and ``as_of``."""

    slice: _SliceFile
    policy: Mapping[str, object]
    as_of: str
    chunk_size: int
    window: int


class _Shared:
    """``shared`` for ``plan_stream``: the slice file's refs, read afresh at each iteration."""

    def __init__(self, slice_: _SliceFile) -> None:
        self._slice = slice_

    def __iter__(self) -> Iterator[object]:
        with Path(self._slice.path).open("rb") as handle:
            handle.seek(self._slice.shared_start)
            remaining = self._slice.objects_start - self._slice.shared_start
            while remaining > 0:
                line = handle.readline()
                remaining -= len(line)
                yield _parse(line, "shared")


def _objects(slice_: _SliceFile) -> Callable[[], Iterator[object]]:
    def objects() -> Iterator[object]:
        with Path(slice_.path).open("rb") as handle:
            handle.seek(slice_.objects_start)
            for line in handle:
                yield _parse(line, "object")

    return objects


def _check_slice(slice_: _SliceFile) -> object:
    """The tenant record, once the file is checked against its SHA-256."""
    digest = hashlib.sha256()
    with Path(slice_.path).open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
        if digest.hexdigest() != slice_.sha256:
            msg = f"slice file {slice_.path} does not match its SHA-256"
            raise ValueError(msg)
        handle.seek(0)
        return _parse(handle.readline(), "tenant")


def _send(connection: Connection, message: list[object]) -> None:
    connection.send_bytes(json.dumps(message, allow_nan=False).encode("ascii"))


def _peak_rss() -> int:
    """This process's peak resident set, in KiB (Linux's unit for ``ru_maxrss``)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _plan(
    plan_stream: Callable[..., object],
    input_error: type[BaseException],
    connection: Connection,
    job: _Job,
) -> None:
    """Plan one tenant in the planner's process and send the answer (rule 3)."""
    try:
        tenant = _check_slice(job.slice)
    except (OSError, ValueError, KeyError) as exc:
        _send(connection, ["failed", f"cannot read the slice: {type(exc).__name__}: {exc}"])
        return
    try:
        result = plan_stream(tenant, _objects(job.slice), _Shared(job.slice), job.policy, job.as_of)
        if not isinstance(result, dict) or "decisions" not in result:
            msg = f"plan_stream returned a {type(result).__name__} without decisions"
            raise TypeError(msg)  # noqa: TRY301 -- reported as any other failure below
        _send(connection, ["scalars", {k: v for k, v in result.items() if k != "decisions"}])
        allowance = job.window
        chunk: list[object] = []
        for decision in result["decisions"]:
            chunk.append(decision)
            if len(chunk) < job.chunk_size:
                continue
            _send(connection, ["chunk", chunk])
            chunk = []
            allowance -= 1
            while allowance <= 0:
                reply = connection.recv()
                if reply[0] == "stop":
                    _send(connection, ["stopped"])
                    return
                allowance += int(reply[1])
        if chunk:
            _send(connection, ["chunk", chunk])
        _send(connection, ["end", _peak_rss()])
    except input_error as exc:
        _send(
            connection,
            [
                "rejected",
                str(getattr(exc, "source", "inventory")),
                str(getattr(exc, "field", "")),
                str(getattr(exc, "message", exc)),
            ],
        )
    except Exception as exc:  # noqa: BLE001 -- any planner crash is its failure, never a plan
        _send(connection, ["failed", f"{type(exc).__name__}: {exc}"])


def _serve(module: str, connection: Connection) -> None:
    """A planner process: import the planner, then plan one job after another (rule 2)."""
    try:
        planner = importlib.import_module(module)
        plan_stream = planner.plan_stream
        input_error = planner.PlanInputError
    except Exception as exc:  # noqa: BLE001 -- reported to the arbiter as this planner's failure
        _send(connection, ["failed", f"cannot load planner {module}: {type(exc).__name__}: {exc}"])
        return
    _send(connection, ["ready", os.getpid()])
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message[0] == "quit":
            return
        if message[0] == "plan":
            _plan(plan_stream, input_error, connection, message[1])
        # anything else is a late credit or stop for a job that has ended: nothing to do


# --- the arbiter's side (rules 3 and 4) ------------------------------------------------------

_TERMINAL = frozenset(("end", "stopped", "rejected", "failed"))


class _Worker:
    """One planner's process, as the arbiter holds it: started, restarted, killed (rule 4)."""

    def __init__(self, planner: StreamPlanner, start_timeout: float) -> None:
        self.planner = planner
        self._start_timeout = start_timeout
        self.process: BaseProcess | None = None
        self.connection: Connection | None = None
        self.ready = False
        self.peak_rss: int | None = None

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=True)
        process = context.Process(
            target=_serve,
            args=(self.planner.module, child),
            name=f"twinpurge-planner-{self.planner.name}",
            daemon=True,
        )
        process.start()
        child.close()
        self.process, self.connection, self.ready = process, parent, False

    def failure(self, message: str) -> PlannerFailure:
        return PlannerFailure(self.planner.name, "failed", message)

    def prepare(self) -> PlannerFailure | None:
        """Make the process ready for a job, starting it afresh if it is gone."""
        if self.process is None or not self.process.is_alive():
            self.kill()
            self.start()
        if self.ready:
            return None
        message = self.receive(
            time.monotonic() + self._start_timeout, "starting", self._start_timeout
        )
        if isinstance(message, PlannerFailure):
            return message
        if message[0] == "ready":
            self.ready = True
            return None
        self.kill()
        detail = message[1] if message[0] == "failed" and len(message) > 1 else message
        return self.failure(f"its process did not start: {detail}")

    def receive(self, deadline: float, doing: str, limit: float) -> list[Any] | PlannerFailure:
        """The next message, or a failure once the process died, timed out or broke protocol.

        Args:
            deadline: when to give up (``time.monotonic``).
            doing: what the process was doing, for the failure's message.
            limit: the time it was allowed, for the failure's message.
        """
        connection = self.connection
        assert connection is not None  # noqa: S101 -- only a started worker receives
        try:
            if not connection.poll(max(0.0, deadline - time.monotonic())):
                self.kill()
                return self.failure(
                    f"timed out {doing}: not done within {limit:g} s; its process was killed"
                )
            data = connection.recv_bytes(_MAX_MESSAGE)
        except OSError as exc:
            if exc.errno is None:  # "bad message length": longer than allowed, or forged
                self.kill()
                return self.failure(f"its process sent a message too long {doing}")
            code = self.kill(grace=5.0)  # it is exiting: wait for its own exit code
            return self.failure(f"its process died {doing} (exit code {code})")
        except EOFError:
            code = self.kill(grace=5.0)
            return self.failure(f"its process died {doing} (exit code {code})")
        try:
            message = json.loads(data)
        except ValueError:
            message = None
        if not isinstance(message, list) or not message or not isinstance(message[0], str):
            self.kill()
            return self.failure(f"its process sent a message the protocol does not allow {doing}")
        return message

    def send(self, message: object) -> None:
        """Send to the process; a dead one is found by the next ``receive``."""
        if self.connection is not None:
            with contextlib.suppress(OSError):
                self.connection.send(message)

    def kill(self, *, grace: float = 0.0) -> int | None:
        """Kill the process (if any) after ``grace`` seconds, and forget it; its exit code."""
        code = None
        if self.process is not None:
            if grace:
                self.process.join(grace)
            if self.process.is_alive():
                self.process.kill()
            self.process.join(10)
            code = self.process.exitcode
            self.process.close()
        if self.connection is not None:
            self.connection.close()
        self.process, self.connection, self.ready = None, None, False
        return code

    def stop(self) -> None:
        """Ask the process to quit; kill it if it does not."""
        if self.process is not None and self.process.is_alive():
            self.send(["quit"])
            self.process.join(5)
        self.kill()


class _Run:
    """One tenant's job on one planner process, read by the arbiter (rules 3 and 4)."""

    def __init__(self, worker: _Worker, job: _Job, timeout: float) -> None:
        self._worker = worker
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout
        self.finished = False
        worker.send(["plan", job])

    def _receive(self, doing: str) -> list[Any] | PlannerFailure:
        message = self._worker.receive(self._deadline, doing, self._timeout)
        if isinstance(message, PlannerFailure) or message[0] in _TERMINAL:
            self.finished = True
        return message

    def _outcome(self, message: list[Any]) -> InputError | PlannerFailure:
        if message[0] == "rejected" and len(message) == 4:  # noqa: PLR2004 -- source, field, message
            return InputError(
                source=str(message[1]), field=str(message[2]), message=str(message[3])
            )
        if message[0] == "failed" and len(message) == 2:  # noqa: PLR2004 -- its message
            return self._worker.failure(str(message[1]))
        self._worker.kill()
        self.finished = True
        return self._worker.failure(f"its process sent {str(message[0])!r} out of turn")

    def first(self) -> object:
        """The planner's scalar fields, or its rejection or failure."""
        message = self._receive("in the first pass")
        if isinstance(message, PlannerFailure):
            return message
        if message[0] == "scalars" and len(message) == 2:  # noqa: PLR2004 -- its fields
            return message[1]
        return self._outcome(message)

    def decisions(self) -> Iterator[object]:
        """The planner's decisions, chunk by chunk, granting a credit for each (rule 3)."""
        while not self.finished:
            message = self._receive("in the second pass")
            if isinstance(message, PlannerFailure):
                yield StreamEnd(message)
            elif message[0] == "chunk" and len(message) == 2 and isinstance(message[1], list):  # noqa: PLR2004
                self._worker.send(["more", 1])
                yield from message[1]
            elif message[0] == "end":
                if len(message) == 2 and isinstance(message[1], int):  # noqa: PLR2004
                    self._worker.peak_rss = message[1]
            else:
                yield StreamEnd(self._outcome(message))

    def settle(self, *, drain: bool) -> None:
        """Leave the process idle for the next job: stop and drain it, or kill it (rule 4)."""
        if self.finished:
            return
        if not drain:
            self._worker.kill()
            self.finished = True
            return
        self._worker.send(["stop"])
        while not self.finished:
            self._receive("while stopping")


class PlannerProcesses:
    """The two planners' processes, started once and reused tenant after tenant (rule 4).

    Use it as a context manager: entering starts both processes (in parallel), leaving stops
    them and removes the work directory.

    Args:
        planners: the two planners; A and B unless a test substitutes others.
        timeout: seconds a planner may take for one tenant, both passes, before its process is
            killed (its failure) and started afresh for the next tenant.
        chunk_size: decisions per message (rule 3).
        window: chunks a planner process may send ahead of the arbiter (rule 3).
        keep: entries each list of a divergence report keeps (lockstep rule 6).
        start_timeout: seconds a process may take to start and import its planner.

    Raises:
        UsageError: not two planners of distinct names, or a size or time that is not positive.
    """

    def __init__(  # noqa: PLR0913 -- the pool's tunables, each with its default
        self,
        planners: tuple[StreamPlanner, StreamPlanner] | None = None,
        *,
        timeout: float = TIMEOUT,
        chunk_size: int = CHUNK_SIZE,
        window: int = WINDOW,
        keep: int = KEEP,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        pair = planners if planners is not None else default_stream_planners()
        if len(pair) != 2 or pair[0].name == pair[1].name:  # noqa: PLR2004 -- a pair
            raise UsageError("streaming needs exactly two planners with distinct names")
        if min(timeout, start_timeout) <= 0 or min(chunk_size, window) < 1 or keep < 0:
            raise UsageError("timeouts, chunk size and window must be positive, keep >= 0")
        self._planners = pair
        self._timeout = timeout
        self._chunk_size = chunk_size
        self._window = window
        self._keep = keep
        self._workers = tuple(_Worker(planner, start_timeout) for planner in pair)
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self._work_dir: Path | None = None

    def __enter__(self) -> Self:
        """Start both planner processes and make the private work directory."""
        if self._work_dir is not None:
            raise UsageError("PlannerProcesses is already open")
        self._directory = tempfile.TemporaryDirectory(prefix="twinpurge-stream-")
        self._work_dir = Path(self._directory.name)
        try:
            for worker in self._workers:
                worker.start()
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop both processes and remove the work directory."""
        self._close()

    def _close(self) -> None:
        for worker in self._workers:
            worker.stop()
        if self._directory is not None:
            self._directory.cleanup()
        self._directory, self._work_dir = None, None

    @property
    def work_dir(self) -> Path | None:
        """The private work directory (slice files, spills) while the pool is open."""
        return self._work_dir

    @property
    def pids(self) -> dict[str, int | None]:
        """Each planner's process id, None when it has none (killed, not yet restarted)."""
        return {w.planner.name: None if w.process is None else w.process.pid for w in self._workers}

    @property
    def peak_rss(self) -> dict[str, int | None]:
        """Each planner process's peak resident set in KiB, as it last reported it."""
        return {w.planner.name: w.peak_rss for w in self._workers}

    def plan(  # noqa: PLR0913 -- the slice (three parts), the policy and as_of, the plan file
        self,
        tenant: Mapping[str, object],
        objects: Iterable[Mapping[str, object]],
        shared: Iterable[object],
        policy: Mapping[str, object],
        as_of: str,
        *,
        plan_dir: Path | None = None,
        purge_id: str | None = None,
        chunk_size: int | None = None,
    ) -> StreamedAgreement:
        """Plan one tenant from its slice with both planners; spill the plan on agreement.

        Args:
            tenant: the tenant's record (spec §4.1).
            objects: the tenant's objects in strictly increasing ``(store, key)`` order, read
                once (spec §8.1 rule 1).
            shared: the refs of other tenants' objects, read once.
            policy: the policy (spec §4.2).
            as_of: the instant of the verdict.
            plan_dir: the directory of the plan file; None to write none (counts and digest
                only).
            purge_id: the plan file's purge id (its name); a new one when None.
            chunk_size: decisions per message for this tenant; the pool's when None.

        Returns:
            The agreement.

        Raises:
            InputError: both planners rejected the slice (as A saw it), or a value of it is not
                JSON data.
            RefusedError: the planners diverged, one failed, died or timed out, or only one
                rejected; carries the report. No plan file exists.
            UsageError: the pool is not open, or the plan file of ``purge_id`` exists already
                (left as it is; nothing is planned).
            OSError: the slice or the plan file could not be written; no plan file exists.
        """
        if self._work_dir is None:
            raise UsageError("plan inside `with PlannerProcesses(...)`")
        size = self._chunk_size if chunk_size is None else chunk_size
        if size < 1:
            raise UsageError("the chunk size must be positive")
        if plan_dir is not None and purge_id is not None:
            existing = plan_file_path(plan_dir, purge_id)
            # Before the planners run, not at the final link: a repeated purge id would
            # otherwise cost a whole tenant's planning (the link still refuses a race).
            if existing.exists():
                raise UsageError(f"the plan file of purge {purge_id} exists already: {existing}")
        fd, name = tempfile.mkstemp(dir=self._work_dir, prefix="slice-", suffix=".jsonl")
        slice_path = Path(name)  # removed below, whatever happens (rule 1)
        snapshot: _Snapshot | None = None
        runs: list[_Run | None] = []
        clean = False
        try:
            snapshot = _Snapshot(
                fd, name, self._work_dir, tenant=tenant, objects=objects, shared=shared
            )
            job = _Job(snapshot.file, policy, as_of, size, self._window)
            fingerprints = {"slice": snapshot.file.sha256, "policy": fingerprint(policy)}
            streams = []
            failures = [worker.prepare() for worker in self._workers]
            for worker, failure in zip(self._workers, failures, strict=True):
                runs.append(None if failure is not None else _Run(worker, job, self._timeout))
            for worker, failure, run in zip(self._workers, failures, runs, strict=True):
                result = failure if run is None else run.first()
                decisions = () if run is None or run.finished else run.decisions()
                streams.append(PlannerStream(worker.planner.name, result, decisions))  # type: ignore[arg-type]  # checked by the lockstep
            comparison = Lockstep(
                streams[0],
                streams[1],
                snapshot.identities(),
                tenant=str(tenant.get("id", "")) if isinstance(tenant, Mapping) else "",
                as_of=str(as_of),
                versions=self._versions(),
                fingerprints=fingerprints,
                keep=self._keep,
            )
            agreement = self._spill(comparison, fingerprints, plan_dir, purge_id)
            clean = True
        except (InputError, RefusedError):
            clean = True  # both streams were read to their end, or can be stopped and drained
            raise
        finally:
            for run in runs:
                if run is not None:
                    run.settle(drain=clean)
            if snapshot is not None:
                snapshot.close()
            slice_path.unlink(missing_ok=True)
        return agreement

    def _versions(self) -> dict[str, str]:
        return {planner.name: planner.version for planner in self._planners}

    def _spill(
        self,
        comparison: Lockstep,
        fingerprints: dict[str, str],
        plan_dir: Path | None,
        purge_id: str | None,
    ) -> StreamedAgreement:
        """Walk the comparison, writing the plan file as decisions are agreed (rule 6)."""
        if comparison.scalars is None:
            for _ in comparison:  # yields nothing, then raises (lockstep rule 7)
                pass
            raise UsageError("a comparison without agreed scalars cannot end normally")
        if plan_dir is None:
            return self._consume(comparison, fingerprints, None, None, None)
        identity = purge_id if purge_id is not None else new_purge_id()
        path = plan_file_path(plan_dir, identity)
        spilled: list[StreamedAgreement] = []
        create_streamed(
            path,
            lambda handle: spilled.append(
                self._consume(comparison, fingerprints, handle, identity, path)
            ),
            mode=0o600,
        )
        return spilled[0]

    def _consume(
        self,
        comparison: Lockstep,
        fingerprints: dict[str, str],
        handle: BinaryIO | None,
        purge_id: str | None,
        path: Path | None,
    ) -> StreamedAgreement:
        scalars = comparison.scalars
        assert scalars is not None  # noqa: S101 -- checked by _spill
        writer = (
            None if handle is None else StreamedPlanWriter(handle, str(purge_id), scalars.tenant)
        )
        digest = VerdictDigest(scalars)
        kept: collections.Counter[str] = collections.Counter()
        purged = 0
        with tempfile.TemporaryFile(dir=self._work_dir) as purges:
            for decision in comparison:
                entry = VerdictDigest.entry(decision)
                if decision.reason is None:
                    if purged:
                        purges.write(b",")
                    purges.write(entry)
                    purged += 1
                    if writer is not None:
                        writer.purge(entry)
                else:
                    digest.add_kept(entry)
                    kept[decision.reason] += 1
                    if writer is not None:
                        writer.kept(entry)
            purges.seek(0)
            plan_digest = digest.hexdigest_joined(iter(functools.partial(purges.read, _BLOCK), b""))
        sha256 = None if writer is None else writer.finish(plan_digest)
        return StreamedAgreement(
            tenant=scalars.tenant,
            as_of=scalars.as_of,
            eligible=scalars.eligible,
            reason=scalars.reason,
            primary_due=scalars.primary_due,
            backup_due=scalars.backup_due,
            purge_count=purged,
            kept_by_reason=dict(sorted(kept.items())),
            plan_digest=plan_digest,
            plan_path=path,
            plan_sha256=sha256,
            purge_id=purge_id,
            versions=self._versions(),
            fingerprints=fingerprints,
        )


def arbitrate_stream(  # noqa: PLR0913 -- as PlannerProcesses.plan, and the planners
    tenant: Mapping[str, object],
    objects: Iterable[Mapping[str, object]],
    shared: Iterable[object],
    policy: Mapping[str, object],
    as_of: str,
    *,
    plan_dir: Path | None = None,
    purge_id: str | None = None,
    planners: tuple[StreamPlanner, StreamPlanner] | None = None,
) -> StreamedAgreement:
    """Plan one tenant by streaming, with processes started for it alone.

    ``PlannerProcesses.plan`` with a pool opened and closed around the call; to plan many
    tenants, open one ``PlannerProcesses`` and call its ``plan`` for each.

    Returns:
        The agreement.

    Raises:
        InputError: as for ``PlannerProcesses.plan``.
        RefusedError: as for ``PlannerProcesses.plan``.
    """
    with PlannerProcesses(planners) as processes:
        return processes.plan(
            tenant, objects, shared, policy, as_of, plan_dir=plan_dir, purge_id=purge_id
        )
