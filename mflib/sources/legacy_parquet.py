"""Read a unified-markets Parquet file written by an earlier MarketFinder ETL into MARKET_COLUMNS.

That file contains titles, categories, close times, volume and a yes/no price per market, but no
subtitles, rules, event titles or order-book asks. Its tool wrote 0.5 for both prices when a
venue sent none, so a market priced exactly 0.5 / 0.5 gets null prices here. The file is useful
for matching titles at scale, not for pricing.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from mflib.errors import SchemaError
from mflib.schema import MARKET_COLUMNS, coerce_frame

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("platform", "external_id", "title", "category", "yes_price", "no_price", "status", "close_time")
FALLBACK_PRICE = 0.5
STATUS_MAP = {"active": "open", "finalized": "settled", "closed": "closed", "settled": "settled"}


def _optional(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _blank_to_null(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def load_unified_markets(path: str | Path) -> pd.DataFrame:
    """Load the legacy Parquet file and return a markets table with MARKET_COLUMNS.

    `market_id` is the venue id the old tool stored (Kalshi ticker, Polymarket numeric id; the
    Polymarket condition id is not in the file). `tradeable` is true for markets the tool marked
    active and tradeable. Raises SchemaError when the file lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(str(path), "legacy Parquet file not found; pass the path of unified_markets.parquet")
    raw = pd.read_parquet(path)
    missing = [name for name in REQUIRED_COLUMNS if name not in raw.columns]
    if missing:
        raise SchemaError(str(path), f"missing column {missing[0]!r}; expected the unified_markets export")

    platform = raw["platform"].astype("string").str.lower()
    market_id = raw["external_id"].astype("string")
    yes = pd.to_numeric(raw["yes_price"], errors="coerce")
    no = pd.to_numeric(raw["no_price"], errors="coerce")
    fallback = (yes == FALLBACK_PRICE) & (no == FALLBACK_PRICE)
    outside = ~yes.between(0, 1) | ~no.between(0, 1)
    yes = yes.mask(fallback | outside)
    no = no.mask(fallback | outside)
    status_text = raw["status"].astype("string").str.lower()
    active = _optional(raw, "is_active").fillna(False).astype(bool) & _optional(raw, "can_trade").fillna(False).astype(bool)

    frame = pd.DataFrame({
        "platform": platform,
        "market_id": market_id,
        "venue_market_id": market_id,
        "event_id": _blank_to_null(_optional(raw, "event_id")),
        "series_id": market_id.str.split("-").str[0].where(platform == "kalshi"),
        "title": raw["title"].astype("string"),
        "category": raw["category"].astype("string"),
        "open_time": pd.to_datetime(_optional(raw, "open_time"), utc=True, errors="coerce"),
        "close_time": pd.to_datetime(raw["close_time"], utc=True, errors="coerce"),
        "status": status_text.map(lambda value: STATUS_MAP.get(value, "unknown")),
        "venue_status": status_text,
        "tradeable": active & (status_text == "active"),
        # NOTE: the old tool did not say whether its yes/no prices were asks, mids or last trades;
        # they are used as asks and last price here, so treat any edge computed from them as unverified.
        "yes_ask": yes,
        "no_ask": no,
        "last_price": yes,
        "volume_usd": pd.to_numeric(_optional(raw, "volume"), errors="coerce"),
        "volume_24h_usd": pd.to_numeric(_optional(raw, "volume_24h"), errors="coerce"),
        "liquidity_usd": pd.to_numeric(_optional(raw, "liquidity"), errors="coerce"),
        "open_interest": pd.to_numeric(_optional(raw, "open_interest"), errors="coerce"),
        "outcome_yes": "Yes",
        "outcome_no": "No",
        "content_hash": [hashlib.sha256(str(title).encode("utf-8")).hexdigest()[:16] for title in raw["title"]],
        "fetched_at": pd.to_datetime(_optional(raw, "last_updated"), utc=True, errors="coerce"),
        "source": path.name,
    })
    result = coerce_frame(frame.replace({np.nan: None}).to_dict(orient="records"), MARKET_COLUMNS)
    log.info("legacy parquet %s: %d markets (%d Kalshi), %d with the 0.5 fallback price set to null, %d tradeable",
             path.name, len(result), int((result["platform"] == "kalshi").sum()), int(fallback.sum()),
             int(result["tradeable"].sum()))
    return result
