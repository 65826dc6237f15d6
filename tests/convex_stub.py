"""A local stand-in for the Convex HTTP API, for tests: `POST /api/mutation` on 127.0.0.1.

It checks the deploy key and the body shape and enforces Convex's per-call limits, which tests
can lower. It implements the three mutations of convex/ with the same argument validation and
semantics. Documents are stored per table and upserted by their key, and the final chunk
expires absent opportunities. Each mutation runs on a copy of the tables
and commits only when it succeeds, as a Convex transaction does.

`fail_next("function_error" | "server_error" | "rate_limited" | "timeout", ...)` scripts the
next responses.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mflib.convex import (
    MAX_ARGUMENT_BYTES,
    MAX_ARRAY_ITEMS,
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENTS_WRITTEN,
)

OPPORTUNITY_FIELDS = frozenset(
    {
        "opportunityId", "buyMarketTitle", "sellMarketTitle", "buyPlatform", "sellPlatform",
        "buyPrice", "sellPrice", "buyVolume", "sellVolume", "buyUrl", "sellUrl",
        "profitMargin", "confidence", "reasoning", "detectedAt", "expiresAt", "details",
    }
)
SYNC_OPPORTUNITIES_ARGS = frozenset({"runId", "detectedAt", "chunkIndex", "chunkCount", "final", "opportunities"})
SYNC_SUMMARY_ARGS = frozenset({"runId", "totalMarkets", "lastUpdated", "nextUpdate", "platforms"})
PLATFORM_FIELDS = frozenset({"platform", "totalMarkets", "avgVolume", "topCategories"})
STATUS_ARGS = frozenset({"component", "runId", "status", "lastSync", "metrics", "errors"})
METRIC_FIELDS = frozenset({"marketsProcessed", "opportunitiesFound", "processingTime"})
FAILURE_KINDS = ("function_error", "server_error", "rate_limited", "timeout")


class FunctionError(Exception):
    """The mutation threw, so the stub returns HTTP 560 and {"status": "error", "errorMessage": ...}."""


class _Rejected(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _encoded_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _check_keys(value: Any, expected: frozenset[str], where: str) -> None:
    if not isinstance(value, dict):
        raise FunctionError(f"ArgumentValidationError: {where} must be an object")
    missing = sorted(expected - set(value))
    extra = sorted(set(value) - expected)
    if missing:
        raise FunctionError(f"ArgumentValidationError: {where} is missing {', '.join(missing)}")
    if extra:
        raise FunctionError(f"ArgumentValidationError: {where} has unexpected fields {', '.join(extra)}")


class ConvexStub:
    """The stub server and its stored tables; use as a context manager."""

    def __init__(
        self,
        deploy_key: str = "stub-deploy-key",
        *,
        max_argument_bytes: int = MAX_ARGUMENT_BYTES,
        max_array_items: int = MAX_ARRAY_ITEMS,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        max_documents_written: int = MAX_DOCUMENTS_WRITTEN,
        timeout_sleep_seconds: float = 2.0,
    ):
        self.deploy_key = deploy_key
        self.max_argument_bytes = max_argument_bytes
        self.max_array_items = max_array_items
        self.max_document_bytes = max_document_bytes
        self.max_documents_written = max_documents_written
        self.timeout_sleep_seconds = timeout_sleep_seconds
        self.tables: dict[str, dict[str, dict[str, Any]]] = {
            "arbitrageOpportunities": {},
            "marketSummaries": {},
            "systemStatus": {},
        }
        self.requests: list[dict[str, Any]] = []
        self._script: deque[str] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.mutations = {
            "arbitrage:syncOpportunities": self._sync_opportunities,
            "markets:syncSummary": self._sync_summary,
            "system:updateSyncStatus": self._update_sync_status,
        }

    # Lifecycle

    def start(self) -> ConvexStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - name fixed by http.server
                stub._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ConvexStub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stub first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # Test helpers

    def fail_next(self, *kinds: str) -> None:
        """Fail the next requests with these failures, in order, then respond normally again."""
        for kind in kinds:
            if kind not in FAILURE_KINDS:
                raise ValueError(f"unknown failure {kind!r}; expected one of {FAILURE_KINDS}")
        with self._lock:
            self._script.extend(kinds)

    def documents(self, table: str) -> list[dict[str, Any]]:
        """Return a copy of a table's documents sorted by key."""
        with self._lock:
            rows = self.tables[table]
            return [copy.deepcopy(rows[key]) for key in sorted(rows)]

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {table: self.documents(table) for table in self.tables}

    # HTTP

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        with self._lock:
            failure = self._script.popleft() if self._script else None
        record: dict[str, Any] = {"bytes": len(raw), "path": None, "status": None, "failure": failure}
        self.requests.append(record)

        if failure == "timeout":
            # Hold the request past the client's timeout, then drop it without applying it.
            self._stopping.wait(self.timeout_sleep_seconds)
            record["status"] = "dropped"
            return
        if failure == "server_error":
            record["status"] = 500
            self._reply(request, 500, {"code": "InternalServerError", "message": "scripted failure"})
            return

        if failure == "rate_limited":
            record["status"] = 429
            self._reply(request, 429, {"code": "RateLimited", "message": "scripted failure"}, {"Retry-After": "0"})
            return

        try:
            path, args = self._check_request(request, raw)
            record["path"] = path
            if failure == "function_error":
                raise FunctionError("Uncaught Error: scripted function error")
            value = self._run_mutation(path, args)
        except _Rejected as rejected:
            record["status"] = rejected.status
            self._reply(request, rejected.status, {"code": rejected.code, "message": rejected.message})
        except FunctionError as error:
            record["status"] = 560
            self._reply(request, 560, {"status": "error", "errorMessage": str(error), "logLines": []})
        else:
            record["status"] = 200
            self._reply(request, 200, {"status": "success", "value": value, "logLines": []})

    def _reply(
        self, request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode("utf-8")
        try:
            request.send_response(status)
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _check_request(self, request: BaseHTTPRequestHandler, raw: bytes) -> tuple[str, dict[str, Any]]:
        if request.path != "/api/mutation":
            raise _Rejected(404, "NotFound", f"no route {request.path}")
        if request.headers.get("Authorization") != f"Convex {self.deploy_key}":
            raise _Rejected(401, "BadDeployKey", "the deploy key is missing or invalid")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise _Rejected(400, "BadJsonBody", f"body is not JSON: {exc}") from exc
        if not isinstance(body, dict) or set(body) != {"path", "args", "format"}:
            raise _Rejected(400, "BadJsonBody", "body must be {path, args, format}")
        if body["format"] != "json" or not isinstance(body["path"], str) or not isinstance(body["args"], dict):
            raise _Rejected(400, "BadJsonBody", "format must be 'json', path a string and args an object")
        if _encoded_size(body["args"]) > self.max_argument_bytes:
            raise _Rejected(400, "ArgumentsTooLarge", f"arguments exceed {self.max_argument_bytes} bytes")
        if body["path"] not in self.mutations:
            raise _Rejected(404, "FunctionNotFound", f"no public mutation {body['path']!r}")
        return body["path"], body["args"]

    def _run_mutation(self, path: str, args: dict[str, Any]) -> Any:
        with self._lock:
            tables = copy.deepcopy(self.tables)
            value, written = self.mutations[path](tables, args)
            if written > self.max_documents_written:
                raise FunctionError(f"TooManyWrites: {written} documents written, limit {self.max_documents_written}")
            self.tables = tables
        return value

    def _check_document(self, document: dict[str, Any]) -> None:
        size = _encoded_size(document)
        if size > self.max_document_bytes:
            raise FunctionError(f"document of {size} bytes exceeds {self.max_document_bytes} bytes")

    # Mutations, mirroring convex/*.ts

    def _sync_opportunities(self, tables: dict, args: dict[str, Any]) -> tuple[dict[str, int], int]:
        _check_keys(args, SYNC_OPPORTUNITIES_ARGS, "args")
        items = args["opportunities"]
        if not isinstance(items, list):
            raise FunctionError("ArgumentValidationError: opportunities must be an array")
        if len(items) > self.max_array_items:
            raise FunctionError(f"ArgumentValidationError: array of {len(items)} items exceeds {self.max_array_items}")
        table = tables["arbitrageOpportunities"]
        counts = {"inserted": 0, "updated": 0, "unchanged": 0, "expired": 0}
        for index, item in enumerate(items):
            _check_keys(item, OPPORTUNITY_FIELDS, f"opportunities[{index}]")
            document = {**item, "status": "active", "lastSeenRunId": args["runId"]}
            self._check_document(document)
            existing = table.get(item["opportunityId"])
            if existing is None:
                counts["inserted"] += 1
            elif existing == document:
                counts["unchanged"] += 1
                continue
            else:
                counts["updated"] += 1
            table[item["opportunityId"]] = document
        if args["final"]:
            for key, document in table.items():
                if document["status"] == "active" and document["lastSeenRunId"] != args["runId"]:
                    table[key] = {**document, "status": "expired", "expiredInRunId": args["runId"]}
                    counts["expired"] += 1
        return counts, counts["inserted"] + counts["updated"] + counts["expired"]

    def _sync_summary(self, tables: dict, args: dict[str, Any]) -> tuple[dict[str, int], int]:
        _check_keys(args, SYNC_SUMMARY_ARGS, "args")
        table = tables["marketSummaries"]
        written = 0
        for index, entry in enumerate(args["platforms"]):
            _check_keys(entry, PLATFORM_FIELDS, f"platforms[{index}]")
            document = {
                **entry,
                "lastUpdated": args["lastUpdated"],
                "nextUpdate": args["nextUpdate"],
                "runId": args["runId"],
            }
            if table.get(entry["platform"]) != document:
                table[entry["platform"]] = document
                written += 1
        return {"platforms": len(args["platforms"]), "written": written}, written

    def _update_sync_status(self, tables: dict, args: dict[str, Any]) -> tuple[dict[str, Any], int]:
        _check_keys(args, STATUS_ARGS, "args")
        _check_keys(args["metrics"], METRIC_FIELDS, "metrics")
        if args["status"] not in ("healthy", "degraded", "down"):
            raise FunctionError(f"ArgumentValidationError: status {args['status']!r} is not healthy, degraded or down")
        table = tables["systemStatus"]
        document = dict(args)
        changed = table.get(args["component"]) != document
        if changed:
            table[args["component"]] = document
        return {"component": args["component"], "changed": changed}, int(changed)


# Hand-written artifacts in the contract shapes of opportunities.json, summary.json, health.json


def sample_opportunity(number: int, *, margin: float = 0.031) -> dict[str, Any]:
    """An ArbitrageOpportunity for a made-up pair `number`, with a few extra fields."""
    return {
        "id": f"opp-test-{number:05d}",
        "buyMarket": {
            "title": f"Will test city {number} record snow before March?",
            "platform": "kalshi",
            "price": 0.41,
            "volume": 1520.0,
            "url": f"https://kalshi.example/markets/TEST-{number}",
        },
        "sellMarket": {
            "title": f"Test city {number} snowfall before March",
            "platform": "polymarket",
            "price": 0.47,
            "volume": None,
            "url": f"https://polymarket.example/event/test-{number}",
        },
        "profitMargin": margin,
        "confidence": 0.82,
        "reasoning": "Same question and close date; YES on Kalshi plus NO on Polymarket costs 0.94.",
        "detectedAt": "2026-11-02T10:00:00+00:00",
        "expiresAt": "2026-11-02T10:30:00+00:00",
        "pairId": f"TEST-{number}|0xtest{number:05d}",
        "direction": "kalshi_yes_polymarket_no",
        "riskFlags": ["top_of_book_only"],
        "fees": {"kalshi": 0.02, "polymarket": 0.0, "total": 0.02},
    }


def write_artifacts(run_dir, opportunities: list[dict[str, Any]], *, status: str = "healthy") -> None:
    """Write opportunities.json, summary.json and health.json for a made-up run into run_dir."""
    run_dir.mkdir(parents=True, exist_ok=True)
    response = {
        "opportunities": opportunities,
        "metadata": {
            "totalFound": len(opportunities),
            "lastProcessed": "2026-11-02T10:00:00+00:00",
            "processingTime": 12.5,
            "confidence": {"high": len(opportunities), "medium": 0, "low": 0},
        },
    }
    summary = {
        "totalMarkets": 30,
        "byPlatform": {
            "kalshi": {"count": 18, "avgVolume": 950.5, "topCategories": ["Climate", "Economics"]},
            "polymarket": {"count": 12, "avgVolume": 4100.0, "topCategories": ["Weather"]},
        },
        "lastUpdated": "2026-11-02T10:00:00+00:00",
        "nextUpdate": "2026-11-02T10:30:00+00:00",
    }
    health = {
        "status": status,
        "uptime": 1.0,
        "lastEtlRun": {
            "timestamp": "2026-11-02T10:00:00+00:00",
            "duration": 12.5,
            "marketsProcessed": 30,
            "opportunitiesFound": len(opportunities),
            "errors": [],
        },
        "performance": {"avgResponseTime": 0.2, "successRate": 1.0, "errorRate": 0.0},
    }
    for name, value in (("opportunities", response), ("summary", summary), ("health", health)):
        (run_dir / f"{name}.json").write_text(json.dumps(value, indent=2), encoding="utf-8")
