"""The JSON artifacts of a run: opportunities.json, summary.json and health.json.

Each is built from the warehouse, checked against its JSON Schema (package data in mflib/schemas)
and only then written, atomically, into the run folder.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import jsonschema
import pandas as pd

from mflib import health, warehouse
from mflib.errors import ArtifactValidationError

log = logging.getLogger(__name__)

ARTIFACT_NAMES = ("opportunities", "summary", "health")
PLATFORMS = ("kalshi", "polymarket")
TOP_CATEGORIES = 5

# Confidence bands of the metadata: high above 0.8, medium from 0.6 to 0.8 inclusive, low below 0.6.
HIGH_CONFIDENCE = 0.8
MEDIUM_CONFIDENCE = 0.6


def iso_utc(moment: datetime | pd.Timestamp) -> str:
    """Format a moment as ISO 8601 in UTC with a Z suffix, e.g. 2026-12-04T20:00:00Z."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def confidence_band(confidence: float) -> str:
    """Return "high", "medium" or "low" for a confidence between 0 and 1."""
    if confidence > HIGH_CONFIDENCE:
        return "high"
    if confidence >= MEDIUM_CONFIDENCE:
        return "medium"
    return "low"


def load_opportunities(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict]:
    """Return the run's opportunity objects (column opportunity_json of table opportunities)."""
    frame = warehouse.read_run(con, "opportunities", run_id)
    if frame.empty:
        return []
    if "opportunity_json" not in frame.columns:
        raise ArtifactValidationError(
            "opportunities",
            f"table opportunities of run {run_id} has no opportunity_json column; re-run the price layer",
        )
    objects = []
    for position, text in enumerate(frame["opportunity_json"]):
        try:
            value = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ArtifactValidationError(
                "opportunities",
                f"row {position} of table opportunities (run {run_id}) has opportunity_json={str(text)[:80]!r}, "
                f"which is not a JSON object ({exc}); re-run the price layer",
            ) from exc
        if not isinstance(value, dict):
            raise ArtifactValidationError(
                "opportunities",
                f"row {position} of table opportunities (run {run_id}) holds a JSON {type(value).__name__}, expected an object",
            )
        objects.append(value)
    return objects


def build_opportunities(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    processing_time: float,
    now: datetime | None = None,
) -> dict:
    """Build the ArbitrageResponse of a run, opportunities sorted by profitMargin from highest to lowest."""
    now = now or datetime.now(UTC)
    opportunities = load_opportunities(con, run_id)
    opportunities.sort(key=lambda item: (-_number(item.get("profitMargin")), str(item.get("id", ""))))
    bands = {"high": 0, "medium": 0, "low": 0}
    for item in opportunities:
        bands[confidence_band(_number(item.get("confidence")))] += 1
    return {
        "opportunities": opportunities,
        "metadata": {
            "totalFound": len(opportunities),
            "lastProcessed": iso_utc(now),
            "processingTime": round(max(float(processing_time), 0.0), 3),
            "confidence": bands,
        },
    }


def build_summary(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    now: datetime | None = None,
    schedule_minutes: int = 30,
) -> dict:
    """Build the MarketSummary of a run: market counts, mean volume and top categories per venue."""
    now = now or datetime.now(UTC)
    markets = warehouse.read_run(con, "markets", run_id)
    by_platform = {platform: platform_summary(markets, platform) for platform in PLATFORMS}
    last_updated = now
    if not markets.empty and "fetched_at" in markets.columns:
        fetched = pd.to_datetime(markets["fetched_at"], utc=True, errors="coerce").max()
        if not pd.isna(fetched):
            last_updated = fetched
    return {
        "totalMarkets": int(len(markets)),
        "byPlatform": by_platform,
        "lastUpdated": iso_utc(last_updated),
        "nextUpdate": iso_utc(now + timedelta(minutes=schedule_minutes)),
    }


def platform_summary(markets: pd.DataFrame, platform: str) -> dict:
    """Count, mean USD volume and most frequent categories of one venue's markets."""
    if markets.empty or "platform" not in markets.columns:
        return {"count": 0, "avgVolume": 0.0, "topCategories": []}
    rows = markets[markets["platform"] == platform]
    volume = pd.to_numeric(rows["volume_usd"], errors="coerce") if "volume_usd" in rows.columns else pd.Series()
    average = float(volume.mean()) if volume.notna().any() else 0.0
    categories: list[str] = []
    if "category" in rows.columns:
        names = rows["category"].astype("string").str.strip()
        names = names[names.notna() & (names != "")]
        counts = names.value_counts()
        # Equal counts are ordered by name so the artifact does not change between identical runs.
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        categories = [str(name) for name, _ in ranked[:TOP_CATEGORIES]]
    return {"count": int(len(rows)), "avgVolume": round(max(average, 0.0), 2), "topCategories": categories}


def build_health(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    now: datetime | None = None,
    publish_retried: bool = False,
    extra_errors: Iterable[str] = (),
) -> dict:
    """Build the HealthStatus of a run from its tables and the history in table runs.

    Every problem found (a failed or partial venue, LLM review errors, a publish retry, each of
    extra_errors) is listed in lastEtlRun.errors and makes the status degraded. A run without
    markets is down, and its first error states that.
    """
    now = now or datetime.now(UTC)
    markets = count_run_rows(con, "markets", run_id)
    opportunities = count_run_rows(con, "opportunities", run_id)
    problems = health.venue_problems(warehouse.read_run(con, "venue_status", run_id))
    problems += health.review_problems(
        warehouse.read_run(con, "reviewed_pairs", run_id),
        warehouse.read_run(con, "review_usage", run_id),
    )
    if publish_retried:
        problems.append("publish: a Convex mutation succeeded only after a retry")
    problems += [str(error) for error in extra_errors]
    status = health.compute_status(markets, problems)
    if markets == 0:
        problems.insert(0, f"markets: no markets were stored for run {run_id}")

    runs = _read_runs(con)
    started_at = _run_started(runs, con, run_id, now)
    duration = run_seconds(con, run_id)
    history = health.finished_runs(runs, run_id)
    current_ok = status != "down"
    result = {
        "status": status,
        "uptime": health.uptime(history, started_at, current_ok),
        "lastEtlRun": {
            "timestamp": iso_utc(started_at),
            "duration": round(duration, 3),
            "marketsProcessed": markets,
            "opportunitiesFound": opportunities,
            "errors": problems,
        },
        "performance": health.performance(history, duration, current_ok),
    }
    log.info("health of run %s: %s with %d problems", run_id, status, len(problems))
    return result


@cache
def load_schema(name: str) -> dict:
    """Return the JSON Schema of an artifact from the package data."""
    if name not in ARTIFACT_NAMES:
        raise ValueError(f"unknown artifact {name!r}; expected one of {', '.join(ARTIFACT_NAMES)}")
    text = resources.files("mflib").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate_artifact(name: str, obj: dict) -> None:
    """Validate obj against the artifact's JSON Schema.

    Raises ArtifactValidationError naming the first failing path, for example $.opportunities[1].buyMarket.price.
    """
    schema = load_schema(name)
    format_checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    # jsonschema checks "date-time" only when rfc3339-validator is installed and silently passes
    # every string otherwise, so a missing package would let a bad timestamp reach the website.
    if "date-time" not in format_checker.checkers:
        raise ArtifactValidationError(
            name, "cannot check date-time fields because rfc3339-validator is not installed; "
            "reinstall with `pip install -e .`, which pulls it in through jsonschema[format-nongpl]"
        )
    validator = jsonschema.Draft202012Validator(schema, format_checker=format_checker)
    errors = sorted(validator.iter_errors(obj), key=lambda error: [str(part) for part in error.absolute_path])
    if not errors:
        return
    first = errors[0]
    more = f" ({len(errors) - 1} more errors)" if len(errors) > 1 else ""
    raise ArtifactValidationError(name, f"at {first.json_path}: {first.message}{more}")


def write_artifact(name: str, obj: dict, run_dir: Path) -> Path:
    """Validate obj, then write it to <run_dir>/<name>.json atomically (temporary file + os.replace).

    Raises ArtifactValidationError without touching an earlier file when obj does not validate.
    """
    validate_artifact(name, obj)
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError as exc:
        # JSON Schema accepts NaN and infinity as numbers, but JSON has no such values.
        raise ArtifactValidationError(name, f"{exc}; replace NaN or infinite numbers with null or a value") from exc
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / f"{name}.json"
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=run_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates the file readable by its owner only, but a web server must read artifacts.
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    log.info("wrote %s (%d bytes)", target, target.stat().st_size)
    return target


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if number != number else number


def count_run_rows(con: duckdb.DuckDBPyConnection, table: str, run_id: str) -> int:
    """Return the number of the run's rows in table (0 when the table does not exist)."""
    if not warehouse.table_exists(con, table):
        return 0
    row = con.execute(f'SELECT count(*) FROM "{table}" WHERE run_id = ?', [run_id]).fetchone()
    return int(row[0]) if row else 0


def _read_runs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not warehouse.table_exists(con, "runs"):
        return pd.DataFrame()
    return con.execute("SELECT run_id, started_at, finished_at, status, error FROM runs").df()


def _run_started(runs: pd.DataFrame, con: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> datetime:
    """Return when the run started: table runs, else its first layer record, else now."""
    if not runs.empty:
        match = runs.loc[runs["run_id"] == run_id, "started_at"].dropna()
        if len(match):
            return _utc(match.iloc[0])
    if warehouse.table_exists(con, "layer_stats"):
        row = con.execute("SELECT min(recorded_at) FROM layer_stats WHERE run_id = ?", [run_id]).fetchone()
        if row and row[0] is not None:
            return _utc(row[0])
    return now


def _utc(value: object) -> datetime:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()


def run_seconds(con: duckdb.DuckDBPyConnection, run_id: str) -> float:
    """Return the seconds of the run's layers recorded so far in table layer_stats (0 without any)."""
    if not warehouse.table_exists(con, "layer_stats"):
        return 0.0
    row = con.execute("SELECT coalesce(sum(seconds), 0) FROM layer_stats WHERE run_id = ?", [run_id]).fetchone()
    return max(float(row[0]), 0.0) if row else 0.0
