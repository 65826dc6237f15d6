"""Normalization of Kalshi and Polymarket pages into the unified market schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from mflib.errors import SchemaError
from mflib.normalize import (
    content_hash,
    markets_frame,
    normalize_kalshi_page,
    normalize_polymarket_page,
    quarantine_frame,
)
from mflib.schema import MARKET_COLUMNS, QUARANTINE_COLUMNS
from mflib.sources import shapes

FETCHED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def kalshi_market(ticker: str = "KXTESTQ-27JAN-A", **fields) -> dict:
    market = {
        "ticker": ticker,
        "event_ticker": ticker.rsplit("-", 1)[0],
        "title": "Will the test question resolve Yes?",
        "yes_sub_title": "Option A",
        "no_sub_title": "Option A",
        "status": "active",
        "close_time": "2027-01-31T15:00:00Z",
        "open_time": "2026-10-01T15:00:00Z",
        "rules_primary": "Resolves Yes if the test condition holds.",
        "rules_secondary": "The test source decides.",
    }
    market.update(fields)
    return market


def poly_market(condition_id: str = "0xabc1", **fields) -> dict:
    market = {
        "id": "555001",
        "question": "Will the test question resolve Yes?",
        "conditionId": condition_id,
        "slug": "test-question",
        "endDate": "2027-01-31T15:00:00Z",
        "startDate": "2026-10-01T15:00:00Z",
        "description": "Resolves Yes if the test condition holds.",
        "outcomes": "[\"Yes\", \"No\"]",
        "outcomePrices": "[\"0.45\", \"0.55\"]",
        "clobTokenIds": "[\"111\", \"222\"]",
        "active": True,
        "closed": False,
        "acceptingOrders": True,
        "bestBid": 0.44,
        "bestAsk": 0.46,
        "volume": "1234.5",
        "liquidity": "321.0",
        "orderPriceMinTickSize": 0.01,
        "negRisk": False,
        "feesEnabled": False,
    }
    market.update(fields)
    return market


def poly_event(markets: list[dict], **fields) -> dict:
    event = {
        "id": "8801",
        "slug": "test-event",
        "title": "Test event",
        "endDate": "2027-01-31T15:00:00Z",
        "tags": [{"label": "Breaking News"}, {"label": "Politics"}],
        "markets": markets,
    }
    event.update(fields)
    return event


def kalshi_row(market: dict) -> dict:
    page = normalize_kalshi_page([market], source="test.json", fetched_at=FETCHED)
    assert page.quarantine == [], page.quarantine
    return page.rows[0]


def poly_row(market: dict, **event_fields) -> dict:
    page = normalize_polymarket_page([poly_event([market], **event_fields)], source="test.json", fetched_at=FETCHED)
    assert page.quarantine == [], page.quarantine
    return page.rows[0]


# Kalshi prices


def test_normalize_kalshi_cents_only():
    row = kalshi_row(kalshi_market(yes_bid=40, yes_ask=42, no_bid=58, no_ask=60, last_price=41))
    assert row["yes_bid"] == 0.40
    assert row["yes_ask"] == 0.42
    assert row["no_bid"] == 0.58
    assert row["no_ask"] == 0.60
    assert row["last_price"] == 0.41


def test_normalize_kalshi_dollars_only():
    row = kalshi_row(kalshi_market(
        yes_bid_dollars="0.3800", yes_ask_dollars="0.4000", no_bid_dollars="0.6000",
        no_ask_dollars="0.6200", yes_ask_size_fp="45.00", yes_bid_size_fp="12.50",
        volume_fp="328.38", volume_24h_fp="20.00", open_interest_fp="287.40", liquidity_dollars="0.0000",
    ))
    assert row["yes_bid"] == 0.38
    assert row["yes_ask"] == 0.40
    assert row["no_ask"] == 0.62
    assert row["yes_ask_size"] == 45.0
    assert row["no_ask_size"] == 12.5
    assert row["volume_usd"] == 328.38
    assert row["open_interest"] == 287.40
    assert row["liquidity_usd"] == 0.0


def test_normalize_kalshi_dollars_win_over_cents():
    row = kalshi_row(kalshi_market(yes_ask=42, yes_ask_dollars="0.4150", liquidity=576278, liquidity_dollars="5762.7800"))
    assert row["yes_ask"] == 0.415
    assert row["liquidity_usd"] == 5762.78


def test_normalize_kalshi_cents_liquidity_divided():
    row = kalshi_row(kalshi_market(liquidity=576278, volume=60191))
    assert row["liquidity_usd"] == 5762.78
    assert row["volume_usd"] == 60191.0


def test_normalize_kalshi_missing_prices_null():
    row = kalshi_row(kalshi_market())
    for column in ("yes_bid", "yes_ask", "no_bid", "no_ask", "last_price"):
        assert row[column] is None, column
    assert row["tradeable"] is False


def test_normalize_kalshi_boundary_asks_null():
    row = kalshi_row(kalshi_market(yes_bid=0, yes_ask=0, no_bid=0, no_ask=100))
    assert row["yes_ask"] is None
    assert row["no_ask"] is None
    assert row["yes_bid"] is None
    assert row["tradeable"] is False


def test_normalize_kalshi_no_ask_derived_when_absent():
    row = kalshi_row(kalshi_market(yes_bid_dollars="0.3000", yes_ask_dollars="0.3200"))
    assert row["no_ask"] == 0.70


def test_normalize_kalshi_fields_mapped():
    market = kalshi_market(category="Economics", floor_strike=6500, tick_size=1)
    event = {"event_ticker": "KXTESTQ-27JAN", "series_ticker": "KXTESTQ", "title": "Test event",
             "category": "Politics", "markets": [market]}
    page = normalize_kalshi_page([event], source="events.json", fetched_at=FETCHED)
    row = page.rows[0]
    assert page.shape == shapes.KALSHI_EVENTS_LIST
    assert row["market_id"] == "KXTESTQ-27JAN-A"
    assert row["series_id"] == "KXTESTQ"
    assert row["event_id"] == "KXTESTQ-27JAN"
    assert row["event_title"] == "Test event"
    assert row["category"] == "Economics"
    assert row["subtitle"] == "Option A"
    assert row["rules"] == "Resolves Yes if the test condition holds.\n\nThe test source decides."
    assert row["close_time"] == pd.Timestamp("2027-01-31T15:00:00Z")
    assert row["line"] == 6500.0
    assert row["tick_size"] == 0.01
    assert row["outcome_yes"] == "Yes"
    assert row["outcome_no"] == "No"
    assert row["url"] == "https://kalshi.com/markets/kxtestq/kxtestq-27jan"
    assert row["source"] == "events.json"
    assert row["fetched_at"] == FETCHED


def test_normalize_kalshi_series_from_ticker_prefix():
    row = kalshi_row(kalshi_market("KXPREFIX-27MAR-B"))
    assert row["series_id"] == "KXPREFIX"


@pytest.mark.parametrize(
    ("venue_status", "status"),
    [("active", "open"), ("open", "open"), ("initialized", "unopened"), ("unopened", "unopened"),
     ("inactive", "closed"), ("closed", "closed"), ("determined", "settled"),
     ("finalized", "settled"), ("settled", "settled")],
)
def test_normalize_kalshi_status_mapping(venue_status, status):
    row = kalshi_row(kalshi_market(status=venue_status, yes_ask=50))
    assert row["status"] == status
    assert row["venue_status"] == venue_status
    assert row["tradeable"] is (status == "open")


def test_normalize_kalshi_unknown_status_quarantined():
    page = normalize_kalshi_page([kalshi_market(status="paused")], source="p.json", fetched_at=FETCHED)
    assert page.rows == []
    assert page.quarantine[0]["reason"] == "unknown_status"
    assert page.quarantine[0]["field"] == "status"
    assert page.quarantine[0]["value"] == "paused"


def test_normalize_kalshi_malformed_record_page_continues():
    markets = [
        kalshi_market("KXTESTQ-27JAN-A", yes_ask_dollars="abc"),
        kalshi_market("KXTESTQ-27JAN-B", yes_ask_dollars="0.5000"),
        kalshi_market("KXTESTQ-27JAN-C", close_time="next tuesday"),
        {"title": "no ticker here", "event_ticker": "KXTESTQ-27JAN"},
        "not an object",
        kalshi_market("KXTESTQ-27JAN-D", yes_ask=250),
    ]
    page = normalize_kalshi_page({"markets": markets, "cursor": ""}, source="m.json", fetched_at=FETCHED)
    reasons = [(q["market_id"], q["field"], q["reason"]) for q in page.quarantine]
    assert [row["market_id"] for row in page.rows] == ["KXTESTQ-27JAN-B"]
    assert ("KXTESTQ-27JAN-A", "yes_ask_dollars", "invalid_price") in reasons
    assert ("KXTESTQ-27JAN-C", "close_time", "invalid_date") in reasons
    assert ("", "ticker", "missing_field") in reasons
    assert ("", "market", "invalid_record") in reasons
    assert ("KXTESTQ-27JAN-D", "yes_ask", "invalid_price") in reasons
    assert page.records == 6
    assert page.quarantine[0]["value"] == "abc"
    assert page.quarantine[0]["source"] == "m.json"


@pytest.mark.parametrize(
    ("payload", "shape"),
    [
        ([{"event_ticker": "KXA-1", "series_ticker": "KXA", "markets": [kalshi_market("KXA-1-X")]}], shapes.KALSHI_EVENTS_LIST),
        ({"events": [{"event_ticker": "KXA-1", "markets": [kalshi_market("KXA-1-X")]}], "cursor": "c"}, shapes.KALSHI_EVENTS_PAGE),
        ({"markets": [kalshi_market("KXA-1-X")], "cursor": ""}, shapes.KALSHI_MARKETS_PAGE),
        ([kalshi_market("KXA-1-X")], shapes.KALSHI_MARKETS_LIST),
        ({"market": kalshi_market("KXA-1-X")}, shapes.KALSHI_MARKET),
    ],
)
def test_normalize_kalshi_shapes(payload, shape):
    page = normalize_kalshi_page(payload, source="s.json", fetched_at=FETCHED)
    assert page.shape == shape
    assert [row["market_id"] for row in page.rows] == ["KXA-1-X"]


def test_normalize_kalshi_events_without_markets_empty():
    page = normalize_kalshi_page({"events": [{"event_ticker": "KXA-1", "title": "A"}], "cursor": ""},
                                 source="e.json", fetched_at=FETCHED)
    assert page.shape == shapes.KALSHI_EVENTS_PAGE
    assert page.rows == []
    assert page.records == 0


def test_normalize_kalshi_rejects_other_payload():
    with pytest.raises(SchemaError, match="o.json"):
        normalize_kalshi_page({"orderbook_fp": {"yes_dollars": []}}, source="o.json", fetched_at=FETCHED)


# Polymarket


def test_normalize_polymarket_prices_from_best_bid_ask():
    row = poly_row(poly_market())
    assert row["yes_bid"] == 0.44
    assert row["yes_ask"] == 0.46
    assert row["no_ask"] == 0.56
    assert row["no_bid"] == 0.54
    assert row["tradeable"] is True


def test_normalize_polymarket_missing_prices_null():
    market = poly_market()
    del market["bestBid"], market["bestAsk"]
    row = poly_row(market)
    for column in ("yes_bid", "yes_ask", "no_bid", "no_ask"):
        assert row[column] is None, column
    assert row["last_price"] == 0.45
    assert row["tradeable"] is False


def test_normalize_polymarket_double_encoded_strings():
    row = poly_row(poly_market(clobTokenIds="[\"9001\", \"9002\"]", outcomes="[\"Yes\", \"No\"]"))
    assert row["token_yes"] == "9001"
    assert row["token_no"] == "9002"
    assert row["outcome_yes"] == "Yes"
    assert row["outcome_no"] == "No"


def test_normalize_polymarket_real_lists_accepted():
    row = poly_row(poly_market(outcomes=["Yes", "No"], clobTokenIds=["31", "32"], outcomePrices=["0.1", "0.9"]))
    assert row["token_yes"] == "31"
    assert row["outcome_no"] == "No"


def test_normalize_polymarket_team_outcomes():
    row = poly_row(poly_market(question="Hawks vs. Owls", outcomes="[\"Hawks\", \"Owls\"]",
                               sportsMarketType="moneyline", groupItemTitle=""),
                   tags=[{"label": "Sports"}, {"label": "NBA"}])
    assert row["outcome_yes"] == "Hawks"
    assert row["outcome_no"] == "Owls"
    assert row["sports_market_type"] == "moneyline"
    assert row["subtitle"] is None
    assert row["category"] == "Sports"


def test_normalize_polymarket_fields_mapped():
    row = poly_row(poly_market(groupItemTitle="March 31", negRisk=True, negRiskOther=False,
                               resolutionSource="https://example.org", lastTradePrice=0.45, line=-3.5,
                               volume24hr=12.5, feeRate=0.04))
    assert row["market_id"] == "0xabc1"
    assert row["venue_market_id"] == "555001"
    assert row["event_id"] == "8801"
    assert row["event_title"] == "Test event"
    assert row["subtitle"] == "March 31"
    assert row["category"] == "Politics"
    assert row["neg_risk"] is True
    assert row["neg_risk_other"] is False
    assert row["fees_enabled"] is False
    assert row["fee_rate"] == 0.04
    assert row["line"] == -3.5
    assert row["tick_size"] == 0.01
    assert row["volume_usd"] == 1234.5
    assert row["volume_24h_usd"] == 12.5
    assert row["liquidity_usd"] == 321.0
    assert row["rules"] == "Resolves Yes if the test condition holds."
    assert row["resolution_source"] == "https://example.org"
    assert row["url"] == "https://polymarket.com/event/test-event"
    assert row["slug"] == "test-question"


def test_normalize_polymarket_outcome_prices_never_ask():
    market = poly_market(outcomePrices="[\"0.30\", \"0.70\"]")
    del market["bestAsk"], market["bestBid"]
    row = poly_row(market)
    assert row["yes_ask"] is None
    assert row["no_ask"] is None


@pytest.mark.parametrize(
    ("flags", "status"),
    [({"active": True, "closed": False}, "open"),
     ({"active": True, "closed": True}, "closed"),
     ({"active": True, "closed": True, "umaResolutionStatus": "resolved"}, "settled"),
     ({"active": False, "closed": False}, "unopened"),
     ({"active": None, "closed": None}, "unknown")],
)
def test_normalize_polymarket_status(flags, status):
    row = poly_row(poly_market(**flags))
    assert row["status"] == status
    assert row["tradeable"] is (status == "open")


def test_normalize_polymarket_not_accepting_orders_not_tradeable():
    row = poly_row(poly_market(acceptingOrders=False))
    assert row["status"] == "open"
    assert row["tradeable"] is False


def test_normalize_polymarket_not_binary_quarantined():
    page = normalize_polymarket_page(
        [poly_event([poly_market("0xmulti", outcomes="[\"A\", \"B\", \"C\"]"), poly_market("0xok")])],
        source="p.json", fetched_at=FETCHED,
    )
    assert [row["market_id"] for row in page.rows] == ["0xok"]
    assert page.quarantine[0]["reason"] == "not_binary"
    assert page.quarantine[0]["market_id"] == "0xmulti"


def test_normalize_polymarket_malformed_records_page_continues():
    markets = [
        poly_market("0xbadjson", outcomes="[\"Yes\", \"No\""),
        poly_market("0xbadprice", bestAsk="abc"),
        poly_market("0xbaddate", endDate="31/12/2027"),
        poly_market(None),
        poly_market("0xnotitle", question=""),
        poly_market("0xgood"),
    ]
    page = normalize_polymarket_page([poly_event(markets)], source="p.json", fetched_at=FETCHED)
    reasons = [(q["market_id"], q["field"], q["reason"]) for q in page.quarantine]
    assert [row["market_id"] for row in page.rows] == ["0xgood"]
    assert ("0xbadjson", "outcomes", "invalid_json") in reasons
    assert ("0xbadprice", "bestAsk", "invalid_price") in reasons
    assert ("0xbaddate", "endDate", "invalid_date") in reasons
    assert ("", "conditionId", "missing_field") in reasons
    assert ("0xnotitle", "question", "missing_field") in reasons
    assert page.records == 6


def test_normalize_polymarket_markets_list_uses_embedded_event():
    market = poly_market(events=[{"id": "77", "slug": "embedded-event", "title": "Embedded", "category": "Crypto"}])
    page = normalize_polymarket_page([market], source="m.json", fetched_at=FETCHED)
    row = page.rows[0]
    assert page.shape == shapes.POLY_MARKETS_LIST
    assert row["event_id"] == "77"
    assert row["category"] == "Crypto"
    assert row["url"] == "https://polymarket.com/event/embedded-event"


@pytest.mark.parametrize(
    ("payload", "shape"),
    [
        ({"data": [poly_market()], "next_cursor": "x"}, shapes.POLY_MARKETS_KEYSET),
        ({"markets": [poly_market()], "next_cursor": "x"}, shapes.POLY_MARKETS_KEYSET),
        ({"events": [poly_event([poly_market()])], "next_cursor": ""}, shapes.POLY_EVENTS_KEYSET),
        ({"data": [poly_event([poly_market()])]}, shapes.POLY_EVENTS_KEYSET),
        (poly_market(), shapes.POLY_MARKET),
        (poly_event([poly_market()]), shapes.POLY_EVENT),
    ],
)
def test_normalize_polymarket_shapes(payload, shape):
    page = normalize_polymarket_page(payload, source="k.json", fetched_at=FETCHED)
    assert page.shape == shape
    assert [row["market_id"] for row in page.rows] == ["0xabc1"]


def test_normalize_polymarket_rejects_kalshi_page():
    with pytest.raises(SchemaError, match="k.json"):
        normalize_polymarket_page({"markets": [kalshi_market()]}, source="k.json", fetched_at=FETCHED)


# Frames and hashes


def test_normalize_content_hash_changes_with_text():
    first = kalshi_row(kalshi_market())
    second = kalshi_row(kalshi_market(rules_secondary="Another source decides."))
    same = kalshi_row(kalshi_market(yes_ask=50))
    assert first["content_hash"] != second["content_hash"]
    assert first["content_hash"] == same["content_hash"]
    assert content_hash(first) == first["content_hash"]


def test_normalize_markets_frame_drops_duplicates_keeping_newest():
    old = kalshi_row(kalshi_market(yes_ask=40))
    new = normalize_kalshi_page([kalshi_market(yes_ask=45)], source="later.json",
                                fetched_at=datetime(2026, 12, 2, tzinfo=UTC)).rows[0]
    poly = poly_row(poly_market())
    frame = markets_frame([new, old, poly])
    kalshi = frame[frame["platform"] == "kalshi"]
    assert len(frame) == 2
    assert frame.attrs["duplicates_dropped"] == 1
    assert kalshi["yes_ask"].iloc[0] == 0.45
    assert kalshi["source"].iloc[0] == "later.json"


def test_normalize_frames_have_schema_columns():
    frame = markets_frame([kalshi_row(kalshi_market(yes_ask=40)), poly_row(poly_market())])
    quarantine = quarantine_frame([{"platform": "kalshi", "market_id": "X", "field": "f", "reason": "r",
                                    "value": "v", "source": "s"}])
    assert list(frame.columns) == list(MARKET_COLUMNS)
    assert str(frame["close_time"].dtype) == "datetime64[us, UTC]"
    assert str(frame["yes_ask"].dtype) == "Float64"
    assert list(quarantine.columns) == list(QUARANTINE_COLUMNS)
    assert frame["yes_bid"].isna().iloc[0]


def test_normalize_empty_frames():
    assert markets_frame([]).empty
    assert list(quarantine_frame([]).columns) == list(QUARANTINE_COLUMNS)


def test_normalize_kalshi_json_roundtrip_of_fixture_file(fixtures_dir):
    payload = json.loads((fixtures_dir / "ci" / "kalshi" / "markets_page_0001.json").read_text())
    page = normalize_kalshi_page(payload, source="ci", fetched_at=FETCHED)
    assert page.shape == shapes.KALSHI_MARKETS_PAGE
    assert len(page.rows) == 2
    assert page.rows[0]["yes_ask_size"] == 85.0
