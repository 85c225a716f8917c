"""A small hostile HTTP server, independent of the emulator, for adversarial tests.

The emulator is our own idea of Outreach; a defect class is only closed when a server that
behaves in ways the emulator never would (foreign next links, echoed tokens, endless pages,
trickled or huge bodies, odd token answers) cannot break the pipeline either. This one is the
standard library's threading server driven by a Python function:

    def answer(seen: Seen) -> Reply: ...
    with HostileServer(answer) as server:
        server.url            # "http://127.0.0.1:<port>"
        server.seen           # every request received, in order

A :class:`Reply` may trickle its body (``chunk_delay``) or its status line and headers
(``head_delay``), announce more bytes than it sends, hold the connection open without
answering (``hang``), or set its own ``Date`` header (an
empty one for none).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    target: str  # path and query, as sent on the request line
    headers: dict[str, str]  # lower-case names
    body: bytes
    host: str  # the address:port the request came in on

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


@dataclass
class Reply:
    """What to answer. ``body`` may be bytes or an iterable of chunks."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/vnd.api+json"
    # Seconds to wait before each chunk of the body.
    chunk_delay: float = 0.0
    # Seconds to wait before each byte of the status line and headers.
    head_delay: float = 0.0
    # Content-Length to announce (default: the body's real length when it is bytes; none,
    # and the connection closed after the body, when it is an iterable).
    content_length: int | None = None
    # Never answer: hold the connection until the server stops (or ``hang`` seconds pass).
    hang: float | None = None


def json_reply(document: Any, status: int = 200, **kwargs: Any) -> Reply:
    return Reply(status=status, body=orjson.dumps(document), **kwargs)


def page(resources: list[dict[str, Any]], next_url: str | None = None) -> bytes:
    """A JSON:API collection page."""
    document: dict[str, Any] = {"data": resources, "meta": {"count": len(resources)}}
    if next_url is not None:
        document["links"] = {"next": next_url}
    return orjson.dumps(document)


def resource(kind: str, record_id: int, **attributes: Any) -> dict[str, Any]:
    return {"type": kind, "id": record_id, "attributes": attributes, "relationships": {}}


Answer = Callable[[Seen], Reply]


class HostileServer:
    """A loopback HTTP server answering every method with ``answer(seen)``."""

    def __init__(self, answer: Answer, host: str = "127.0.0.1") -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                seen = Seen(
                    method=self.command,
                    target=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    host=f"{self.server.server_address[0]}:{self.server.server_address[1]}",
                )
                with outer._lock:
                    outer.seen.append(seen)
                reply = outer.answer(seen)
                outer._send(self, reply)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}"

    def requests_to(self, path_prefix: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path.startswith(path_prefix)]

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.hang is not None:
            self._stopping.wait(reply.hang)
            handler.close_connection = True
            return
        chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
        length = reply.content_length
        if length is None and isinstance(reply.body, bytes):
            length = len(reply.body)
        try:
            if any(name.lower() == "date" for name in reply.headers):
                # The reply's own Date (e.g. a clock far off, or "" for none) replaces ours.
                handler.send_response_only(reply.status)
            else:
                handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            if length is not None:
                handler.send_header("Content-Length", str(length))
            else:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            if reply.head_delay:
                if not self._trickle_head(handler, reply.head_delay):
                    return
            else:
                handler.end_headers()
            for chunk in chunks:
                if reply.chunk_delay and self._stopping.wait(reply.chunk_delay):
                    break
                handler.wfile.write(chunk)
                handler.wfile.flush()
            if length is not None and not isinstance(reply.body, bytes):
                handler.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _trickle_head(self, handler: BaseHTTPRequestHandler, delay: float) -> bool:
        """Send the head ``send_response``/``send_header`` buffered (what ``end_headers``
        would send at once) one byte every ``delay`` seconds; False if the server stopped."""
        handler._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
        head = b"".join(handler._headers_buffer)  # type: ignore[attr-defined]
        handler._headers_buffer = []  # type: ignore[attr-defined]
        for byte in head:
            if self._stopping.wait(delay):
                handler.close_connection = True
                return False
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
        return True
