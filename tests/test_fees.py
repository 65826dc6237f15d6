"""Taker fees of both venues, checked against amounts computed by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from mflib.fees import (
    kalshi_taker_fee,
    parse_category_rates,
    polymarket_fee_rate,
    polymarket_taker_fee,
    to_decimal,
)


@pytest.mark.parametrize(
    ("contracts", "price", "expected"),
    [
        ("1", "0.50", "0.02"),      # 0.0175 rounds up to 2 cents
        ("100", "0.50", "1.75"),    # exactly 1.75, no rounding
        ("10", "0.10", "0.07"),     # 0.063
        ("3", "0.97", "0.01"),      # 0.006111
        ("1000", "0.005", "0.35"),  # sub-cent price: 0.34825
        ("2.5", "0.40", "0.05"),    # fractional size: 0.042
    ],
)
def test_fees_kalshi_single_level(contracts, price, expected):
    assert kalshi_taker_fee([(D(price), D(contracts))]) == D(expected)


def test_fees_kalshi_multi_level_is_one_order():
    # 0.0147 + 0.015019 = 0.029719 -> 0.03 once, where two separate orders would pay 0.02 + 0.02.
    assert kalshi_taker_fee([(D("0.30"), D(1)), (D("0.31"), D(1))]) == D("0.03")


def test_fees_kalshi_series_multiplier():
    assert kalshi_taker_fee([(D("0.50"), D(100))], multiplier=D("0.5")) == D("0.88")


def test_fees_kalshi_unknown_multiplier_counts_as_one():
    assert kalshi_taker_fee([(D("0.50"), D(100))], multiplier=None) == D("1.75")


def test_fees_kalshi_custom_rate():
    assert kalshi_taker_fee([(D("0.50"), D(100))], rate=D("0.0175")) == D("0.44")


def test_fees_kalshi_no_fills():
    assert kalshi_taker_fee([]) == D("0")


@pytest.mark.parametrize(
    ("contracts", "price", "rate", "expected"),
    [
        ("100", "0.50", "0.04", "1.00000"),
        ("1", "0.37", "0.03", "0.00699"),   # 0.006993
        ("1", "0.45", "0.07", "0.01733"),   # 0.017325: half-up, where half-even or floor give 0.01732
        ("0.5", "0.001", "0.05", "0.00002"),  # 0.000024975
    ],
)
def test_fees_polymarket_rounding(contracts, price, rate, expected):
    assert polymarket_taker_fee([(D(price), D(contracts))], fee_rate=D(rate)) == D(expected)


def test_fees_polymarket_rounds_each_level():
    fills = [(D("0.45"), D(1)), (D("0.45"), D(1))]
    assert polymarket_taker_fee(fills, fee_rate=D("0.07")) == D("0.03466")


def test_fees_polymarket_zero_rate():
    assert polymarket_taker_fee([(D("0.5"), D(100))], fee_rate=D(0)) == D(0)


def test_fees_polymarket_rate_disabled():
    rate, basis = polymarket_fee_rate(fees_enabled=False, fee_rate=D("0.07"), category="crypto")
    assert rate == D(0)
    assert basis == "fees_disabled"


def test_fees_polymarket_rate_market_value_wins():
    rate, basis = polymarket_fee_rate(fees_enabled=True, fee_rate=D("0.02"), category="crypto")
    assert rate == D("0.02")
    assert basis == "market_fee_rate"


@pytest.mark.parametrize(
    ("category", "expected"),
    [("Crypto", "0.07"), ("sports", "0.03"), ("Politics", "0.04"), ("mentions", "0.04"),
     ("Weather", "0.05"), ("geopolitics", "0"), ("World Events", "0")],
)
def test_fees_polymarket_rate_by_category(category, expected):
    rate, _ = polymarket_fee_rate(fees_enabled=True, fee_rate=None, category=category)
    assert rate == D(expected)


def test_fees_polymarket_unknown_category_uses_highest():
    rate, basis = polymarket_fee_rate(fees_enabled=True, fee_rate=None, category="astrology")
    assert rate == D("0.07")
    assert basis == "unknown_category:astrology"


def test_fees_polymarket_missing_flag_no_fee():
    rate, _ = polymarket_fee_rate(fees_enabled=None, fee_rate=None, category="crypto")
    assert rate == D(0)


def test_fees_to_decimal_float_is_exact_text():
    assert to_decimal(0.07) == D("0.07")


def test_fees_to_decimal_nan_is_none():
    assert to_decimal(float("nan")) is None


def test_fees_to_decimal_rejects_text():
    with pytest.raises(ValueError, match="abc"):
        to_decimal("abc")


def test_fees_category_rates_reject_out_of_range():
    with pytest.raises(ValueError, match="crypto"):
        parse_category_rates({"crypto": 1.5})
