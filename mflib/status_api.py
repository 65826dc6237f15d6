"""A small read-only HTTP API over outputs/latest, plus a token-guarded trigger for a pipeline run.

Routes (JSON in and out; every error is `{"error": <code>, "detail": <message>}`):

- `GET /api/arbitrage/latest`: outputs/latest/opportunities.json (ArbitrageResponse)
- `GET /api/markets/summary`: outputs/latest/summary.json (MarketSummary)
- `GET /api/health`: outputs/latest/health.json (HealthStatus)
- `POST /api/sync` with `Authorization: Bearer <token>`: start `run_pipeline.py` unless a run
  started here is still going (409); returns 202 and a run handle. The token is read from the
  environment variable MARKETFINDER_SYNC_TOKEN; when it is unset, sync is disabled (503).
- `GET /api/sync`: the state of the last run started here.

Every client address gets a token bucket (default 60 requests per minute). A request that
finds the bucket empty gets 429 with Retry-After. Each request is logged with method, path, status, milliseconds
and client address.

Run it with `python -m mflib.status_api --port 8787` (or `make serve`).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import math
import os
import shlex
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mflib.config import REPO_ROOT

log = logging.getLogger(__name__)

TOKEN_ENV = "MARKETFINDER_SYNC_TOKEN"
ARTIFACT_ROUTES = {
    "/api/arbitrage/latest": "opportunities.json",
    "/api/markets/summary": "summary.json",
    "/api/health": "health.json",
}
SYNC_ROUTE = "/api/sync"
MAX_BODY_BYTES = 64 * 1024


def mark_failed_run(health: Any, outputs_dir: Path) -> Any:
    """Report a run that failed after the last good one, whose health.json was never written.

    outputs/latest keeps the last good run, so without this a monitor would read "healthy" while
    the schedule fails. A newer FAILED.txt turns "healthy" into "degraded" and adds its message
    to lastEtlRun.errors. The HealthStatus keeps its shape.
    """
    latest = outputs_dir / "latest" / "health.json"
    failures = sorted((outputs_dir / "runs").glob("*/FAILED.txt"))
    if not isinstance(health, dict) or not failures or not latest.exists():
        return health
    newest = max(failures, key=lambda path: path.stat().st_mtime)
    if newest.stat().st_mtime <= latest.stat().st_mtime:
        return health
    message = newest.read_text(encoding="utf-8", errors="replace").strip()
    marked = dict(health)
    if marked.get("status") == "healthy":
        marked["status"] = "degraded"
    last_run = dict(marked.get("lastEtlRun") or {})
    errors = list(last_run.get("errors") or [])
    errors.insert(0, f"run {newest.parent.name} failed after this one: {message}"[:2000])
    last_run["errors"] = errors
    marked["lastEtlRun"] = last_run
    return marked


@dataclass
class ApiConfig:
    """Settings of the API: the outputs folder, the command a sync starts, and the rate limit."""

    outputs_dir: Path = REPO_ROOT / "outputs"
    params_path: Path = Path("params/default.yaml")
    # The command POST /api/sync starts; None means `<python> run_pipeline.py --params <params_path>`.
    sync_command: list[str] | None = None
    working_dir: Path = REPO_ROOT
    rate_per_minute: float = 60.0

    def command(self) -> list[str]:
        if self.sync_command:
            return list(self.sync_command)
        return [sys.executable, "run_pipeline.py", "--params", str(self.params_path)]


class ApiError(Exception):
    """An error response: HTTP status, short code and a sentence for the client."""

    def __init__(self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


class RateLimiter:
    """A token bucket per client: `rate_per_minute` tokens, refilled continuously."""

    def __init__(self, rate_per_minute: float, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(rate_per_minute)
        self.refill_per_second = rate_per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Take one token for client; return 0 when allowed, else the seconds until a token is free."""
        now = self._clock()
        with self._lock:
            tokens, updated = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - updated) * self.refill_per_second)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > 4096:
                self._forget_full(now)
            return (1.0 - tokens) / self.refill_per_second

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled completely carries no state, so it can be dropped.
        for client, (tokens, updated) in list(self._buckets.items()):
            if tokens + (now - updated) * self.refill_per_second >= self.capacity:
                del self._buckets[client]


@dataclass
class SyncRun:
    """One pipeline run started through POST /api/sync."""

    handle: str
    command: list[str]
    started_at: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def state(self) -> dict[str, Any]:
        code = self.process.poll()
        if code is None:
            status = "running"
        elif code == 0:
            status = "succeeded"
        else:
            status = "failed"
        return {
            "runHandle": self.handle,
            "status": status,
            "exitCode": code,
            "startedAt": self.started_at,
            "pid": self.process.pid,
            "log": str(self.log_path),
        }


class SyncRunner:
    """Starts at most one pipeline run at a time, as a child process with its output in a log file."""

    def __init__(self, config: ApiConfig, env: Mapping[str, str]):
        self.config = config
        self.env = env
        self.current: SyncRun | None = None
        self._lock = threading.Lock()

    def start(self) -> SyncRun:
        with self._lock:
            if self.current is not None and self.current.process.poll() is None:
                raise ApiError(
                    409, "sync_running",
                    f"run {self.current.handle} is still running; wait for it (GET {SYNC_ROUTE}) and retry",
                )
            handle = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
            log_dir = Path(self.config.outputs_dir) / "sync"
            log_dir.mkdir(parents=True, exist_ok=True)
            log_path = log_dir / f"{handle}.log"
            command = self.config.command()
            # The child needs the pipeline's secrets from the environment but not the sync token.
            child_env = {key: value for key, value in self.env.items() if key != TOKEN_ENV}
            with open(log_path, "wb") as log_file:
                try:
                    process = subprocess.Popen(
                        command, cwd=self.config.working_dir, env=child_env,
                        stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    )
                except OSError as exc:
                    raise ApiError(500, "sync_failed", f"could not start {command[0]!r}: {exc}") from exc
            self.current = SyncRun(handle, command, datetime.now(UTC).isoformat(), log_path, process)
            log.info("sync %s: started pid %d, output in %s", handle, process.pid, log_path)
            return self.current

    def state(self) -> dict[str, Any]:
        with self._lock:
            if self.current is None:
                return {"runHandle": None, "status": "idle"}
            return self.current.state()

    def stop(self, timeout_seconds: float = 5.0) -> None:
        """Terminate a run that is still going (used when the server shuts down)."""
        with self._lock:
            run = self.current
        if run is None or run.process.poll() is not None:
            return
        log.warning("sync %s: terminating pid %d on shutdown", run.handle, run.process.pid)
        run.process.terminate()
        try:
            run.process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            run.process.kill()
            run.process.wait(timeout=timeout_seconds)


class StatusServer(ThreadingHTTPServer):
    """The HTTP server: configuration, rate limiter and sync runner shared by request threads."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], config: ApiConfig, env: Mapping[str, str] = os.environ):
        self.config = config
        self.env = env
        self.limiter = RateLimiter(config.rate_per_minute)
        self.runner = SyncRunner(config, env)
        super().__init__(address, StatusHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        """Stop serving, close the socket and terminate a sync run started here."""
        self.shutdown()
        self.server_close()
        self.runner.stop()


class StatusHandler(BaseHTTPRequestHandler):
    server: StatusServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - name fixed by http.server
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # Requests are logged once, with their timing, by _dispatch.
        pass

    def _dispatch(self, method: str) -> None:
        started = time.perf_counter()
        client = self.client_address[0]
        path = urlsplit(self.path).path.rstrip("/") or "/"
        status = 500
        error_code = ""
        try:
            self._drain_body()
            wait = self.server.limiter.take(client)
            if wait > 0:
                raise ApiError(
                    429, "rate_limited",
                    f"more than {self.server.config.rate_per_minute:g} requests per minute from {client}; "
                    f"retry after {math.ceil(wait)} s",
                    {"Retry-After": str(math.ceil(wait))},
                )
            status, payload, headers = self._route(method, path)
            self._send(status, payload, headers)
        except ApiError as error:
            status, error_code = error.status, error.code
            self._send(status, {"error": error.code, "detail": error.detail}, error.headers)
        except Exception as exc:
            log.exception("%s %s from %s failed", method, path, client)
            status, error_code = 500, "internal_error"
            self._send(500, {"error": "internal_error", "detail": f"{type(exc).__name__}; see the server log"})
        finally:
            milliseconds = (time.perf_counter() - started) * 1000
            level = logging.WARNING if status >= 500 else logging.INFO
            outcome = f" ({error_code})" if error_code else ""
            log.log(level, "%s %s %d %.1f ms %s%s", method, path, status, milliseconds, client, outcome)

    def _drain_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, "body_too_large", f"request body of {length} bytes exceeds {MAX_BODY_BYTES}")
        if length:
            self.rfile.read(length)

    def _route(self, method: str, path: str) -> tuple[int, Any, dict[str, str]]:
        if path in ARTIFACT_ROUTES:
            self._require_method(method, path, ("GET",))
            body = self._artifact(ARTIFACT_ROUTES[path])
            if path == "/api/health":
                body = mark_failed_run(body, Path(self.server.config.outputs_dir))
            return 200, body, {"Cache-Control": "no-cache"}
        if path == SYNC_ROUTE:
            self._require_method(method, path, ("GET", "POST"))
            if method == "GET":
                return 200, self.server.runner.state(), {}
            self._authorize()
            run = self.server.runner.start()
            return 202, run.state(), {"Location": SYNC_ROUTE}
        known = ", ".join([*ARTIFACT_ROUTES, SYNC_ROUTE])
        raise ApiError(404, "not_found", f"no route {path}; known routes: {known}")

    def _require_method(self, method: str, path: str, allowed: tuple[str, ...]) -> None:
        if method not in allowed:
            raise ApiError(
                405, "method_not_allowed", f"{method} is not allowed on {path}; use {' or '.join(allowed)}",
                {"Allow": ", ".join(allowed)},
            )

    def _artifact(self, name: str) -> Any:
        path = Path(self.server.config.outputs_dir) / "latest" / name
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ApiError(
                503, "outputs_missing",
                f"{name} not found in {path.parent}; run the pipeline first with `make run`",
            ) from None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ApiError(500, "artifact_invalid", f"{name} is not valid JSON ({exc}); re-run `make run`") from exc

    def _authorize(self) -> None:
        token = self.server.env.get(TOKEN_ENV)
        if not token:
            raise ApiError(503, "sync_disabled", f"sync is disabled; set {TOKEN_ENV} on the server to enable it")
        header = self.headers.get("Authorization") or ""
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise ApiError(
                401, "unauthorized", "missing bearer token; send `Authorization: Bearer <token>`",
                {"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(presented.strip().encode(), token.encode()):
            raise ApiError(403, "forbidden", "the bearer token is not valid")

    def _send(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def make_server(
    config: ApiConfig, host: str = "127.0.0.1", port: int = 8787, env: Mapping[str, str] = os.environ
) -> StatusServer:
    """Bind the API to host:port (port 0 picks a free one); call serve_forever() to serve."""
    return StatusServer((host, port), config, env)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve MarketFinder's latest outputs as a read-only JSON API.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="TCP port to listen on (default 8787)")
    parser.add_argument("--outputs", type=Path, default=REPO_ROOT / "outputs",
                        help="outputs folder that contains latest/ (default: outputs/ of the repository)")
    parser.add_argument("--params", type=Path, default=Path("params/default.yaml"),
                        help="parameter file for runs started by POST /api/sync (default params/default.yaml)")
    parser.add_argument("--sync-command", default=None,
                        help="command POST /api/sync starts instead of run_pipeline.py, as one shell-quoted string")
    parser.add_argument("--rate-per-minute", type=float, default=60.0,
                        help="requests allowed per client address per minute (default 60)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = ApiConfig(
        outputs_dir=args.outputs,
        params_path=args.params,
        sync_command=shlex.split(args.sync_command) if args.sync_command else None,
        rate_per_minute=args.rate_per_minute,
    )
    server = make_server(config, args.host, args.port)
    sync_state = "enabled" if os.environ.get(TOKEN_ENV) else f"disabled ({TOKEN_ENV} is not set)"
    log.info("status API on %s, outputs %s, sync %s", server.url, config.outputs_dir, sync_state)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("status API: stopping")
    finally:
        server.server_close()
        state = server.runner.state()
        if state["status"] == "running":
            # A pipeline run is left to finish: it replaces outputs/latest only when it succeeds.
            log.info("status API: sync %s (pid %s) keeps running", state["runHandle"], state["pid"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
