"""Kalshi live listing against a local server that pages /events by cursor like the real API."""

from __future__ import annotations

import json

import pytest
from venue_server import KalshiEvents, Reply, VenueServer

from mflib.errors import SchemaError
from mflib.http import HttpClient
from mflib.sources import kalshi
from mflib.sources.base import ListingReport, RawPageWriter

PREFIX = "/trade-api/v2"


def make_events(count: int, markets_per_event: int = 2) -> list[dict]:
    """Hand-written events in the /events?with_nested_markets=true shape, with made-up tickers."""
    events = []
    for number in range(1, count + 1):
        ticker = f"KXTESTRAIN-26MAR{number:02d}"
        markets = [
            {
                "ticker": f"{ticker}-T{level}",
                "event_ticker": ticker,
                "title": f"Rain above {level} mm in Testville on March {number}?",
                "status": "active",
                "yes_bid_dollars": "0.4100",
                "yes_ask_dollars": "0.4300",
            }
            for level in range(markets_per_event)
        ]
        events.append({
            "event_ticker": ticker,
            "series_ticker": "KXTESTRAIN",
            "title": f"Rain in Testville on March {number}",
            "markets": markets,
        })
    return events


@pytest.fixture()
def server():
    with VenueServer() as running:
        yield running


@pytest.fixture()
def client():
    with HttpClient(default_rate_per_second=1000.0, backoff_base_seconds=0.01, backoff_max_seconds=0.05) as running:
        yield running


def test_kalshi_cursor_paging_to_end(server, client, tmp_path):
    server.route(PREFIX + "/events", KalshiEvents(make_events(7)))
    report = ListingReport("kalshi")
    pages = list(kalshi.iter_event_pages(client, server.url + PREFIX, page_size=3,
                                         writer=RawPageWriter(tmp_path), report=report, progress=False))
    requests = server.requests_to(PREFIX + "/events")
    tickers = [event["event_ticker"] for page in pages for event in page.payload["events"]]

    assert [page.number for page in pages] == [1, 2, 3]
    assert len(tickers) == 7
    assert len(set(tickers)) == 7
    assert [request.param("cursor") for request in requests] == [None, "evt-3", "evt-6"]
    assert all(request.param("with_nested_markets") == "true" for request in requests)
    assert all(request.param("status") == "open" for request in requests)
    assert all(request.param("limit") == "3" for request in requests)
    assert report.pages == 3
    assert report.records == 14
    assert report.partial is False


def test_kalshi_raw_pages_saved(server, client, tmp_path):
    server.route(PREFIX + "/events", KalshiEvents(make_events(4)))
    pages = list(kalshi.iter_event_pages(client, server.url + PREFIX, page_size=2,
                                         writer=RawPageWriter(tmp_path), progress=False))
    first = tmp_path / "kalshi" / "events_page_0001.json"
    assert sorted(path.name for path in (tmp_path / "kalshi").iterdir()) == [
        "events_page_0001.json", "events_page_0002.json",
    ]
    assert pages[0].source == str(first)
    assert json.loads(first.read_text()) == pages[0].payload


def test_kalshi_null_cursor_ends_listing(server, client):
    server.set_json(PREFIX + "/events", {"events": make_events(1), "cursor": None})
    pages = list(kalshi.iter_event_pages(client, server.url + PREFIX, progress=False))
    assert len(pages) == 1
    assert len(server.requests_to(PREFIX + "/events")) == 1


def test_kalshi_stalled_cursor_stops_partial(server, client):
    server.route(PREFIX + "/events", KalshiEvents(make_events(10), stall_at_page=2))
    report = ListingReport("kalshi")
    pages = list(kalshi.iter_event_pages(client, server.url + PREFIX, page_size=3,
                                         report=report, progress=False))
    assert len(pages) == 2
    assert len(server.requests_to(PREFIX + "/events")) == 2
    assert report.partial is True
    assert "already sent" in report.warnings[0]


def test_kalshi_identical_page_stops_partial(server, client):
    counter = iter(range(1, 100))
    events = make_events(2)
    server.route(PREFIX + "/events", lambda _request: Reply.json({"events": events, "cursor": f"c{next(counter)}"}))
    report = ListingReport("kalshi")
    pages = list(kalshi.iter_event_pages(client, server.url + PREFIX, report=report, progress=False))
    assert len(pages) == 1
    assert len(server.requests_to(PREFIX + "/events")) == 2
    assert report.partial is True
    assert "repeats the events" in report.warnings[0]


def test_kalshi_max_pages_marks_partial(server, client):
    server.route(PREFIX + "/events", KalshiEvents(make_events(9)))
    report = ListingReport("kalshi")
    pages = list(kalshi.iter_event_pages(client, server.url + PREFIX, page_size=2, max_pages=2,
                                         report=report, progress=False))
    assert len(pages) == 2
    assert report.partial is True
    assert "max_pages=2" in report.warnings[0]


def test_kalshi_page_without_events_raises(server, client):
    server.set_json(PREFIX + "/events", {"markets": [], "cursor": ""})
    with pytest.raises(SchemaError, match="'events' list"):
        list(kalshi.iter_event_pages(client, server.url + PREFIX, progress=False))


def test_kalshi_page_size_above_max_rejected(client):
    with pytest.raises(ValueError, match="page_size=500"):
        list(kalshi.iter_event_pages(client, "http://127.0.0.1:9", page_size=500, progress=False))


def test_kalshi_fetch_series(server, client, tmp_path):
    series = {"ticker": "KXTESTRAIN", "title": "Testville rain", "fee_type": "quadratic", "fee_multiplier": 1}
    server.set_json(PREFIX + "/series/KXTESTRAIN", {"series": series})
    result = kalshi.fetch_series(client, server.url + PREFIX, "KXTESTRAIN", writer=RawPageWriter(tmp_path))
    assert result == series
    assert (tmp_path / "kalshi" / "series_KXTESTRAIN.json").is_file()


def test_kalshi_fetch_series_wrong_shape_raises(server, client):
    server.set_json(PREFIX + "/series/KXTESTRAIN", {"error": "nothing here"})
    with pytest.raises(SchemaError, match="KXTESTRAIN"):
        kalshi.fetch_series(client, server.url + PREFIX, "KXTESTRAIN")


def test_kalshi_non_object_event_raises(server, client):
    server.set_json(PREFIX + "/events", {"events": [["KXTESTRAIN"]], "cursor": ""})
    with pytest.raises(SchemaError, match="item 0 is a list"):
        list(kalshi.iter_event_pages(client, server.url + PREFIX, progress=False))
