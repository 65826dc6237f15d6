"""Turn raw Kalshi and Polymarket pages into rows of the unified market schema.

Live and replayed pages go through the same two functions, `normalize_kalshi_page` and
`normalize_polymarket_page`. A record with a bad value never stops a page: it goes to the
quarantine with the field, a reason code and an excerpt of the value, and the page continues.
Prices come out in dollars (0..1); a missing ask is null ("no offer"), never 0.5 or 0.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from mflib.errors import SchemaError
from mflib.schema import MARKET_COLUMNS, QUARANTINE_COLUMNS, coerce_frame
from mflib.sources import shapes

log = logging.getLogger(__name__)

# Quarantine reason codes.
MISSING_FIELD = "missing_field"
INVALID_PRICE = "invalid_price"
INVALID_NUMBER = "invalid_number"
INVALID_DATE = "invalid_date"
INVALID_JSON = "invalid_json"
UNKNOWN_STATUS = "unknown_status"
NOT_BINARY = "not_binary"
INVALID_RECORD = "invalid_record"

VALUE_EXCERPT_CHARS = 120

# Kalshi writes this placeholder into unset timestamps (for example created_time).
_UNSET_DATE_PREFIX = "0001-01-01"
# Both venues send ISO 8601, so anything else (such as 31/12/2027) is rejected, not guessed.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")

KALSHI_STATUS = {
    "active": "open",
    "open": "open",
    "initialized": "unopened",
    "unopened": "unopened",
    "inactive": "closed",
    "closed": "closed",
    "determined": "settled",
    "finalized": "settled",
    "settled": "settled",
}

# Tick size in dollars by Kalshi `price_level_structure`. The tapered grid uses $0.001 ticks only
# below 0.10 and above 0.90, so its coarser $0.01 tick is stored.
KALSHI_TICK_BY_STRUCTURE = {"linear_cent": 0.01, "deci_cent": 0.001, "tapered_deci_cent": 0.01}

# Polymarket event tags that name a top-level category, in the order they win when an event has
# several (an NBA game is tagged Sports, NBA, Games, Basketball).
POLYMARKET_CATEGORY_TAGS = (
    "Politics", "Sports", "Crypto", "Economics", "Economy", "Finance", "Business", "Tech",
    "Science", "Culture", "Pop Culture", "Weather", "Geopolitics", "World", "Elections", "Mentions",
)

KALSHI_MARKET_URL = "https://kalshi.com/markets/{series}/{event}"
POLYMARKET_EVENT_URL = "https://polymarket.com/event/{slug}"


@dataclass
class NormalizedPage:
    """Rows (MARKET_COLUMNS keys) and quarantined records (QUARANTINE_COLUMNS keys) of one page."""

    rows: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)
    shape: str = ""
    records: int = 0      # market records seen: len(rows) + len(quarantine)


class RecordError(ValueError):
    """An unusable field value, which sends its whole record to the quarantine."""

    def __init__(self, field_name: str, reason: str, value: Any):
        self.field = field_name
        self.reason = reason
        self.value = value
        super().__init__(f"{field_name}={_excerpt(value)!s}: {reason}")


# Value parsing shared by both venues


def _excerpt(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= VALUE_EXCERPT_CHARS else text[:VALUE_EXCERPT_CHARS] + "..."


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def parse_decimal(value: Any, field_name: str, *, reason: str = INVALID_NUMBER) -> float | None:
    """Convert a JSON number or decimal string to a float, or None when absent.

    Raises RecordError with `reason` for any other value, including NaN and infinity.
    """
    if not _present(value):
        return None
    if isinstance(value, bool):
        raise RecordError(field_name, reason, value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(Decimal(value.strip()))
        except InvalidOperation:
            raise RecordError(field_name, reason, value) from None
    else:
        raise RecordError(field_name, reason, value)
    if not math.isfinite(number):
        raise RecordError(field_name, reason, value)
    return number


def parse_price(value: Any, field_name: str, *, scale: float = 1.0) -> float | None:
    """Convert a price to dollars (the value divided by `scale`); RecordError unless it lies in [0, 1]."""
    number = parse_decimal(value, field_name, reason=INVALID_PRICE)
    if number is None:
        return None
    price = number / scale
    if not 0.0 <= price <= 1.0:
        raise RecordError(field_name, INVALID_PRICE, value)
    return round(price, 6)


def _optional_time(*values: Any) -> pd.Timestamp | None:
    """Return the first value that parses as a timestamp, ignoring bad ones: an update time is
    informational, so a malformed one does not quarantine the record."""
    for value in values:
        try:
            stamp = parse_time(value, "updated_at")
        except RecordError:
            continue
        if stamp is not None:
            return stamp
    return None


def parse_time(value: Any, field_name: str) -> pd.Timestamp | None:
    """Parse an ISO 8601 timestamp into a UTC Timestamp, or None when absent or Kalshi's unset placeholder."""
    if not _present(value):
        return None
    if not isinstance(value, str):
        raise RecordError(field_name, INVALID_DATE, value)
    if value.startswith(_UNSET_DATE_PREFIX):
        return None
    if not _ISO_DATE.match(value.strip()):
        raise RecordError(field_name, INVALID_DATE, value)
    try:
        stamp = pd.Timestamp(value.strip())
    except (ValueError, TypeError):
        raise RecordError(field_name, INVALID_DATE, value) from None
    if pd.isna(stamp):
        raise RecordError(field_name, INVALID_DATE, value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def decode_json_list(value: Any, field_name: str) -> list | None:
    """Decode a list sent as a real list or as a JSON string that contains one (Gamma double-encodes them)."""
    if value is None:
        return None
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            raise RecordError(field_name, INVALID_JSON, value) from None
        if isinstance(decoded, list):
            return decoded
    raise RecordError(field_name, INVALID_JSON, value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _complement(price: float | None) -> float | None:
    return None if price is None else round(1.0 - price, 6)


def content_hash(row: dict) -> str:
    """Hash (sha256) the texts that define a market's question, for caches and incremental runs."""
    close_time = row.get("close_time")
    parts = [
        row.get("title"), row.get("subtitle"), row.get("rules"),
        close_time.isoformat() if close_time is not None else None,
        row.get("outcome_yes"), row.get("outcome_no"),
    ]
    joined = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _quarantine_row(platform: str, market_id: str, error: RecordError, source: str) -> dict:
    return {
        "platform": platform,
        "market_id": market_id or "",
        "field": error.field,
        "reason": error.reason,
        "value": _excerpt(error.value),
        "source": source,
    }


# Kalshi


def _kalshi_price(market: dict, name: str) -> float | None:
    """Return a Kalshi price in dollars, preferring the `<name>_dollars` string."""
    dollars = market.get(f"{name}_dollars")
    if _present(dollars):
        return parse_price(dollars, f"{name}_dollars")
    # Legacy integer fields are in cents (response_price_units "usd_cent"), hence / 100.
    return parse_price(market.get(name), name, scale=100.0)


def _kalshi_count(market: dict, name: str) -> float | None:
    """Return a contract count from `<name>_fp` (decimal string) or the legacy integer field."""
    fixed_point = market.get(f"{name}_fp")
    if _present(fixed_point):
        return parse_decimal(fixed_point, f"{name}_fp")
    return parse_decimal(market.get(name), name)


def _as_ask(price: float | None) -> float | None:
    # An ask of 0 means nothing is offered, and Kalshi reports an ask of $1.00 when the opposite
    # side has no bids (the ask is 1 - best opposite bid). Neither can be bought at, so both
    # become null ("no offer") on either venue.
    return None if price is None or price <= 0.0 or price >= 1.0 else price


def _as_bid(price: float | None) -> float | None:
    return None if price is None or price <= 0.0 else price


def _kalshi_ask(market: dict, name: str) -> float | None:
    return _as_ask(_kalshi_price(market, name))


def _kalshi_bid(market: dict, name: str) -> float | None:
    return _as_bid(_kalshi_price(market, name))


def _kalshi_tick_size(market: dict) -> float | None:
    tick_cents = market.get("tick_size")
    if _present(tick_cents):
        # Legacy tick_size is in cents.
        return parse_decimal(tick_cents, "tick_size", reason=INVALID_PRICE) / 100.0
    return KALSHI_TICK_BY_STRUCTURE.get(market.get("price_level_structure") or "")


def _kalshi_rules(market: dict) -> str | None:
    parts = [_text(market.get("rules_primary")), _text(market.get("rules_secondary"))]
    joined = "\n\n".join(part for part in parts if part)
    return joined or None


def kalshi_market_row(market: Any, event: dict | None, *, source: str, fetched_at: datetime) -> dict:
    """Build one unified row from a Kalshi market and its event (when nested), or raise RecordError."""
    if not isinstance(market, dict):
        raise RecordError("market", INVALID_RECORD, market)
    event = event or {}
    ticker = _text(market.get("ticker"))
    if ticker is None:
        raise RecordError("ticker", MISSING_FIELD, market.get("ticker"))
    title = _text(market.get("title"))
    if title is None:
        raise RecordError("title", MISSING_FIELD, market.get("title"))

    venue_status = _text(market.get("status")) or ""
    status = KALSHI_STATUS.get(venue_status.lower())
    if status is None:
        raise RecordError("status", UNKNOWN_STATUS, market.get("status"))

    event_ticker = _text(market.get("event_ticker")) or _text(event.get("event_ticker"))
    series_ticker = (
        _text(event.get("series_ticker")) or _text(market.get("series_ticker")) or ticker.split("-", 1)[0]
    )
    yes_ask = _kalshi_ask(market, "yes_ask")
    no_ask = _kalshi_ask(market, "no_ask")
    yes_bid = _kalshi_bid(market, "yes_bid")
    no_bid = _kalshi_bid(market, "no_bid")
    if not any(_present(market.get(key)) for key in ("no_ask", "no_ask_dollars")):
        no_ask = _complement(yes_bid)     # the book is reciprocal: NO ask = 1 - YES bid
    last_price = _kalshi_price(market, "last_price")

    liquidity = market.get("liquidity_dollars")
    if _present(liquidity):
        liquidity_usd = parse_decimal(liquidity, "liquidity_dollars")
    else:
        # Legacy liquidity is in cents.
        cents = parse_decimal(market.get("liquidity"), "liquidity")
        liquidity_usd = None if cents is None else cents / 100.0

    row = {
        "platform": "kalshi",
        "market_id": ticker,
        "venue_market_id": ticker,
        "event_id": event_ticker,
        "series_id": series_ticker,
        "event_title": _text(event.get("title")),
        "title": title,
        "subtitle": _text(market.get("yes_sub_title")),
        "rules": _kalshi_rules(market),
        "resolution_source": None,
        "category": _text(market.get("category")) or _text(event.get("category")),
        "open_time": parse_time(market.get("open_time"), "open_time"),
        "close_time": parse_time(market.get("close_time"), "close_time"),
        "status": status,
        "venue_status": venue_status,
        "tradeable": status == "open" and (yes_ask is not None or no_ask is not None),
        "yes_bid": yes_bid,
        "yes_ask": yes_ask,
        "no_bid": no_bid,
        "no_ask": no_ask,
        "yes_ask_size": parse_decimal(market.get("yes_ask_size_fp"), "yes_ask_size_fp"),
        # Resting YES bids are what a NO buyer takes, so the NO ask size is the YES bid size.
        "no_ask_size": parse_decimal(market.get("yes_bid_size_fp"), "yes_bid_size_fp"),
        "last_price": last_price if last_price else None,   # 0 means no trade yet
        # Kalshi volume counts contracts of $1 notional, so the USD figure is notional, not premium paid.
        "volume_usd": _kalshi_count(market, "volume"),
        "volume_24h_usd": _kalshi_count(market, "volume_24h"),
        "liquidity_usd": liquidity_usd,
        "open_interest": _kalshi_count(market, "open_interest"),
        # Outcome labels stay Yes/No: no_sub_title repeats yes_sub_title in recorded data
        # (both name the same team), so it cannot label the NO side. The team is in `subtitle`.
        "outcome_yes": "Yes",
        "outcome_no": "No",
        "token_yes": None,
        "token_no": None,
        "neg_risk": None,
        "neg_risk_other": None,
        "sports_market_type": None,
        "line": parse_decimal(market.get("floor_strike"), "floor_strike"),
        "fee_multiplier": parse_decimal(
            market.get("fee_multiplier", event.get("fee_multiplier")), "fee_multiplier"
        ),
        "fees_enabled": None,
        "fee_rate": None,
        "tick_size": _kalshi_tick_size(market),
        # NOTE: this short form of the website path is not verified. The website's own links
        # put a title slug between the series and the event ticker.
        "url": KALSHI_MARKET_URL.format(series=series_ticker.lower(), event=(event_ticker or ticker).lower()),
        "slug": None,
        "fetched_at": fetched_at,
        "updated_at": _optional_time(market.get("updated_time"), event.get("last_updated_ts")),
        "source": source,
    }
    row["content_hash"] = content_hash(row)
    return row


def _kalshi_records(payload: Any, shape: str) -> Iterable[tuple[Any, dict | None]]:
    """Yield (market, parent event or None) for every market record of a Kalshi page."""
    if shape in (shapes.KALSHI_EVENTS_LIST, shapes.KALSHI_EVENTS_PAGE):
        events = payload if shape == shapes.KALSHI_EVENTS_LIST else payload["events"]
        for event in events:
            if not isinstance(event, dict):
                yield event, None
                continue
            for market in event.get("markets") or []:
                yield market, event
    elif shape == shapes.KALSHI_EVENT:
        event = payload["event"]
        for market in payload.get("markets") or event.get("markets") or []:
            yield market, event
    elif shape == shapes.KALSHI_MARKETS_PAGE:
        for market in payload["markets"]:
            yield market, None
    elif shape == shapes.KALSHI_MARKETS_LIST:
        for market in payload:
            yield market, None
    elif shape == shapes.KALSHI_MARKET:
        yield payload["market"], None


def normalize_kalshi_page(payload: Any, *, source: str, fetched_at: datetime) -> NormalizedPage:
    """Normalize one decoded Kalshi page of any listing shape, sending bad records to the quarantine.

    Raises SchemaError when the payload is not a Kalshi listing at all (see mflib.sources.shapes).
    """
    shape = shapes.detect_kalshi_shape(payload)
    if shape is None:
        raise SchemaError(source, "not a Kalshi events or markets page")
    records = _kalshi_records(payload, shape)
    return _normalize_records("kalshi", shape, records, kalshi_market_row, "ticker", source=source, fetched_at=fetched_at)


def _normalize_records(
    venue: str, shape: str, records: Iterator[tuple[Any, dict | None]], make_row: Callable[..., dict], id_field: str,
    *, source: str, fetched_at: datetime,
) -> NormalizedPage:
    """Build one row per (market, parent event) record, sending a record that fails to the quarantine."""
    page = NormalizedPage(shape=shape)
    for market, event in records:
        page.records += 1
        market_id = str(market.get(id_field) or "") if isinstance(market, dict) else ""
        try:
            page.rows.append(make_row(market, event, source=source, fetched_at=fetched_at))
        except RecordError as error:
            page.quarantine.append(_quarantine_row(venue, market_id, error, source))
    return page


# Polymarket


def _poly_status(market: dict) -> tuple[str, str]:
    """Return (unified status, venue status text) from Gamma's active/closed/archived flags."""
    active, closed, archived = market.get("active"), market.get("closed"), market.get("archived")
    venue_status = ",".join(
        name for name, flag in (("active", active), ("closed", closed), ("archived", archived)) if flag is True
    ) or "inactive"
    if closed is True:
        resolved = str(market.get("umaResolutionStatus") or "").lower() == "resolved"
        return ("settled" if resolved else "closed"), venue_status
    if archived is True:
        return "closed", venue_status
    if active is True:
        return "open", venue_status
    if active is False:
        return "unopened", venue_status
    return "unknown", venue_status


def _poly_category(market: dict, event: dict) -> str | None:
    direct = _text(market.get("category")) or _text(event.get("category"))
    if direct:
        return direct
    labels = [_text(tag.get("label")) for tag in event.get("tags") or [] if isinstance(tag, dict)]
    labels = [label for label in labels if label]
    for wanted in POLYMARKET_CATEGORY_TAGS:
        if wanted in labels:
            return wanted
    return labels[0] if labels else None


def _poly_series_id(event: dict) -> str | None:
    series = event.get("series")
    if isinstance(series, list) and series and isinstance(series[0], dict):
        return _text(series[0].get("slug")) or _text(series[0].get("ticker"))
    return _text(event.get("seriesSlug"))


def _poly_ask(value: Any, field_name: str) -> float | None:
    return _as_ask(parse_price(value, field_name))


def _poly_bid(value: Any, field_name: str) -> float | None:
    return _as_bid(parse_price(value, field_name))


def polymarket_market_row(market: Any, event: dict | None, *, source: str, fetched_at: datetime) -> dict:
    """Build one unified row from a Gamma market and its parent event, or raise RecordError."""
    if not isinstance(market, dict):
        raise RecordError("market", INVALID_RECORD, market)
    if event is None:
        embedded = market.get("events")
        event = embedded[0] if isinstance(embedded, list) and embedded and isinstance(embedded[0], dict) else {}

    condition_id = _text(market.get("conditionId"))
    if condition_id is None:
        raise RecordError("conditionId", MISSING_FIELD, market.get("conditionId"))
    title = _text(market.get("question"))
    if title is None:
        raise RecordError("question", MISSING_FIELD, market.get("question"))

    outcomes = decode_json_list(market.get("outcomes"), "outcomes")
    if outcomes is None:
        raise RecordError("outcomes", MISSING_FIELD, None)
    if len(outcomes) != 2:
        raise RecordError("outcomes", NOT_BINARY, market.get("outcomes"))
    tokens = decode_json_list(market.get("clobTokenIds"), "clobTokenIds") or [None, None]
    if len(tokens) != 2:
        raise RecordError("clobTokenIds", NOT_BINARY, market.get("clobTokenIds"))
    outcome_prices = decode_json_list(market.get("outcomePrices"), "outcomePrices")

    # Outcome 0 plays YES and outcome 1 NO. The CLOB matches an order for one outcome against the
    # complementary order for the other, so the NO ask is 1 - YES bid and the NO bid 1 - YES ask.
    yes_ask = _poly_ask(market.get("bestAsk"), "bestAsk")
    yes_bid = _poly_bid(market.get("bestBid"), "bestBid")
    no_ask = _complement(yes_bid)
    no_bid = _complement(yes_ask)
    last_price = parse_price(market.get("lastTradePrice"), "lastTradePrice")
    if last_price is None and outcome_prices:
        # outcomePrices is an indicative mid or last price, kept only as a last price and never
        # used as an executable ask.
        last_price = parse_price(outcome_prices[0], "outcomePrices")

    status, venue_status = _poly_status(market)
    event_slug = _text(event.get("slug"))
    market_slug = _text(market.get("slug"))
    volume = market.get("volumeNum") if _present(market.get("volumeNum")) else market.get("volume")
    liquidity = market.get("liquidityNum") if _present(market.get("liquidityNum")) else market.get("liquidity")
    row = {
        "platform": "polymarket",
        "market_id": condition_id,
        "venue_market_id": _text(market.get("id")),
        "event_id": _text(event.get("id")),
        "series_id": _poly_series_id(event),
        "event_title": _text(event.get("title")),
        "title": title,
        "subtitle": _text(market.get("groupItemTitle")),
        "rules": _text(market.get("description")) or _text(event.get("description")),
        "resolution_source": _text(market.get("resolutionSource")) or _text(event.get("resolutionSource")),
        "category": _poly_category(market, event),
        "open_time": parse_time(market.get("startDate"), "startDate"),
        "close_time": parse_time(market.get("endDate") or event.get("endDate"), "endDate"),
        "status": status,
        "venue_status": venue_status,
        "tradeable": status == "open"
        and market.get("acceptingOrders") is not False
        and (yes_ask is not None or no_ask is not None),
        "yes_bid": yes_bid,
        "yes_ask": yes_ask,
        "no_bid": no_bid,
        "no_ask": no_ask,
        "yes_ask_size": None,
        "no_ask_size": None,
        "last_price": last_price,
        "volume_usd": parse_decimal(volume, "volume"),
        "volume_24h_usd": parse_decimal(market.get("volume24hr"), "volume24hr"),
        "liquidity_usd": parse_decimal(liquidity, "liquidity"),
        "open_interest": None,
        "outcome_yes": _text(outcomes[0]),
        "outcome_no": _text(outcomes[1]),
        "token_yes": _text(tokens[0]),
        "token_no": _text(tokens[1]),
        "neg_risk": _flag(market.get("negRisk")),
        "neg_risk_other": _flag(market.get("negRiskOther")),
        "sports_market_type": _text(market.get("sportsMarketType")),
        "line": parse_decimal(market.get("line"), "line"),
        "fee_multiplier": None,
        "fees_enabled": _flag(market.get("feesEnabled")),
        # NOTE: no recorded Gamma market carries a fee rate, so the field name `feeRate` (a
        # fraction such as 0.04) is a guess. Without it the pricing layer uses the category rate.
        "fee_rate": parse_decimal(market.get("feeRate"), "feeRate"),
        "tick_size": parse_decimal(market.get("orderPriceMinTickSize"), "orderPriceMinTickSize"),
        "url": POLYMARKET_EVENT_URL.format(slug=event_slug or market_slug) if (event_slug or market_slug) else None,
        "slug": market_slug,
        "fetched_at": fetched_at,
        "updated_at": _optional_time(market.get("updatedAt"), (event or {}).get("updatedAt")),
        "source": source,
    }
    row["content_hash"] = content_hash(row)
    return row


def _polymarket_records(payload: Any, shape: str) -> Iterable[tuple[Any, dict | None]]:
    """Yield (market, parent event or None) for every market record of a Gamma page."""
    if shape in (shapes.POLY_EVENTS_LIST, shapes.POLY_EVENTS_KEYSET, shapes.POLY_EVENT):
        if shape == shapes.POLY_EVENTS_LIST:
            events = payload
        elif shape == shapes.POLY_EVENT:
            events = [payload]
        else:
            events = payload.get("events") if isinstance(payload.get("events"), list) else payload["data"]
        for event in events:
            if not isinstance(event, dict):
                yield event, None
                continue
            for market in event.get("markets") or []:
                yield market, event
    elif shape == shapes.POLY_MARKETS_LIST:
        yield from ((market, None) for market in payload)
    elif shape == shapes.POLY_MARKETS_KEYSET:
        markets = payload.get("markets") if isinstance(payload.get("markets"), list) else payload["data"]
        yield from ((market, None) for market in markets)
    elif shape == shapes.POLY_MARKET:
        yield payload, None


def normalize_polymarket_page(payload: Any, *, source: str, fetched_at: datetime) -> NormalizedPage:
    """Normalize one decoded Gamma page of events or markets, sending bad records to the quarantine.

    Raises SchemaError when the payload is not a Gamma listing at all (see mflib.sources.shapes).
    """
    shape = shapes.detect_polymarket_shape(payload)
    if shape is None:
        raise SchemaError(source, "not a Polymarket Gamma events or markets page")
    records = _polymarket_records(payload, shape)
    return _normalize_records(
        "polymarket", shape, records, polymarket_market_row, "conditionId", source=source, fetched_at=fetched_at
    )


def normalize_page(venue: str, payload: Any, *, source: str, fetched_at: datetime) -> NormalizedPage:
    """Dispatch to the venue's normalizer."""
    if venue == "kalshi":
        return normalize_kalshi_page(payload, source=source, fetched_at=fetched_at)
    if venue == "polymarket":
        return normalize_polymarket_page(payload, source=source, fetched_at=fetched_at)
    raise ValueError(f"unknown venue {venue!r}; expected kalshi or polymarket")


# Frames


def drop_duplicate_markets(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep the most recently fetched row per (platform, market_id); return the frame and the count dropped.

    Between rows fetched at the same time, the later row wins (a later page or file).
    """
    if frame.empty:
        return frame, 0
    ordered = frame.reset_index(drop=True)
    ordered = ordered.assign(_order=range(len(ordered))).sort_values(["fetched_at", "_order"], kind="stable")
    kept = ordered.drop_duplicates(subset=["platform", "market_id"], keep="last")
    kept = kept.sort_values("_order").drop(columns="_order").reset_index(drop=True)
    return kept, len(frame) - len(kept)


def markets_frame(rows: list[dict]) -> pd.DataFrame:
    """Build the `markets` table from normalized rows, without duplicate market ids per platform.

    The number of dropped duplicates is logged and stored in `frame.attrs["duplicates_dropped"]`.
    """
    frame = coerce_frame(rows, MARKET_COLUMNS)
    frame, dropped = drop_duplicate_markets(frame)
    if dropped:
        log.info("markets: dropped %d duplicate market ids (kept the most recently fetched row)", dropped)
    frame.attrs["duplicates_dropped"] = dropped
    return frame


def quarantine_frame(rows: list[dict]) -> pd.DataFrame:
    """Build the `quarantine` table from quarantine rows."""
    return coerce_frame(rows, QUARANTINE_COLUMNS)
