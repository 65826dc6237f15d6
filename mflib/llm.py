"""Calls to Claude through the official `anthropic` SDK: request building, reply validation,
rate-limited concurrent Messages API calls and the Message Batches API.

This module has no notion of pairs or of the warehouse. It sends prepared requests under
custom ids and returns one `Outcome` per id, and `mflib.review` decides what to send.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import anthropic
import jsonschema
from tqdm import tqdm

from mflib.errors import ReviewError

log = logging.getLogger(__name__)

# The verdict every reply must match; validated locally with jsonschema.
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "relation": {"type": "string", "enum": ["same", "inverted", "different"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "decisive_difference": {"type": "string", "minLength": 1},
        "resolution_risks": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["relation", "confidence", "decisive_difference", "resolution_risks"],
    "additionalProperties": False,
}

# Structured outputs accept only part of JSON Schema (no numeric bounds, for example), so the
# SDK's transform_schema moves those constraints into descriptions for the request.
REQUEST_SCHEMA: dict[str, Any] = anthropic.transform_schema(VERDICT_SCHEMA)

_VALIDATOR = jsonschema.Draft202012Validator(VERDICT_SCHEMA)

# Status codes that the SDK retries by itself; logged here so a run's log shows each retry.
RETRIED_STATUS = {408, 409, 429, 500, 502, 503, 504, 529}


class InvalidReplyError(ValueError):
    """A reply that is not a JSON verdict matching VERDICT_SCHEMA."""


@dataclass
class Outcome:
    """The result of one custom id: a validated verdict, or an error message."""

    custom_id: str
    verdict: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    via_batch: bool = False
    skipped_budget: bool = False


def load_prompt(version: str) -> str:
    """Read the packaged system prompt `mflib/prompts/review_<version>.md`."""
    name = f"review_{version}.md"
    path = resources.files("mflib").joinpath("prompts", name)
    if not path.is_file():
        raise ReviewError(f"system prompt {name} not found in mflib/prompts; set review.prompt_version to an existing version")
    return path.read_text(encoding="utf-8")


def _log_retried_response(response: Any) -> None:
    if response.status_code in RETRIED_STATUS:
        retry_after = response.headers.get("retry-after") or response.headers.get("retry-after-ms")
        log.warning(
            "Anthropic API returned HTTP %d for %s %s (retry-after %s); the SDK retries while retries remain",
            response.status_code, response.request.method, response.request.url.path, retry_after,
        )


def make_client(
    api_key: str, *, base_url: str | None, max_retries: int, timeout_seconds: float
) -> anthropic.Anthropic:
    """Create an SDK client that logs every response the SDK will retry."""
    http_client = anthropic.DefaultHttpxClient(event_hooks={"response": [_log_retried_response]})
    return anthropic.Anthropic(
        api_key=api_key,
        base_url=base_url or None,
        max_retries=max_retries,
        timeout=timeout_seconds,
        http_client=http_client,
    )


def build_request(*, model: str, max_tokens: int, system_prompt: str, user_text: str) -> dict[str, Any]:
    """Return the Messages API parameters for one verdict request.

    The system block carries cache_control, so repeated requests share the cached prompt.
    NOTE: the v1 prompt is about 650 tokens (estimated at 4 characters per token). The API
    caches only prompts above a model-dependent minimum length, so it may not be cached at all.
    """
    return {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": system_prompt, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": user_text}],
        "output_config": {"format": {"type": "json_schema", "schema": REQUEST_SCHEMA}},
    }


def parse_verdict(message: Any) -> dict[str, Any]:
    """Return the validated verdict of a Message, or raise InvalidReplyError."""
    if message.stop_reason not in ("end_turn", "stop_sequence"):
        raise InvalidReplyError(f"reply stopped with stop_reason={message.stop_reason!r}, so the JSON may be cut off")
    texts = [block.text for block in message.content if getattr(block, "type", None) == "text"]
    if not texts:
        raise InvalidReplyError("reply has no text block")
    try:
        verdict = json.loads("".join(texts))
    except json.JSONDecodeError as exc:
        raise InvalidReplyError(f"reply is not JSON: {exc}") from exc
    errors = sorted(_VALIDATOR.iter_errors(verdict), key=lambda error: list(error.path))
    if errors:
        where = "/".join(str(part) for part in errors[0].path) or "(root)"
        raise InvalidReplyError(f"reply does not match the verdict schema at {where}: {errors[0].message}")
    return verdict


def usage_of(message: Any) -> dict[str, int]:
    usage = message.usage
    return {
        "input_tokens": int(usage.input_tokens or 0),
        "output_tokens": int(usage.output_tokens or 0),
        "cache_creation_input_tokens": int(usage.cache_creation_input_tokens or 0),
        "cache_read_input_tokens": int(usage.cache_read_input_tokens or 0),
    }


def add_usage(total: dict[str, int], usage: dict[str, int]) -> None:
    for key, value in usage.items():
        total[key] = total.get(key, 0) + value


class RateLimiter:
    """Space request starts at least 60 / requests_per_minute seconds apart, across threads."""

    def __init__(self, requests_per_minute: float):
        self.interval = 60.0 / requests_per_minute
        self._lock = threading.Lock()
        self._next_start = 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self.interval
        if start > now:
            time.sleep(start - now)


def request_verdict(client: anthropic.Anthropic, custom_id: str, request: dict[str, Any],
                    limiter: RateLimiter | None = None, *, attempts_done: int = 0) -> Outcome:
    """Send one Messages API request; an invalid reply is sent again once, then recorded as an error.

    HTTP-level retries (429, 5xx, 529 overloaded) happen inside the SDK and are not counted here.
    """
    outcome = Outcome(custom_id=custom_id, attempts=attempts_done)
    while outcome.attempts < 2:
        if limiter is not None:
            limiter.wait()
        outcome.attempts += 1
        try:
            message = client.messages.create(**request)
        except (anthropic.APIStatusError, anthropic.APIConnectionError) as exc:
            outcome.error = describe_api_error(exc)
            log.warning("review request %s failed after the SDK's retries: %s", custom_id, outcome.error)
            return outcome
        add_usage(outcome.usage, usage_of(message))
        try:
            outcome.verdict = parse_verdict(message)
            outcome.error = None
            return outcome
        except InvalidReplyError as exc:
            outcome.error = f"invalid reply: {exc}"
            if outcome.attempts < 2:
                log.warning("review request %s: %s; sending it once more", custom_id, exc)
    log.warning("review request %s: second reply invalid too, recorded as error: %s", custom_id, outcome.error)
    return outcome


def run_concurrent(
    client: anthropic.Anthropic,
    requests: dict[str, dict[str, Any]],
    *,
    max_concurrency: int,
    requests_per_minute: float,
    cost_of: Callable[[str, dict[str, int], bool], float],
    budget_usd: float,
) -> dict[str, Outcome]:
    """Send requests over the Messages API with at most max_concurrency in flight.

    Before each request starts, the spent cost is compared with budget_usd; once it is
    reached, the remaining ids get an Outcome with skipped_budget set.
    NOTE: requests already in flight when the budget is reached still complete, so the
    spend can pass budget_usd by up to max_concurrency - 1 requests.
    """
    limiter = RateLimiter(requests_per_minute)
    lock = threading.Lock()
    spent = {"usd": 0.0}
    outcomes: dict[str, Outcome] = {}

    def send(custom_id: str) -> Outcome:
        with lock:
            over_budget = spent["usd"] >= budget_usd
        if over_budget:
            return Outcome(custom_id=custom_id, skipped_budget=True)
        outcome = request_verdict(client, custom_id, requests[custom_id], limiter)
        with lock:
            spent["usd"] += cost_of(requests[custom_id]["model"], outcome.usage, False)
        return outcome

    with ThreadPoolExecutor(max_workers=max_concurrency) as pool:
        futures = [pool.submit(send, custom_id) for custom_id in requests]
        for future in tqdm(as_completed(futures), total=len(futures), desc="LLM review", unit="pair"):
            outcome = future.result()
            outcomes[outcome.custom_id] = outcome
    return outcomes


def describe_api_error(exc: anthropic.APIError) -> str:
    if isinstance(exc, anthropic.APIStatusError):
        return f"Anthropic API error HTTP {exc.status_code}: {exc.message}"
    return f"Anthropic API not reachable: {exc}"


def run_batch(
    client: anthropic.Anthropic,
    requests: dict[str, dict[str, Any]],
    *,
    timeout_seconds: float,
    poll_seconds: float,
) -> tuple[dict[str, Outcome], str]:
    """Send requests as one Message Batch, poll until it ends and match results by custom_id.

    Returns the outcomes and the batch id. Errored, expired and canceled entries, ids missing
    from the results, a batch that does not end within timeout_seconds (it is then canceled)
    and API errors after the SDK's retries all become outcomes with an error. Invalid replies
    are not retried here.
    """
    batch_id = ""

    def fail_all(error: str) -> tuple[dict[str, Outcome], str]:
        log.warning("review batch %s: %s; its %d requests are recorded as errors", batch_id or "(not created)", error, len(requests))
        return {cid: Outcome(custom_id=cid, error=error, via_batch=True) for cid in requests}, batch_id

    try:
        batch = client.messages.batches.create(
            requests=[{"custom_id": custom_id, "params": params} for custom_id, params in requests.items()]
        )
        batch_id = batch.id
        log.info("review batch %s created with %d requests", batch_id, len(requests))
        deadline = time.monotonic() + timeout_seconds
        with tqdm(total=len(requests), desc=f"LLM batch {batch_id}", unit="request") as progress:
            while batch.processing_status != "ended":
                if time.monotonic() >= deadline:
                    client.messages.batches.cancel(batch_id)
                    return fail_all(f"batch did not end within batch_timeout_seconds={timeout_seconds:g} and was canceled")
                time.sleep(poll_seconds)
                batch = client.messages.batches.retrieve(batch_id)
                progress.n = len(requests) - batch.request_counts.processing
                progress.refresh()
        entries = list(client.messages.batches.results(batch_id))
    except (anthropic.APIStatusError, anthropic.APIConnectionError) as exc:
        return fail_all(describe_api_error(exc))

    outcomes: dict[str, Outcome] = {}
    for entry in entries:
        if entry.custom_id not in requests:
            log.warning("review batch %s returned unknown custom_id %s; ignored", batch_id, entry.custom_id)
            continue
        outcome = Outcome(custom_id=entry.custom_id, attempts=1, via_batch=True)
        result = entry.result
        if result.type == "succeeded":
            outcome.usage = usage_of(result.message)
            try:
                outcome.verdict = parse_verdict(result.message)
            except InvalidReplyError as exc:
                outcome.error = f"invalid reply: {exc}"
        elif result.type == "errored":
            outcome.error = f"batch entry errored: {result.error.error.type}: {result.error.error.message}"
        else:
            outcome.error = f"batch entry {result.type}"
        outcomes[entry.custom_id] = outcome

    missing = [cid for cid in requests if cid not in outcomes]
    for cid in missing:
        outcomes[cid] = Outcome(custom_id=cid, error=f"batch {batch_id} returned no result for this request", via_batch=True)
    failed = sum(1 for outcome in outcomes.values() if outcome.error)
    log.info("review batch %s ended: %d results, %d with errors, %d missing", batch_id, len(entries), failed, len(missing))
    return outcomes, batch_id
