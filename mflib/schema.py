"""The unified market schema: one row per binary market, the same columns for both venues."""

from __future__ import annotations

import pandas as pd

# Column -> pandas dtype. Prices are dollars in [0, 1]; a null ask or bid means "no offer", never 0.5.
MARKET_COLUMNS: dict[str, str] = {
    "platform": "string",            # "kalshi" | "polymarket"
    "market_id": "string",           # Kalshi ticker; Polymarket conditionId
    "venue_market_id": "string",     # Polymarket numeric id; Kalshi ticker again
    "event_id": "string",            # Kalshi event_ticker; Polymarket event id
    "series_id": "string",           # Kalshi series_ticker; Polymarket series slug
    "event_title": "string",
    "title": "string",
    "subtitle": "string",            # Kalshi yes_sub_title; Polymarket groupItemTitle
    "rules": "string",               # Kalshi rules_primary + rules_secondary; Polymarket description
    "resolution_source": "string",
    "category": "string",
    "open_time": "datetime64[us, UTC]",
    "close_time": "datetime64[us, UTC]",
    "status": "string",              # open | closed | settled | unopened | unknown
    "venue_status": "string",        # the status text the venue sent
    "tradeable": "boolean",          # open and at least one ask
    "yes_bid": "Float64",
    "yes_ask": "Float64",
    "no_bid": "Float64",
    "no_ask": "Float64",
    "yes_ask_size": "Float64",       # contracts at the best YES ask, where the venue gives it
    "no_ask_size": "Float64",
    "last_price": "Float64",
    "volume_usd": "Float64",
    "volume_24h_usd": "Float64",
    "liquidity_usd": "Float64",
    "open_interest": "Float64",
    "outcome_yes": "string",         # label of the outcome that plays YES (a team name in sports)
    "outcome_no": "string",
    "token_yes": "string",           # Polymarket CLOB token id of outcome 0
    "token_no": "string",
    "neg_risk": "boolean",
    "neg_risk_other": "boolean",
    "sports_market_type": "string",
    "line": "Float64",
    "fee_multiplier": "Float64",     # Kalshi series fee multiplier (null = not known, 1.0 assumed)
    "fees_enabled": "boolean",       # Polymarket feesEnabled
    "fee_rate": "Float64",           # Polymarket taker fee rate when the market gives one
    "tick_size": "Float64",
    "url": "string",
    "slug": "string",
    "content_hash": "string",        # hash of the texts, for caches and incremental runs
    "fetched_at": "datetime64[us, UTC]",  # when the quote was read; in replay, updated_at when known
    "updated_at": "datetime64[us, UTC]",  # the venue's own last-update time of the record, where given
    "source": "string",              # raw page file the row came from
}

QUARANTINE_COLUMNS: dict[str, str] = {
    "platform": "string",
    "market_id": "string",
    "field": "string",
    "reason": "string",
    "value": "string",
    "source": "string",
}


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def coerce_frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    """Build a frame with exactly these columns and dtypes (missing keys become nulls)."""
    if not rows:
        return empty_frame(columns)
    frame = pd.DataFrame.from_records(rows)
    for name, dtype in columns.items():
        if name not in frame.columns:
            frame[name] = pd.Series([None] * len(frame), dtype=dtype)
        elif dtype.startswith("datetime64"):
            frame[name] = pd.to_datetime(frame[name], utc=True, errors="coerce").astype(dtype)
        else:
            frame[name] = frame[name].astype(dtype)
    return frame[list(columns)]
