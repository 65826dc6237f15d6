"""HTTP client for Convex mutations: one POST per call, bounded retries for infrastructure failures.

The request is `POST <CONVEX_URL>/api/mutation` with the body `{path, args, format: "json"}` and
the header `Authorization: Convex <CONVEX_DEPLOY_KEY>`. Convex returns a success with HTTP 200
and `{"status": "success", "value": ...}`, and a function that throws with HTTP 560 and
`{"status": "error", "errorMessage": ...}`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from mflib.errors import PublishError
from mflib.http import parse_retry_after

log = logging.getLogger(__name__)

URL_ENV = "CONVEX_URL"
KEY_ENV = "CONVEX_DEPLOY_KEY"
BACKOFF_MAX_SECONDS = 30.0


def encode_json(value: Any) -> bytes:
    """Serialize compactly, exactly as the request body is sent, so sizes can be measured."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


@dataclass
class MutationCall:
    """One mutation request: its Convex function path, its arguments and a label for logs."""

    path: str
    args: dict[str, Any]
    label: str
    items: int = 0

    def body(self) -> dict[str, Any]:
        return {"path": self.path, "args": self.args, "format": "json"}

    def encoded(self) -> bytes:
        return encode_json(self.body())


class ConvexClient:
    """Calls Convex mutations over HTTP with bounded retries for infrastructure failures.

    A function error (a body with status "error", sent with HTTP 560, a 4xx or 200) raises
    PublishError at once. Timeouts, connection failures, HTTP 408, 429, other 5xx statuses and
    unreadable 2xx bodies are retried up to `max_retries` times with exponential backoff, or
    after the server's Retry-After (capped at BACKOFF_MAX_SECONDS) when it sends one. A
    mutation that timed out may have been applied, so retrying relies on the mutations being
    idempotent upserts.
    """

    def __init__(
        self,
        url: str,
        deploy_key: str,
        *,
        timeout_seconds: float = 20.0,
        max_retries: int = 3,
        backoff_seconds: float = 1.0,
    ):
        self.endpoint = url.rstrip("/") + "/api/mutation"
        self._headers = {"Authorization": f"Convex {deploy_key}", "Content-Type": "application/json"}
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self.calls = 0
        self.retries = 0
        self.errors: list[str] = []
        self._client = httpx.Client(timeout=timeout_seconds)
        # httpx logs every request URL at INFO; the deployment URL is treated as a secret.
        self._url_filter = _DropMessagesContaining(url.rstrip("/"))
        logging.getLogger("httpx").addFilter(self._url_filter)

    def __enter__(self) -> ConvexClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()
        logging.getLogger("httpx").removeFilter(self._url_filter)

    def mutation(self, call: MutationCall) -> tuple[Any, int]:
        """Send one mutation; return its value and the number of attempts it took."""
        body = call.encoded()
        attempts = self.max_retries + 1
        cause = ""
        status_code: int | None = None
        for attempt in range(1, attempts + 1):
            self.calls += 1
            retry_after: float | None = None
            try:
                response = self._client.post(self.endpoint, content=body, headers=self._headers)
            except httpx.TimeoutException:
                cause, status_code = f"timed out after {self.timeout_seconds:g} s", None
            except httpx.TransportError as exc:
                cause, status_code = f"{type(exc).__name__}: could not reach the deployment", None
            else:
                outcome = _interpret(call.path, response)
                if not isinstance(outcome, _RetryableFailure):
                    return outcome.value, attempt
                cause, status_code = outcome.cause, response.status_code
                retry_after = outcome.retry_after
            self.errors.append(f"{call.path} ({call.label}) attempt {attempt}: {cause}")
            if attempt == attempts:
                break
            delay = self.backoff_seconds * 2 ** (attempt - 1) if retry_after is None else retry_after
            delay = min(delay, BACKOFF_MAX_SECONDS)
            log.warning(
                "Convex %s (%s): attempt %d/%d failed (%s); retrying in %.2f s",
                call.path, call.label, attempt, attempts, cause, delay,
            )
            self.retries += 1
            time.sleep(delay)
        raise PublishError(
            call.path,
            f"{call.label}: {cause} on all {attempts} attempts; check that {URL_ENV} names a "
            "running deployment, then re-run notebook 08 (publishing again is safe)",
            status_code,
        )


class _DropMessagesContaining(logging.Filter):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


@dataclass
class _Success:
    value: Any


@dataclass
class _RetryableFailure:
    cause: str
    retry_after: float | None = None


def _interpret(path: str, response: httpx.Response) -> _Success | _RetryableFailure:
    """Classify a response as success, retryable failure, or raise PublishError for a final one."""
    status = response.status_code
    try:
        payload = response.json()
    except ValueError:
        payload = None

    if isinstance(payload, dict) and payload.get("status") == "error" and (status == 560 or status < 500):
        message = str(payload.get("errorMessage") or "(no errorMessage)")
        raise PublishError(path, f"the function returned an error (HTTP {status}): {message}", status)
    if status in (408, 429) or (status >= 500 and status != 560):
        return _RetryableFailure(f"HTTP {status}", parse_retry_after(response.headers.get("Retry-After")))
    if 200 <= status < 300:
        if isinstance(payload, dict) and payload.get("status") == "success":
            return _Success(payload.get("value"))
        return _RetryableFailure(f"HTTP {status} with a body that is not a Convex result ({_excerpt(response.text)})")

    detail = _error_detail(payload, response.text)
    hint = ""
    if status in (401, 403):
        hint = f"; check {KEY_ENV}: it must be a deploy key of the deployment that {URL_ENV} names"
    elif status == 404:
        hint = "; check that the reference functions in convex/ are deployed and the mutation path is right"
    raise PublishError(path, f"HTTP {status}: {detail}{hint}", status)


def _error_detail(payload: Any, text: str) -> str:
    if isinstance(payload, dict):
        for key in ("errorMessage", "message", "code"):
            if payload.get(key):
                return str(payload[key])
    return _excerpt(text) or "(empty body)"


def _excerpt(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."
