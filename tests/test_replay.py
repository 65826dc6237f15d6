"""Replay of recorded API responses: file discovery, BOM, shape checks and the recorded snapshot."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from mflib.errors import SchemaError
from mflib.normalize import markets_frame, normalize_page
from mflib.sources.replay import iter_recorded_pages, list_recorded_files

FETCHED = datetime(2026, 12, 1, tzinfo=UTC)
RECORDED_SKIP = ["*.csv", "kalshi_orderbook.json"]

KALSHI_PAGE = {
    "markets": [{
        "ticker": "KXBOMTEST-27-A", "event_ticker": "KXBOMTEST-27", "title": "Will the BOM test pass?",
        "status": "active", "yes_ask_dollars": "0.3300", "close_time": "2027-02-01T00:00:00Z",
    }],
    "cursor": "",
}


def write(path, payload, *, bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(payload).encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + body if bom else body)


def test_replay_strips_bom(tmp_path):
    write(tmp_path / "bom.json", KALSHI_PAGE, bom=True)
    pages = list(iter_recorded_pages([tmp_path / "bom.json"], venue="kalshi"))
    assert len(pages) == 1
    assert pages[0].payload == KALSHI_PAGE
    assert pages[0].source == str(tmp_path / "bom.json")


def test_replay_folders_recursive_sorted(tmp_path):
    write(tmp_path / "b" / "page_2.json", KALSHI_PAGE)
    write(tmp_path / "a" / "page_9.json", KALSHI_PAGE)
    write(tmp_path / "a" / "page_1.json", KALSHI_PAGE)
    (tmp_path / ".hidden").write_text("not json")
    pages = list(iter_recorded_pages([tmp_path], venue="kalshi"))
    names = [page.source.removeprefix(str(tmp_path) + "/") for page in pages]
    assert names == ["a/page_1.json", "a/page_9.json", "b/page_2.json"]
    assert [page.number for page in pages] == [1, 2, 3]
    assert {page.venue for page in pages} == {"kalshi"}


def test_replay_unrecognized_file_names_it(tmp_path):
    write(tmp_path / "ok.json", KALSHI_PAGE)
    write(tmp_path / "orderbook.json", {"orderbook_fp": {"yes_dollars": [["0.01", "5"]]}})
    with pytest.raises(SchemaError) as info:
        list(iter_recorded_pages([tmp_path], venue="kalshi"))
    assert "orderbook.json" in str(info.value)
    assert "replay_skip" in str(info.value)


def test_replay_csv_raises_schema_error(tmp_path):
    (tmp_path / "flat.csv").write_text("ticker,title\nKXA-1,Something\n")
    with pytest.raises(SchemaError, match=r"flat\.csv.*replay_skip"):
        list(iter_recorded_pages([tmp_path], venue="kalshi"))


def test_replay_skip_globs_by_name_and_path(tmp_path):
    write(tmp_path / "keep.json", KALSHI_PAGE)
    (tmp_path / "flat.csv").write_text("a,b\n")
    write(tmp_path / "books" / "book.json", {"orderbook": {"yes": [], "no": []}})
    files = list_recorded_files([tmp_path], skip=["*.csv", "books/*"])
    assert files == [tmp_path / "keep.json"]


def test_replay_wrong_venue_rejected(tmp_path):
    write(tmp_path / "kalshi.json", KALSHI_PAGE)
    with pytest.raises(SchemaError, match="polymarket"):
        list(iter_recorded_pages([tmp_path], venue="polymarket"))


def test_replay_missing_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list(iter_recorded_pages([tmp_path / "nowhere"], venue="kalshi"))


def test_replay_unknown_venue_raises(tmp_path):
    with pytest.raises(ValueError, match="venue"):
        list(iter_recorded_pages([tmp_path], venue="betfair"))


def test_replay_ci_fixture_pages(fixtures_dir):
    kalshi = list(iter_recorded_pages([fixtures_dir / "ci" / "kalshi"], venue="kalshi"))
    polymarket = list(iter_recorded_pages([fixtures_dir / "ci" / "polymarket"], venue="polymarket"))
    assert len(kalshi) == 2
    assert len(polymarket) == 1


def replay_all(folder, venue):
    rows, quarantine, shapes = [], [], []
    for page in iter_recorded_pages([folder], venue=venue, skip=RECORDED_SKIP):
        normalized = normalize_page(venue, page.payload, source=page.source, fetched_at=FETCHED)
        rows.extend(normalized.rows)
        quarantine.extend(normalized.quarantine)
        shapes.append(normalized.shape)
    return markets_frame(rows), quarantine, shapes


def test_replay_recorded_kalshi_files(shared_data):
    markets, quarantine, shapes = replay_all(shared_data / "raw" / "kalshi", "kalshi")
    statuses = Counter(markets["status"])
    assert len(markets) > 0
    assert "kalshi_events_list" in shapes
    assert "kalshi_markets_page" in shapes
    assert statuses["open"] > 0
    assert statuses["settled"] > 0
    assert markets["yes_ask"].dropna().between(0, 1).all()
    assert markets["close_time"].notna().all()
    assert len(quarantine) < len(markets)


def test_replay_recorded_polymarket_files(shared_data):
    markets, quarantine, shapes = replay_all(shared_data / "raw" / "polymarket", "polymarket")
    assert len(markets) > 0
    assert "polymarket_events_list" in shapes
    assert "polymarket_markets_list" in shapes
    assert markets["token_yes"].notna().any()
    assert (markets["outcome_yes"] != "Yes").any()    # team-name outcomes of the NBA games
    assert markets["yes_ask"].dropna().between(0, 1).all()
    assert len(quarantine) < len(markets)


def test_replay_recorded_without_skip_names_csv(shared_data):
    with pytest.raises(SchemaError, match=r"kalshi_markets\.csv"):
        list(iter_recorded_pages([shared_data / "raw" / "kalshi"], venue="kalshi", skip=["kalshi_orderbook.json"]))
