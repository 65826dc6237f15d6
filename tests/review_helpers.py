"""Hand-written markets and scored pairs for the review tests (invented tickers and texts)."""

from __future__ import annotations

import json

import pandas as pd

from mflib.schema import MARKET_COLUMNS, coerce_frame

TEST_KEY = "sk-ant-test-7f3c9a1e5b2d4c6e8f0a"

# Fast settings for tests: no rate-limit pauses, short SDK retries.
FAST = {
    "requests_per_minute": 60000,
    "max_concurrency": 2,
    "max_retries": 3,
    "request_timeout_seconds": 10,
    "batch_poll_seconds": 0.01,
    "batch_timeout_seconds": 10,
}


def market(platform: str, market_id: str, title: str, rules: str, *, liquidity: float = 1000.0,
           outcomes: tuple[str, str] = ("Yes", "No")) -> dict:
    return {
        "platform": platform,
        "market_id": market_id,
        "event_title": f"Event of {title}",
        "title": title,
        "subtitle": "",
        "rules": rules,
        "resolution_source": "Official results",
        "close_time": "2027-01-31T23:59:00Z",
        "status": "open",
        "liquidity_usd": liquidity,
        "outcome_yes": outcomes[0],
        "outcome_no": outcomes[1],
        "fetched_at": "2026-12-04T20:00:00Z",
    }


def make_markets(count: int = 3) -> pd.DataFrame:
    rows = []
    for number in range(count):
        rows.append(market("kalshi", f"KXTEST-{number}", f"Will city {number} record snow by Jan 31?",
                           f"Resolves Yes if station {number} reports measurable snow before Jan 31, 2027."))
        rows.append(market("polymarket", f"0xpoly{number:03d}", f"Snow in city {number} by January 31?",
                           f"This market resolves Yes if station {number} reports snow by January 31, 2027."))
    return coerce_frame(rows, MARKET_COLUMNS)


def make_scored(count: int = 3, *, probabilities: list[float] | None = None, decision: str = "same",
                veto: list[bool] | None = None) -> pd.DataFrame:
    probabilities = probabilities or [0.95 - 0.05 * number for number in range(count)]
    veto = veto or [False] * count
    rows = []
    for number in range(count):
        rows.append({
            "pair_id": f"KXTEST-{number}|0xpoly{number:03d}",
            "kalshi_id": f"KXTEST-{number}",
            "polymarket_id": f"0xpoly{number:03d}",
            "probability": probabilities[number],
            "decision": decision,
            "orientation": decision if decision != "different" else "same",
            "reason_codes": "deadline_mismatch" if veto[number] else "",
            "veto": veto[number],
            "features_json": json.dumps({"text_score": 91.0}),
        })
    return pd.DataFrame(rows)


def verdict(relation: str, confidence: float = 0.9, difference: str = "No differing outcome found.") -> dict:
    return {"relation": relation, "confidence": confidence, "decisive_difference": difference, "resolution_risks": []}
