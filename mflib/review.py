"""LLM review layer: ask Claude whether each high-scoring pair is the same contract.

The layer reads scored pairs and markets and reuses cached verdicts. It sends the other pairs
to the Anthropic API: concurrent Messages API calls for few pairs, the Message Batches API for
many. Then the rule gate decides: the LLM can reject a pair but never accept one that scoring
vetoed, and an orientation it disputes is recorded as a disagreement instead of being flipped.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from mflib import llm, verdicts, warehouse
from mflib.config import require
from mflib.errors import ConfigError, ReviewError

log = logging.getLogger(__name__)

API_KEY_ENV = "ANTHROPIC_API_KEY"
BASE_URL_ENV = "ANTHROPIC_BASE_URL"

# claude-haiku-5-5 and claude-sonnet-5-5 are the newest Haiku and Sonnet ids listed in
# anthropic 2.17 (anthropic/types/model.py), neither marked deprecated there. Prices are USD per
# million tokens from Anthropic's model pages as of December 2026 (Haiku 5.5: the rate for
# prompts up to 100,000 tokens, far above the size of one review request).
DEFAULTS: dict[str, Any] = {
    "review_threshold": 0.5,
    "max_pairs_per_run": 200,
    "model_fast": "claude-haiku-5-5",
    "model_strong": None,
    "strong_model_margin": 0.1,
    # NOTE: models that think before replying (adaptive thinking) spend part of max_tokens on it.
    # A reply cut off at max_tokens is invalid, so raise this if such errors appear.
    "max_tokens": 1024,
    "batch_min_pairs": 50,
    "max_concurrency": 4,
    "requests_per_minute": 50,
    "batch_timeout_seconds": 3600,
    "batch_poll_seconds": 10,
    "budget_usd": 5.0,
    "input_price_per_mtok": {"claude-haiku-5-5": 0.10, "claude-sonnet-5-5": 2.0},
    "output_price_per_mtok": {"claude-haiku-5-5": 0.50, "claude-sonnet-5-5": 10.0},
    "cache_write_price_factor": 1.25,
    "cache_read_price_factor": 0.1,
    "batch_price_factor": 0.5,
    "prompt_version": "v1",
    "max_retries": 2,
    "request_timeout_seconds": 120,
}

REVIEW_COLUMNS: dict[str, str] = {
    "confidence": "Float64",
    "accepted": "boolean",
    "review_status": "string",
    "llm_relation": "string",
    "llm_confidence": "Float64",
    "llm_difference": "string",
    "llm_risks_json": "string",
    "llm_model": "string",
    "disagreement": "string",
    "confidence_source": "string",
}
SCORED_COLUMNS: dict[str, str] = {
    "pair_id": "string",
    "kalshi_id": "string",
    "polymarket_id": "string",
    "probability": "Float64",
    "decision": "string",
    "orientation": "string",
    "reason_codes": "string",
    "veto": "boolean",
    "features_json": "string",
}
LLM_STATUSES = {"reviewed", "cached"}
# Statuses where no verdict was requested on purpose, so the pair is judged by scoring alone.
SKIPPED_STATUSES = {"skipped_no_key", "skipped_cap", "skipped_budget", "not_reviewed"}


@dataclass
class ReviewResult:
    """The reviewed_pairs rows, the run's review_usage row as a dict, and lines for the notebook."""

    reviewed: pd.DataFrame
    usage: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def validate_params(params: dict[str, Any]) -> dict[str, Any]:
    """Return the review parameters merged over DEFAULTS, or raise ConfigError naming the key.

    Accepts the `review` section itself or a whole parameter set holding one.
    """
    section = params.get("review", params) if isinstance(params.get("review"), dict) else params
    unknown = sorted(set(section) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"review.{unknown[0]}", f"unknown parameter; expected one of {', '.join(DEFAULTS)}")
    cfg = copy.deepcopy(DEFAULTS)
    cfg.update(copy.deepcopy(section))

    number = (int, float)
    for key in ("review_threshold", "strong_model_margin"):
        value = require(cfg, key, number, name="review")
        if not 0 <= value <= 1:
            raise ConfigError(f"review.{key}", f"expected a probability between 0 and 1, got {value!r}")
    for key in ("max_pairs_per_run", "max_tokens", "batch_min_pairs", "max_concurrency", "max_retries"):
        value = require(cfg, key, int, name="review")
        if value < (0 if key in ("max_pairs_per_run", "max_retries") else 1):
            raise ConfigError(f"review.{key}", f"expected a positive integer, got {value!r}")
    for key in ("requests_per_minute", "batch_timeout_seconds", "batch_poll_seconds", "request_timeout_seconds",
                "cache_write_price_factor", "cache_read_price_factor", "batch_price_factor"):
        value = require(cfg, key, number, name="review")
        if value <= 0:
            raise ConfigError(f"review.{key}", f"expected a number above 0, got {value!r}")
    budget = require(cfg, "budget_usd", number, name="review")
    if budget < 0:
        raise ConfigError("review.budget_usd", f"expected 0 or more US dollars, got {budget!r}")

    model_fast = require(cfg, "model_fast", str, name="review")
    if not model_fast.strip():
        raise ConfigError("review.model_fast", "empty; set a Claude model id such as claude-haiku-5-5")
    model_strong = cfg["model_strong"]
    if model_strong is not None and (not isinstance(model_strong, str) or not model_strong.strip()):
        raise ConfigError("review.model_strong", f"expected a Claude model id or null (off), got {model_strong!r}")
    prompt_version = require(cfg, "prompt_version", str, name="review")
    try:
        llm.load_prompt(prompt_version)
    except ReviewError as exc:
        raise ConfigError("review.prompt_version", str(exc)) from exc

    for key in ("input_price_per_mtok", "output_price_per_mtok"):
        prices = require(cfg, key, dict, name="review")
        for model in filter(None, (model_fast, model_strong)):
            if model not in prices:
                raise ConfigError(f"review.{key}", f"no price for model {model!r}; add `{model}: <USD per million tokens>`")
            price = prices[model]
            if isinstance(price, bool) or not isinstance(price, number) or price < 0:
                raise ConfigError(f"review.{key}.{model}", f"expected a price of 0 or more USD, got {price!r}")
    return cfg


def estimate_cost(cfg: dict[str, Any], model: str, usage: dict[str, int], batch: bool) -> float:
    """Return the estimated USD cost of one request's token usage at the configured prices."""
    input_price = cfg["input_price_per_mtok"][model]
    output_price = cfg["output_price_per_mtok"][model]
    dollars = (
        usage.get("input_tokens", 0) * input_price
        + usage.get("cache_creation_input_tokens", 0) * input_price * cfg["cache_write_price_factor"]
        + usage.get("cache_read_input_tokens", 0) * input_price * cfg["cache_read_price_factor"]
        + usage.get("output_tokens", 0) * output_price
    ) / 1_000_000
    return dollars * (cfg["batch_price_factor"] if batch else 1.0)


def _value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _market_section(venue: str, market: dict[str, Any]) -> str:
    close_time = _value(market.get("close_time"))
    lines = [
        f"{venue} market {market.get('market_id')}",
        f"Event: {_value(market.get('event_title')) or ''}",
        f"Title: {_value(market.get('title')) or ''}",
        f"Subtitle: {_value(market.get('subtitle')) or ''}",
        f"Outcome playing YES: {_value(market.get('outcome_yes')) or 'Yes'}",
        f"Outcome playing NO: {_value(market.get('outcome_no')) or 'No'}",
        f"Close time (UTC): {close_time.isoformat() if close_time is not None else 'not given'}",
        f"Resolution source: {_value(market.get('resolution_source')) or 'not given'}",
        "Rules:",
        _value(market.get("rules")) or "(no rules text)",
    ]
    return "\n".join(lines)


def build_user_text(pair: dict[str, Any], kalshi: dict[str, Any], polymarket: dict[str, Any]) -> str:
    """Return the user message for one pair: both markets in full, then the scoring result."""
    scoring = [
        "Scoring result (a text-similarity model and rules; it can be wrong):",
        f"decision: {pair.get('decision')}, orientation: {pair.get('orientation')}, "
        f"probability: {float(pair.get('probability') or 0):.3f}, hard mismatch (veto): {bool(_value(pair.get('veto')))}",
        f"reason codes: {_value(pair.get('reason_codes')) or 'none'}",
        f"features: {_value(pair.get('features_json')) or '{}'}",
    ]
    return "\n\n".join([_market_section("Kalshi", kalshi), _market_section("Polymarket", polymarket), "\n".join(scoring)])


def _empty_reviewed() -> pd.DataFrame:
    columns = {**SCORED_COLUMNS, **REVIEW_COLUMNS}
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def _market_lookup(markets: pd.DataFrame, platform: str) -> dict[str, dict[str, Any]]:
    if markets.empty or "platform" not in markets.columns:
        return {}
    rows = markets[markets["platform"] == platform].drop_duplicates("market_id", keep="last")
    return {str(row["market_id"]): row for row in rows.to_dict("records")}


def prepare_pairs(scored: pd.DataFrame, markets: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Return the pairs to record (decision != 'different'), most promising first, with the
    review route (`review`, `skipped_cap` or `not_reviewed`), model, text hash and user text."""
    missing = [name for name in SCORED_COLUMNS if name not in scored.columns]
    if scored.empty and missing:
        return pd.DataFrame()
    if missing:
        raise ConfigError("scored_pairs", f"input is missing columns {missing}; run the score layer first")
    frame = scored[scored["decision"] != "different"].copy()
    if frame.empty:
        return frame

    kalshi = _market_lookup(markets, "kalshi")
    polymarket = _market_lookup(markets, "polymarket")
    unknown = [pid for pid, k, p in zip(frame["pair_id"], frame["kalshi_id"], frame["polymarket_id"], strict=True)
               if str(k) not in kalshi or str(p) not in polymarket]
    if unknown:
        log.warning("review: %d pairs name a market missing from the markets table (first: %s); their texts are empty",
                    len(unknown), unknown[0])

    # A pair's liquidity is the smaller of its two markets' liquidity_usd, because the thinner
    # side limits the trade.
    def liquidity(market: dict[str, Any]) -> float:
        value = _value(market.get("liquidity_usd"))
        return float(value) if value is not None else 0.0

    records = []
    for pair in frame.to_dict("records"):
        k_market = kalshi.get(str(pair["kalshi_id"]), {"market_id": pair["kalshi_id"]})
        p_market = polymarket.get(str(pair["polymarket_id"]), {"market_id": pair["polymarket_id"]})
        probability = float(_value(pair["probability"]) or 0.0)
        near_threshold = abs(probability - cfg["review_threshold"]) <= cfg["strong_model_margin"]
        records.append({
            "liquidity": min(liquidity(k_market), liquidity(p_market)),
            "model": cfg["model_strong"] if cfg["model_strong"] and near_threshold else cfg["model_fast"],
            "text_hash": verdicts.text_hash(k_market, p_market),
            "user_text": build_user_text(pair, k_market, p_market),
        })
    frame = frame.reset_index(drop=True)
    for name in ("liquidity", "model", "text_hash", "user_text"):
        frame[name] = [record[name] for record in records]
    frame = frame.sort_values(["probability", "liquidity"], ascending=[False, False], kind="stable").reset_index(drop=True)

    above = frame["probability"].fillna(0) >= cfg["review_threshold"]
    rank = above.cumsum()
    frame["route"] = "not_reviewed"
    frame.loc[above & (rank <= cfg["max_pairs_per_run"]), "route"] = "review"
    frame.loc[above & (rank > cfg["max_pairs_per_run"]), "route"] = "skipped_cap"
    return frame


def apply_rule_gate(frame: pd.DataFrame) -> pd.DataFrame:
    """Set accepted, disagreement, confidence and confidence_source from scoring and the LLM verdict.

    - LLM relation equals the scoring decision: accepted unless veto; confidence is the lower
      of probability and llm_confidence. With veto the pair stays rejected and the
      disagreement names the veto.
    - LLM returns `different`: not accepted; confidence is min(probability, 1 - llm_confidence).
    - LLM names the other orientation: not accepted, the orientation is not flipped, the
      disagreement records both; confidence as for `different`.
    - Review skipped (no key, cap, budget, below threshold): accepted on scoring alone
      (decision same/inverted and no veto), confidence = probability.
    - Review error: not accepted, because no verdict came back; confidence = probability, and
      the disagreement carries the error when scoring alone would have accepted the pair.
    """
    out = frame.copy()
    accepted, disagreement, confidence, source = [], [], [], []
    for row in out.to_dict("records"):
        decision = row["decision"]
        veto = bool(_value(row["veto"]))
        probability = float(_value(row["probability"]) or 0.0)
        rules_ok = decision in ("same", "inverted") and not veto
        status = row["review_status"]
        if status in LLM_STATUSES:
            relation = row["llm_relation"]
            llm_confidence = float(row["llm_confidence"])
            difference = _value(row["llm_difference"]) or ""
            source.append("llm")
            if relation == decision:
                accepted.append(rules_ok)
                confidence.append(min(probability, llm_confidence))
                disagreement.append(
                    f"LLM says {relation}, but scoring vetoed the pair ({_value(row['reason_codes']) or 'veto'}); kept rejected"
                    if veto else ""
                )
            elif relation == "different":
                accepted.append(False)
                confidence.append(min(probability, 1.0 - llm_confidence))
                disagreement.append(f"scoring says {decision}, LLM says different: {difference}")
            else:
                accepted.append(False)
                confidence.append(min(probability, 1.0 - llm_confidence))
                disagreement.append(f"orientation: scoring says {decision}, LLM says {relation}: {difference}")
        else:
            accepted.append(rules_ok if status in SKIPPED_STATUSES else False)
            confidence.append(probability)
            source.append("model_and_rules")
            error = _value(row.get("review_error")) or "no valid verdict"
            disagreement.append(f"review error, not accepted: {error}" if status == "error" and rules_ok else "")
    out["accepted"] = pd.Series(accepted, index=out.index, dtype="boolean")
    out["disagreement"] = pd.Series(disagreement, index=out.index, dtype="string")
    out["confidence"] = pd.Series(confidence, index=out.index, dtype="Float64")
    out["confidence_source"] = pd.Series(source, index=out.index, dtype="string")
    return out


def _new_usage(run_id: str, cfg: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "mode": "none",
        "requests": 0,
        "pairs_sent": 0,
        "pairs_cached": 0,
        "pairs_reviewed": 0,
        "pairs_error": 0,
        "pairs_skipped_budget": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "estimated_cost_usd": 0.0,
        "budget_usd": float(cfg["budget_usd"]),
        "budget_stopped": False,
        "models": "",
        "batch_id": "",
        "seconds": 0.0,
    }


def _fill_verdict(frame: pd.DataFrame, index: Any, verdict: dict[str, Any], model: str, status: str) -> None:
    frame.at[index, "review_status"] = status
    frame.at[index, "llm_relation"] = verdict["relation"]
    frame.at[index, "llm_confidence"] = float(verdict["confidence"])
    frame.at[index, "llm_difference"] = verdict["decisive_difference"]
    frame.at[index, "llm_risks_json"] = json.dumps(verdict["resolution_risks"])
    frame.at[index, "llm_model"] = model


def _apply_cache(frame: pd.DataFrame, con: duckdb.DuckDBPyConnection, cfg: dict[str, Any]) -> int:
    to_review = frame[frame["review_status"] == "pending"]
    keys = pd.DataFrame({
        "kalshi_id": to_review["kalshi_id"].astype(str),
        "polymarket_id": to_review["polymarket_id"].astype(str),
        "text_hash": to_review["text_hash"],
        "prompt_version": cfg["prompt_version"],
        "model": to_review["model"],
    })
    stored = verdicts.lookup(con, keys)
    if stored.empty:
        return 0
    by_key = {tuple(row[name] for name in verdicts.KEY_COLUMNS): row for row in stored.to_dict("records")}
    hits = 0
    for index, row in to_review.iterrows():
        key = (str(row["kalshi_id"]), str(row["polymarket_id"]), row["text_hash"], cfg["prompt_version"], row["model"])
        cached = by_key.get(key)
        if cached is None:
            continue
        verdict = {
            "relation": cached["relation"],
            "confidence": cached["confidence"],
            "decisive_difference": cached["decisive_difference"],
            "resolution_risks": json.loads(cached["resolution_risks_json"] or "[]"),
        }
        _fill_verdict(frame, index, verdict, row["model"], "cached")
        hits += 1
    return hits


def _admit_batch_within_budget(
    requests: dict[str, dict[str, Any]], cfg: dict[str, Any], system_prompt: str
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Split batch requests into those whose estimated cost fits budget_usd and the rest.

    A batch's real cost is known only after it ends, so this estimate assumes 3 characters per
    input token and a reply of max_tokens. Both assumptions overstate the usual cost.
    """
    admitted: dict[str, dict[str, Any]] = {}
    refused: list[str] = []
    total = 0.0
    for custom_id, request in requests.items():
        characters = len(system_prompt) + len(request["messages"][0]["content"])
        usage = {"input_tokens": characters // 3 + 1, "output_tokens": request["max_tokens"]}
        cost = estimate_cost(cfg, request["model"], usage, batch=True)
        if refused or total + cost > cfg["budget_usd"]:
            refused.append(custom_id)
            continue
        total += cost
        admitted[custom_id] = request
    return admitted, refused


def _send(
    requests: dict[str, dict[str, Any]], cfg: dict[str, Any], system_prompt: str,
    usage: dict[str, Any], api_key: str, base_url: str | None,
) -> dict[str, llm.Outcome]:
    """Send the requests over the Messages API, or as one batch at batch_min_pairs or more."""
    client = llm.make_client(api_key, base_url=base_url, max_retries=cfg["max_retries"],
                             timeout_seconds=cfg["request_timeout_seconds"])
    cost_of = lambda model, tokens, batch: estimate_cost(cfg, model, tokens, batch)  # noqa: E731
    try:
        if len(requests) >= cfg["batch_min_pairs"]:
            usage["mode"] = "batch"
            admitted, refused = _admit_batch_within_budget(requests, cfg, system_prompt)
            outcomes: dict[str, llm.Outcome] = {
                custom_id: llm.Outcome(custom_id=custom_id, skipped_budget=True) for custom_id in refused
            }
            if admitted:
                batch_outcomes, usage["batch_id"] = llm.run_batch(
                    client, admitted, timeout_seconds=cfg["batch_timeout_seconds"], poll_seconds=cfg["batch_poll_seconds"]
                )
                usage["requests"] += len(admitted)
                outcomes.update(batch_outcomes)
            # A batch reply that failed validation is sent once more over the Messages API.
            for custom_id, outcome in list(outcomes.items()):
                if outcome.error and outcome.error.startswith("invalid reply"):
                    log.warning("review batch entry %s: %s; sending it once more", custom_id, outcome.error)
                    retry = llm.request_verdict(client, custom_id, requests[custom_id], attempts_done=1)
                    usage["requests"] += retry.attempts - 1
                    # The first reply was billed at the batch price; the retry is priced as a normal request.
                    for key, value in outcome.usage.items():
                        usage[key] += value
                    usage["estimated_cost_usd"] += cost_of(requests[custom_id]["model"], outcome.usage, True)
                    outcomes[custom_id] = retry
        else:
            usage["mode"] = "concurrent"
            outcomes = llm.run_concurrent(
                client, requests, max_concurrency=cfg["max_concurrency"],
                requests_per_minute=cfg["requests_per_minute"], cost_of=cost_of, budget_usd=cfg["budget_usd"],
            )
            usage["requests"] += sum(outcome.attempts for outcome in outcomes.values())
    finally:
        client.close()
    return outcomes


def review_pairs(
    scored: pd.DataFrame,
    markets: pd.DataFrame,
    con: duckdb.DuckDBPyConnection,
    params: dict,
    *,
    run_id: str,
    api_key: str | None = None,
    base_url: str | None = None,
) -> ReviewResult:
    """Review the scored pairs with Claude and return the reviewed_pairs rows and the usage.

    api_key None reads ANTHROPIC_API_KEY and base_url None reads ANTHROPIC_BASE_URL. Without a
    key nothing is sent and every pair gets review_status skipped_no_key. New verdicts are
    written to the `verdicts` table as soon as their requests finish; reviewed_pairs and
    review_usage are written by store_review.
    """
    started = time.perf_counter()
    cfg = validate_params(params)
    usage = _new_usage(run_id, cfg)
    notes: list[str] = []
    frame = prepare_pairs(scored, markets, cfg)
    log.info("layer review: start, %d scored pairs, %d not 'different'", len(scored), len(frame))
    api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    base_url = base_url if base_url is not None else os.environ.get(BASE_URL_ENV)
    if not api_key:
        usage["mode"] = "skipped_no_key"
        message = f"LLM review skipped: {API_KEY_ENV} is not set, so {len(frame)} pairs keep the model-and-rules confidence."
        log.info(message)
        notes.append(message)
    if frame.empty:
        notes.append("No scored pair with decision same or inverted; nothing to review.")
        usage["seconds"] = round(time.perf_counter() - started, 3)
        return ReviewResult(_empty_reviewed(), usage, notes)

    for name, dtype in {**REVIEW_COLUMNS, "review_error": "string"}.items():
        frame[name] = pd.Series([None] * len(frame), index=frame.index, dtype=dtype)
    frame["review_status"] = frame["route"].replace({"review": "pending"})
    if not api_key:
        frame["review_status"] = "skipped_no_key"
    else:
        _review_with_api(frame, con, cfg, usage, notes, run_id=run_id, api_key=api_key, base_url=base_url)

    reviewed = apply_rule_gate(frame)
    reviewed = reviewed[[*SCORED_COLUMNS, *REVIEW_COLUMNS]].reset_index(drop=True)
    usage["estimated_cost_usd"] = round(usage["estimated_cost_usd"], 6)
    usage["seconds"] = round(time.perf_counter() - started, 3)
    counts = reviewed["review_status"].value_counts().to_dict()
    log.info(
        "layer review: end, %d pairs (%s), %d accepted, %d disagreements, %d requests, estimated cost $%.4f, %.2f s",
        len(reviewed), ", ".join(f"{key} {value}" for key, value in sorted(counts.items())),
        int(reviewed["accepted"].sum()), int((reviewed["disagreement"] != "").sum()),
        usage["requests"], usage["estimated_cost_usd"], usage["seconds"],
    )
    return ReviewResult(reviewed, usage, notes)


def _review_with_api(
    frame: pd.DataFrame, con: duckdb.DuckDBPyConnection, cfg: dict[str, Any], usage: dict[str, Any],
    notes: list[str], *, run_id: str, api_key: str, base_url: str | None,
) -> None:
    usage["pairs_cached"] = _apply_cache(frame, con, cfg)
    pending = frame[frame["review_status"] == "pending"]
    system_prompt = llm.load_prompt(cfg["prompt_version"])
    requests: dict[str, dict[str, Any]] = {}
    index_of: dict[str, Any] = {}
    for position, (index, row) in enumerate(pending.iterrows()):
        # Custom ids must match ^[a-zA-Z0-9_-]{1,64}$, which pair ids (with "|" and ".") do not.
        custom_id = f"pair-{position:05d}"
        requests[custom_id] = llm.build_request(
            model=row["model"], max_tokens=cfg["max_tokens"], system_prompt=system_prompt, user_text=row["user_text"]
        )
        index_of[custom_id] = index
    usage["models"] = ",".join(sorted(set(pending["model"]))) if len(pending) else ""
    log.info("review: %d pairs reused from the verdict cache, %d to send", usage["pairs_cached"], len(requests))
    if not requests:
        notes.append(f"All {usage['pairs_cached']} pairs to review were found in the verdict cache; no request sent.")
        return

    usage["pairs_sent"] = len(requests)
    outcomes = _send(requests, cfg, system_prompt, usage, api_key, base_url)

    new_verdicts = []
    for custom_id, outcome in outcomes.items():
        index = index_of[custom_id]
        model = requests[custom_id]["model"]
        for key, value in outcome.usage.items():
            usage[key] += value
        usage["estimated_cost_usd"] += estimate_cost(cfg, model, outcome.usage, outcome.via_batch)
        if outcome.skipped_budget:
            frame.at[index, "review_status"] = "skipped_budget"
            usage["pairs_skipped_budget"] += 1
        elif outcome.verdict is not None:
            _fill_verdict(frame, index, outcome.verdict, model, "reviewed")
            usage["pairs_reviewed"] += 1
            row = frame.loc[index]
            new_verdicts.append({
                "kalshi_id": str(row["kalshi_id"]), "polymarket_id": str(row["polymarket_id"]),
                "text_hash": row["text_hash"], "prompt_version": cfg["prompt_version"], "model": model,
                **outcome.verdict, **outcome.usage,
            })
        else:
            frame.at[index, "review_status"] = "error"
            frame.at[index, "llm_model"] = model
            frame.at[index, "review_error"] = outcome.error
            usage["pairs_error"] += 1
    verdicts.save(con, new_verdicts, run_id=run_id)

    if usage["pairs_skipped_budget"]:
        usage["budget_stopped"] = True
        message = (f"LLM review stopped at the budget of ${cfg['budget_usd']:.2f}: "
                   f"{usage['pairs_skipped_budget']} pairs were not sent (review_status skipped_budget).")
        log.warning(message)
        notes.append(message)
    if usage["pairs_error"]:
        notes.append(f"{usage['pairs_error']} pairs got no valid verdict (review_status error) and are not accepted.")
    notes.append(
        f"LLM review ({usage['mode']}): {usage['pairs_reviewed']} reviewed, {usage['pairs_cached']} from cache, "
        f"{usage['requests']} requests, estimated cost ${usage['estimated_cost_usd']:.4f}."
    )


def store_review(con: duckdb.DuckDBPyConnection, result: ReviewResult, *, run_id: str) -> int:
    """Write reviewed_pairs and review_usage for the run; returns the reviewed rows written."""
    rows = warehouse.replace_run_rows(con, "reviewed_pairs", run_id, result.reviewed)
    usage = pd.DataFrame([{key: value for key, value in result.usage.items() if key != "run_id"}])
    warehouse.replace_run_rows(con, "review_usage", run_id, usage)
    return rows


def review_table(reviewed: pd.DataFrame) -> pd.DataFrame:
    """Return the reviewed pairs with the columns a reader checks first, most confident first."""
    columns = ["pair_id", "decision", "probability", "veto", "review_status", "llm_relation", "llm_confidence",
               "llm_model", "confidence", "accepted", "disagreement"]
    return reviewed[columns].sort_values("confidence", ascending=False, kind="stable").reset_index(drop=True)


def disagreements(reviewed: pd.DataFrame) -> pd.DataFrame:
    """Return the pairs where the LLM verdict and scoring disagree, or the review failed."""
    columns = ["pair_id", "decision", "orientation", "probability", "veto", "reason_codes", "llm_relation",
               "llm_confidence", "llm_difference", "disagreement"]
    return reviewed.loc[reviewed["disagreement"].fillna("") != "", columns].reset_index(drop=True)


def usage_frame(usage: dict[str, Any]) -> pd.DataFrame:
    """Return the run's usage as a two-column table (item, value) for display."""
    return pd.DataFrame({"item": list(usage), "value": [str(value) for value in usage.values()]})
