"""The `verdicts` table: LLM verdicts cached across runs, and their export as labeled pairs.

A verdict is keyed by both market ids, a hash of both markets' texts, the prompt version and
the model, so a later run reuses it until one of the texts, the prompt or the model changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from mflib import warehouse

log = logging.getLogger(__name__)

TABLE = "verdicts"
KEY_COLUMNS = ["kalshi_id", "polymarket_id", "text_hash", "prompt_version", "model"]

# Market fields that decide settlement; a change in any of them invalidates a cached verdict.
HASHED_FIELDS = ["event_title", "title", "subtitle", "rules", "resolution_source", "close_time", "outcome_yes", "outcome_no"]

# Columns of the hand-labeled pairs CSV (dev_pairs.csv) that the scoring model trains on.
EXPORT_COLUMNS = [
    "pair_id", "kalshi_ticker", "kalshi_event_title", "kalshi_title", "kalshi_subtitle", "kalshi_rules",
    "kalshi_close_time", "polymarket_id", "polymarket_event_title", "polymarket_title", "polymarket_subtitle",
    "polymarket_rules", "polymarket_close_time", "polymarket_outcomes", "label", "difference",
]


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return str(value)


def text_hash(kalshi: dict[str, Any], polymarket: dict[str, Any]) -> str:
    """Return the sha256 of both markets' settlement texts (HASHED_FIELDS), in a fixed order."""
    parts = {
        "kalshi": {name: _text(kalshi.get(name)) for name in HASHED_FIELDS},
        "polymarket": {name: _text(polymarket.get(name)) for name in HASHED_FIELDS},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {TABLE} (
            kalshi_id VARCHAR NOT NULL, polymarket_id VARCHAR NOT NULL, text_hash VARCHAR NOT NULL,
            prompt_version VARCHAR NOT NULL, model VARCHAR NOT NULL,
            relation VARCHAR, confidence DOUBLE, decisive_difference VARCHAR, resolution_risks_json VARCHAR,
            input_tokens BIGINT, output_tokens BIGINT, run_id VARCHAR, created_at TIMESTAMPTZ,
            PRIMARY KEY (kalshi_id, polymarket_id, text_hash, prompt_version, model)
        )"""
    )


def lookup(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame) -> pd.DataFrame:
    """Return the stored verdicts matching the KEY_COLUMNS rows of keys (one row per key at most)."""
    ensure_table(con)
    if keys.empty:
        return pd.DataFrame(columns=[*KEY_COLUMNS, "relation", "confidence", "decisive_difference", "resolution_risks_json"])
    con.register("_verdict_keys", keys[KEY_COLUMNS].drop_duplicates())
    try:
        return con.execute(
            f"""
            SELECT v.kalshi_id, v.polymarket_id, v.text_hash, v.prompt_version, v.model,
                   v.relation, v.confidence, v.decisive_difference, v.resolution_risks_json
            FROM {TABLE} v JOIN _verdict_keys k USING ({", ".join(KEY_COLUMNS)})"""
        ).df()
    finally:
        con.unregister("_verdict_keys")


def save(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], *, run_id: str) -> int:
    """Insert or replace verdicts (each row has KEY_COLUMNS and the verdict fields); returns rows written."""
    ensure_table(con)
    if not rows:
        return 0
    now = datetime.now(UTC)
    values = [
        [row["kalshi_id"], row["polymarket_id"], row["text_hash"], row["prompt_version"], row["model"],
         row["relation"], float(row["confidence"]), row["decisive_difference"],
         json.dumps(row["resolution_risks"]), int(row.get("input_tokens", 0)), int(row.get("output_tokens", 0)),
         run_id, now]
        for row in rows
    ]
    con.executemany(f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    return len(values)


def export_labeled_pairs(
    con: duckdb.DuckDBPyConnection, *, min_confidence: float = 0.0, prompt_version: str | None = None
) -> pd.DataFrame:
    """Return stored verdicts joined with their markets, in the columns of EXPORT_COLUMNS.

    One row per pair: the newest verdict with confidence >= min_confidence (and the given
    prompt version, when set), joined with the newest stored row of each market. The verdict's
    relation becomes the label; its decisive difference fills `difference` for `different` only.
    NOTE: the newest market row may have newer texts than the ones the verdict judged; pairs
    whose text hash no longer matches are still exported.
    """
    empty = pd.DataFrame({name: pd.Series(dtype="string") for name in EXPORT_COLUMNS})
    if not warehouse.table_exists(con, TABLE) or not warehouse.table_exists(con, "markets"):
        return empty
    version_filter = "AND prompt_version = ?" if prompt_version else ""
    arguments: list[Any] = [min_confidence] + ([prompt_version] if prompt_version else [])
    frame = con.execute(
        f"""
        WITH latest_verdicts AS (
            SELECT * FROM {TABLE}
            WHERE confidence >= ? {version_filter}
            QUALIFY row_number() OVER (PARTITION BY kalshi_id, polymarket_id ORDER BY created_at DESC) = 1
        ),
        latest_markets AS (
            SELECT * FROM markets
            QUALIFY row_number() OVER (PARTITION BY platform, market_id ORDER BY fetched_at DESC NULLS LAST, run_id DESC) = 1
        )
        SELECT v.kalshi_id, v.polymarket_id, v.relation, v.decisive_difference,
               k.event_title AS kalshi_event_title, k.title AS kalshi_title, k.subtitle AS kalshi_subtitle,
               k.rules AS kalshi_rules, k.close_time AS kalshi_close_time,
               p.event_title AS polymarket_event_title, p.title AS polymarket_title,
               p.subtitle AS polymarket_subtitle, p.rules AS polymarket_rules, p.close_time AS polymarket_close_time,
               p.outcome_yes AS polymarket_outcome_yes, p.outcome_no AS polymarket_outcome_no
        FROM latest_verdicts v
        JOIN latest_markets k ON k.platform = 'kalshi' AND k.market_id = v.kalshi_id
        JOIN latest_markets p ON p.platform = 'polymarket' AND p.market_id = v.polymarket_id
        ORDER BY v.kalshi_id, v.polymarket_id""",
        arguments,
    ).df()
    if frame.empty:
        return empty
    out = pd.DataFrame({
        "pair_id": frame["kalshi_id"] + "|" + frame["polymarket_id"],
        "kalshi_ticker": frame["kalshi_id"],
        "polymarket_id": frame["polymarket_id"],
        "label": frame["relation"],
        "difference": frame["decisive_difference"].where(frame["relation"] == "different", ""),
    })
    for venue in ("kalshi", "polymarket"):
        for name in ("event_title", "title", "subtitle", "rules"):
            out[f"{venue}_{name}"] = frame[f"{venue}_{name}"].fillna("")
        out[f"{venue}_close_time"] = frame[f"{venue}_close_time"].map(_text)
    out["polymarket_outcomes"] = [
        json.dumps([_text(yes), _text(no)]) for yes, no in zip(frame["polymarket_outcome_yes"], frame["polymarket_outcome_no"], strict=True)
    ]
    return out[EXPORT_COLUMNS].astype("string")
