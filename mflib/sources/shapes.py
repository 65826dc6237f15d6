"""Recognize the response shapes of the Kalshi and Polymarket listing endpoints.

Replay uses these to reject files that are not market listings before anything is parsed, and
the normalizer uses them to find the market records inside a page. Both therefore agree on
which payloads are market data.
"""

from __future__ import annotations

from typing import Any

# Kalshi shapes.
KALSHI_EVENTS_LIST = "kalshi_events_list"      # bare list of events (GET /events, recorded as a list)
KALSHI_EVENTS_PAGE = "kalshi_events_page"      # {"events": [...], "cursor": ...}
KALSHI_MARKETS_PAGE = "kalshi_markets_page"    # {"markets": [...], "cursor": ...}
KALSHI_MARKETS_LIST = "kalshi_markets_list"    # bare list of markets
KALSHI_MARKET = "kalshi_market"                # {"market": {...}} from GET /markets/{ticker}
KALSHI_EVENT = "kalshi_event"                  # {"event": {...}, "markets": [...]} from GET /events/{ticker}

# Polymarket Gamma shapes.
POLY_EVENTS_LIST = "polymarket_events_list"    # GET /events: list of events with nested markets
POLY_MARKETS_LIST = "polymarket_markets_list"  # GET /markets: list of markets with embedded events[]
POLY_EVENTS_KEYSET = "polymarket_events_keyset"    # {"events"|"data": [events], "next_cursor": ...}
POLY_MARKETS_KEYSET = "polymarket_markets_keyset"  # {"markets"|"data": [markets], "next_cursor": ...}
POLY_EVENT = "polymarket_event"                # one event object (GET /events/{id})
POLY_MARKET = "polymarket_market"              # one market object (GET /markets/{id})

EMPTY_LIST = "empty_list"                      # [] is a valid last page for either venue

VENUES = ("kalshi", "polymarket")


def _is_kalshi_market(item: Any) -> bool:
    return isinstance(item, dict) and "ticker" in item and "event_ticker" in item


def _is_kalshi_event(item: Any) -> bool:
    return isinstance(item, dict) and "event_ticker" in item and "ticker" not in item


def _is_poly_market(item: Any) -> bool:
    return isinstance(item, dict) and ("conditionId" in item or ("question" in item and "outcomes" in item))


def _is_poly_event(item: Any) -> bool:
    return isinstance(item, dict) and "markets" in item and "question" not in item and (
        "slug" in item or "title" in item
    )


# A page may start with a malformed record, so the first few records decide its shape.
SAMPLE_SIZE = 20


def _any_matches(items: list, predicate) -> bool:
    return any(predicate(item) for item in items[:SAMPLE_SIZE])


def _has_dict(items: list) -> bool:
    return any(isinstance(item, dict) for item in items[:SAMPLE_SIZE])


def detect_kalshi_shape(payload: Any) -> str | None:
    """Return the Kalshi shape name of a decoded page, or None when it is not a Kalshi listing."""
    if isinstance(payload, list):
        if not payload:
            return EMPTY_LIST
        if _any_matches(payload, _is_kalshi_market):
            return KALSHI_MARKETS_LIST
        if _any_matches(payload, _is_kalshi_event):
            return KALSHI_EVENTS_LIST
        return None
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("events"), list):
        events = payload["events"]
        return KALSHI_EVENTS_PAGE if not _has_dict(events) or _any_matches(events, _is_kalshi_event) else None
    if isinstance(payload.get("event"), dict) and _is_kalshi_event(payload["event"]):
        return KALSHI_EVENT
    if isinstance(payload.get("markets"), list):
        markets = payload["markets"]
        return KALSHI_MARKETS_PAGE if not _has_dict(markets) or _any_matches(markets, _is_kalshi_market) else None
    if isinstance(payload.get("market"), dict) and "ticker" in payload["market"]:
        return KALSHI_MARKET
    return None


def detect_polymarket_shape(payload: Any) -> str | None:
    """Return the Polymarket Gamma shape name of a decoded page, or None when it is not one."""
    if isinstance(payload, list):
        if not payload:
            return EMPTY_LIST
        if _any_matches(payload, _is_poly_market):
            return POLY_MARKETS_LIST
        if _any_matches(payload, _is_poly_event):
            return POLY_EVENTS_LIST
        return None
    if not isinstance(payload, dict):
        return None
    if _is_poly_market(payload):
        return POLY_MARKET
    if _is_poly_event(payload) and isinstance(payload["markets"], list):
        return POLY_EVENT
    for key in ("data", "events", "markets"):
        items = payload.get(key)
        if not isinstance(items, list):
            continue
        if not _has_dict(items):
            return POLY_EVENTS_KEYSET if key == "events" else POLY_MARKETS_KEYSET
        if _any_matches(items, _is_poly_event):
            return POLY_EVENTS_KEYSET
        if _any_matches(items, _is_poly_market):
            return POLY_MARKETS_KEYSET
        return None
    return None


def detect_shape(venue: str, payload: Any) -> str | None:
    """Return the shape name of a decoded page of `venue`, or None when it is not a listing."""
    if venue == "kalshi":
        return detect_kalshi_shape(payload)
    if venue == "polymarket":
        return detect_polymarket_shape(payload)
    raise ValueError(f"unknown venue {venue!r}; expected one of {', '.join(VENUES)}")
