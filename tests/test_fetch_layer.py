"""The fetch layer: parameters, replay of the CI fixture, live listing against a local server."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pandas as pd
import pytest
from venue_server import GammaKeysetEvents, KalshiEvents, VenueServer, closed_port_url

from mflib import warehouse
from mflib.errors import ConfigError, SchemaError, VenueUnreachableError
from mflib.fetch import DEFAULT_FETCH_PARAMS, VENUE_STATUS_COLUMNS, fetch_markets, read_fetch_params
from mflib.schema import MARKET_COLUMNS, QUARANTINE_COLUMNS

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FAST = {"rate_limit_per_second": {"kalshi": 1000, "polymarket": 1000}, "max_retries": 0,
        "timeout_seconds": 5, "max_total_seconds": 10}


@pytest.fixture()
def ci_replay(fixtures_dir):
    return {
        "kalshi_replay": [str(fixtures_dir / "ci" / "kalshi")],
        "polymarket_replay": [str(fixtures_dir / "ci" / "polymarket")],
    }


@pytest.fixture()
def fixture_events(fixtures_dir):
    kalshi = json.loads((fixtures_dir / "ci" / "kalshi" / "events_page_0001.json").read_text())
    polymarket = json.loads((fixtures_dir / "ci" / "polymarket" / "events_page_0001.json").read_text())
    return kalshi, polymarket


@pytest.fixture()
def venue_server(fixture_events):
    kalshi, polymarket = fixture_events
    with VenueServer() as server:
        server.route("/trade-api/v2/events", KalshiEvents(kalshi, max_limit=200))
        server.route("/events/keyset", GammaKeysetEvents(polymarket))
        yield server


def live_params(kalshi_url: str, polymarket_url: str, **extra) -> dict:
    return {"kalshi_base_url": kalshi_url, "polymarket_base_url": polymarket_url,
            "kalshi_page_size": 3, "polymarket_page_size": 4, **FAST, **extra}


# Parameters


def test_fetch_params_defaults():
    params = read_fetch_params({})
    assert params.kalshi_base_url == DEFAULT_FETCH_PARAMS["kalshi_base_url"]
    assert params.polymarket_base_url == "https://gamma-api.polymarket.com"
    assert params.rate_limit_per_second == {"kalshi": 10.0, "polymarket": 5.0}
    assert params.kalshi_page_size == 200
    assert params.polymarket_page_size == 500
    assert params.max_pages is None
    assert params.kalshi_replay == []


@pytest.mark.parametrize(
    ("fetch", "key"),
    [
        ({"kalshi_replay": "data/one.json"}, "fetch.kalshi_replay"),
        ({"replay_skip": [1, 2]}, "fetch.replay_skip"),
        ({"timeout_seconds": "20"}, "fetch.timeout_seconds"),
        ({"max_retries": True}, "fetch.max_retries"),
        ({"max_retries": 1.5}, "fetch.max_retries"),
        ({"kalshi_page_size": 1000}, "fetch.kalshi_page_size"),
        ({"polymarket_page_size": 0}, "fetch.polymarket_page_size"),
        ({"max_pages": 0}, "fetch.max_pages"),
        ({"kalshi_base_url": "api.example"}, "fetch.kalshi_base_url"),
        ({"rate_limit_per_second": 5}, "fetch.rate_limit_per_second"),
        ({"rate_limit_per_second": {"kalshi": -1}}, "fetch.rate_limit_per_second.kalshi"),
        ({"rate_limit_per_second": {"betfair": 1}}, "fetch.rate_limit_per_second.betfair"),
        ({"kalshi_replays": []}, "fetch.kalshi_replays"),
    ],
)
def test_fetch_params_invalid_named(fetch, key):
    with pytest.raises(ConfigError) as info:
        read_fetch_params(fetch)
    assert info.value.key == key


def test_fetch_replay_missing_path_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        fetch_markets({"kalshi_replay": [str(tmp_path / "gone")], "polymarket_replay": [str(tmp_path)]},
                      run_id="r", raw_root=tmp_path / "raw", now=NOW)
    assert info.value.key == "fetch.kalshi_replay"


# Replay


def test_fetch_replay_ci_fixture(ci_replay, tmp_path):
    result = fetch_markets(ci_replay, run_id="r1", raw_root=tmp_path / "raw", now=NOW)
    markets = result.markets
    counts = markets["platform"].value_counts().to_dict()
    status = result.venue_status.set_index("platform")
    assert counts == {"kalshi": 18, "polymarket": 17}
    assert sorted(result.quarantine["reason"]) == ["invalid_json", "invalid_price"]
    assert result.records == 37
    assert list(markets.columns) == list(MARKET_COLUMNS)
    assert list(result.quarantine.columns) == list(QUARANTINE_COLUMNS)
    assert list(result.venue_status.columns) == list(VENUE_STATUS_COLUMNS)
    assert status.loc["kalshi", "mode"] == "replay"
    assert bool(status.loc["polymarket", "ok"]) is True
    assert int(status.loc["kalshi", "pages"]) == 2
    assert int(status.loc["kalshi", "markets"]) == 18
    assert (markets["fetched_at"] == NOW).all()
    assert not (tmp_path / "raw").exists()


def test_fetch_replay_ci_fixture_contents(ci_replay, tmp_path):
    markets = fetch_markets(ci_replay, run_id="r1", raw_root=tmp_path, now=NOW).markets.set_index("market_id")
    cut = markets.loc["KXFEDDECISION-27JUN-CUT"]
    poly_cut = markets[markets["title"].str.contains("cut interest rates at the June 2027 FOMC")].iloc[0]
    game = markets[markets["title"] == "Celtics vs. Nuggets"].iloc[0]
    assert cut["yes_ask"] + poly_cut["no_ask"] == pytest.approx(0.90)
    assert cut["close_time"] == poly_cut["close_time"]
    assert game["outcome_yes"] == "Celtics"
    assert game["outcome_no"] == "Nuggets"
    assert markets.loc["KXSNOWNYC-26NOV30", "status"] == "settled"
    assert bool(markets.loc["KXGDPQ1-27-T3.0", "tradeable"]) is False
    assert pd.isna(markets.loc["KXGDPQ1-27-T3.0", "yes_ask"])


def test_fetch_replay_unrecognized_file_stops(tmp_path, fixtures_dir):
    (tmp_path / "kalshi").mkdir()
    (tmp_path / "kalshi" / "notes.csv").write_text("a,b\n")
    fetch = {"kalshi_replay": [str(tmp_path / "kalshi")],
             "polymarket_replay": [str(fixtures_dir / "ci" / "polymarket")]}
    with pytest.raises(SchemaError, match=r"notes\.csv"):
        fetch_markets(fetch, run_id="r", raw_root=tmp_path / "raw", now=NOW)
    fetch["replay_skip"] = ["*.csv"]
    result = fetch_markets(fetch, run_id="r", raw_root=tmp_path / "raw", now=NOW)
    assert int(result.venue_status.set_index("platform").loc["kalshi", "pages"]) == 0


def test_fetch_replay_tables_written_to_warehouse(ci_replay, tmp_path, warehouse_con):
    result = fetch_markets(ci_replay, run_id="r9", raw_root=tmp_path, now=NOW)
    written = warehouse.replace_run_rows(warehouse_con, "markets", "r9", result.markets)
    warehouse.replace_run_rows(warehouse_con, "venue_status", "r9", result.venue_status)
    warehouse.replace_run_rows(warehouse_con, "quarantine", "r9", result.quarantine)
    assert written == 35
    assert warehouse_con.execute("SELECT count(*) FROM quarantine WHERE run_id = 'r9'").fetchone()[0] == 2
    assert warehouse_con.execute("SELECT count(*) FROM venue_status WHERE ok").fetchone()[0] == 2


# Live, against a local server on 127.0.0.1


def test_fetch_live_both_venues(venue_server, tmp_path):
    raw = tmp_path / "raw" / "run1"
    result = fetch_markets(
        live_params(venue_server.url + "/trade-api/v2", venue_server.url), run_id="run1", raw_root=raw, now=NOW,
    )
    status = result.venue_status.set_index("platform")
    counts = result.markets["platform"].value_counts().to_dict()
    assert counts["kalshi"] == 16          # 17 nested markets, one quarantined
    assert counts["polymarket"] == 16      # the closed Bitcoin event is not listed
    assert status.loc["kalshi", "mode"] == "live"
    assert bool(status.loc["kalshi", "ok"]) is True
    assert int(status.loc["kalshi", "pages"]) == 3       # 8 events, 3 per page
    assert (raw / "kalshi" / "events_page_0001.json").is_file()
    assert any((raw / "polymarket").iterdir())
    assert result.markets["source"].str.startswith(str(raw)).all()


def test_fetch_live_pages_replay_identically(venue_server, tmp_path):
    raw = tmp_path / "raw"
    live = fetch_markets(live_params(venue_server.url + "/trade-api/v2", venue_server.url),
                         run_id="a", raw_root=raw, now=NOW)
    replayed = fetch_markets({"kalshi_replay": [str(raw / "kalshi")], "polymarket_replay": [str(raw / "polymarket")]},
                             run_id="b", raw_root=tmp_path / "unused", now=NOW)
    assert sorted(replayed.markets["market_id"]) == sorted(live.markets["market_id"])
    assert replayed.markets["yes_ask"].sum() == pytest.approx(live.markets["yes_ask"].sum())


def test_fetch_live_one_venue_down(venue_server, tmp_path, caplog):
    params = live_params(venue_server.url + "/trade-api/v2", closed_port_url())
    with caplog.at_level(logging.ERROR, logger="mflib.fetch"):
        result = fetch_markets(params, run_id="r", raw_root=tmp_path, now=NOW)
    status = result.venue_status.set_index("platform")
    assert bool(status.loc["polymarket", "ok"]) is False
    assert "unreachable" in status.loc["polymarket", "error"]
    assert bool(status.loc["kalshi", "ok"]) is True
    assert set(result.markets["platform"]) == {"kalshi"}
    assert any("polymarket" in record.getMessage() for record in caplog.records)


def test_fetch_live_both_down_raises(tmp_path):
    params = live_params(closed_port_url() + "/trade-api/v2", closed_port_url())
    with pytest.raises(VenueUnreachableError) as info:
        fetch_markets(params, run_id="r", raw_root=tmp_path, now=NOW)
    assert "unreachable" in str(info.value)
    assert "make run PARAMS=params/replay.yaml" in str(info.value)


def test_fetch_live_kalshi_with_polymarket_replay(venue_server, tmp_path, fixtures_dir):
    params = live_params(venue_server.url + "/trade-api/v2", closed_port_url(),
                         polymarket_replay=[str(fixtures_dir / "ci" / "polymarket")], max_pages=1)
    result = fetch_markets(params, run_id="r", raw_root=tmp_path, now=NOW)
    status = result.venue_status.set_index("platform")
    assert status.loc["polymarket", "mode"] == "replay"
    assert int(status.loc["kalshi", "pages"]) == 1
    assert bool(status.loc["kalshi", "partial"]) is True
    assert venue_server.requests_to("/events/keyset") == []
