"""Hedge math and opportunity rows, checked against amounts computed by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import jsonschema
import pandas as pd
import pytest

from mflib.books import Ladder, MarketQuote, Quotes, quotes_from_markets
from mflib.config import REPO_ROOT
from mflib.errors import ConfigError
from mflib.pricing import (
    evaluate_pairs,
    opportunity_id,
    price_pairs,
    select_opportunities,
    validate_price_params,
)
from mflib.pricing.hedge import LegTerms, price_hedge
from mflib.schema import MARKET_COLUMNS, coerce_frame

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NO_FEE = D(0)
KALSHI_RATE = D("0.07")


def _kalshi(side, levels, rate=KALSHI_RATE):
    return LegTerms("kalshi", side, tuple((D(p), None if s is None else D(s)) for p, s in levels), rate)


def _poly(side, levels, rate=NO_FEE):
    return LegTerms("polymarket", side, tuple((D(p), None if s is None else D(s)) for p, s in levels), rate)


# ---------------------------------------------------------------- hedge math


def test_pricing_gross_gap_eaten_by_fees():
    # 0.50 + 0.49 leaves 1 cent, but the Kalshi fee on one contract at 0.50 is 2 cents.
    result = price_hedge(_kalshi("yes", [("0.50", "1")]), _poly("no", [("0.49", "1")]), D(100))
    assert result.gross_gap == D("0.01")
    assert result.has_edge is False
    assert result.executable.contracts == 0


def test_pricing_multi_level_walk():
    # Segments: 30 @ 0.40+0.55, 20 @ 0.40+0.56, 100 @ 0.42+0.56 (marginal 0.02 - 0.017052 > 0).
    first = _kalshi("yes", [("0.42", "100"), ("0.40", "50")][::-1])
    second = _poly("no", [("0.55", "30"), ("0.56", "200")])
    result = price_hedge(first, second, D(100))
    execution = result.executable
    assert execution.contracts == D(150)
    assert execution.first_cost == D("62.00")
    assert execution.second_cost == D("83.70")
    assert execution.first_fee == D("2.55")     # 0.07 x (50 x 0.24 + 100 x 0.2436) = 2.5452
    assert execution.second_fee == D(0)
    assert execution.cost == D("148.25")
    assert execution.net_profit == D("1.75")
    assert execution.profit_margin == D("1.75") / D("148.25")


def test_pricing_walk_stops_at_losing_level():
    # The second Kalshi level at 0.47 leaves 0.47 + 0.52 = 0.99 and a fee of 0.017 per contract: a loss.
    first = _kalshi("yes", [("0.40", "10"), ("0.47", "500")])
    second = _poly("no", [("0.52", "1000")])
    result = price_hedge(first, second, D(100))
    assert result.executable.contracts == D(10)
    assert result.executable.first_fee == D("0.17")   # 0.168
    assert result.executable.net_profit == D("10") - D("4.00") - D("5.20") - D("0.17")


def test_pricing_stake_fits_budget():
    first = _kalshi("yes", [("0.40", "50"), ("0.42", "100")])
    second = _poly("no", [("0.55", "30"), ("0.56", "200")])
    stake = price_hedge(first, second, D(100)).stake
    # 101.61 contracts would cost 100.0078 with the fee rounded up; 101.60 cost 99.988.
    assert stake.contracts == D("101.60")
    assert stake.first_fee == D("1.72")
    assert stake.cost == D("99.988")
    assert stake.net_profit == D("1.612")


def test_pricing_stake_limited_by_depth():
    result = price_hedge(_kalshi("yes", [("0.30", "5")]), _poly("no", [("0.60", "5")]), D(100))
    assert result.stake.contracts == D(5)
    assert result.stake.cost == result.executable.cost


def test_pricing_polymarket_fees_enabled_reduce_profit():
    first = _kalshi("no", [("0.60", "5")])
    disabled = price_hedge(first, _poly("no", [("0.35", "100")]), D(50)).executable
    enabled = price_hedge(first, _poly("no", [("0.35", "100")], rate=D("0.07")), D(50)).executable
    assert disabled.net_profit == D("0.16")              # 5 - 3 - 1.75 - 0.09
    assert enabled.second_fee == D("0.07963")            # 5 x 0.07 x 0.35 x 0.65 = 0.079625, half-up
    assert enabled.net_profit == D("0.08037")


def test_pricing_sub_cent_prices():
    result = price_hedge(_kalshi("yes", [("0.004", "1000")]), _poly("no", [("0.99", "1000")]), D(100))
    assert result.gross_gap == D("0.006")
    assert result.executable.contracts == D(1000)
    assert result.executable.first_fee == D("0.28")      # 0.07 x 1000 x 0.004 x 0.996 = 0.27888
    assert result.executable.net_profit == D("5.72")


def test_pricing_fractional_sizes():
    result = price_hedge(_kalshi("yes", [("0.30", "12.5")]), _poly("no", [("0.60", "7.25")]), D(100))
    assert result.executable.contracts == D("7.25")
    assert result.executable.first_fee == D("0.11")      # 0.07 x 7.25 x 0.21 = 0.106575
    assert result.executable.net_profit == D("7.25") - D("2.175") - D("4.35") - D("0.11")


def test_pricing_empty_book_has_no_edge():
    result = price_hedge(_kalshi("yes", []), _poly("no", [("0.40", "10")]), D(100))
    assert result.gross_gap is None
    assert result.has_edge is False


def test_pricing_unknown_size_counts_one_contract():
    result = price_hedge(_kalshi("yes", [("0.30", None)]), _poly("no", [("0.60", "50")]), D(100))
    assert result.executable.contracts == D(1)
    assert result.unknown_size is True


def test_pricing_series_multiplier_changes_fee():
    result = price_hedge(_kalshi("yes", [("0.50", "100")], rate=D("0.035")), _poly("no", [("0.45", "100")]), D(100))
    assert result.executable.first_fee == D("0.88")      # 0.035 x 100 x 0.25 = 0.875


# ---------------------------------------------------------------- pairs to opportunities


def _markets(**overrides):
    kalshi = {"platform": "kalshi", "market_id": "KXRATE-26JUN-T4", "series_id": "KXRATE",
              "title": "Rate above 4% in June?", "status": "open", "tradeable": True,
              "yes_ask": 0.40, "no_ask": 0.62, "yes_ask_size": 200.0, "no_ask_size": 50.0,
              "close_time": "2026-06-30T00:00:00Z", "fetched_at": "2026-03-01T11:59:30Z",
              "volume_usd": 1500.0, "url": "https://kalshi.example/markets/kxrate",
              "rules": "Resolves per the figure published on federalreserve.gov."}
    poly = {"platform": "polymarket", "market_id": "0xabc", "title": "Will the rate exceed 4% in June?",
            "status": "open", "tradeable": True, "yes_ask": 0.41, "no_ask": 0.55,
            "yes_ask_size": 100.0, "no_ask_size": 300.0, "close_time": "2026-06-30T06:00:00Z",
            "fetched_at": "2026-03-01T11:59:50Z", "fees_enabled": False, "category": "economics",
            "neg_risk": False, "neg_risk_other": False, "url": "https://polymarket.example/event/rate",
            "rules": "Source: https://www.federalreserve.gov/releases.", "token_yes": "111", "token_no": "222"}
    for key, value in overrides.items():
        platform, column = key.split("__")
        (kalshi if platform == "kalshi" else poly)[column] = value
    return coerce_frame([kalshi, poly], MARKET_COLUMNS)


def _pairs(orientation="same", **extra):
    row = {"pair_id": "KXRATE-26JUN-T4|0xabc", "kalshi_id": "KXRATE-26JUN-T4", "polymarket_id": "0xabc",
           "orientation": orientation, "confidence": 0.93, "accepted": True, "confidence_source": "llm",
           "review_status": "reviewed", "llm_relation": "same", "llm_confidence": 0.95,
           "llm_difference": "", "probability": 0.88, "reason_codes": "threshold_match"}
    row.update(extra)
    return pd.DataFrame([row])


def _opportunities(markets=None, pairs=None, params=None):
    markets = _markets() if markets is None else markets
    pairs = _pairs() if pairs is None else pairs
    quotes = quotes_from_markets(pairs, markets)
    return price_pairs(pairs, markets, quotes, params or {"fetch_books": False}, now=NOW)


def test_pricing_pairs_one_direction_with_edge():
    frame = _opportunities()
    assert list(frame["direction"]) == ["kalshi_yes_polymarket_no"]
    row = frame.iloc[0]
    assert row["executable_contracts"] == 200.0
    # 200 x (0.40 + 0.55) = 190; Kalshi fee 0.07 x 200 x 0.24 = 3.36
    assert row["cost_usd"] == 193.36
    assert row["net_profit_usd"] == 6.64


def test_pricing_pairs_opportunity_object():
    item = json.loads(_opportunities().iloc[0]["opportunity_json"])
    assert item["id"] == opportunity_id("KXRATE-26JUN-T4", "0xabc", "kalshi_yes_polymarket_no")
    assert item["buyMarket"]["platform"] == "kalshi"
    assert item["buyMarket"]["price"] == 0.40
    assert item["sellMarket"]["platform"] == "polymarket"
    assert item["sellMarket"]["price"] == 0.45
    assert item["profitMargin"] == round(6.64 / 193.36, 6)
    assert item["confidence"] == 0.93
    assert item["expiresAt"] == "2026-06-30T00:00:00Z"
    assert item["detectedAt"] == "2026-03-01T12:00:00Z"
    assert item["fees"] == {"kalshi": 3.36, "polymarket": 0.0, "total": 3.36, "kalshiFeeMultiplier": 1.0,
                            "kalshiFeeMultiplierKnown": False, "polymarketFeeRate": 0.0,
                            "polymarketFeeBasis": "fees_disabled"}
    assert item["grossGap"] == 0.05
    assert item["legs"][1]["side"] == "no"
    assert item["stake"]["usd"] == 100.0
    assert item["riskFlags"] == ["top_of_book_only"]
    assert item["topOfBookOnly"] is True
    assert item["confidenceSource"] == "llm"
    assert "LLM review judged the markets same" in item["reasoning"]
    assert "gross gap 0.05" in item["reasoning"]


def test_pricing_pairs_annualized_by_later_close():
    item = json.loads(_opportunities().iloc[0]["opportunity_json"])
    days = (datetime(2026, 6, 30, 6, tzinfo=UTC) - NOW).total_seconds() / 86400
    assert item["annualizedReturn"] == pytest.approx(6.64 / 193.36 * 365 / days, abs=1e-6)


def test_pricing_pairs_match_json_schema():
    schema = json.loads((REPO_ROOT / "mflib" / "schemas" / "opportunities.schema.json").read_text())
    item = json.loads(_opportunities().iloc[0]["opportunity_json"])
    jsonschema.validate({"opportunities": [item], "metadata": {"totalFound": 1, "lastProcessed": "2026-03-01T12:00:00Z",
                                                                "processingTime": 1.0,
                                                                "confidence": {"high": 1, "medium": 0, "low": 0}}}, schema)


def test_pricing_pairs_id_stable():
    first = _opportunities().iloc[0]["opportunity_id"]
    again = _opportunities().iloc[0]["opportunity_id"]
    assert first == again
    assert opportunity_id("KXRATE-26JUN-T4", "0xabc", "kalshi_no_polymarket_yes") != first


def test_pricing_pairs_inverted_buys_yes_twice():
    markets = _markets(polymarket__yes_ask=0.55, polymarket__no_ask=0.41)
    item = json.loads(_opportunities(markets, _pairs("inverted")).iloc[0]["opportunity_json"])
    assert item["direction"] == "kalshi_yes_polymarket_yes"
    assert [leg["side"] for leg in item["legs"]] == ["yes", "yes"]
    assert item["sellMarket"]["price"] == 0.45


def test_pricing_pairs_inverted_no_no_direction():
    markets = _markets(kalshi__yes_ask=0.50, kalshi__no_ask=0.30, polymarket__yes_ask=0.70, polymarket__no_ask=0.60)
    item = json.loads(_opportunities(markets, _pairs("inverted")).iloc[0]["opportunity_json"])
    assert item["direction"] == "kalshi_no_polymarket_no"
    assert item["buyMarket"]["platform"] == "polymarket"
    assert item["buyMarket"]["price"] == 0.60
    assert item["sellMarket"]["price"] == 0.70


def test_pricing_pairs_fees_enabled_by_category():
    markets = _markets(polymarket__fees_enabled=True)
    item = json.loads(_opportunities(markets).iloc[0]["opportunity_json"])
    assert item["fees"]["polymarketFeeRate"] == 0.05
    assert item["fees"]["polymarket"] == 2.475       # 200 x 0.05 x 0.55 x 0.45


def test_pricing_pairs_risk_flags():
    markets = _markets(polymarket__close_time="2026-07-15T00:00:00Z", kalshi__status="unknown",
                       kalshi__tradeable=pd.NA, polymarket__neg_risk=True, polymarket__subtitle="Other",
                       polymarket__rules="Source: https://www.bls.gov/cpi", kalshi__yes_ask_size=5.0,
                       kalshi__fetched_at="2026-03-01T11:00:00Z")
    item = json.loads(_opportunities(markets).iloc[0]["opportunity_json"])
    assert item["riskFlags"] == ["close_times_differ", "resolution_sources_differ", "neg_risk_other",
                                 "side_not_open", "stale_quote", "thin_depth", "top_of_book_only"]


def test_pricing_pairs_not_tradeable_skipped():
    markets = _markets(polymarket__tradeable=False, polymarket__status="closed")
    assert _opportunities(markets).empty


def test_pricing_pairs_unaccepted_skipped():
    assert _opportunities(pairs=_pairs(accepted=False)).empty


def test_pricing_pairs_min_margin_filters():
    assert _opportunities(params={"fetch_books": False, "min_profit_margin": 0.05}).empty


def test_pricing_pairs_book_ladder_used():
    markets = _markets()
    pairs = _pairs()
    quotes = quotes_from_markets(pairs, markets)
    quote: MarketQuote = quotes.get("kalshi", "KXRATE-26JUN-T4")
    quote.yes = Ladder(((D("0.40"), D(20)), (D("0.44"), D(500))), "book", NOW - timedelta(seconds=5))
    quotes.get("polymarket", "0xabc").no = Ladder(((D("0.55"), D(1000)),), "book", NOW)
    evaluated = evaluate_pairs(pairs, markets, quotes, {"fetch_books": False}, now=NOW)
    row = evaluated[evaluated["direction"] == "kalshi_yes_polymarket_no"].iloc[0]
    assert row["executable_contracts"] == 20.0          # 0.44 + 0.55 plus the fee loses money
    assert not row["top_of_book_only"]
    assert "thin_depth" not in row["risk_flags"]


def test_pricing_evaluate_keeps_directions_without_edge():
    evaluated = evaluate_pairs(_pairs(), _markets(), Quotes(), {"fetch_books": False}, now=NOW)
    assert set(evaluated["direction"]) == {"kalshi_yes_polymarket_no", "kalshi_no_polymarket_yes"}
    assert list(select_opportunities(evaluated, {})["direction"]) == ["kalshi_yes_polymarket_no"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("stake_usd", 0), ("stake_usd", "lots"), ("kalshi_fee_rate", 2), ("fetch_books", "yes"),
     ("clob_base_url", "clob.local"), ("kalshi_books_replay", [3]), ("polymarket_category_fee_rates", {"crypto": -1}),
     ("max_quote_age_seconds", -5), ("min_depth_contracts", True)],
)
def test_pricing_params_invalid_named(key, value):
    with pytest.raises(ConfigError) as error:
        validate_price_params({key: value})
    assert error.value.key == f"price.{key}"


def test_pricing_params_rate_per_venue():
    settings = validate_price_params({"rate_limit_per_second": {"kalshi": 10, "polymarket": 5}})
    assert settings["rate_limit_per_second"] == {"kalshi": 10.0, "polymarket": 5.0}


def test_pricing_params_defaults():
    settings = validate_price_params({})
    assert settings["stake_usd"] == D(100)
    assert settings["polymarket_category_fee_rates"]["sports"] == D("0.03")
    assert settings["kalshi_books_replay"] == []
