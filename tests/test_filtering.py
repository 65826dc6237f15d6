"""Tests of mflib.filtering on hand-written markets, plus the recorded Iran snapshot."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from mflib.bucketing import assign_buckets
from mflib.errors import ConfigError, SchemaError
from mflib.filtering import find_candidates
from mflib.schema import MARKET_COLUMNS, coerce_frame


def market(platform: str, market_id: str, title: str, close: str, *, subtitle: str = "",
           liquidity: float | None = None) -> dict:
    return {"platform": platform, "market_id": market_id, "title": title, "subtitle": subtitle,
            "category": "Economics", "close_time": close, "tradeable": True, "status": "open",
            "liquidity_usd": liquidity}


def ladder_table() -> pd.DataFrame:
    """A Kalshi strike ladder, the Polymarket twin of one rung and lookalikes that differ."""
    rows = [
        market("kalshi", "KXTARVO-26MAR31-T120", "Will Tarvo Motors stock close above $120 on March 31, 2026?",
               "2026-03-31T20:00:00Z", subtitle="$120 or above"),
        market("kalshi", "KXTARVO-26MAR31-T130", "Will Tarvo Motors stock close above $130 on March 31, 2026?",
               "2026-03-31T20:00:00Z", subtitle="$130 or above"),
        market("kalshi", "KXTARVO-26JUN30-T120", "Will Tarvo Motors stock close above $120 on June 30, 2026?",
               "2026-06-30T20:00:00Z", subtitle="$120 or above"),
        market("kalshi", "KXBELLQUIZ-26", "Will Anka Bellquist win the quiz championship?", "2026-09-01T15:00:00Z"),
        market("polymarket", "0xt120", "Tarvo Motors stock above $120 on March 31?", "2026-03-31T20:00:00Z",
               subtitle="$120"),
        market("polymarket", "0xbell", "Will Anka Bellquist win the 2026 quiz championship?",
               "2026-09-01T00:00:00Z", liquidity=5.0),
        market("polymarket", "0xnoise", "Will Tarvo Motors open a new factory?", "2026-12-31T00:00:00Z"),
    ]
    return coerce_frame(rows, MARKET_COLUMNS)


BUCKET_PARAMS = {"min_keyword_idf": 0.5}


def run_filter(markets: pd.DataFrame, params: dict | None = None):
    buckets = assign_buckets(markets, BUCKET_PARAMS)
    return find_candidates(markets, buckets.buckets, params or {})


def rejected_count(result, reason: str) -> int:
    return int(result.rejected.set_index("reason").loc[reason, "pairs"])


def test_filtering_true_pair_survives():
    result = run_filter(ladder_table())
    assert "KXTARVO-26MAR31-T120|0xt120" in set(result.candidates["pair_id"])


def test_filtering_candidate_columns():
    candidates = run_filter(ladder_table()).candidates
    for name in ("pair_id", "kalshi_id", "polymarket_id", "bucket", "text_score", "close_gap_days"):
        assert name in candidates.columns
    assert candidates["text_score"].between(0, 100).all()


def test_filtering_ranks_matching_strike_first():
    candidates = run_filter(ladder_table(), {"top_k": 1}).candidates.set_index("pair_id")
    same = candidates.loc["KXTARVO-26MAR31-T120|0xt120", "rank_score"]
    other = candidates.loc["KXTARVO-26MAR31-T130|0xt120", "rank_score"]
    assert same > other


def test_filtering_threshold_near_miss_gets_reason():
    candidates = run_filter(ladder_table()).candidates.set_index("pair_id")
    assert "threshold_differs" in candidates.loc["KXTARVO-26MAR31-T130|0xt120", "fact_flags"]
    assert candidates.loc["KXTARVO-26MAR31-T120|0xt120", "fact_flags"] == ""


def test_filtering_drops_fact_mismatches_when_asked():
    result = run_filter(ladder_table(), {"drop_fact_mismatches": True})
    assert "KXTARVO-26MAR31-T130|0xt120" not in set(result.candidates["pair_id"])
    assert rejected_count(result, "threshold_differs") >= 1
    assert "KXTARVO-26MAR31-T120|0xt120" in set(result.candidates["pair_id"])


def test_filtering_deadline_near_miss_rejected_by_close_gap():
    result = run_filter(ladder_table())
    assert "KXTARVO-26JUN30-T120|0xt120" not in set(result.candidates["pair_id"])
    assert rejected_count(result, "close_gap_over_max") >= 1


def test_filtering_liquidity_floor_removes_thin_market():
    result = run_filter(ladder_table(), {"min_liquidity_usd": 10.0})
    assert "KXBELLQUIZ-26|0xbell" not in set(result.candidates["pair_id"])
    assert rejected_count(result, "liquidity_below_min") == 1


def test_filtering_null_liquidity_passes():
    result = run_filter(ladder_table(), {"min_liquidity_usd": 10.0})
    assert "KXTARVO-26MAR31-T120|0xt120" in set(result.candidates["pair_id"])


def test_filtering_top_k_limits_matches_per_market():
    candidates = run_filter(ladder_table(), {"top_k": 1, "min_text_score": 0}).candidates
    assert candidates.groupby("kalshi_id").size().max() == 1


def test_filtering_min_text_score_rejects_weak_pairs():
    result = run_filter(ladder_table(), {"min_text_score": 99})
    assert len(result.candidates) == 0
    assert rejected_count(result, "text_score_below_min") >= 1


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"scorer": "cosine"}, "filter.scorer"),
        ({"top_k": 0}, "filter.top_k"),
        ({"min_text_score": 101}, "filter.min_text_score"),
        ({"max_close_gap_days": "week"}, "filter.max_close_gap_days"),
        ({"workers": 0}, "filter.workers"),
        ({"window": 3}, "filter.window"),
    ],
)
def test_filtering_invalid_param_names_key(params, key):
    markets = ladder_table()
    buckets = assign_buckets(markets, BUCKET_PARAMS).buckets
    with pytest.raises(ConfigError) as error:
        find_candidates(markets, buckets, params)
    assert error.value.key == key


def test_filtering_empty_tables_give_no_candidates():
    markets = ladder_table().iloc[:0]
    buckets = assign_buckets(markets, BUCKET_PARAMS)
    result = find_candidates(markets, buckets.buckets, {})
    assert len(result.candidates) == 0
    assert int(result.rejected["pairs"].sum()) == 0


def test_filtering_missing_column_raises_schema_error():
    markets = ladder_table()
    buckets = assign_buckets(markets, BUCKET_PARAMS).buckets
    with pytest.raises(SchemaError, match="bucket"):
        find_candidates(markets, buckets.drop(columns="bucket"), {})


def test_filtering_iran_snapshot_reaches_candidates(shared_data):
    normalize = pytest.importorskip("mflib.normalize")
    fetched_at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    kalshi_payload = json.loads((shared_data / "raw/kalshi/iran_2026-03-01/kalshi_raw.json").read_text())
    poly_payload = json.loads((shared_data / "raw/polymarket/iran_2026-03-01/polymarket_raw.json").read_text())
    kalshi = normalize.normalize_kalshi_page(kalshi_payload, source="kalshi_raw.json", fetched_at=fetched_at)
    poly = normalize.normalize_polymarket_page(poly_payload, source="polymarket_raw.json", fetched_at=fetched_at)
    markets = coerce_frame(kalshi.rows + poly.rows, MARKET_COLUMNS)
    slug = "us-recognizes-reza-pahlavi-as-leader-of-iran-in2026"
    poly_id = markets.loc[markets["slug"] == slug, "market_id"].iloc[0]

    buckets = assign_buckets(markets, {})
    result = find_candidates(markets, buckets.buckets, {})

    assert f"KXRECOGPERSONIRAN-26|{poly_id}" in set(result.candidates["pair_id"])
    assert buckets.bucketed_pairs < buckets.naive_pairs
