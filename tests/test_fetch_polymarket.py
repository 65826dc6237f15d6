"""Polymarket live listing against a local Gamma server: keyset, offset cap, repeated pages."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from venue_server import GammaEvents, GammaKeysetEvents, Reply, VenueServer

from mflib.errors import FetchError, SchemaError
from mflib.http import HttpClient
from mflib.sources import polymarket
from mflib.sources.base import ListingReport, RawPageWriter

FIRST_END = datetime(2026, 2, 1, tzinfo=UTC)


def make_events(count: int, *, undated_ids: set[int] = frozenset(), same_end: bool = False) -> list[dict]:
    """Hand-written open Gamma events (two markets each) plus closed and inactive decoys."""
    events = []
    for number in range(1, count + 1):
        end = FIRST_END if same_end else FIRST_END + timedelta(days=3 * number, hours=number)
        events.append({
            "id": str(1000 + number),
            "slug": f"test-harbor-level-{number}",
            "title": f"Harbor level in Testport on day {number}?",
            "active": True,
            "closed": False,
            "endDate": None if number in undated_ids else end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "markets": [
                {"id": f"{number}01", "conditionId": f"0xabc{number:04d}01", "question": f"Level above 1 m on day {number}?"},
                {"id": f"{number}02", "conditionId": f"0xabc{number:04d}02", "question": f"Level above 2 m on day {number}?"},
            ],
        })
    events.append({"id": "9001", "slug": "closed-one", "active": True, "closed": True,
                   "endDate": "2026-03-01T00:00:00Z", "markets": []})
    events.append({"id": "9002", "slug": "inactive-one", "active": False, "closed": False,
                   "endDate": "2026-03-01T00:00:00Z", "markets": []})
    return events


def open_ids(events: list[dict]) -> set[str]:
    return {event["id"] for event in events if event["active"] and not event["closed"]}


def yielded_ids(pages) -> Counter:
    return Counter(event["id"] for page in pages for event in page.payload)


@pytest.fixture()
def server():
    with VenueServer() as running:
        yield running


@pytest.fixture()
def client():
    with HttpClient(default_rate_per_second=1000.0, backoff_base_seconds=0.01, backoff_max_seconds=0.05) as running:
        yield running


def list_pages(client, server, report=None, **options):
    options.setdefault("progress", False)
    return list(polymarket.iter_event_pages(client, server.url, report=report, **options))


def test_polymarket_keyset_lists_all(server, client):
    events = make_events(12)
    server.route("/events/keyset", GammaKeysetEvents(events))
    report = ListingReport("polymarket")
    pages = list_pages(client, server, report, page_size=5)
    requests = server.requests_to("/events/keyset")

    assert yielded_ids(pages) == Counter(open_ids(events))
    assert [request.param("after_cursor") for request in requests] == [None, "k5", "k10"]
    assert server.requests_to("/events") == []
    assert report.records == 24
    assert report.partial is False


def test_polymarket_closed_false_sent_explicitly(server, client):
    events = make_events(8)
    server.route("/events/keyset", GammaKeysetEvents(events, missing=True))
    server.route("/events", GammaEvents(events, offset_cap=10))
    list_pages(client, server, page_size=5)
    assert len(server.requests) > 2
    for request in server.requests:
        assert request.param("closed") == "false", request
        assert request.param("active") == "true", request


def test_polymarket_keyset_missing_falls_back(server, client):
    events = make_events(9)
    server.route("/events/keyset", GammaKeysetEvents(events, missing=True))
    server.route("/events", GammaEvents(events, offset_cap=10))
    report = ListingReport("polymarket")
    pages = list_pages(client, server, report, page_size=5)
    assert yielded_ids(pages) == Counter(open_ids(events))
    assert report.partial is False


def test_polymarket_keyset_ignored_cursor_falls_back(server, client):
    events = make_events(13)
    server.route("/events/keyset", GammaKeysetEvents(events, ignore_cursor=True))
    server.route("/events", GammaEvents(events, offset_cap=10))
    report = ListingReport("polymarket")
    pages = list_pages(client, server, report, page_size=5)
    assert yielded_ids(pages) == Counter(open_ids(events))
    assert len(server.requests_to("/events/keyset")) == 2
    assert report.partial is False


def test_polymarket_keyset_only_marks_partial(server, client):
    events = make_events(13)
    server.route("/events/keyset", GammaKeysetEvents(events, ignore_cursor=True))
    report = ListingReport("polymarket")
    pages = list_pages(client, server, report, page_size=5, strategy="keyset")
    assert len(yielded_ids(pages)) == 5
    assert report.partial is True


def test_polymarket_keyset_bare_list_accepted(server, client):
    events = make_events(3)
    server.set_json("/events/keyset", [event for event in events if event["id"] in open_ids(events)])
    pages = list_pages(client, server, page_size=5)
    assert yielded_ids(pages) == Counter(open_ids(events))
    assert server.requests_to("/events") == []


def test_polymarket_repeated_page_skipped(server, client):
    events = make_events(14)
    server.route("/events", GammaEvents(events, offset_cap=100, repeat_once_at={5}))
    report = ListingReport("polymarket")
    pages = list_pages(client, server, report, page_size=5, offset_cap=100, strategy="windows")
    offsets = [request.param("offset") for request in server.requests_to("/events")]
    assert yielded_ids(pages) == Counter(open_ids(events))
    assert offsets == ["0", "5", "5", "10"]
    assert report.pages == 4
    assert report.partial is False


def test_polymarket_past_offset_cap_every_event_once(server, client, tmp_path):
    events = make_events(37, undated_ids={2, 9})
    server.route("/events", GammaEvents(events, offset_cap=10))
    report = ListingReport("polymarket")
    pages = list_pages(client, server, report, page_size=5, offset_cap=10, strategy="windows",
                       writer=RawPageWriter(tmp_path))
    requests = server.requests_to("/events")
    ids = yielded_ids(pages)

    assert set(ids) == open_ids(events)
    assert max(ids.values()) == 1
    assert all(int(request.param("offset")) <= 10 for request in requests)
    assert any(request.param("end_date_min") for request in requests)
    assert all(request.param("order") == "id" for request in requests)
    assert report.partial is False
    assert "without an end date" in report.warnings[0]
    assert len(list((tmp_path / "polymarket").iterdir())) == report.pages


def test_polymarket_dense_window_marks_partial(server, client):
    events = make_events(23, same_end=True)
    server.route("/events", GammaEvents(events, offset_cap=10))
    report = ListingReport("polymarket")
    pages = list_pages(client, server, report, page_size=5, offset_cap=10, strategy="windows")
    ids = yielded_ids(pages)
    assert len(ids) == 15
    assert max(ids.values()) == 1
    assert report.partial is True
    assert "offset cap of 10" in report.warnings[-1]


def test_polymarket_offset_rejected_early_splits_window(server, client):
    events = make_events(23)
    server.route("/events", GammaEvents(events, offset_cap=5))
    report = ListingReport("polymarket")
    pages = list_pages(client, server, report, page_size=5, offset_cap=10, strategy="windows")
    assert yielded_ids(pages) == Counter(open_ids(events))
    assert report.partial is False


def test_polymarket_max_pages_marks_partial(server, client):
    events = make_events(20)
    server.route("/events/keyset", GammaKeysetEvents(events))
    report = ListingReport("polymarket")
    pages = list_pages(client, server, report, page_size=5, max_pages=2)
    assert len(pages) == 2
    assert report.partial is True
    assert "max_pages=2" in report.warnings[0]


def test_polymarket_object_page_on_events_raises(server, client):
    server.route("/events/keyset", GammaKeysetEvents([], missing=True))
    server.set_json("/events", {"error": "unexpected"})
    with pytest.raises(SchemaError, match="expected a list of events"):
        list_pages(client, server, page_size=5)


def test_polymarket_server_error_on_keyset_propagates(server, client):
    server.route("/events/keyset", lambda _request: Reply.error(500))
    with pytest.raises(FetchError, match="http_500"):
        list_pages(client, server, page_size=5)


def test_polymarket_non_object_event_raises(server, client):
    server.set_json("/events/keyset", {"events": ["not-an-event"], "next_cursor": "k1"})
    with pytest.raises(SchemaError, match="item 0 is a str"):
        list_pages(client, server, page_size=5)
