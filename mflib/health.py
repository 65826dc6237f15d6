"""Health of a run: what went wrong in which layer, the resulting status, and an alert webhook.

The functions that judge a run take DataFrames read from the warehouse, so they can be tested
without one. `mflib.artifacts.build_health` reads the tables and assembles health.json.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd

log = logging.getLogger(__name__)

ALERT_URL_ENV_VAR = "MARKETFINDER_ALERT_WEBHOOK_URL"

# Environment variables whose values must never leave the machine in an alert.
SECRET_ENV_VARS = (
    "ANTHROPIC_API_KEY",
    "CONVEX_URL",
    "CONVEX_DEPLOY_KEY",
    "KALSHI_API_KEY",
    "POLYMARKET_API_KEY",
    ALERT_URL_ENV_VAR,
)

# A finished run counts as failed when its status is one of these or its error column is set.
FAILED_RUN_STATUSES = frozenset({"failed", "error"})
RUNNING_STATUS = "running"

PERFORMANCE_WINDOW_RUNS = 20
UPTIME_WINDOW = timedelta(days=7)
MAX_ALERT_ERRORS = 10
MAX_ALERT_ERROR_CHARS = 300


def venue_problems(venue_status: pd.DataFrame) -> list[str]:
    """Describe each venue that failed or was fetched only partially (table venue_status)."""
    problems: list[str] = []
    if venue_status.empty:
        return problems
    for row in venue_status.to_dict("records"):
        platform = row.get("platform") or "unknown venue"
        error = _text(row.get("error"))
        if not as_bool(row.get("ok"), default=True):
            problems.append(f"{platform}: fetch failed: {error or 'no error message recorded'}")
        elif as_bool(row.get("partial"), default=False):
            pages = _count(row.get("pages"))
            markets = _count(row.get("markets"))
            detail = f" ({error})" if error else ""
            problems.append(f"{platform}: fetch incomplete after {pages} pages and {markets} markets{detail}")
    return problems


def review_problems(reviewed_pairs: pd.DataFrame, review_usage: pd.DataFrame) -> list[str]:
    """Describe LLM review failures: pairs with review_status 'error' and errors counted in review_usage."""
    problems: list[str] = []
    if not reviewed_pairs.empty and "review_status" in reviewed_pairs.columns:
        failed = int((reviewed_pairs["review_status"] == "error").sum())
        if failed:
            problems.append(f"review: the LLM review failed for {failed} pairs")
    usage_errors = count_usage_errors(review_usage)
    # The same failed pairs are counted in review_usage.pairs_error; report them once.
    if usage_errors and not problems:
        problems.append(f"review: the LLM client recorded {usage_errors} errors")
    return problems


def count_usage_errors(review_usage: pd.DataFrame) -> int:
    """Count errors in table review_usage: the sum of `pairs_error` (the review layer's count of
    pairs whose review failed), else of an `errors` column, else non-empty `error` texts."""
    if review_usage.empty:
        return 0
    for column in ("pairs_error", "errors"):
        if column in review_usage.columns:
            return int(pd.to_numeric(review_usage[column], errors="coerce").fillna(0).sum())
    if "error" in review_usage.columns:
        texts = review_usage["error"].astype("string").fillna("").str.strip()
        return int((texts != "").sum())
    return 0


def compute_status(markets: int, problems: Iterable[str]) -> str:
    """Return "down" without markets, "degraded" when any problem was found, else "healthy"."""
    if markets <= 0:
        return "down"
    if any(True for _ in problems):
        return "degraded"
    return "healthy"


def run_failed(status: object, error: object) -> bool:
    """Return True when a finished run of table runs counts as failed."""
    return str(status or "").lower() in FAILED_RUN_STATUSES or bool(_text(error))


def finished_runs(runs: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Return the runs other than run_id that have finished, newest first, with `seconds` and `failed` columns."""
    columns = ["run_id", "started_at", "seconds", "failed"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    frame = runs[(runs["run_id"] != run_id) & runs["finished_at"].notna()].copy()
    # NOTE: a run that crashed before the runner recorded its end stays "running" and is not counted.
    frame = frame[frame["status"].astype("string").fillna("") != RUNNING_STATUS]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    started = pd.to_datetime(frame["started_at"], utc=True)
    finished = pd.to_datetime(frame["finished_at"], utc=True)
    frame["started_at"] = started
    frame["seconds"] = (finished - started).dt.total_seconds().clip(lower=0)
    frame["failed"] = [run_failed(s, e) for s, e in zip(frame["status"], frame["error"], strict=True)]
    return frame.sort_values("started_at", ascending=False)[columns].reset_index(drop=True)


def performance(history: pd.DataFrame, current_seconds: float, current_ok: bool) -> dict[str, float]:
    """Compute avgResponseTime, successRate and errorRate over the latest runs, the current one included."""
    recent = history.head(PERFORMANCE_WINDOW_RUNS - 1)
    seconds = [float(value) for value in recent["seconds"]] + [float(current_seconds)]
    outcomes = [not bool(value) for value in recent["failed"]] + [bool(current_ok)]
    success_rate = sum(outcomes) / len(outcomes)
    return {
        "avgResponseTime": round(sum(seconds) / len(seconds), 3),
        "successRate": round(success_rate, 4),
        "errorRate": round(1.0 - success_rate, 4),
    }


def uptime(history: pd.DataFrame, started_at: datetime, current_ok: bool) -> float:
    """Return the share of runs started within UPTIME_WINDOW before started_at that succeeded, the current one included."""
    window = history[history["started_at"] >= pd.Timestamp(started_at - UPTIME_WINDOW)]
    outcomes = [not bool(value) for value in window["failed"]] + [bool(current_ok)]
    return round(sum(outcomes) / len(outcomes), 4)


def redact(text: str) -> str:
    """Replace the value of every secret environment variable found in text with [redacted]."""
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name, "")
        if len(value) >= 4 and value in text:
            text = text.replace(value, "[redacted]")
    return text


def alert_message(health: dict, run_id: str | None = None, *, now: datetime | None = None) -> dict:
    """Build the webhook body: status, run, the first errors (secrets redacted) and a timestamp.

    run is run_id, else lastEtlRun.runId, else lastEtlRun.timestamp.

    `text` repeats the essentials in one line so chat webhooks that show only that field work too.
    """
    now = now or datetime.now(UTC)
    last_run = health.get("lastEtlRun") or {}
    run = run_id or last_run.get("runId") or last_run.get("timestamp") or ""
    errors = [redact(str(error))[:MAX_ALERT_ERROR_CHARS] for error in last_run.get("errors") or []]
    errors = errors[:MAX_ALERT_ERRORS]
    status = str(health.get("status", "unknown"))
    summary = f"MarketFinder run {run} is {status}"
    if errors:
        summary += f": {errors[0]}"
        if len(errors) > 1:
            summary += f" (and {len(errors) - 1} more)"
    return {
        "status": status,
        "run": run,
        "errors": errors,
        "timestamp": now.astimezone(UTC).isoformat(timespec="seconds"),
        "text": summary,
    }


def send_alert(
    health: dict,
    url: str | None = None,
    *,
    run_id: str | None = None,
    timeout: float = 5.0,
) -> bool:
    """POST a short alert to the webhook when health.status is degraded or down.

    url defaults to env MARKETFINDER_ALERT_WEBHOOK_URL. Returns True when the webhook accepted the
    alert (HTTP 2xx). Returns False without sending when the run is healthy or no URL is set.
    Network failures and error responses are logged and return False instead of raising.
    """
    status = health.get("status")
    if status not in ("degraded", "down"):
        log.debug("health is %s; no alert sent", status)
        return False
    url = url if url is not None else os.environ.get(ALERT_URL_ENV_VAR, "")
    if not url:
        log.info("health is %s but %s is not set; no alert sent", status, ALERT_URL_ENV_VAR)
        return False
    message = alert_message(health, run_id)
    # The webhook URL itself is often a secret (it carries a token), so it is never logged.
    try:
        response = httpx.post(url, json=message, timeout=timeout)
    except httpx.HTTPError as exc:
        log.warning("alert webhook failed (%s); the %s status was not delivered", type(exc).__name__, status)
        return False
    if not response.is_success:
        log.warning("alert webhook returned HTTP %d; the %s status was not delivered", response.status_code, status)
        return False
    log.info("alert sent: run %s is %s with %d errors", message["run"], status, len(message["errors"]))
    return True


def as_bool(value: object, *, default: bool) -> bool:
    """Read a warehouse flag that may be a bool, a "true"/"false" text or null (then default)."""
    if value is None or value is pd.NA:
        return default
    try:
        if pd.isna(value):
            return default
    except (TypeError, ValueError):
        pass
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _count(value: object) -> int:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return 0 if pd.isna(number) else int(number)


def _text(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and pd.isna(value):
        return ""
    return str(value).strip()
