"""Opportunity objects: the website's ArbitrageOpportunity plus the pricing layer's extra fields."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mflib.books import Ladder
from mflib.pricing.hedge import Execution, HedgeResult

USD_QUANTUM = Decimal("0.000001")
ONE_DAY = timedelta(days=1)

# direction -> (Kalshi side bought, Polymarket side bought)
DIRECTIONS: dict[str, tuple[str, str]] = {
    "kalshi_yes_polymarket_no": ("yes", "no"),
    "kalshi_no_polymarket_yes": ("no", "yes"),
    "kalshi_yes_polymarket_yes": ("yes", "yes"),
    "kalshi_no_polymarket_no": ("no", "no"),
}
DIRECTIONS_BY_ORIENTATION: dict[str, tuple[str, str]] = {
    "same": ("kalshi_yes_polymarket_no", "kalshi_no_polymarket_yes"),
    "inverted": ("kalshi_yes_polymarket_yes", "kalshi_no_polymarket_no"),
}

_URL_DOMAIN = re.compile(r"https?://(?:www\.)?([a-z0-9.-]+\.[a-z]{2,})", re.IGNORECASE)
_BARE_DOMAIN = re.compile(r"\b(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|gov|net|io|edu|int|us|uk))\b", re.IGNORECASE)
_OTHER_OUTCOME = re.compile(r"\bother\b", re.IGNORECASE)


def opportunity_id(kalshi_id: str, polymarket_id: str, direction: str) -> str:
    """Return an id that is the same in every run for this pair and direction."""
    digest = hashlib.sha256(f"{kalshi_id}|{polymarket_id}|{direction}".encode()).hexdigest()
    return f"arb-{digest[:20]}"


def usd(value: Decimal) -> float:
    """Round a Decimal amount to 6 decimals for JSON, as the opportunity contract requires."""
    return float(value.quantize(USD_QUANTUM, rounding=ROUND_HALF_UP))


def isoformat(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def source_domains(*texts: str | None) -> set[str]:
    """Return the web domains named in resolution sources or rules texts, lower case, without www."""
    domains: set[str] = set()
    for text in texts:
        if not text:
            continue
        domains.update(match.lower().rstrip(".") for match in _URL_DOMAIN.findall(text))
        domains.update(match.lower().rstrip(".") for match in _BARE_DOMAIN.findall(text))
    return domains


@dataclass(frozen=True)
class PairContext:
    """Everything about one accepted pair that the opportunity object reports."""

    pair_id: str
    kalshi: dict[str, Any]
    polymarket: dict[str, Any]
    orientation: str
    confidence: float
    confidence_source: str
    review: dict[str, Any]


def risk_flags(
    context: PairContext,
    result: HedgeResult,
    ladders: tuple[Ladder, Ladder],
    *,
    now: datetime,
    max_quote_age_seconds: Decimal,
    min_depth_contracts: Decimal,
) -> list[str]:
    """Return the risk codes of a priced direction, in a fixed order."""
    kalshi, polymarket = context.kalshi, context.polymarket
    flags = []
    k_close, p_close = kalshi.get("close_time"), polymarket.get("close_time")
    if k_close is not None and p_close is not None and abs(k_close - p_close) > ONE_DAY:
        flags.append("close_times_differ")
    k_sources = source_domains(kalshi.get("resolution_source"), kalshi.get("rules"))
    p_sources = source_domains(polymarket.get("resolution_source"), polymarket.get("rules"))
    if k_sources and p_sources and not (k_sources & p_sources):
        flags.append("resolution_sources_differ")
    if polymarket.get("neg_risk_other") or (
        polymarket.get("neg_risk") and _OTHER_OUTCOME.search(str(polymarket.get("subtitle") or ""))
    ):
        flags.append("neg_risk_other")
    if kalshi.get("status") != "open" or polymarket.get("status") != "open":
        flags.append("side_not_open")
    stamps = [ladder.fetched_at for ladder in ladders if ladder.fetched_at is not None]
    if stamps and (now - min(stamps)).total_seconds() > float(max_quote_age_seconds):
        flags.append("stale_quote")
    if result.executable.contracts < min_depth_contracts or result.unknown_size:
        flags.append("thin_depth")
    if any(ladder.top_of_book_only for ladder in ladders):
        flags.append("top_of_book_only")
    if k_close is None and p_close is None:
        flags.append("close_time_unknown")
    return flags


def _title(market: dict[str, Any]) -> str:
    title = str(market.get("title") or market.get("market_id") or "")
    subtitle = str(market.get("subtitle") or "")
    if subtitle and subtitle.lower() not in title.lower():
        title = f"{title} ({subtitle})"
    return title


def _volume(market: dict[str, Any]) -> float:
    value = market.get("volume_usd")
    if value is None or (isinstance(value, float) and math.isnan(value)) or value < 0:
        return 0.0
    return float(value)


def _market_object(market: dict[str, Any], platform: str, price: Decimal) -> dict[str, Any]:
    return {
        "title": _title(market),
        "platform": platform,
        "price": usd(price),
        "volume": _volume(market),
        "url": str(market.get("url") or ""),
    }


def buy_and_sell(context: PairContext, direction: str, kalshi_ask: Decimal, polymarket_ask: Decimal) -> tuple[dict, dict]:
    """Return (buyMarket, sellMarket) in the Kalshi question's terms.

    "YES" means the outcome Kalshi YES pays on. In an inverted pair that outcome is Polymarket's
    NO token, so buying Polymarket NO buys YES, and buying Polymarket YES sells YES. buyMarket's
    price is the ask of what plays YES where it is bought. sellMarket's price is 1 minus the ask
    of what plays NO on the other venue. Either way, buy price + (1 - sell price) is the cost of
    one hedged contract at the best asks.
    """
    kalshi_side, _ = DIRECTIONS[direction]
    if kalshi_side == "yes":
        buy = _market_object(context.kalshi, "kalshi", kalshi_ask)
        sell = _market_object(context.polymarket, "polymarket", 1 - polymarket_ask)
    else:
        buy = _market_object(context.polymarket, "polymarket", polymarket_ask)
        sell = _market_object(context.kalshi, "kalshi", 1 - kalshi_ask)
    return buy, sell


def _why_same(context: PairContext) -> str:
    review = context.review
    parts = []
    relation = str(review.get("llm_relation") or "")
    if relation and review.get("review_status") in ("reviewed", "cached"):
        text = f"LLM review judged the markets {relation}"
        if review.get("llm_confidence") is not None:
            text += f" (confidence {float(review['llm_confidence']):.2f})"
        if review.get("llm_difference"):
            text += f", noting: {review['llm_difference']}"
        parts.append(text + ".")
    if review.get("probability") is not None:
        text = f"Match model probability {float(review['probability']):.2f}"
        if review.get("reason_codes"):
            text += f", reason codes {review['reason_codes']}"
        parts.append(text + ".")
    if review.get("disagreement"):
        parts.append(f"Model and LLM disagree: {review['disagreement']}.")
    if not parts:
        parts.append(f"Accepted as the same question with confidence {context.confidence:.2f}.")
    payout = "YES" if context.orientation == "same" else "NO"
    parts.append(f"Kalshi YES pays exactly when Polymarket {payout} pays ({context.orientation} orientation).")
    return " ".join(parts)


def _where_edge(direction: str, result: HedgeResult, kalshi_ask: Decimal, polymarket_ask: Decimal) -> str:
    kalshi_side, polymarket_side = DIRECTIONS[direction]
    execution = result.executable
    margin = execution.profit_margin or Decimal(0)
    return (
        f"Buying Kalshi {kalshi_side.upper()} at {kalshi_ask.normalize():f} and Polymarket "
        f"{polymarket_side.upper()} at {polymarket_ask.normalize():f} costs "
        f"{(kalshi_ask + polymarket_ask).normalize():f} per $1 payout (gross gap {result.gross_gap.normalize():f}). "
        f"After ${execution.fees.quantize(Decimal('0.01'))} of fees, {execution.contracts.normalize():f} contracts "
        f"net ${execution.net_profit.quantize(Decimal('0.01'))} ({float(margin):.2%} of cost)."
    )


def _legs(context: PairContext, direction: str, execution: Execution, asks: tuple[Decimal, Decimal]) -> list[dict]:
    kalshi_side, polymarket_side = DIRECTIONS[direction]
    legs = []
    for venue, market, side, fills, cost, fee, best in (
        ("kalshi", context.kalshi, kalshi_side, execution.first_fills, execution.first_cost, execution.first_fee, asks[0]),
        ("polymarket", context.polymarket, polymarket_side, execution.second_fills, execution.second_cost, execution.second_fee, asks[1]),
    ):
        average = Execution.average(fills)
        legs.append({
            "venue": venue,
            "marketId": str(market.get("market_id")),
            "side": side,
            "avgPrice": usd(average if average is not None else best),
            "contracts": float(execution.contracts),
            "cost": usd(cost),
            "fee": usd(fee),
            "bestAsk": usd(best),
            "levels": len(fills),
        })
    return legs


def annualized_return(margin: Decimal | None, later_close: datetime | None, now: datetime) -> float | None:
    """Return margin x 365 / days to the later close time (simple, not compounded), or None."""
    if margin is None or later_close is None:
        return None
    days = Decimal(str((later_close - now).total_seconds() / 86400))
    if days <= 0:
        return None
    return float((margin * 365 / days).quantize(USD_QUANTUM, rounding=ROUND_HALF_UP))


def build_opportunity(
    context: PairContext,
    direction: str,
    result: HedgeResult,
    flags: list[str],
    fee_details: dict[str, Any],
    *,
    now: datetime,
) -> dict[str, Any]:
    """Build the complete opportunity object of one priced direction."""
    kalshi_ask = result.executable.first_fills[0][0] if result.executable.first_fills else None
    polymarket_ask = result.executable.second_fills[0][0] if result.executable.second_fills else None
    kalshi_ask = kalshi_ask if kalshi_ask is not None else fee_details["kalshiBestAsk"]
    polymarket_ask = polymarket_ask if polymarket_ask is not None else fee_details["polymarketBestAsk"]
    buy, sell = buy_and_sell(context, direction, kalshi_ask, polymarket_ask)
    execution, stake = result.executable, result.stake
    closes = [moment for moment in (context.kalshi.get("close_time"), context.polymarket.get("close_time")) if moment is not None]
    margin = execution.profit_margin
    return {
        "id": opportunity_id(str(context.kalshi["market_id"]), str(context.polymarket["market_id"]), direction),
        "buyMarket": buy,
        "sellMarket": sell,
        "profitMargin": usd(margin) if margin is not None else 0.0,
        "confidence": max(0.0, min(1.0, context.confidence)),
        "reasoning": f"{_why_same(context)} {_where_edge(direction, result, kalshi_ask, polymarket_ask)}",
        "detectedAt": isoformat(now),
        # Without any close time the opportunity is marked as expiring now (flag close_time_unknown).
        "expiresAt": isoformat(min(closes)) if closes else isoformat(now),
        "pairId": context.pair_id,
        "kalshiMarketId": str(context.kalshi["market_id"]),
        "polymarketMarketId": str(context.polymarket["market_id"]),
        "direction": direction,
        "orientation": context.orientation,
        "legs": _legs(context, direction, execution, (kalshi_ask, polymarket_ask)),
        "fees": {
            "kalshi": usd(execution.first_fee),
            "polymarket": usd(execution.second_fee),
            "total": usd(execution.fees),
            "kalshiFeeMultiplier": float(fee_details["kalshiFeeMultiplier"]),
            "kalshiFeeMultiplierKnown": fee_details["kalshiFeeMultiplierKnown"],
            "polymarketFeeRate": float(fee_details["polymarketFeeRate"]),
            "polymarketFeeBasis": fee_details["polymarketFeeBasis"],
        },
        "executableSize": float(execution.contracts),
        "costUsd": usd(execution.cost),
        "netProfitUsd": usd(execution.net_profit),
        "grossGap": usd(result.gross_gap) if result.gross_gap is not None else None,
        "stake": {
            "usd": usd(result.stake_usd),
            "contracts": float(stake.contracts),
            "costUsd": usd(stake.cost),
            "netProfitUsd": usd(stake.net_profit),
            "profitMargin": usd(stake.profit_margin) if stake.profit_margin is not None else 0.0,
        },
        "annualizedReturn": annualized_return(margin, max(closes) if closes else None, now),
        "riskFlags": flags,
        "topOfBookOnly": "top_of_book_only" in flags,
        "confidenceSource": context.confidence_source,
    }
