"""A local order-book server for tests: Kalshi orderbook and series, Polymarket CLOB /books and /book.

It listens on 127.0.0.1 on a free port and serves hand-written payloads, recording every request
so tests can check batching and paths.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_BOOKS_PER_REQUEST = 500


class BooksServer:
    """Serve `kalshi_books` {ticker: payload or raw bytes}, `series` {ticker: payload} and
    `clob_books` {token id: book object}; use as a context manager, base URL in `url`.

    Tokens in `left_out_of_batches` are missing from POST /books responses but served by GET /book.
    """

    def __init__(self, *, kalshi_books: dict[str, Any] | None = None, series: dict[str, Any] | None = None,
                 clob_books: dict[str, Any] | None = None, books_endpoint_fails: bool = False,
                 left_out_of_batches: set[str] | None = None):
        self.kalshi_books = kalshi_books or {}
        self.series = series or {}
        self.clob_books = clob_books or {}
        self.books_endpoint_fails = books_endpoint_fails
        self.left_out_of_batches = left_out_of_batches or set()
        self.requests: list[tuple[str, str]] = []
        self.batch_sizes: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> BooksServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
                return

            def _send(self, status: int, body: Any) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with server._lock:
                    server.requests.append(("GET", parts.path))
                segments = [segment for segment in parts.path.split("/") if segment]
                if len(segments) == 3 and segments[0] == "markets" and segments[2] == "orderbook":
                    book = server.kalshi_books.get(segments[1])
                    if book is None:
                        self._send(404, {"error": {"code": "not_found", "message": "market not found"}})
                    else:
                        self._send(200, book)
                elif len(segments) == 2 and segments[0] == "series":
                    series = server.series.get(segments[1])
                    self._send(200, series) if series is not None else self._send(404, {"error": "series not found"})
                elif segments == ["book"]:
                    token = parse_qs(parts.query).get("token_id", [""])[0]
                    book = server.clob_books.get(token)
                    if book is None:
                        self._send(404, {"error": "No orderbook exists for the requested token id"})
                    else:
                        self._send(200, book)
                else:
                    self._send(404, {"error": f"no route for {parts.path}"})

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"[]")
                with server._lock:
                    server.requests.append(("POST", parts.path))
                if parts.path != "/books":
                    self._send(404, {"error": f"no route for {parts.path}"})
                    return
                if server.books_endpoint_fails:
                    self._send(400, {"error": "invalid payload"})
                    return
                if not isinstance(body, list) or len(body) > MAX_BOOKS_PER_REQUEST:
                    self._send(400, {"error": f"payload must be a list of at most {MAX_BOOKS_PER_REQUEST} tokens"})
                    return
                with server._lock:
                    server.batch_sizes.append(len(body))
                books = [server.clob_books[item["token_id"]] for item in body
                         if item.get("token_id") in server.clob_books and item["token_id"] not in server.left_out_of_batches]
                self._send(200, books)

        return Handler
