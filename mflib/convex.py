"""Publish a run's JSON artifacts to Convex through its HTTP API, or write the requests (dry run).

Three mutations are called, in this order, each as `POST <CONVEX_URL>/api/mutation` with the body
`{path, args, format: "json"}` and the header `Authorization: Convex <CONVEX_DEPLOY_KEY>`:

1. `arbitrage:syncOpportunities`, once per chunk of opportunities. Every document is upserted by
   its stable `opportunityId`. The last chunk carries `final: true`, so the mutation then marks
   every active document that this run did not send as expired (never deleted).
2. `markets:syncSummary` with one entry per platform.
3. `system:updateSyncStatus` with the health of the run.

The HTTP client with its retry rules is in mflib/convex_client.py, and the reference
implementations of these mutations are in convex/ at the repository root. The
deployment URL and the deploy key come from the environment only and are never logged or
written: dry-run files carry placeholders instead.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mflib.convex_client import KEY_ENV, URL_ENV, ConvexClient, MutationCall, encode_json
from mflib.errors import ConfigError, PublishError, SchemaError

log = logging.getLogger(__name__)

URL_PLACEHOLDER = f"<{URL_ENV}>"
KEY_PLACEHOLDER = f"<{KEY_ENV}>"
REQUESTS_FILE = "publish_requests.json"
ARTIFACT_FILES = ("opportunities.json", "summary.json", "health.json")
MODES = ("auto", "live", "dry_run")

# Convex limits per function call. The client keeps every call under them; tests/convex_stub.py
# enforces the same numbers.
MAX_ARGUMENT_BYTES = 16 * 1024 * 1024
MAX_ARRAY_ITEMS = 8192
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_DOCUMENTS_WRITTEN = 16_000

# Contract fields of an ArbitrageOpportunity; every other key goes into the document's `details`.
CONTRACT_FIELDS = frozenset(
    {"id", "buyMarket", "sellMarket", "profitMargin", "confidence", "reasoning", "detectedAt", "expiresAt"}
)


@dataclass(frozen=True)
class PublishSettings:
    """Parameters of the publish layer (the `publish` section of a parameter file)."""

    mode: str = "auto"  # auto: live when CONVEX_URL is set, else dry_run
    mutation_opportunities: str = "arbitrage:syncOpportunities"
    mutation_summary: str = "markets:syncSummary"
    mutation_status: str = "system:updateSyncStatus"
    component: str = "etl"
    timeout_seconds: float = 20.0
    max_retries: int = 3
    backoff_seconds: float = 1.0
    # NOTE: 4 MiB and 500 items are estimates, not measured on Convex. They leave room under
    # Convex's 16 MiB and 8,192-item limits and keep one mutation's reads and writes small.
    max_chunk_bytes: int = 4 * 1024 * 1024
    max_chunk_items: int = 500

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PublishSettings:
        """Build settings from a parameter mapping, checking types and limits; unknown keys are ignored."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name not in params:
                continue
            value = params[spec.name]
            expected = type(spec.default)
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if isinstance(value, bool) or not isinstance(value, expected):
                raise ConfigError(f"publish.{spec.name}", f"expected {expected.__name__}, got {value!r}")
            values[spec.name] = value
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.mode not in MODES:
            raise ConfigError("publish.mode", f"got {self.mode!r}; expected one of {', '.join(MODES)}")
        for name in ("mutation_opportunities", "mutation_summary", "mutation_status"):
            path = getattr(self, name)
            if ":" not in path:
                raise ConfigError(f"publish.{name}", f"got {path!r}; a Convex function path looks like module:function")
        if not 1 <= self.max_chunk_items <= MAX_ARRAY_ITEMS:
            raise ConfigError(
                "publish.max_chunk_items",
                f"got {self.max_chunk_items}; expected 1..{MAX_ARRAY_ITEMS} (Convex's array limit)",
            )
        if not 1024 <= self.max_chunk_bytes <= MAX_ARGUMENT_BYTES:
            raise ConfigError(
                "publish.max_chunk_bytes",
                f"got {self.max_chunk_bytes}; expected 1024..{MAX_ARGUMENT_BYTES} (Convex's 16 MiB argument limit)",
            )
        if self.timeout_seconds <= 0:
            raise ConfigError("publish.timeout_seconds", f"got {self.timeout_seconds}; expected a positive number")
        if self.max_retries < 0:
            raise ConfigError("publish.max_retries", f"got {self.max_retries}; expected 0 or more")
        if self.backoff_seconds < 0:
            raise ConfigError("publish.backoff_seconds", f"got {self.backoff_seconds}; expected 0 or more")


@dataclass
class PublishReport:
    """Outcome of one publish: mode, requests sent (or written), retries, chunks and failed attempts."""

    mode: str
    run_id: str
    calls: int = 0
    retries: int = 0
    chunks: int = 0
    opportunities: int = 0
    errors: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    requests_path: Path | None = None
    health_rewritten: bool = False
    seconds: float = 0.0

    @property
    def retried(self) -> bool:
        return self.retries > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "run_id": self.run_id,
            "calls": self.calls,
            "retries": self.retries,
            "retried": self.retried,
            "chunks": self.chunks,
            "opportunities": self.opportunities,
            "errors": list(self.errors),
            "requests_path": str(self.requests_path) if self.requests_path else None,
            "health_rewritten": self.health_rewritten,
            "seconds": round(self.seconds, 3),
        }

    def summary_frame(self) -> pd.DataFrame:
        """Return the report as a two-column table for notebooks."""
        rows = [
            ("mode", "dry run (no request sent)" if self.mode == "dry_run" else "live"),
            ("opportunities", self.opportunities),
            ("chunks of opportunities", self.chunks),
            ("requests sent" if self.mode == "live" else "requests written", self.calls),
            ("retries", self.retries),
            ("health.json rewritten", self.health_rewritten),
            ("requests file", str(self.requests_path) if self.requests_path else ""),
            ("seconds", round(self.seconds, 2)),
        ]
        return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": str})

    def calls_frame(self) -> pd.DataFrame:
        """Return one row per mutation call: path, label, items, bytes, attempts and the returned value."""
        return pd.DataFrame(self.results, columns=["path", "label", "items", "bytes", "attempts", "value"])


# Artifacts -> mutation arguments (pure functions)


def load_artifacts(run_dir: str | Path) -> dict[str, Any]:
    """Read opportunities.json, summary.json and health.json from a run folder."""
    run_dir = Path(run_dir)
    loaded: dict[str, Any] = {}
    for name in ARTIFACT_FILES:
        path = run_dir / name
        if not path.is_file():
            raise ConfigError(
                "run_dir",
                f"{path} not found; run notebooks/07_report.ipynb for this run first "
                "(or the whole chain with `make run`), because publishing reads its JSON artifacts",
            )
        try:
            loaded[name.removesuffix(".json")] = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise SchemaError(str(path), f"not valid JSON ({exc}); rebuild it with notebooks/07_report.ipynb") from exc
    for name, value in loaded.items():
        if not isinstance(value, dict):
            raise SchemaError(str(run_dir / f"{name}.json"), f"expected a JSON object, got {type(value).__name__}")
    if not isinstance(loaded["opportunities"].get("opportunities"), list):
        raise SchemaError(str(run_dir / "opportunities.json"), "missing the `opportunities` list")
    return loaded


def _field(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj or obj[key] is None:
        raise SchemaError("opportunities.json", f"{where} has no {key!r}; rebuild the artifact with notebooks/07_report.ipynb")
    return obj[key]


def opportunity_document(opportunity: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
    """Map one ArbitrageOpportunity to the fields of an arbitrageOpportunities document.

    `status` and `lastSeenRunId` are set by the mutation, not here. Fields outside the contract
    (legs, fees, risk flags, ...) are kept unchanged under `details`.
    """
    where = f"opportunity {index}"
    opportunity_id = _field(opportunity, "id", where)
    where = f"opportunity {opportunity_id!r}"
    buy = _field(opportunity, "buyMarket", where)
    sell = _field(opportunity, "sellMarket", where)
    if not isinstance(buy, Mapping) or not isinstance(sell, Mapping):
        raise SchemaError("opportunities.json", f"{where}: buyMarket and sellMarket must be objects")
    return {
        "opportunityId": str(opportunity_id),
        "buyMarketTitle": str(_field(buy, "title", f"{where} buyMarket")),
        "sellMarketTitle": str(_field(sell, "title", f"{where} sellMarket")),
        "buyPlatform": str(_field(buy, "platform", f"{where} buyMarket")),
        "sellPlatform": str(_field(sell, "platform", f"{where} sellMarket")),
        "buyPrice": float(_field(buy, "price", f"{where} buyMarket")),
        "sellPrice": float(_field(sell, "price", f"{where} sellMarket")),
        "buyVolume": _optional_number(buy.get("volume")),
        "sellVolume": _optional_number(sell.get("volume")),
        "buyUrl": buy.get("url"),
        "sellUrl": sell.get("url"),
        "profitMargin": float(_field(opportunity, "profitMargin", where)),
        "confidence": float(_field(opportunity, "confidence", where)),
        "reasoning": str(opportunity.get("reasoning") or ""),
        "detectedAt": str(_field(opportunity, "detectedAt", where)),
        "expiresAt": opportunity.get("expiresAt"),
        "details": {key: value for key, value in opportunity.items() if key not in CONTRACT_FIELDS},
    }


def documents_frame(artifacts: Mapping[str, Any]) -> pd.DataFrame:
    """One row per opportunity as it will be stored in Convex, without `details`."""
    documents = [opportunity_document(item, index) for index, item in enumerate(artifacts["opportunities"]["opportunities"])]
    columns = ["opportunityId", "buyPlatform", "buyMarketTitle", "buyPrice", "sellPlatform", "sellMarketTitle",
               "sellPrice", "profitMargin", "confidence", "detectedAt"]
    return pd.DataFrame(documents, columns=columns)


def _optional_number(value: Any) -> float | None:
    return None if value is None else float(value)


def chunk_documents(
    documents: list[dict[str, Any]],
    *,
    max_items: int,
    max_bytes: int,
    envelope_bytes: int,
    path: str,
) -> list[list[dict[str, Any]]]:
    """Split documents into chunks whose serialized arguments stay within max_bytes and max_items.

    `envelope_bytes` is the size of the arguments with an empty document list. A document over
    Convex's 1 MiB limit, or one that cannot fit in a chunk on its own, raises PublishError
    naming its id. Always returns at least one chunk, so an empty run still expires old documents.
    """
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = envelope_bytes
    for document in documents:
        document_bytes = len(encode_json(document))
        name = document.get("opportunityId")
        if document_bytes > MAX_DOCUMENT_BYTES:
            raise PublishError(
                path,
                f"opportunity {name!r} is {document_bytes} bytes serialized, over Convex's "
                f"{MAX_DOCUMENT_BYTES}-byte document limit; shorten its reasoning or extra fields",
            )
        if envelope_bytes + document_bytes > max_bytes:
            raise PublishError(
                path,
                f"opportunity {name!r} is {document_bytes} bytes serialized and does not fit in one "
                f"call of max_chunk_bytes={max_bytes}; raise publish.max_chunk_bytes",
            )
        separator = 1 if current else 0
        if current and (len(current) >= max_items or size + separator + document_bytes > max_bytes):
            chunks.append(current)
            current, size, separator = [], envelope_bytes, 0
        current.append(document)
        size += separator + document_bytes
    chunks.append(current)
    return chunks


def opportunity_calls(artifacts: Mapping[str, Any], run_id: str, settings: PublishSettings) -> list[MutationCall]:
    """Build the syncOpportunities calls: one per chunk, the last one with final=true."""
    response = artifacts["opportunities"]
    documents = [opportunity_document(item, index) for index, item in enumerate(response["opportunities"])]
    seen: set[str] = set()
    for document in documents:
        if document["opportunityId"] in seen:
            raise SchemaError(
                "opportunities.json",
                f"opportunity id {document['opportunityId']!r} appears twice; ids must be unique per run",
            )
        seen.add(document["opportunityId"])

    detected_at = str((response.get("metadata") or {}).get("lastProcessed") or "")

    def arguments(chunk: list[dict[str, Any]], index: int, count: int) -> dict[str, Any]:
        return {
            "runId": run_id,
            "detectedAt": detected_at,
            "chunkIndex": index,
            "chunkCount": count,
            "final": index == count - 1,
            "opportunities": chunk,
        }

    # The widest envelope: large chunk numbers and `false`, which is longer than `true`.
    envelope = len(encode_json(arguments([], 0, 10**9)))
    chunks = chunk_documents(
        documents,
        max_items=settings.max_chunk_items,
        max_bytes=settings.max_chunk_bytes,
        envelope_bytes=envelope,
        path=settings.mutation_opportunities,
    )
    calls = []
    for index, chunk in enumerate(chunks):
        call = MutationCall(
            settings.mutation_opportunities,
            arguments(chunk, index, len(chunks)),
            f"opportunities chunk {index + 1}/{len(chunks)}",
            items=len(chunk),
        )
        calls.append(call)
    return calls


def summary_call(artifacts: Mapping[str, Any], run_id: str, settings: PublishSettings) -> MutationCall:
    """Build the syncSummary call: one entry per platform of summary.json."""
    summary = artifacts["summary"]
    by_platform = summary.get("byPlatform")
    if not isinstance(by_platform, Mapping):
        raise SchemaError("summary.json", "missing the `byPlatform` object; rebuild it with notebooks/07_report.ipynb")
    platforms = []
    for platform, stats in sorted(by_platform.items()):
        stats = stats or {}
        platforms.append(
            {
                "platform": str(platform),
                "totalMarkets": int(stats.get("count") or 0),
                "avgVolume": _optional_number(stats.get("avgVolume")),
                "topCategories": [_category_name(item) for item in stats.get("topCategories") or []],
            }
        )
    args = {
        "runId": run_id,
        "totalMarkets": int(summary.get("totalMarkets") or 0),
        "lastUpdated": str(summary.get("lastUpdated") or ""),
        "nextUpdate": summary.get("nextUpdate"),
        "platforms": platforms,
    }
    return MutationCall(settings.mutation_summary, args, "market summary", items=len(platforms))


def _category_name(item: Any) -> str:
    # topCategories may list plain names or objects such as {"category": ..., "count": ...}.
    if isinstance(item, Mapping):
        return str(item.get("category") or item.get("name") or json.dumps(item, sort_keys=True))
    return str(item)


def status_call(
    artifacts: Mapping[str, Any], run_id: str, settings: PublishSettings, *, publish_retried: bool = False
) -> MutationCall:
    """Build the updateSyncStatus call from health.json; a retried publish turns healthy into degraded."""
    health = artifacts["health"]
    last_run = health.get("lastEtlRun") or {}
    status = str(health.get("status") or "down")
    if publish_retried and status == "healthy":
        status = "degraded"
    errors = [item if isinstance(item, str) else json.dumps(item, sort_keys=True) for item in last_run.get("errors") or []]
    args = {
        "component": settings.component,
        "runId": run_id,
        "status": status,
        "lastSync": str(last_run.get("timestamp") or ""),
        "metrics": {
            "marketsProcessed": int(last_run.get("marketsProcessed") or 0),
            "opportunitiesFound": int(last_run.get("opportunitiesFound") or 0),
            "processingTime": float(last_run.get("duration") or 0.0),
        },
        "errors": errors,
    }
    return MutationCall(settings.mutation_status, args, "sync status", items=1)


# Orchestration


def resolve_mode(mode: str, env: Mapping[str, str]) -> str:
    """Return live or dry_run: auto is live exactly when CONVEX_URL is set."""
    if mode == "auto":
        return "live" if env.get(URL_ENV) else "dry_run"
    if mode == "live" and not env.get(URL_ENV):
        raise ConfigError("publish.mode", f"live publishing needs the environment variable {URL_ENV}; set it or use mode dry_run")
    return mode


def publish_run(
    run_dir: str | Path,
    params: Mapping[str, Any],
    *,
    env: Mapping[str, str] = os.environ,
    now: datetime | None = None,
    con: Any = None,
) -> PublishReport:
    """Publish a run folder's artifacts to Convex, or write the requests in dry-run mode.

    `params` contains the publish settings (see PublishSettings) and optionally `run_id` (default:
    the folder name). With `con` (the warehouse connection) and a retried live publish,
    health.json is rebuilt as degraded through mflib.artifacts. Raises PublishError when a
    mutation fails, ConfigError when artifacts or settings are missing.
    """
    started = time.perf_counter()
    run_dir = Path(run_dir)
    settings = PublishSettings.from_params(params)
    run_id = str(params.get("run_id") or run_dir.name)
    mode = resolve_mode(settings.mode, env)
    artifacts = load_artifacts(run_dir)
    calls = opportunity_calls(artifacts, run_id, settings) + [summary_call(artifacts, run_id, settings)]
    report = PublishReport(
        mode=mode,
        run_id=run_id,
        chunks=len(calls) - 1,
        opportunities=len(artifacts["opportunities"]["opportunities"]),
    )
    log.info(
        "publish %s: start (%s, %d opportunities in %d chunks)", run_id, mode, report.opportunities, report.chunks
    )
    if mode == "dry_run":
        calls.append(status_call(artifacts, run_id, settings))
        report.requests_path = write_dry_run(run_dir / REQUESTS_FILE, calls, run_id=run_id, now=now)
        report.calls = len(calls)
        report.results = [_result_row(call, attempts=0, value=None) for call in calls]
    else:
        _publish_live(calls, artifacts, run_id, settings, env, report, con=con, run_dir=run_dir)
        if report.retried and not report.health_rewritten:
            # Only the status call was retried, so health.json is rebuilt after it.
            report.health_rewritten = rewrite_health(con, run_id, run_dir)
    report.seconds = time.perf_counter() - started
    log.info(
        "publish %s: done (%s, %d calls, %d retries, %.2f s)",
        run_id, mode, report.calls, report.retries, report.seconds,
    )
    return report


def _publish_live(
    calls: list[MutationCall],
    artifacts: Mapping[str, Any],
    run_id: str,
    settings: PublishSettings,
    env: Mapping[str, str],
    report: PublishReport,
    *,
    con: Any,
    run_dir: Path,
) -> None:
    deploy_key = env.get(KEY_ENV)
    if not deploy_key:
        raise PublishError(
            settings.mutation_opportunities,
            f"{URL_ENV} is set but {KEY_ENV} is not; set the deploy key, or unset {URL_ENV} for a dry run",
        )
    client = ConvexClient(
        env[URL_ENV],
        deploy_key,
        timeout_seconds=settings.timeout_seconds,
        max_retries=settings.max_retries,
        backoff_seconds=settings.backoff_seconds,
    )
    try:
        with client:
            for call in calls:
                _send(client, call, report)
            # The status call goes last so that it can report retries of the calls before it,
            # with the health rebuilt as degraded when that is possible.
            if client.retries and rewrite_health(con, run_id, run_dir):
                report.health_rewritten = True
                artifacts = {**artifacts, "health": load_artifacts(run_dir)["health"]}
            last = status_call(artifacts, run_id, settings, publish_retried=client.retries > 0)
            _send(client, last, report)
    finally:
        report.calls = client.calls
        report.retries = client.retries
        report.errors = list(client.errors)


def _send(client: ConvexClient, call: MutationCall, report: PublishReport) -> None:
    value, attempts = client.mutation(call)
    report.results.append(_result_row(call, attempts=attempts, value=value))
    log.info("Convex %s (%s): %d items, value %s", call.path, call.label, call.items, json.dumps(value, default=str))


def _result_row(call: MutationCall, *, attempts: int, value: Any) -> dict[str, Any]:
    return {
        "path": call.path,
        "label": call.label,
        "items": call.items,
        "bytes": len(encode_json(call.args)),
        "attempts": attempts,
        "value": json.dumps(value, default=str) if value is not None else "",
    }


def write_dry_run(path: Path, calls: list[MutationCall], *, run_id: str, now: datetime | None = None) -> Path:
    """Write the exact requests a live publish would send, with the URL and key as placeholders."""
    now = now or datetime.now(UTC)
    document = {
        "mode": "dry_run",
        "runId": run_id,
        "generatedAt": now.isoformat(),
        "note": f"Set {URL_ENV} and {KEY_ENV} in the environment to send these requests.",
        "requests": [
            {
                "method": "POST",
                "url": f"{URL_PLACEHOLDER}/api/mutation",
                "headers": {"Authorization": f"Convex {KEY_PLACEHOLDER}", "Content-Type": "application/json"},
                "body": call.body(),
            }
            for call in calls
        ],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("publish %s: dry run, %d requests written to %s", run_id, len(calls), path)
    return path


def rewrite_health(con: Any, run_id: str, run_dir: Path) -> bool:
    """Rebuild health.json with publish_retried=True through mflib.artifacts; return whether it was written."""
    try:
        from mflib import artifacts as artifact_module
    except ImportError:
        artifact_module = None
    build = getattr(artifact_module, "build_health", None)
    write = getattr(artifact_module, "write_artifact", None)
    if con is None or build is None or write is None:
        log.warning(
            "publish %s: retried, but health.json was not rewritten as degraded (%s)",
            run_id, "no warehouse connection given" if con is None else "mflib.artifacts has no build_health/write_artifact",
        )
        return False
    health = build(con, run_id, publish_retried=True)
    write("health", health, run_dir)
    log.info("publish %s: retried, so health.json was rewritten with status %s", run_id, health.get("status"))
    return True
