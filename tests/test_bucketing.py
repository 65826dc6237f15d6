"""Tests of mflib.bucketing on small hand-written market tables."""

from __future__ import annotations

import pandas as pd
import pytest

from mflib.bucketing import assign_buckets
from mflib.errors import ConfigError
from mflib.schema import MARKET_COLUMNS, coerce_frame


def market(platform: str, market_id: str, title: str, close: str, *, subtitle: str = "", category: str = "Politics",
           tradeable: bool = True) -> dict:
    return {"platform": platform, "market_id": market_id, "title": title, "subtitle": subtitle,
            "category": category, "close_time": close, "tradeable": tradeable, "status": "open"}


def small_table() -> pd.DataFrame:
    rows = [
        market("kalshi", "KXVANTORLEAD-27", "Will Orla Vantor lead the Pellmark party in 2027?", "2027-12-31T15:00:00Z"),
        market("kalshi", "KXQUILLMAYOR-26-BRE", "Who will win the Dunmere mayor race?", "2026-11-04T15:00:00Z",
               subtitle="Bren Quill"),
        market("kalshi", "KXRAINDAYS-26JUN", "How many rainy days this summer?", "2026-07-01T15:00:00Z",
               category="Climate and Weather"),
        market("kalshi", "KXCLOSED-26", "Will Orla Vantor visit Dunmere?", "2026-05-01T15:00:00Z", tradeable=False),
        market("polymarket", "0xa1", "Orla Vantor Pellmark party leader by end of 2027?", "2027-12-31T00:00:00Z"),
        market("polymarket", "0xa2", "Will Bren Quill win the Dunmere mayoral election?", "2026-11-03T00:00:00Z",
               subtitle="Bren Quill"),
        market("polymarket", "0xa3", "Rainfall above normal this season?", "2026-06-30T00:00:00Z", category="Weather"),
        market("polymarket", "0xa4", "Will a new stadium open this year?", "2026-12-31T00:00:00Z", category="Sports"),
    ]
    return coerce_frame(rows, MARKET_COLUMNS)


def buckets_by_market(result) -> dict[str, set[str]]:
    return {market_id: set(group) for market_id, group in result.buckets.groupby("market_id")["bucket"]}


# A low IDF floor, because in an eight-market table every name occurs in a quarter of the rows.
# Category windows are off so the keyword and fallback buckets can be checked alone.
PARAMS = {"min_keyword_idf": 1.0, "category_window_days": 0}


def test_bucketing_every_tradeable_market_in_a_bucket():
    markets = small_table()
    result = assign_buckets(markets, PARAMS)
    tradeable = set(markets.loc[markets["tradeable"].fillna(False), "market_id"])
    assert tradeable <= set(result.buckets["market_id"])


def test_bucketing_skips_untradeable_markets():
    result = assign_buckets(small_table(), PARAMS)
    assert "KXCLOSED-26" not in set(result.buckets["market_id"])


def test_bucketing_every_market_can_pair():
    result = assign_buckets(small_table(), PARAMS)
    two_venue = set(result.stats.loc[(result.stats["kalshi"] > 0) & (result.stats["polymarket"] > 0), "bucket"])
    per_market = buckets_by_market(result)
    lonely = [market_id for market_id, buckets in per_market.items() if not buckets & two_venue]
    assert lonely == []


def test_bucketing_has_no_misc_bucket():
    result = assign_buckets(small_table(), PARAMS)
    assert not result.buckets["bucket"].str.contains("misc").any()


def test_bucketing_keeps_true_pairs_together():
    result = assign_buckets(small_table(), PARAMS)
    per_market = buckets_by_market(result)
    assert per_market["KXVANTORLEAD-27"] & per_market["0xa1"]
    assert per_market["KXQUILLMAYOR-26-BRE"] & per_market["0xa2"]


def test_bucketing_reduces_pairs():
    result = assign_buckets(small_table(), PARAMS)
    assert result.naive_pairs == 3 * 4
    assert result.bucketed_pairs < result.naive_pairs
    assert result.bucketed_pairs_is_upper_bound is False


def test_bucketing_fallback_uses_category_and_month():
    # The rain markets share no keyword and close in different months, so they meet in their
    # aliased category ("Climate and Weather" and "Weather" both become "climate").
    result = assign_buckets(small_table(), PARAMS)
    per_market = buckets_by_market(result)
    assert per_market["KXRAINDAYS-26JUN"] & per_market["0xa3"] == {"cat:climate"}


def test_bucketing_last_resort_bucket_holds_both_venues():
    # The stadium market has no keyword, category or month partner, so "all" must bring a Kalshi market.
    result = assign_buckets(small_table(), PARAMS)
    stats = result.stats.set_index("bucket")
    assert buckets_by_market(result)["0xa4"] == {"all"}
    assert stats.loc["all", "kalshi"] >= 1


def test_bucketing_category_window_joins_close_markets():
    result = assign_buckets(small_table(), {"min_keyword_idf": 1.0, "category_window_days": 31})
    shared = buckets_by_market(result)["KXRAINDAYS-26JUN"] & buckets_by_market(result)["0xa3"]
    assert any(bucket.startswith("cat:climate|") and bucket.endswith("+31d") for bucket in shared)


def test_bucketing_splits_oversized_bucket_by_close_time():
    rows = []
    for day in range(1, 29):
        rows.append(market("kalshi", f"KXZORB-26FEB{day:02d}", f"Zorbcoin above 5 on February {day}?",
                           f"2026-02-{day:02d}T21:00:00Z", category="Crypto"))
        rows.append(market("polymarket", f"0xz{day}", f"Zorbcoin above $5 on February {day}?",
                           f"2026-02-{day:02d}T21:00:00Z", category="Crypto"))
    markets = coerce_frame(rows, MARKET_COLUMNS)
    result = assign_buckets(markets, {"min_keyword_idf": 0.0, "max_bucket_pairs": 50, "split_levels_days": [7, 2],
                                     "category_window_days": 0})
    split = result.stats[result.stats["split"]]
    assert len(split) > 1
    assert int(split["parent_pairs"].max()) == 28 * 28
    assert result.bucketed_pairs < 28 * 28
    per_market = buckets_by_market(result)
    assert per_market["KXZORB-26FEB10"] & per_market["0xz10"]
    assert per_market["KXZORB-26FEB10"] & per_market["0xz11"]


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"max_bucket_pairs": "many"}, "bucket.max_bucket_pairs"),
        ({"min_keyword_idf": -1}, "bucket.min_keyword_idf"),
        ({"only_tradeable": 1}, "bucket.only_tradeable"),
        ({"split_levels_days": [7, 0]}, "bucket.split_levels_days"),
        ({"bucket_size": 10}, "bucket.bucket_size"),
    ],
)
def test_bucketing_invalid_param_names_key(params, key):
    with pytest.raises(ConfigError) as error:
        assign_buckets(small_table(), params)
    assert error.value.key == key
