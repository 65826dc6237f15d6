"""Taker fees of Kalshi and Polymarket, computed exactly with Decimal.

Every amount here is in USD and every price in dollars (0..1). A fill is a sequence of
`(price, contracts)` pairs, one per order-book level consumed by a single order.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
POLYMARKET_FEE_QUANTUM = Decimal("0.00001")

DEFAULT_KALSHI_FEE_RATE = Decimal("0.07")

# Polymarket taker fee rates by market category, as Polymarket published them for 2026.
DEFAULT_POLYMARKET_CATEGORY_FEE_RATES: dict[str, Decimal] = {
    "crypto": Decimal("0.07"),
    "sports": Decimal("0.03"),
    "finance": Decimal("0.04"),
    "politics": Decimal("0.04"),
    "tech": Decimal("0.04"),
    "mentions": Decimal("0.04"),
    "economics": Decimal("0.05"),
    "culture": Decimal("0.05"),
    "weather": Decimal("0.05"),
    "other": Decimal("0.05"),
    "geopolitics": Decimal("0"),
}

Fill = tuple[Decimal, Decimal]


def to_decimal(value: Any) -> Decimal | None:
    """Convert a price, size or rate to Decimal without binary-float noise; None and NaN give None.

    Floats go through `repr`, so 0.07 becomes Decimal("0.07") and not 0.07000000000000000666.
    Raises ValueError for text that is not a number.
    """
    if value is None:
        return None
    if isinstance(value, Decimal):
        return None if value.is_nan() else value
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {value!r}")
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return Decimal(repr(value))
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"expected a number, got {value!r}") from exc
    if result.is_nan():
        return None
    if not result.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    return result


def ceil_to_cent(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_CEILING)


def kalshi_taker_fee(
    fills: Iterable[Fill],
    *,
    rate: Decimal = DEFAULT_KALSHI_FEE_RATE,
    multiplier: Decimal | None = None,
) -> Decimal:
    """Return the Kalshi taker fee of one order: ceil to the cent of rate x m x sum(C x P x (1 - P)).

    Kalshi's fee schedule charges `ceil(0.07 x C x P x (1 - P))` per order, and its per-order
    rounding accumulator refunds over-rounding across partial fills, so a multi-level fill is
    charged like one order: the levels are summed first and rounded up once. `multiplier` is the
    series fee multiplier (None means unknown and counts as 1).
    """
    total = Decimal(0)
    for price, contracts in fills:
        total += contracts * price * (1 - price)
    factor = rate * (multiplier if multiplier is not None else Decimal(1))
    return ceil_to_cent(total * factor)


def polymarket_taker_fee(fills: Iterable[Fill], *, fee_rate: Decimal) -> Decimal:
    """Return the Polymarket taker fee: per level, C x feeRate x p x (1 - p) rounded half-up to 5 decimals.

    Polymarket charges the fee on each match against a resting order, so each level is rounded
    on its own. Polymarket states a 5-decimal precision but not the rounding direction, so
    half-up is used: it never undercharges by more than half a unit.
    NOTE: NautilusTrader's Polymarket adapter floors each fill to 5 decimals instead, which is
    at most 0.00001 USD per level lower than this value.
    """
    if fee_rate == 0:
        return Decimal(0)
    total = Decimal(0)
    for price, contracts in fills:
        raw = contracts * fee_rate * price * (1 - price)
        total += raw.quantize(POLYMARKET_FEE_QUANTUM, rounding=ROUND_HALF_UP)
    return total


def normalize_category(category: str | None) -> str:
    text = (category or "").strip().lower()
    aliases = {
        "world events": "geopolitics",
        "world": "geopolitics",
        "geopolitical": "geopolitics",
        "technology": "tech",
        "economy": "economics",
        "business": "finance",
        "climate": "weather",
        "climate & weather": "weather",
        "pop culture": "culture",
        "entertainment": "culture",
        "election": "politics",
        "elections": "politics",
    }
    return aliases.get(text, text)


def polymarket_fee_rate(
    *,
    fees_enabled: bool | None,
    fee_rate: Decimal | None,
    category: str | None,
    category_rates: Mapping[str, Decimal] = DEFAULT_POLYMARKET_CATEGORY_FEE_RATES,
) -> tuple[Decimal, str]:
    """Return the taker fee rate of a Polymarket market and how it was chosen.

    No fee unless `fees_enabled` is true. The market's own rate wins, then the category rate, and
    an unknown category falls back to the highest category rate so that an edge is never overstated.
    """
    if not fees_enabled:
        return Decimal(0), "fees_disabled"
    if fee_rate is not None:
        return fee_rate, "market_fee_rate"
    key = normalize_category(category)
    if key in category_rates:
        return category_rates[key], f"category:{key}"
    highest = max(category_rates.values(), default=Decimal(0))
    return highest, f"unknown_category:{key or 'empty'}"


def parse_category_rates(raw: Mapping[str, Any]) -> dict[str, Decimal]:
    """Convert a {category: rate} mapping from parameters to Decimals keyed by normalized name."""
    rates = {}
    for name, value in raw.items():
        rate = to_decimal(value)
        if rate is None or rate < 0 or rate > 1:
            raise ValueError(f"category {name!r} has fee rate {value!r}, expected a number from 0 to 1")
        rates[normalize_category(str(name))] = rate
    return rates
