"""The HTTP layer: a threading HTTP/1.1 keep-alive server handing requests to the emulator.

It never logs requests: query strings and headers carry tokens and client secrets.
"""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from outreach_emulator.messages import Request, Response

Dispatch = Callable[[Request], Response]


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], dispatch: Dispatch, clock: Callable[[], float]
    ) -> None:
        self.dispatch = dispatch
        self.clock = clock
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-answer are normal here; stay quiet rather than print."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY the second waits ~40 ms
    # for the client's delayed ACK on every keep-alive answer.
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent on purpose (see the module docstring)."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header tells the emulator's clock, as Outreach's tells its own: clients
        bound incremental windows by the server's time, not their host's."""
        return super().date_time_string(self.server.clock() if timestamp is None else timestamp)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=target.path,
            query=parse_qsl(target.query, keep_blank_values=True),
            headers=self.headers,  # type: ignore[arg-type]
            body=body,
        )
        response = self.server.dispatch(request)
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        if response.content_type is not None:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if response.truncate:
            self.wfile.write(response.body[: len(response.body) // 2])
            self.close_connection = True
            return
        self.wfile.write(response.body)
