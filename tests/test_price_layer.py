"""The price layer end to end: notebook 06 on a real DuckDB warehouse, offline and against local books."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import papermill
import pytest
from books_server import BooksServer

from mflib import warehouse
from mflib.books import Quotes, quotes_from_markets
from mflib.config import REPO_ROOT
from mflib.pricing import evaluate_pairs, price_pairs, select_opportunities
from mflib.schema import MARKET_COLUMNS, coerce_frame

NOTEBOOK = REPO_ROOT / "notebooks" / "06_price.ipynb"
RUN_ID = "price-test"


def _markets() -> pd.DataFrame:
    rows = [
        {"platform": "kalshi", "market_id": "KXLAYER-26-A", "series_id": "KXLAYER", "title": "Team A wins?",
         "status": "open", "tradeable": True, "yes_ask": 0.40, "no_ask": 0.62, "yes_ask_size": 80.0,
         "close_time": "2026-05-01T00:00:00Z", "fetched_at": "2026-03-01T11:59:00Z", "url": "https://k.example/a"},
        {"platform": "polymarket", "market_id": "0xlayer1", "title": "Will Team A win?", "status": "open",
         "tradeable": True, "yes_ask": 0.41, "no_ask": 0.55, "no_ask_size": 500.0,
         "close_time": "2026-05-01T00:00:00Z", "fetched_at": "2026-03-01T11:59:00Z", "fees_enabled": False,
         "token_yes": "9001", "token_no": "9002", "url": "https://p.example/a"},
        {"platform": "kalshi", "market_id": "KXLAYER-26-B", "series_id": "KXLAYER", "title": "Team B wins?",
         "status": "open", "tradeable": True, "yes_ask": 0.60, "no_ask": 0.42,
         "close_time": "2026-05-01T00:00:00Z", "fetched_at": "2026-03-01T11:59:00Z"},
        {"platform": "polymarket", "market_id": "0xlayer2", "title": "Will Team B win?", "status": "open",
         "tradeable": True, "yes_ask": 0.59, "no_ask": 0.43, "close_time": "2026-05-01T00:00:00Z",
         "fetched_at": "2026-03-01T11:59:00Z", "fees_enabled": False, "token_yes": "9003", "token_no": "9004"},
    ]
    return coerce_frame(rows, MARKET_COLUMNS)


def _reviewed_pairs() -> pd.DataFrame:
    return pd.DataFrame([
        {"pair_id": "KXLAYER-26-A|0xlayer1", "kalshi_id": "KXLAYER-26-A", "polymarket_id": "0xlayer1",
         "orientation": "same", "confidence": 0.9, "accepted": True, "confidence_source": "model_and_rules",
         "review_status": "not_reviewed", "probability": 0.9, "reason_codes": ""},
        {"pair_id": "KXLAYER-26-B|0xlayer2", "kalshi_id": "KXLAYER-26-B", "polymarket_id": "0xlayer2",
         "orientation": "same", "confidence": 0.4, "accepted": False, "confidence_source": "model_and_rules",
         "review_status": "not_reviewed", "probability": 0.4, "reason_codes": ""},
    ])


@pytest.fixture()
def layer_warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(path)
    warehouse.replace_run_rows(con, "markets", RUN_ID, _markets())
    warehouse.replace_run_rows(con, "reviewed_pairs", RUN_ID, _reviewed_pairs())
    con.close()
    return path


def _run_notebook(tmp_path, warehouse_path, **parameters):
    papermill.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "06_price.out.ipynb"),
        parameters={"run_id": RUN_ID, "warehouse_path": str(warehouse_path), "run_dir": str(tmp_path / "run"),
                    "raw_dir": str(tmp_path / "raw"),
                    "log_level": "WARNING", "detected_at": "2026-03-01T12:00:00+00:00", **parameters},
        kernel_name="python3", progress_bar=False, cwd=str(REPO_ROOT),
    )
    with warehouse.connect(warehouse_path, read_only=True) as con:
        return (warehouse.read_run(con, "opportunities", RUN_ID), warehouse.read_run(con, "books", RUN_ID),
                con.execute("SELECT rows_in, rows_out FROM layer_stats WHERE run_id = ? AND layer = 'price'",
                            [RUN_ID]).fetchall())


def test_price_layer_notebook_offline(tmp_path, layer_warehouse):
    opportunities, books, stats = _run_notebook(tmp_path, layer_warehouse)
    assert list(opportunities["direction"]) == ["kalshi_yes_polymarket_no"]
    item = json.loads(opportunities["opportunity_json"].iloc[0])
    # 80 x (0.40 + 0.55) = 76; Kalshi fee 0.07 x 80 x 0.24 = 1.344 -> 1.35
    assert item["costUsd"] == 77.35
    assert item["netProfitUsd"] == 2.65
    assert item["topOfBookOnly"] is True
    assert set(books["source"]) == {"market_top"}
    assert stats == [(1, 1)]


def test_price_layer_notebook_fetches_local_books(tmp_path, layer_warehouse):
    kalshi_books = {"KXLAYER-26-A": {"orderbook": {"yes": [[37, 100]], "no": [[60, 30], [59, 100]]}}}
    clob = {token: {"asset_id": token, "timestamp": "1772366395000", "bids": [],
                    "asks": [{"price": "0.56", "size": "1000"}, {"price": "0.55", "size": "50"}]}
            for token in ("9001", "9002")}
    series = {"KXLAYER": {"series": {"ticker": "KXLAYER", "fee_type": "quadratic", "fee_multiplier": 1}}}
    with BooksServer(kalshi_books=kalshi_books, clob_books=clob, series=series) as server:
        opportunities, books, _ = _run_notebook(
            tmp_path, layer_warehouse, fetch_books=True, kalshi_base_url=server.url, clob_base_url=server.url,
            rate_limit_per_second=100.0)
        requests = list(server.requests)
    assert ("POST", "/books") in requests
    assert ("GET", "/series/KXLAYER") in requests
    item = json.loads(opportunities["opportunity_json"].iloc[0])
    # YES asks 0.40 x 30 and 0.41 x 100 against NO asks 0.55 x 50 and 0.56 x 1000: all 130 contracts pay.
    assert item["executableSize"] == 130.0
    assert item["topOfBookOnly"] is False
    assert item["fees"]["kalshiFeeMultiplierKnown"] is True
    assert set(books.loc[books["market_id"] == "0xlayer1", "source"]) == {"book"}
    assert (tmp_path / "raw" / "books" / "kalshi" / "orderbook_KXLAYER-26-A.json").is_file()


def test_price_layer_warehouse_round_trip(warehouse_con):
    warehouse.replace_run_rows(warehouse_con, "markets", RUN_ID, _markets())
    markets = warehouse.read_run(warehouse_con, "markets", RUN_ID)
    pairs = _reviewed_pairs()
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    opportunities = price_pairs(pairs, markets, quotes_from_markets(pairs, markets), {}, now=now)
    written = warehouse.replace_run_rows(warehouse_con, "opportunities", RUN_ID, opportunities)
    assert written == 1
    closed = markets.assign(tradeable=markets["platform"].eq("kalshi"))
    assert price_pairs(pairs, closed, quotes_from_markets(pairs, closed), {}, now=now).empty
    item = json.loads(opportunities["opportunity_json"].iloc[0])
    assert item["expiresAt"] == "2026-05-01T00:00:00Z"


def test_price_layer_empty_inputs(warehouse_con):
    empty = pd.DataFrame()
    evaluated = evaluate_pairs(empty, empty, Quotes(), {}, now=datetime.now(UTC))
    opportunities = select_opportunities(evaluated, {})
    assert opportunities.empty
    assert warehouse.replace_run_rows(warehouse_con, "opportunities", RUN_ID, opportunities) == 0
    assert quotes_from_markets(empty, empty).markets == {}
