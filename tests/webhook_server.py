"""A real HTTP server on 127.0.0.1 that receives webhook alerts in tests (never any other host)."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import attrs
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Received", "Reply", "Webhook", "webhook"]


@attrs.frozen
class Reply:
    """How the test server answers one request."""

    status: int = 200
    delay: float = 0.0
    close: bool = False
    headers: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class Received:
    """One request the test server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body, decoded as JSON."""
        return json.loads(self.body)


@attrs.define
class Webhook:
    """A real HTTP server on 127.0.0.1 that records requests and answers as scripted."""

    url: str
    received: list[Received] = attrs.field(factory=list)
    replies: deque[Reply] = attrs.field(factory=deque)
    stop: threading.Event = attrs.field(factory=threading.Event)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``; 200 once they run out."""
        self.replies.extend(replies)

    def record(self, request: Received) -> Reply:
        """Record ``request`` and return how to answer it."""
        with self.lock:
            self.received.append(request)
            return self.replies.popleft() if self.replies else Reply()


class _QuietServer(ThreadingHTTPServer):
    """Joins its handler threads on close and prints nothing when a client hangs up."""

    daemon_threads = False
    block_on_close = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore errors such as writing to a client that timed out and left."""


def _handler(webhook: Webhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            reply = webhook.record(
                Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            if reply.delay:
                webhook.stop.wait(reply.delay)
            if reply.close:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- the base class names it so
            """Log nothing."""

    return Handler


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """A recording HTTP server on 127.0.0.1, on a free port, running in a thread."""
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)
    state = Webhook(url="")
    server = _QuietServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alert"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()
