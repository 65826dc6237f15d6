"""A local HTTP server on 127.0.0.1 that replays hand-written venue pages, for tests.

API (importable by any test):

    with VenueServer() as server:                     # binds 127.0.0.1 on a free port
        server.route("/trade-api/v2/events", KalshiEvents(events, max_limit=200))
        server.route("/events", GammaEvents(events, offset_cap=2000))
        server.route("/events/keyset", GammaKeysetEvents(events))
        server.set_json("/book", {"bids": [], "asks": []})   # fixed reply
        server.add_faults("/events", Reply.error(429, retry_after="0.01"), Reply.error(500))
        url = server.url + "/events"                  # "http://127.0.0.1:<port>/events"
        ...
        server.requests                               # every RecordedRequest, in arrival order
        server.requests_to("/events")[0].param("closed")

- A handler is any callable taking a `RecordedRequest` and returning a `Reply`.
- Faults queued with `add_faults(path, ...)` are served first, one per request to that path, in
  order; afterwards the path's handler replies again. `Reply.error` (status, Retry-After),
  `Reply.slow` (waits before replying, to exceed a client timeout), `Reply.truncated` (declares
  the full Content-Length, sends part of the body and closes the connection) and
  `Reply.invalid_json` (a 200 with a cut-off JSON body) cover the usual transport faults.
- `closed_port_url()` returns a URL on 127.0.0.1 where nothing listens (connection refused).
- A path without a handler returns 404 with a JSON error body.

The venue handlers page like the real APIs: `KalshiEvents` by opaque cursor, `GammaEvents` by
limit/offset with HTTP 422 past the offset cap, and `GammaKeysetEvents` by `after_cursor` /
`next_cursor`. Events are plain dicts in the venues' shapes, written by each test.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        """Return the first value of query parameter `name`, or None when it was not sent."""
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    """What the server sends back for one request."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    truncate: bool = False      # send the full Content-Length but only half the body, then close

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def error(cls, status: int, *, retry_after: str | None = None, message: str = "") -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls.json({"error": message or f"status {status}"}, status, headers)

    @classmethod
    def slow(cls, seconds: float, payload: Any = None) -> Reply:
        reply = cls.json(payload if payload is not None else {"slow": True})
        reply.delay_seconds = seconds
        return reply

    @classmethod
    def truncated(cls, payload: Any) -> Reply:
        reply = cls.json(payload)
        reply.truncate = True
        return reply

    @classmethod
    def invalid_json(cls, payload: Any) -> Reply:
        body = json.dumps(payload).encode()
        return cls(200, body[: max(len(body) // 2, 1)], {"Content-Type": "application/json"})


Handler = Callable[[RecordedRequest], Reply]


class VenueServer:
    """A threaded HTTP server on 127.0.0.1 with per-path handlers, scripted faults and a request log."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes: dict[str, Handler] = {}
        self._faults: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> VenueServer:
        server = self

        class _RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._serve(self)

            def do_POST(self) -> None:
                server._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((HOST, 0), _RequestHandler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> VenueServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    # Scripting

    def route(self, path: str, handler: Handler) -> None:
        self._routes[path] = handler

    def set_json(self, path: str, payload: Any, status: int = 200) -> None:
        self.route(path, lambda _request: Reply.json(payload, status))

    def add_faults(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._faults[path].extend(replies)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    # Serving

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        request = RecordedRequest(
            method=http.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(http.headers.items()),
            body=http.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(request)
            queued = self._faults.get(request.path)
            reply = queued.popleft() if queued else None
        if reply is None:
            handler = self._routes.get(request.path)
            reply = handler(request) if handler else Reply.error(404, message=f"no route for {request.path}")
        try:
            self._write(http, reply)
        except (BrokenPipeError, ConnectionResetError):
            pass    # the client gave up first, which is what a timeout test expects

    @staticmethod
    def _write(http: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay_seconds:
            time.sleep(reply.delay_seconds)
        http.send_response(reply.status)
        for name, value in reply.headers.items():
            http.send_header(name, value)
        http.send_header("Content-Length", str(len(reply.body)))
        http.send_header("Connection", "close")
        http.end_headers()
        body = reply.body[: len(reply.body) // 2] if reply.truncate else reply.body
        http.wfile.write(body)
        http.wfile.flush()
        http.close_connection = True


def closed_port_url() -> str:
    """Return a URL on 127.0.0.1 whose port was free a moment ago, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    return f"http://{HOST}:{port}"


# Venue handlers


def _int_param(request: RecordedRequest, name: str, default: int) -> int:
    value = request.param(name)
    return int(value) if value not in (None, "") else default


class KalshiEvents:
    """Kalshi `GET /events` with cursor paging; the cursor is opaque to the client.

    `stall_at_page=n` makes page n return the cursor it was called with, as a stuck server would.
    """

    def __init__(self, events: list[dict], *, max_limit: int = 200, stall_at_page: int | None = None):
        self.events = list(events)
        self.max_limit = max_limit
        self.stall_at_page = stall_at_page

    def __call__(self, request: RecordedRequest) -> Reply:
        limit = _int_param(request, "limit", 100)
        if not 1 <= limit <= self.max_limit:
            return Reply.error(400, message=f"limit must be between 1 and {self.max_limit}")
        cursor = request.param("cursor") or ""
        start = int(cursor.removeprefix("evt-")) if cursor else 0
        events = self.events
        if request.param("status") == "open":
            events = [event for event in events if event.get("_status", "open") == "open"]
        chunk = events[start : start + limit]
        page_number = start // limit + 1
        end = start + limit
        if self.stall_at_page is not None and page_number >= self.stall_at_page:
            next_cursor = cursor
        else:
            next_cursor = f"evt-{end}" if end < len(events) else ""
        visible = [{k: v for k, v in event.items() if not k.startswith("_")} for event in chunk]
        if request.param("with_nested_markets") != "true":
            for event in visible:
                event.pop("markets", None)
        return Reply.json({"events": visible, "cursor": next_cursor, "milestones": []})


def _parse_date(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _gamma_filter(events: Iterable[dict], request: RecordedRequest) -> list[dict]:
    """Apply Gamma's active/closed/end-date filters and `order=id` sorting.

    An omitted `closed` returns closed events, as `/events` has been reported to do, so a client
    that does not send closed=false gets the wrong listing.
    """
    closed = request.param("closed")
    want_closed = closed != "false"
    result = [event for event in events if bool(event.get("closed")) == want_closed]
    if request.param("active") == "true":
        result = [event for event in result if event.get("active")]
    low = _parse_date(request.param("end_date_min"))
    high = _parse_date(request.param("end_date_max"))
    if low or high:
        dated = []
        for event in result:
            end = _parse_date(event.get("endDate"))
            if end is None or (low and end < low) or (high and end > high):
                continue
            dated.append(event)
        result = dated
    if request.param("order") == "id":
        descending = request.param("ascending") == "false"
        result.sort(key=lambda event: int(event["id"]), reverse=descending)
    return result


class GammaEvents:
    """Gamma `GET /events` with limit/offset paging.

    - an offset above `offset_cap` returns HTTP 422, as reported for the live API past about 2,000;
    - `repeat_once_at` lists offsets whose first request returns the previous page again
      (the offset ignored), after which that offset returns the right page.
    """

    def __init__(
        self,
        events: list[dict],
        *,
        max_limit: int = 500,
        offset_cap: int = 2000,
        repeat_once_at: Iterable[int] = (),
    ):
        self.events = list(events)
        self.max_limit = max_limit
        self.offset_cap = offset_cap
        self.repeat_once_at = set(repeat_once_at)

    def __call__(self, request: RecordedRequest) -> Reply:
        if request.param("after_cursor") is not None:
            return Reply.error(422, message="after_cursor is not accepted on /events")
        limit = min(_int_param(request, "limit", 20), self.max_limit)
        offset = _int_param(request, "offset", 0)
        if offset > self.offset_cap:
            return Reply.error(422, message=f"offset {offset} exceeds the maximum of {self.offset_cap}")
        if offset in self.repeat_once_at:
            self.repeat_once_at.discard(offset)
            offset = max(offset - limit, 0)
        listing = _gamma_filter(self.events, request)
        return Reply.json(listing[offset : offset + limit])


class GammaKeysetEvents:
    """Gamma `GET /events/keyset`: `{"events": [...], "next_cursor": "..."}`, no cursor on the last page.

    `ignore_cursor=True` returns the first page for every request, as the live endpoint was
    reported to do. `missing=True` returns 404, as a deployment without the endpoint would.
    """

    def __init__(
        self,
        events: list[dict],
        *,
        max_limit: int = 500,
        ignore_cursor: bool = False,
        missing: bool = False,
    ):
        self.events = list(events)
        self.max_limit = max_limit
        self.ignore_cursor = ignore_cursor
        self.missing = missing

    def __call__(self, request: RecordedRequest) -> Reply:
        if self.missing:
            return Reply.error(404, message="not found")
        if request.param("offset") is not None:
            return Reply.error(422, message="offset is not accepted on /events/keyset")
        limit = min(_int_param(request, "limit", 20), self.max_limit)
        cursor = request.param("after_cursor") or ""
        start = 0 if self.ignore_cursor or not cursor else int(cursor.removeprefix("k"))
        listing = _gamma_filter(self.events, request)
        payload: dict[str, Any] = {"events": listing[start : start + limit]}
        if start + limit < len(listing):
            payload["next_cursor"] = f"k{start + limit}"
        return Reply.json(payload)
