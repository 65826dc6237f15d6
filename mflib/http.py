"""The one HTTP client every venue and service call goes through.

`HttpClient` adds what the venues' public APIs need on top of httpx: a per-host rate limit,
retries with exponential backoff and full jitter, `Retry-After`, a bounded total time per
logical request, and typed errors (`FetchError`, `VenueUnreachableError`). JSON helpers save
the raw body before parsing it, so a page that fails to parse can still be inspected or
replayed.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from mflib.errors import FetchError, VenueUnreachableError
from mflib.sources.base import RawPageWriter

log = logging.getLogger(__name__)

DEFAULT_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
DEFAULT_USER_AGENT = "MarketFinder/0.1 (python-httpx)"
REPLAY_HINT = "run on a recorded snapshot with `make run PARAMS=params/replay.yaml`"

# Retry causes. A request whose every attempt ended in CONNECT is reported as unreachable.
CONNECT = "connect_error"
TIMEOUT = "timeout"
READ = "read_error"
INVALID_JSON = "invalid_json"


class HttpStatusError(FetchError):
    """A venue returned an HTTP error status that is not retried (for example 400, 404, 560)."""

    def __init__(self, venue: str, url: str, status_code: int, body_excerpt: str):
        self.status_code = status_code
        self.body_excerpt = body_excerpt
        super().__init__(venue, url, f"HTTP {status_code}: {body_excerpt or '(empty body)'}")


@dataclass
class HttpStats:
    """Counters of one client: requests sent, retries by cause and seconds spent waiting."""

    requests: int = 0
    retries: Counter = field(default_factory=Counter)
    seconds_slept: float = 0.0          # backoff plus rate-limit waits
    backoff_seconds: float = 0.0
    rate_limit_seconds: float = 0.0


class _RateLimiter:
    """Space requests to one host at least 1/rate seconds apart, across threads.

    Each caller reserves the next free slot under a lock and sleeps outside it, so concurrent
    threads queue up instead of bursting.
    """

    def __init__(self, default_rate: float, rates: dict[str, float]):
        self._default_rate = default_rate
        self._rates = dict(rates)
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> float:
        """Block until a request to `host` may start; return the seconds slept."""
        rate = self._rates.get(host, self._default_rate)
        if rate <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + 1.0 / rate
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
        return max(delay, 0.0)


class _Retry(Exception):
    """One attempt failed in a retryable way; carries the cause and an optional Retry-After."""

    def __init__(self, cause: str, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.cause = cause
        self.detail = detail
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Return the wait in seconds given by a `Retry-After` header (seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max((when - now).total_seconds(), 0.0)


class HttpClient:
    """A synchronous httpx client with per-host rate limits, retries and typed errors.

    One instance may be shared by worker threads: httpx.Client (0.29) documents that it can be
    shared between threads, and the rate limiter and counters use locks.
    """

    def __init__(
        self,
        *,
        timeout_seconds: float = 20.0,
        default_rate_per_second: float = 5.0,
        rate_limits: dict[str, float] | None = None,
        max_retries: int = 5,
        backoff_base_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        max_total_seconds: float = 300.0,
        retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES,
        user_agent: str = DEFAULT_USER_AGENT,
        transport: httpx.BaseTransport | None = None,
    ):
        if max_retries < 0:
            raise ValueError(f"max_retries={max_retries}: expected 0 or more")
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.max_total_seconds = max_total_seconds
        self.retry_statuses = frozenset(retry_statuses)
        self.stats = HttpStats()
        self._stats_lock = threading.Lock()
        self._limiter = _RateLimiter(default_rate_per_second, rate_limits or {})
        self._client = httpx.Client(
            timeout=timeout_seconds,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            transport=transport,
            follow_redirects=True,
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # Public API

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        venue: str = "",
    ) -> httpx.Response:
        """Send one logical request, retrying transient failures; return the 2xx response.

        Raises HttpStatusError at once on a status outside `retry_statuses`, FetchError when
        the retries or the total time budget run out, and VenueUnreachableError when no attempt
        could connect.
        """
        return self._send(method, url, params=params, json=json, headers=headers, venue=venue)

    def get_json(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        venue: str = "",
        raw_writer: RawPageWriter | None = None,
        raw_name: str | None = None,
    ) -> Any:
        """GET `url` and return the decoded JSON body.

        With `raw_writer` and `raw_name`, the body is written to <root>/<venue>/<raw_name> before
        it is parsed. A 2xx body that is not valid JSON (often a truncated transfer) is retried
        like a read error.
        """
        return self._send(
            "GET", url, params=params, venue=venue,
            parse_json=True, raw_writer=raw_writer, raw_name=raw_name,
        )

    def post_json(
        self,
        url: str,
        json: Any,
        *,
        venue: str = "",
        headers: dict[str, str] | None = None,
        raw_writer: RawPageWriter | None = None,
        raw_name: str | None = None,
    ) -> Any:
        """POST a JSON body to `url` and return the decoded JSON response (saved first, as in get_json).

        NOTE: a POST is retried like a GET, including after a timeout or read error when the
        server may already have applied it; send only idempotent bodies, or pass max_retries=0.
        """
        return self._send(
            "POST", url, json=json, headers=headers, venue=venue,
            parse_json=True, raw_writer=raw_writer, raw_name=raw_name,
        )

    # Retry loop

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        venue: str = "",
        parse_json: bool = False,
        raw_writer: RawPageWriter | None = None,
        raw_name: str | None = None,
    ) -> Any:
        host = urlsplit(url).hostname or ""
        venue = venue or host
        shown_url = str(httpx.URL(url, params=params)) if params else url
        deadline = time.monotonic() + self.max_total_seconds
        causes: list[str] = []
        attempts = self.max_retries + 1
        last_failure: _Retry | None = None

        for attempt in range(1, attempts + 1):
            self._sleep_for_rate_limit(host)
            remaining = deadline - time.monotonic()
            try:
                return self._attempt(
                    method, url, params=params, json=json, headers=headers, venue=venue,
                    shown_url=shown_url, timeout=max(min(self.timeout_seconds, remaining), 0.001),
                    parse_json=parse_json, raw_writer=raw_writer, raw_name=raw_name,
                )
            except _Retry as failure:
                last_failure = failure
                causes.append(failure.cause)
                if attempt == attempts:
                    break
                delay = self._backoff_delay(attempt, failure.retry_after)
                if time.monotonic() + delay >= deadline:
                    log.warning(
                        "%s %s: attempt %d/%d failed (%s: %s); not retrying because the total "
                        "time budget of %.1f s would be exceeded",
                        method, shown_url, attempt, attempts, failure.cause, failure.detail,
                        self.max_total_seconds,
                    )
                    raise self._final_error(venue, shown_url, causes, failure, budget_spent=True) from None
                log.warning(
                    "%s %s: attempt %d/%d failed (%s: %s); retrying in %.2f s",
                    method, shown_url, attempt, attempts, failure.cause, failure.detail, delay,
                )
                with self._stats_lock:
                    self.stats.retries[failure.cause] += 1
                    self.stats.backoff_seconds += delay
                    self.stats.seconds_slept += delay
                time.sleep(delay)

        assert last_failure is not None  # the loop runs at least once and returns on success
        raise self._final_error(venue, shown_url, causes, last_failure, budget_spent=False)

    def _attempt(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None,
        json: Any,
        headers: dict[str, str] | None,
        venue: str,
        shown_url: str,
        timeout: float,
        parse_json: bool,
        raw_writer: RawPageWriter | None,
        raw_name: str | None,
    ) -> Any:
        with self._stats_lock:
            self.stats.requests += 1
        log.debug("%s %s", method, shown_url)
        try:
            response = self._client.request(
                method, url, params=params, json=json, headers=headers, timeout=timeout,
            )
        except httpx.ConnectTimeout as exc:
            raise _Retry(CONNECT, f"connect timed out ({exc})") from exc
        except httpx.ConnectError as exc:
            raise _Retry(CONNECT, f"connection failed ({exc})") from exc
        except httpx.TimeoutException as exc:
            raise _Retry(TIMEOUT, f"timed out after {timeout:.1f} s") from exc
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as exc:
            raise _Retry(READ, f"{type(exc).__name__}: {exc}") from exc

        status = response.status_code
        if status in self.retry_statuses:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retry(f"http_{status}", f"HTTP {status}", retry_after)
        if status >= 300:
            raise HttpStatusError(venue, shown_url, status, _excerpt(response.text))
        if not parse_json:
            return response

        body = response.content
        saved = raw_writer.write(venue, raw_name, body) if raw_writer and raw_name else None
        try:
            return jsonlib.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            where = f", saved to {saved}" if saved else ""
            raise _Retry(INVALID_JSON, f"body of {len(body)} bytes is not valid JSON ({exc}){where}") from exc

    def _sleep_for_rate_limit(self, host: str) -> None:
        slept = self._limiter.wait(host)
        if slept:
            with self._stats_lock:
                self.stats.rate_limit_seconds += slept
                self.stats.seconds_slept += slept

    def _backoff_delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the wait before the next attempt: Retry-After if given, else full jitter."""
        if retry_after is not None:
            return min(retry_after, self.backoff_max_seconds)
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return random.uniform(0.0, ceiling)

    def _final_error(
        self, venue: str, url: str, causes: list[str], last: _Retry, *, budget_spent: bool,
    ) -> FetchError:
        tries = f"{len(causes)} attempt{'s' if len(causes) != 1 else ''}"
        if causes and all(cause == CONNECT for cause in causes):
            return VenueUnreachableError(
                venue, url,
                f"venue is unreachable: {tries} failed to connect (last: {last.detail}). "
                f"Check the network or the base URL, or {REPLAY_HINT}",
            )
        reason = "the total time budget ran out" if budget_spent else "all retries failed"
        return FetchError(
            venue, url,
            f"request failed after {tries} because {reason}; last cause {last.cause}: {last.detail}",
        )


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."
