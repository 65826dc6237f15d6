"""A small hand-built warehouse for the artifact, health and report tests.

Two runs: an earlier one ("run-a") and the current one ("run-b"), with markets of both venues,
venue_status, layer_stats, reviewed_pairs and opportunities whose opportunity_json follows the
opportunity object of the pricing layer. Titles, ids and prices are invented.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd

from mflib import warehouse
from mflib.schema import MARKET_COLUMNS, coerce_frame

NOW = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(minutes=30)


def market_rows(fetched_at: datetime) -> list[dict]:
    rows = []
    kalshi = [
        ("KXRAINSEA-26DEC10", "Will it rain in Seattle on Dec 10?", "Climate", 1200.0),
        ("KXGOVCO-26", "Will Colorado elect a Democratic governor?", "Politics", 54000.5),
        ("KXFEDCUT-26DEC", "Will the Fed cut rates in December?", "Economics", 98000.0),
        ("KXSENWY-26", "Will the Wyoming Senate race be won by a Republican?", "Politics", None),
    ]
    for ticker, title, category, volume in kalshi:
        rows.append({
            "platform": "kalshi", "market_id": ticker, "venue_market_id": ticker, "title": title,
            "category": category, "volume_usd": volume, "yes_ask": 0.41, "no_ask": 0.61,
            "url": f"https://kalshi.example/markets/{ticker.lower()}", "fetched_at": fetched_at,
            "close_time": NOW + timedelta(days=30), "status": "open",
        })
    polymarket = [
        ("0xa1", "Seattle rain on December 10?", "Weather", 300.0),
        ("0xb2", "Colorado governor: Democrat wins?", "Politics", 12000.0),
        ("0xc3", "Fed rate cut in December 2026?", "Economy", 250000.0),
    ]
    for condition_id, title, category, volume in polymarket:
        rows.append({
            "platform": "polymarket", "market_id": condition_id, "venue_market_id": condition_id[2:],
            "title": title, "category": category, "volume_usd": volume, "yes_ask": 0.55,
            "no_ask": 0.52, "url": f"https://polymarket.example/event/{condition_id}",
            "fetched_at": fetched_at, "close_time": NOW + timedelta(days=31), "status": "open",
        })
    return rows


def opportunity(kalshi_id: str, polymarket_id: str, *, margin: float, confidence: float,
                detected: datetime, kalshi_title: str, polymarket_title: str) -> dict:
    """Return an opportunity object shaped like the pricing layer's (Kalshi YES + Polymarket NO)."""
    return {
        "id": f"{kalshi_id}|{polymarket_id}|kalshi_yes_polymarket_no",
        "buyMarket": {"title": kalshi_title, "platform": "kalshi", "price": 0.41, "volume": 1200.0,
                      "url": f"https://kalshi.example/markets/{kalshi_id.lower()}"},
        "sellMarket": {"title": polymarket_title, "platform": "polymarket", "price": 0.48,
                       "volume": 300.0, "url": f"https://polymarket.example/event/{polymarket_id}"},
        "profitMargin": margin,
        "confidence": confidence,
        "reasoning": "Same city, date and threshold; model probability 0.93.",
        "detectedAt": detected.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expiresAt": (NOW + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pairId": f"{kalshi_id}|{polymarket_id}",
        "kalshiMarketId": kalshi_id,
        "polymarketMarketId": polymarket_id,
        "direction": "kalshi_yes_polymarket_no",
        "orientation": "same",
        "legs": [
            {"venue": "kalshi", "marketId": kalshi_id, "side": "yes", "avgPrice": 0.41,
             "contracts": 100, "cost": 41.0, "fee": 1.7},
            {"venue": "polymarket", "marketId": polymarket_id, "side": "no", "avgPrice": 0.52,
             "contracts": 100, "cost": 52.0, "fee": 0.0},
        ],
        "fees": {"kalshi": 1.7, "polymarket": 0.0, "total": 1.7},
        "executableSize": 100,
        "costUsd": 94.7,
        "netProfitUsd": round(94.7 * margin, 6),
        "grossGap": 0.07,
        "stake": {"usd": 100.0, "contracts": 100, "costUsd": 94.7,
                  "netProfitUsd": round(94.7 * margin, 6), "profitMargin": margin},
        "annualizedReturn": round(margin * 365 / 31, 6),
        "riskFlags": ["close_times_differ"],
        "topOfBookOnly": False,
        "confidenceSource": "model_and_rules",
    }


def opportunity_frame(objects: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({
        "opportunity_id": [item["id"] for item in objects],
        "pair_id": [item["pairId"] for item in objects],
        "profit_margin": [item["profitMargin"] for item in objects],
        "opportunity_json": [json.dumps(item) for item in objects],
    })


def current_opportunities() -> list[dict]:
    return [
        opportunity("KXRAINSEA-26DEC10", "0xa1", margin=0.031, confidence=0.92, detected=NOW,
                    kalshi_title="Will it rain in Seattle on Dec 10?",
                    polymarket_title="Seattle rain on December 10?"),
        opportunity("KXFEDCUT-26DEC", "0xc3", margin=0.084, confidence=0.7, detected=NOW,
                    kalshi_title="Will the Fed cut rates in December?",
                    polymarket_title="Fed rate cut in December 2026?"),
        opportunity("KXGOVCO-26", "0xb2", margin=0.012, confidence=0.55, detected=NOW,
                    kalshi_title="Will Colorado elect a Democratic governor?",
                    polymarket_title="Colorado governor: Democrat wins?"),
    ]


def venue_frame(*, kalshi_ok: bool = True, polymarket_partial: bool = False, mode: str = "live") -> pd.DataFrame:
    return pd.DataFrame({
        "platform": ["kalshi", "polymarket"],
        "mode": [mode, mode],
        "ok": [kalshi_ok, True],
        "partial": [False, polymarket_partial],
        "pages": [3, 2],
        "markets": [4 if kalshi_ok else 0, 3],
        "error": ["" if kalshi_ok else "HTTP 503 after 4 attempts", ""],
    })


def reviewed_frame(statuses: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "pair_id": [f"K{i}|0x{i}" for i in range(len(statuses))],
        "confidence": [0.9] * len(statuses),
        "accepted": [True] * len(statuses),
        "review_status": statuses,
    })


def layer_frame() -> list[tuple[str, int, int, float]]:
    return [("fetch", 0, 7, 4.5), ("bucket", 7, 12, 0.4), ("filter", 12, 6, 1.1),
            ("score", 6, 4, 0.9), ("review", 4, 3, 2.0), ("price", 3, 3, 0.6)]


def build_warehouse(con, *, with_history: bool = True) -> None:
    """Fill con with the two runs described in the module docstring."""
    markets = coerce_frame(market_rows(NOW), MARKET_COLUMNS)
    warehouse.replace_run_rows(con, "markets", "run-b", markets)
    warehouse.replace_run_rows(con, "venue_status", "run-b", venue_frame())
    warehouse.replace_run_rows(con, "reviewed_pairs", "run-b", reviewed_frame(["reviewed", "cached", "reviewed"]))
    warehouse.replace_run_rows(con, "opportunities", "run-b", opportunity_frame(current_opportunities()))
    for layer, rows_in, rows_out, seconds in layer_frame():
        warehouse.record_layer(con, "run-b", layer, rows_in, rows_out, seconds, {"note": layer})
    con.execute(
        "INSERT INTO runs VALUES (?, ?, NULL, 'running', '{}', NULL, false)", ["run-b", NOW]
    )
    if not with_history:
        return
    earlier = opportunity("KXRAINSEA-26DEC10", "0xa1", margin=0.02, confidence=0.92, detected=EARLIER,
                          kalshi_title="Will it rain in Seattle on Dec 10?",
                          polymarket_title="Seattle rain on December 10?")
    warehouse.replace_run_rows(con, "markets", "run-a", coerce_frame(market_rows(EARLIER), MARKET_COLUMNS))
    warehouse.replace_run_rows(con, "opportunities", "run-a", opportunity_frame([earlier]))
    con.execute(
        "INSERT INTO runs VALUES (?, ?, ?, 'succeeded', '{}', NULL, false)",
        ["run-a", EARLIER, EARLIER + timedelta(seconds=12)],
    )
