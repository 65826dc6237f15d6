"""The `price` section of a parameter file: defaults and validation."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from mflib.errors import ConfigError
from mflib.fees import DEFAULT_POLYMARKET_CATEGORY_FEE_RATES, parse_category_rates, to_decimal

log = logging.getLogger(__name__)

DEFAULT_KALSHI_BASE_URL = "https://api.elections.kalshi.com/trade-api/v2"
DEFAULT_CLOB_BASE_URL = "https://clob.polymarket.com"

PRICE_DEFAULTS: dict[str, Any] = {
    "stake_usd": 100,
    "kalshi_fee_rate": 0.07,
    "polymarket_category_fee_rates": {name: float(rate) for name, rate in DEFAULT_POLYMARKET_CATEGORY_FEE_RATES.items()},
    "min_profit_margin": 0.0,
    "max_quote_age_seconds": 120,
    "min_depth_contracts": 10,
    "fetch_books": True,
    "kalshi_base_url": DEFAULT_KALSHI_BASE_URL,
    "clob_base_url": DEFAULT_CLOB_BASE_URL,
    "kalshi_books_replay": [],
    "polymarket_books_replay": [],
    "rate_limit_per_second": 5.0,
}


def _number(section: dict, key: str, *, minimum: Decimal | None = None, maximum: Decimal | None = None, positive: bool = False) -> Decimal:
    value = section[key]
    label = f"price.{key}"
    if isinstance(value, bool):
        raise ConfigError(label, f"expected a number, got {value!r}")
    try:
        number = to_decimal(value)
    except ValueError as exc:
        raise ConfigError(label, f"expected a number, got {value!r}") from exc
    if number is None:
        raise ConfigError(label, f"expected a number, got {value!r}")
    if positive and number <= 0:
        raise ConfigError(label, f"must be greater than 0, got {value!r}")
    if minimum is not None and number < minimum:
        raise ConfigError(label, f"must be at least {minimum}, got {value!r}")
    if maximum is not None and number > maximum:
        raise ConfigError(label, f"must be at most {maximum}, got {value!r}")
    return number


def _paths(section: dict, key: str) -> list[str]:
    value = section[key]
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"price.{key}", f"expected a list of file or folder paths, got {value!r}")
    return list(value)


def _rates(section: dict) -> float | dict[str, float]:
    value = section["rate_limit_per_second"]
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"kalshi", "polymarket"})
        if unknown:
            raise ConfigError("price.rate_limit_per_second", f"unknown venue {unknown[0]!r}; use kalshi and polymarket")
        return {venue: float(_number(value, venue, positive=True)) for venue in value}
    return float(_number(section, "rate_limit_per_second", positive=True))


def validate_price_params(section: dict | None) -> dict[str, Any]:
    """Return the `price` parameters with defaults filled in and numbers as Decimal.

    Raises ConfigError naming the key when a value has the wrong type or range. Unknown keys
    are logged and ignored, so a newer parameter file still runs on an older package.
    """
    raw = dict(PRICE_DEFAULTS)
    raw.update(section or {})
    unknown = sorted(set(raw) - set(PRICE_DEFAULTS))
    if unknown:
        log.warning("price parameters: ignoring unknown keys %s", ", ".join(unknown))

    rates = raw["polymarket_category_fee_rates"]
    if not isinstance(rates, dict):
        raise ConfigError("price.polymarket_category_fee_rates", f"expected a mapping of category to rate, got {rates!r}")
    try:
        category_rates = parse_category_rates(rates)
    except ValueError as exc:
        raise ConfigError("price.polymarket_category_fee_rates", str(exc)) from exc

    for key in ("kalshi_base_url", "clob_base_url"):
        if not isinstance(raw[key], str) or not raw[key].startswith(("http://", "https://")):
            raise ConfigError(f"price.{key}", f"expected an http(s) URL, got {raw[key]!r}")
    if not isinstance(raw["fetch_books"], bool):
        raise ConfigError("price.fetch_books", f"expected true or false, got {raw['fetch_books']!r}")

    return {
        "stake_usd": _number(raw, "stake_usd", positive=True),
        "kalshi_fee_rate": _number(raw, "kalshi_fee_rate", minimum=Decimal(0), maximum=Decimal(1)),
        "polymarket_category_fee_rates": category_rates,
        "min_profit_margin": _number(raw, "min_profit_margin", minimum=Decimal(-1)),
        "max_quote_age_seconds": _number(raw, "max_quote_age_seconds", minimum=Decimal(0)),
        "min_depth_contracts": _number(raw, "min_depth_contracts", minimum=Decimal(0)),
        "fetch_books": raw["fetch_books"],
        "kalshi_base_url": raw["kalshi_base_url"],
        "clob_base_url": raw["clob_base_url"],
        "kalshi_books_replay": _paths(raw, "kalshi_books_replay"),
        "polymarket_books_replay": _paths(raw, "polymarket_books_replay"),
        "rate_limit_per_second": _rates(raw),
    }
