"""HttpClient against a local server: retries, Retry-After, typed errors, rate limits, raw pages."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from venue_server import Reply, VenueServer, closed_port_url

from mflib.errors import FetchError, VenueUnreachableError
from mflib.http import HttpClient, HttpStatusError, parse_retry_after
from mflib.sources.base import RawPageWriter

OK = {"ok": True, "items": [1, 2, 3]}


@pytest.fixture()
def server():
    with VenueServer() as running:
        running.set_json("/data", OK)
        yield running


def make_client(**overrides) -> HttpClient:
    settings = dict(
        timeout_seconds=2.0,
        default_rate_per_second=1000.0,
        max_retries=3,
        backoff_base_seconds=0.01,
        backoff_max_seconds=0.05,
        max_total_seconds=10.0,
    )
    settings.update(overrides)
    return HttpClient(**settings)


def test_http_429_honors_retry_after(server):
    server.add_faults("/data", Reply.error(429, retry_after="0.3"))
    with make_client(backoff_max_seconds=1.0) as client:
        started = time.monotonic()
        payload = client.get_json(server.url + "/data")
        elapsed = time.monotonic() - started
    assert payload == OK
    assert elapsed >= 0.3
    assert client.stats.retries["http_429"] == 1
    assert len(server.requests_to("/data")) == 2


def test_http_retry_after_capped_by_backoff_max(server):
    server.add_faults("/data", Reply.error(503, retry_after="120"))
    with make_client(backoff_max_seconds=0.05) as client:
        started = time.monotonic()
        payload = client.get_json(server.url + "/data")
    assert payload == OK
    assert time.monotonic() - started < 2.0


def test_http_retry_after_parses_seconds_and_dates():
    now = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
    in_ten_seconds = format_datetime(now + timedelta(seconds=10), usegmt=True)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(in_ten_seconds, now) == pytest.approx(10.0)
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_http_500_burst_then_success(server):
    server.add_faults("/data", Reply.error(500), Reply.error(502), Reply.error(500))
    with make_client() as client:
        payload = client.get_json(server.url + "/data")
    assert payload == OK
    assert client.stats.retries["http_500"] == 2
    assert client.stats.retries["http_502"] == 1
    assert client.stats.requests == 4


def test_http_timeout_then_success(server):
    server.add_faults("/data", Reply.slow(1.0))
    with make_client(timeout_seconds=0.2) as client:
        payload = client.get_json(server.url + "/data")
    assert payload == OK
    assert client.stats.retries["timeout"] == 1


def test_http_truncated_body_then_success(server):
    server.add_faults("/data", Reply.truncated(OK))
    with make_client() as client:
        payload = client.get_json(server.url + "/data")
    assert payload == OK
    assert client.stats.retries["read_error"] == 1


def test_http_invalid_json_then_success(server):
    server.add_faults("/data", Reply.invalid_json(OK))
    with make_client() as client:
        payload = client.get_json(server.url + "/data")
    assert payload == OK
    assert client.stats.retries["invalid_json"] == 1


def test_http_retries_exhausted_raise_fetch_error(server):
    server.add_faults("/data", *[Reply.error(503)] * 5)
    with make_client(max_retries=2) as client, pytest.raises(FetchError) as caught:
        client.get_json(server.url + "/data", venue="kalshi")
    assert not isinstance(caught.value, VenueUnreachableError)
    assert "3 attempts" in str(caught.value)
    assert "http_503" in str(caught.value)
    assert caught.value.venue == "kalshi"
    assert len(server.requests_to("/data")) == 3


def test_http_total_budget_stops_retries(server):
    server.add_faults("/data", *[Reply.error(429, retry_after="0.5")] * 5)
    with make_client(max_total_seconds=0.3, backoff_max_seconds=1.0) as client:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            client.get_json(server.url + "/data")
    assert "time budget" in str(caught.value)
    assert time.monotonic() - started < 0.5
    assert len(server.requests_to("/data")) == 1


def test_http_connect_refused_raises_unreachable():
    url = closed_port_url() + "/events"
    with make_client(max_retries=1) as client, pytest.raises(VenueUnreachableError) as caught:
        client.get_json(url, venue="polymarket")
    message = str(caught.value)
    assert "unreachable" in message
    assert "make run PARAMS=params/replay.yaml" in message
    assert client.stats.retries["connect_error"] == 1


@pytest.mark.parametrize("status", [400, 404, 401])
def test_http_client_error_not_retried(server, status):
    server.add_faults("/data", Reply.error(status, message="unknown ticker KXNOPE"))
    with make_client() as client, pytest.raises(HttpStatusError) as caught:
        client.get_json(server.url + "/data")
    assert caught.value.status_code == status
    assert f"HTTP {status}" in str(caught.value)
    assert "unknown ticker KXNOPE" in str(caught.value)
    assert len(server.requests_to("/data")) == 1


def test_http_560_not_retried_by_default(server):
    server.add_faults("/api/mutation", Reply.error(560, message="function failed"))
    with make_client() as client, pytest.raises(HttpStatusError) as caught:
        client.post_json(server.url + "/api/mutation", {"path": "a:b", "args": {}})
    assert caught.value.status_code == 560
    assert len(server.requests_to("/api/mutation")) == 1


def test_http_caller_retry_statuses_respected(server):
    server.add_faults("/data", Reply.error(560))
    with make_client(retry_statuses=frozenset({560})) as client:
        payload = client.get_json(server.url + "/data")
    assert payload == OK
    assert client.stats.retries["http_560"] == 1


def test_http_rate_limit_per_host(server):
    rate, count = 20.0, 6
    with make_client(default_rate_per_second=1000.0, rate_limits={"127.0.0.1": rate}) as client:
        started = time.monotonic()
        for _ in range(count):
            client.get_json(server.url + "/data")
        elapsed = time.monotonic() - started
    assert elapsed >= (count - 1) / rate
    assert client.stats.rate_limit_seconds > 0


def test_http_rate_limit_shared_across_threads(server):
    from concurrent.futures import ThreadPoolExecutor

    rate, count = 25.0, 8
    with make_client(default_rate_per_second=rate) as client, ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        results = list(pool.map(lambda _: client.get_json(server.url + "/data"), range(count)))
        elapsed = time.monotonic() - started
    assert results == [OK] * count
    assert elapsed >= (count - 1) / rate


def test_http_raw_page_written_before_parse(server, tmp_path):
    server.route("/data", lambda _request: Reply.invalid_json({"events": ["cut", "off"]}))
    writer = RawPageWriter(tmp_path)
    with make_client(max_retries=1) as client, pytest.raises(FetchError) as caught:
        client.get_json(server.url + "/data", venue="kalshi", raw_writer=writer, raw_name="events_page_0001.json")
    saved = tmp_path / "kalshi" / "events_page_0001.json"
    assert saved.is_file()
    assert saved.read_bytes().startswith(b'{"events"')
    assert "invalid_json" in str(caught.value)


def test_http_post_json_sends_body_and_headers(server):
    server.route("/api/mutation", lambda request: Reply.json({"status": "success", "echo": request.json()}))
    with make_client() as client:
        reply = client.post_json(server.url + "/api/mutation", {"path": "x:y", "args": {"n": 1}},
                                 headers={"Authorization": "Convex test-key"})
    recorded = server.requests_to("/api/mutation")[0]
    assert reply["echo"] == {"path": "x:y", "args": {"n": 1}}
    assert recorded.method == "POST"
    assert recorded.headers.get("Authorization") == "Convex test-key"


def test_http_retry_logged_without_headers(server, caplog):
    server.add_faults("/data", Reply.error(503))
    caplog.set_level(logging.DEBUG, logger="mflib.http")
    with make_client() as client:
        client.request("GET", server.url + "/data", params={"cursor": "abc"},
                       headers={"Authorization": "Bearer secret-token-123"})
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "http_503" in warnings[0].getMessage()
    assert "attempt 1/4" in warnings[0].getMessage()
    assert "/data?cursor=abc" in warnings[0].getMessage()
    assert "secret-token-123" not in caplog.text
