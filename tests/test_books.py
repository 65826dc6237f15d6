"""Order-book parsing, replay files and fetching through HttpClient against a local server."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pandas as pd
import pytest
from books_server import BooksServer
from venue_server import closed_port_url

from mflib.books import (
    SOURCE_BOOK,
    SOURCE_MARKET_TOP,
    SOURCE_NONE,
    SOURCE_REPLAY,
    fetch_quotes,
    load_kalshi_replay,
    load_polymarket_replay,
    parse_kalshi_orderbook,
    parse_polymarket_book,
    quotes_from_markets,
)
from mflib.errors import SchemaError
from mflib.http import HttpClient
from mflib.pricing.params import validate_price_params
from mflib.schema import MARKET_COLUMNS, coerce_frame
from mflib.sources.base import RawPageWriter

LEGACY_BOOK = {"orderbook": {"yes": [[38, 200], [40, 50], [35, 10]], "no": [[57, 30], [55, 120]]}}
FP_BOOK = {"orderbook_fp": {"yes_dollars": [["0.4100", "120.00"], ["0.3950", "7.50"]], "no_dollars": None}}


def _market(platform: str, market_id: str, **values) -> dict:
    row = {"platform": platform, "market_id": market_id, "status": "open", "tradeable": True,
           "fetched_at": "2026-03-01T12:00:00Z", "title": f"Question {market_id}"}
    row.update(values)
    return row


def _frames(count: int = 1):
    markets, pairs = [], []
    for index in range(count):
        kalshi_id, poly_id = f"KXTEST-26-T{index}", f"0xcond{index:04d}"
        markets.append(_market("kalshi", kalshi_id, series_id="KXTEST", yes_ask=0.45, no_ask=0.57, yes_ask_size=3.0))
        markets.append(_market("polymarket", poly_id, yes_ask=0.44, no_ask=0.58, token_yes=f"{index}1", token_no=f"{index}2"))
        pairs.append({"pair_id": f"{kalshi_id}|{poly_id}", "kalshi_id": kalshi_id, "polymarket_id": poly_id,
                      "orientation": "same", "accepted": True, "confidence": 0.9})
    return pd.DataFrame(pairs), coerce_frame(markets, MARKET_COLUMNS)


def _clob_book(token: str, asks: list[tuple[str, str]], timestamp: str = "1772366400000") -> dict:
    return {"market": "0xcond", "asset_id": token, "timestamp": timestamp, "hash": "abc",
            "bids": [{"price": "0.30", "size": "10"}],
            "asks": [{"price": price, "size": size} for price, size in asks],
            "min_order_size": "5", "tick_size": "0.01", "neg_risk": False}


def test_books_kalshi_legacy_unsorted():
    yes_asks, no_asks = parse_kalshi_orderbook(LEGACY_BOOK)
    assert yes_asks == ((D("0.43"), D(30)), (D("0.45"), D(120)))
    assert no_asks == ((D("0.60"), D(50)), (D("0.62"), D(200)), (D("0.65"), D(10)))


def test_books_kalshi_fp_with_bom_and_null_side():
    body = b"\xef\xbb\xbf" + json.dumps(FP_BOOK).encode()
    yes_asks, no_asks = parse_kalshi_orderbook(body)
    assert yes_asks == ()
    assert no_asks == ((D("0.5900"), D("120.00")), (D("0.6050"), D("7.50")))


def test_books_kalshi_legacy_dollar_twins_preferred():
    payload = {"orderbook": {"yes": [[41, 5]], "yes_dollars": [["0.4150", "5"]], "no": None}}
    _, no_asks = parse_kalshi_orderbook(payload)
    assert no_asks == ((D("0.5850"), D(5)),)


def test_books_kalshi_drops_zero_size_levels():
    yes_asks, _ = parse_kalshi_orderbook({"orderbook": {"yes": [], "no": [[60, 0], [58, 4]]}})
    assert yes_asks == ((D("0.42"), D(4)),)


def test_books_kalshi_unknown_shape_rejected():
    with pytest.raises(SchemaError, match="orderbook"):
        parse_kalshi_orderbook({"book": {}})


def test_books_kalshi_non_numeric_level_rejected():
    with pytest.raises(SchemaError, match="not numeric"):
        parse_kalshi_orderbook({"orderbook_fp": {"yes_dollars": [["abc", "1"]]}})


def test_books_polymarket_asks_sorted_ascending():
    token, asks, stamp = parse_polymarket_book(_clob_book("77", [("0.60", "5"), ("0.52", "100"), ("0.55", "20.5")]))
    assert token == "77"
    assert asks == ((D("0.52"), D(100)), (D("0.55"), D("20.5")), (D("0.60"), D(5)))
    assert stamp.isoformat() == "2026-03-01T12:00:00+00:00"


def test_books_polymarket_without_asset_id_rejected():
    with pytest.raises(SchemaError, match="asset_id"):
        parse_polymarket_book({"asks": []})


def test_books_top_of_book_from_markets():
    pairs, markets = _frames()
    quotes = quotes_from_markets(pairs, markets)
    kalshi = quotes.get("kalshi", "KXTEST-26-T0")
    poly = quotes.get("polymarket", "0xcond0000")
    assert kalshi.yes.levels == ((D("0.45"), D("3.0")),)
    assert kalshi.yes.source == SOURCE_MARKET_TOP
    assert poly.no.levels == ((D("0.58"), None),)
    assert poly.token_yes == "01"


def test_books_top_of_book_missing_ask_is_empty():
    pairs, markets = _frames()
    markets.loc[markets["platform"] == "kalshi", "no_ask"] = pd.NA
    quotes = quotes_from_markets(pairs, markets)
    assert quotes.get("kalshi", "KXTEST-26-T0").no.levels == ()
    assert quotes.get("kalshi", "KXTEST-26-T0").no.source == SOURCE_NONE


def test_books_unaccepted_pairs_not_quoted():
    pairs, markets = _frames()
    pairs["accepted"] = False
    assert quotes_from_markets(pairs, markets).markets == {}


def test_books_replay_files(tmp_path):
    kalshi_dir = tmp_path / "kalshi"
    kalshi_dir.mkdir()
    (kalshi_dir / "orderbook_KXTEST-26-T0.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(LEGACY_BOOK).encode())
    (kalshi_dir / "series_KXTEST.json").write_text(json.dumps({"series": {"ticker": "KXTEST", "fee_type": "quadratic", "fee_multiplier": 0.5}}))
    books, series = load_kalshi_replay([kalshi_dir])
    assert books["KXTEST-26-T0"][0][0] == (D("0.43"), D(30))
    assert series == {"KXTEST": D("0.5")}
    poly_file = tmp_path / "books.json"
    poly_file.write_text(json.dumps([_clob_book("01", [("0.40", "9")]), _clob_book("02", [("0.61", "3")])]))
    token_books = load_polymarket_replay([poly_file])
    assert token_books["02"][0] == ((D("0.61"), D(3)),)


def test_books_replay_missing_path(tmp_path):
    with pytest.raises(SchemaError, match="not found"):
        load_kalshi_replay([tmp_path / "absent"])


def test_books_fetch_quotes_replay_replaces_fetching(tmp_path):
    pairs, markets = _frames()
    (tmp_path / "KXTEST-26-T0.json").write_text(json.dumps(LEGACY_BOOK))
    params = validate_price_params({"kalshi_books_replay": [str(tmp_path)], "fetch_books": True,
                                    "kalshi_base_url": "http://127.0.0.1:9", "clob_base_url": "http://127.0.0.1:9"})
    quotes = fetch_quotes(pairs, markets, client=None, params=params | {"fetch_books": False})
    kalshi = quotes.get("kalshi", "KXTEST-26-T0")
    assert kalshi.yes.source == SOURCE_REPLAY
    assert kalshi.yes.best_ask == D("0.43")


def test_books_fetch_quotes_batches_and_fallbacks(tmp_path):
    pairs, markets = _frames(260)
    clob_books = {}
    for index in range(260):
        clob_books[f"{index}1"] = _clob_book(f"{index}1", [("0.47", "10"), ("0.44", "25")])
        clob_books[f"{index}2"] = _clob_book(f"{index}2", [("0.58", "40")])
    kalshi_books = {"KXTEST-26-T0": LEGACY_BOOK, "KXTEST-26-T1": b"\xef\xbb\xbf" + json.dumps(FP_BOOK).encode()}
    series = {"KXTEST": {"series": {"ticker": "KXTEST", "fee_type": "quadratic", "fee_multiplier": 0.5}}}
    with BooksServer(kalshi_books=kalshi_books, series=series, clob_books=clob_books, left_out_of_batches={"52"}) as server:
        params = validate_price_params({"fetch_books": True, "kalshi_base_url": server.url, "clob_base_url": server.url})
        with HttpClient(default_rate_per_second=1000.0, max_retries=0, timeout_seconds=5.0) as client:
            writer = RawPageWriter(tmp_path / "raw")
            quotes = fetch_quotes(pairs, markets, client=client, params=params, writer=writer)
        requests = list(server.requests)
        sizes = list(server.batch_sizes)

    assert sizes == [500, 20]
    assert ("GET", "/book") in requests
    assert ("GET", "/series/KXTEST") in requests
    assert sum(1 for method, path in requests if path.endswith("/orderbook")) == 260
    first = quotes.get("kalshi", "KXTEST-26-T0")
    assert first.yes.source == SOURCE_BOOK
    assert first.no.levels[0] == (D("0.60"), D(50))
    assert first.fee_multiplier == D("0.5")
    second = quotes.get("kalshi", "KXTEST-26-T1")
    assert second.yes.source == SOURCE_MARKET_TOP   # the fp book has a null NO side, so no YES asks
    assert second.no.best_ask == D("0.5900")
    third = quotes.get("kalshi", "KXTEST-26-T2")
    assert third.yes.source == SOURCE_MARKET_TOP    # 404 from the server
    poly = quotes.get("polymarket", "0xcond0005")
    assert poly.yes.levels == ((D("0.44"), D(25)), (D("0.47"), D(10)))
    assert poly.yes.source == SOURCE_BOOK
    assert quotes.get("polymarket", "0xcond0005").no.levels == ((D("0.58"), D(40)),)
    assert (tmp_path / "raw" / "kalshi" / "orderbook_KXTEST-26-T0.json").is_file()
    assert (tmp_path / "raw" / "polymarket" / "books_001.json").is_file()
    books = quotes.books_frame()
    assert len(books) == 2 * 520
    assert set(books["source"]) == {SOURCE_BOOK, SOURCE_MARKET_TOP}


def test_books_fetch_quotes_books_endpoint_failure(tmp_path):
    pairs, markets = _frames(1)
    with BooksServer(books_endpoint_fails=True) as server:
        params = validate_price_params({"fetch_books": True, "kalshi_base_url": server.url, "clob_base_url": server.url})
        with HttpClient(default_rate_per_second=1000.0, max_retries=0, timeout_seconds=5.0) as client:
            quotes = fetch_quotes(pairs, markets, client=client, params=params)
    poly = quotes.get("polymarket", "0xcond0000")
    assert poly.yes.source == SOURCE_MARKET_TOP
    assert poly.yes.best_ask == D("0.44")
    assert any("Polymarket /books" in note for note in quotes.notes)
    assert any("Kalshi orderbooks failed" in note for note in quotes.notes)


def test_books_fetch_quotes_unreachable_stops_early():
    pairs, markets = _frames(30)
    url = closed_port_url()
    params = validate_price_params({"fetch_books": True, "kalshi_base_url": url, "clob_base_url": url})
    with HttpClient(default_rate_per_second=1000.0, max_retries=1, backoff_base_seconds=0.01,
                    timeout_seconds=2.0) as client:
        quotes = fetch_quotes(pairs, markets, client=client, params=params)
        requests = client.stats.requests
    assert requests <= 8          # one orderbook, one series and one books batch, each tried twice
    assert quotes.get("kalshi", "KXTEST-26-T29").yes.source == SOURCE_MARKET_TOP
    assert any("Kalshi unreachable" in note for note in quotes.notes)
    assert any("Polymarket CLOB unreachable" in note for note in quotes.notes)
