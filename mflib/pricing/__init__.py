"""Pricing layer: the edge a trader can take on an accepted pair, after both venues' fees and at a fillable size.

`evaluate_pairs` prices every direction of every accepted pair; `select_opportunities` keeps the
directions with an edge; `price_pairs` does both. The money math lives in `mflib.pricing.hedge`
and the output objects in `mflib.pricing.opportunity`.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from mflib.books import Ladder, MarketQuote, Quotes, top_of_book_ladder
from mflib.fees import polymarket_fee_rate, to_decimal
from mflib.pricing.hedge import HedgeResult, LegTerms, price_hedge
from mflib.pricing.opportunity import (
    DIRECTIONS,
    DIRECTIONS_BY_ORIENTATION,
    PairContext,
    build_opportunity,
    opportunity_id,
    risk_flags,
    usd,
)
from mflib.pricing.params import PRICE_DEFAULTS, validate_price_params

log = logging.getLogger(__name__)

__all__ = [
    "OPPORTUNITY_COLUMNS",
    "PRICE_DEFAULTS",
    "accepted_pairs",
    "evaluate_pairs",
    "opportunity_id",
    "price_pairs",
    "select_opportunities",
    "validate_price_params",
]

OPPORTUNITY_COLUMNS = [
    "opportunity_id", "pair_id", "kalshi_id", "polymarket_id", "direction", "orientation",
    "confidence", "gross_gap", "executable_contracts", "cost_usd", "fees_kalshi_usd",
    "fees_polymarket_usd", "net_profit_usd", "net_per_contract", "profit_margin", "stake_contracts", "stake_cost_usd",
    "stake_net_profit_usd", "stake_profit_margin", "annualized_return", "risk_flags",
    "top_of_book_only", "detected_at", "expires_at", "opportunity_json",
]
EVALUATION_COLUMNS = [*OPPORTUNITY_COLUMNS[:-1], "has_edge", "opportunity_json"]
_TEXT_COLUMNS = {"opportunity_id", "pair_id", "kalshi_id", "polymarket_id", "direction", "orientation",
                 "risk_flags", "opportunity_json"}
_BOOL_COLUMNS = {"top_of_book_only", "has_edge"}
_TIME_COLUMNS = {"detected_at", "expires_at"}

REVIEW_COLUMNS = ("review_status", "llm_relation", "llm_confidence", "llm_difference", "probability", "reason_codes", "disagreement")


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return None
        return (value.tz_convert("UTC") if value.tzinfo else value.tz_localize("UTC")).to_pydatetime()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every column a fixed dtype, so an empty first run creates the warehouse table with the right types."""
    for column in frame.columns:
        if column in _TEXT_COLUMNS:
            frame[column] = frame[column].astype("string")
        elif column in _BOOL_COLUMNS:
            frame[column] = frame[column].astype("boolean")
        elif column in _TIME_COLUMNS:
            frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
        else:
            frame[column] = frame[column].astype("Float64")
    return frame


def _market_index(markets: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    index = {}
    if markets.empty:
        return index
    for record in markets.to_dict("records"):
        clean = {key: _clean(value) for key, value in record.items()}
        index[(str(clean["platform"]), str(clean["market_id"]))] = clean
    return index


def _quote_for(quotes: Quotes, market: dict[str, Any]) -> MarketQuote:
    quote = quotes.get(market["platform"], market["market_id"])
    if quote is not None:
        return quote
    row = pd.Series(market)
    return MarketQuote(market["platform"], market["market_id"], top_of_book_ladder(row, "yes"), top_of_book_ladder(row, "no"))


def _context(pair: dict[str, Any], kalshi: dict[str, Any], polymarket: dict[str, Any]) -> PairContext:
    confidence = pair.get("confidence")
    if confidence is None:
        confidence = pair.get("probability") or 0.0
    return PairContext(
        pair_id=str(pair.get("pair_id") or f"{kalshi['market_id']}|{polymarket['market_id']}"),
        kalshi=kalshi,
        polymarket=polymarket,
        orientation=str(pair["orientation"]),
        confidence=float(confidence),
        confidence_source=str(pair.get("confidence_source") or "model_and_rules"),
        review={key: pair.get(key) for key in REVIEW_COLUMNS},
    )


def _evaluation_row(context: PairContext, direction: str, opportunity: dict[str, Any], result: HedgeResult,
                    legs: tuple[LegTerms, LegTerms]) -> dict[str, Any]:
    execution, stake = result.executable, result.stake
    if execution.contracts > 0:
        net_per_contract = execution.net_profit / execution.contracts
    else:
        # No profitable size: show the loss of one contract at the best asks, fees before rounding.
        first, second = legs
        net_per_contract = (1 - first.best_ask - second.best_ask
                            - first.unit_fee(first.best_ask) - second.unit_fee(second.best_ask))
    return {
        "opportunity_id": opportunity["id"],
        "pair_id": context.pair_id,
        "kalshi_id": opportunity["kalshiMarketId"],
        "polymarket_id": opportunity["polymarketMarketId"],
        "direction": direction,
        "orientation": context.orientation,
        "confidence": opportunity["confidence"],
        "gross_gap": opportunity["grossGap"],
        "executable_contracts": float(execution.contracts),
        "cost_usd": opportunity["costUsd"],
        "fees_kalshi_usd": opportunity["fees"]["kalshi"],
        "fees_polymarket_usd": opportunity["fees"]["polymarket"],
        "net_profit_usd": opportunity["netProfitUsd"],
        "net_per_contract": usd(net_per_contract),
        "profit_margin": opportunity["profitMargin"] if execution.profit_margin is not None else None,
        "stake_contracts": float(stake.contracts),
        "stake_cost_usd": opportunity["stake"]["costUsd"],
        "stake_net_profit_usd": opportunity["stake"]["netProfitUsd"],
        "stake_profit_margin": opportunity["stake"]["profitMargin"] if stake.profit_margin is not None else None,
        "annualized_return": opportunity["annualizedReturn"],
        "risk_flags": ";".join(opportunity["riskFlags"]),
        "top_of_book_only": opportunity["topOfBookOnly"],
        "detected_at": opportunity["detectedAt"],
        "expires_at": opportunity["expiresAt"],
        "has_edge": result.has_edge,
        "opportunity_json": json.dumps(opportunity, sort_keys=False),
    }


def _price_direction(
    context: PairContext,
    direction: str,
    quotes: tuple[MarketQuote, MarketQuote],
    settings: dict[str, Any],
    *,
    now: datetime,
) -> dict[str, Any] | None:
    kalshi_side, polymarket_side = DIRECTIONS[direction]
    kalshi_ladder: Ladder = quotes[0].side(kalshi_side)
    polymarket_ladder: Ladder = quotes[1].side(polymarket_side)
    if not kalshi_ladder.levels or not polymarket_ladder.levels:
        return None

    multiplier = quotes[0].fee_multiplier
    if multiplier is None:
        multiplier = to_decimal(context.kalshi.get("fee_multiplier"))
    poly_rate, poly_basis = polymarket_fee_rate(
        fees_enabled=context.polymarket.get("fees_enabled"),
        fee_rate=to_decimal(context.polymarket.get("fee_rate")),
        category=context.polymarket.get("category"),
        category_rates=settings["polymarket_category_fee_rates"],
    )
    kalshi_rate = settings["kalshi_fee_rate"] * (multiplier if multiplier is not None else Decimal(1))
    first = LegTerms("kalshi", kalshi_side, kalshi_ladder.levels, kalshi_rate)
    second = LegTerms("polymarket", polymarket_side, polymarket_ladder.levels, poly_rate)
    result = price_hedge(first, second, settings["stake_usd"])

    flags = risk_flags(
        context, result, (kalshi_ladder, polymarket_ladder), now=now,
        max_quote_age_seconds=settings["max_quote_age_seconds"],
        min_depth_contracts=settings["min_depth_contracts"],
    )
    fee_details = {
        "kalshiFeeMultiplier": multiplier if multiplier is not None else Decimal(1),
        "kalshiFeeMultiplierKnown": multiplier is not None,
        "polymarketFeeRate": poly_rate,
        "polymarketFeeBasis": poly_basis,
        "kalshiBestAsk": kalshi_ladder.best_ask,
        "polymarketBestAsk": polymarket_ladder.best_ask,
    }
    opportunity = build_opportunity(context, direction, result, flags, fee_details, now=now)
    return _evaluation_row(context, direction, opportunity, result, (first, second))


def _not_tradeable(market: dict[str, Any]) -> bool:
    # A null `tradeable` is unknown, so the market is priced and flagged by its status instead.
    value = market.get("tradeable")
    return value is not None and not bool(value)


def accepted_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Return the reviewed pairs whose `accepted` flag is true (all rows when the column is absent)."""
    if pairs.empty or "accepted" not in pairs.columns:
        return pairs
    return pairs[pairs["accepted"].fillna(False).astype(bool)].reset_index(drop=True)


def evaluate_pairs(
    pairs: pd.DataFrame,
    markets: pd.DataFrame,
    quotes: Quotes,
    params: dict,
    *,
    now: datetime,
) -> pd.DataFrame:
    """Price both directions of every accepted pair whose two markets are tradeable.

    Returns one row per priced direction (columns EVALUATION_COLUMNS), with or without an edge.
    `has_edge` is true when the executable size is above 0 and the net profit positive. A
    direction is priced only when both legs have at least one ask. Skipped pairs are counted
    in the log by reason.
    """
    started = time.perf_counter()
    settings = validate_price_params(params)
    index = _market_index(markets)
    accepted = accepted_pairs(pairs)
    skipped: Counter[str] = Counter()
    rows = []
    for record in accepted.to_dict("records"):
        pair = {key: _clean(value) for key, value in record.items()}
        kalshi = index.get(("kalshi", str(pair.get("kalshi_id"))))
        polymarket = index.get(("polymarket", str(pair.get("polymarket_id"))))
        orientation = pair.get("orientation")
        if kalshi is None or polymarket is None:
            skipped["market_missing"] += 1
            continue
        if orientation not in DIRECTIONS_BY_ORIENTATION:
            skipped["invalid_orientation"] += 1
            continue
        if _not_tradeable(kalshi) or _not_tradeable(polymarket):
            skipped["not_tradeable"] += 1
            continue
        context = _context(pair, kalshi, polymarket)
        market_quotes = (_quote_for(quotes, kalshi), _quote_for(quotes, polymarket))
        for direction in DIRECTIONS_BY_ORIENTATION[orientation]:
            row = _price_direction(context, direction, market_quotes, settings, now=now)
            if row is None:
                skipped["direction_without_ask"] += 1
            else:
                rows.append(row)
    frame = _typed(pd.DataFrame(rows, columns=EVALUATION_COLUMNS))
    log.info(
        "pricing: %d accepted pairs, %d directions priced, %d with an edge, skipped %s, %.2f s",
        len(accepted), len(frame), int(frame["has_edge"].sum()) if len(frame) else 0,
        dict(skipped) or "none", time.perf_counter() - started,
    )
    return frame


def select_opportunities(evaluated: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Keep the directions with an edge whose profit margin reaches `min_profit_margin`, best first."""
    settings = validate_price_params(params)
    if evaluated.empty:
        return _typed(pd.DataFrame(columns=OPPORTUNITY_COLUMNS))
    keep = evaluated["has_edge"].fillna(False).astype(bool) & (
        evaluated["profit_margin"].astype("float64") >= float(settings["min_profit_margin"])
    )
    selected = evaluated.loc[keep, OPPORTUNITY_COLUMNS].sort_values(
        ["profit_margin", "opportunity_id"], ascending=[False, True]
    )
    return selected.reset_index(drop=True)


def price_pairs(
    pairs: pd.DataFrame,
    markets: pd.DataFrame,
    quotes: Quotes,
    params: dict,
    *,
    now: datetime,
) -> pd.DataFrame:
    """Return the opportunities table: one row per priced direction with an edge (see evaluate_pairs)."""
    return select_opportunities(evaluate_pairs(pairs, markets, quotes, params, now=now), params)
