"""The JSON artifacts: built from a hand-built warehouse, validated against their schemas, written atomically."""

from __future__ import annotations

import copy
import json
import stat
from datetime import timedelta
from importlib import resources

import jsonschema
import pandas as pd
import pytest
from artifact_fixtures import NOW, build_warehouse, current_opportunities, opportunity_frame

from mflib import artifacts, warehouse
from mflib.books import quotes_from_markets
from mflib.errors import ArtifactValidationError
from mflib.pricing import price_pairs
from mflib.schema import MARKET_COLUMNS, coerce_frame


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """The two-run warehouse, built once: the builders under test only read it."""
    con = warehouse.connect(tmp_path_factory.mktemp("artifacts") / "warehouse.duckdb")
    build_warehouse(con)
    yield con
    con.close()


def test_artifacts_schemas_are_valid_package_data():
    for name in artifacts.ARTIFACT_NAMES:
        path = resources.files("mflib").joinpath("schemas", f"{name}.schema.json")
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        assert artifacts.load_schema(name) == schema


def test_artifacts_opportunities_validates(filled):
    response = artifacts.build_opportunities(filled, "run-b", processing_time=12.34, now=NOW)
    artifacts.validate_artifact("opportunities", response)
    assert response["metadata"]["totalFound"] == 3
    assert len(response["opportunities"]) == 3
    assert response["metadata"]["lastProcessed"] == "2026-12-04T20:00:00Z"
    assert response["metadata"]["processingTime"] == 12.34


def test_artifacts_opportunities_sorted_by_margin(filled):
    response = artifacts.build_opportunities(filled, "run-b", processing_time=1.0, now=NOW)
    margins = [item["profitMargin"] for item in response["opportunities"]]
    assert margins == [0.084, 0.031, 0.012]


def test_artifacts_opportunities_keep_extra_fields(filled):
    response = artifacts.build_opportunities(filled, "run-b", processing_time=1.0, now=NOW)
    first = response["opportunities"][0]
    assert first["kalshiMarketId"] == "KXFEDCUT-26DEC"
    assert first["legs"][1]["side"] == "no"
    assert first["fees"]["total"] == 1.7
    assert first["riskFlags"] == ["close_times_differ"]


def test_artifacts_opportunities_confidence_counts(filled):
    response = artifacts.build_opportunities(filled, "run-b", processing_time=1.0, now=NOW)
    assert response["metadata"]["confidence"] == {"high": 1, "medium": 1, "low": 1}


@pytest.mark.parametrize(("confidence", "band"), [
    (0.81, "high"), (0.8, "medium"), (0.6, "medium"), (0.5999, "low"), (0.0, "low"), (1.0, "high"),
])
def test_artifacts_confidence_band_edges(confidence, band):
    assert artifacts.confidence_band(confidence) == band


def test_artifacts_summary_validates(filled):
    summary = artifacts.build_summary(filled, "run-b", now=NOW, schedule_minutes=15)
    artifacts.validate_artifact("summary", summary)
    assert summary["totalMarkets"] == 7
    assert summary["byPlatform"]["kalshi"]["count"] == 4
    assert summary["byPlatform"]["polymarket"]["count"] == 3
    assert summary["nextUpdate"] == "2026-12-04T20:15:00Z"
    assert summary["lastUpdated"] == "2026-12-04T20:00:00Z"


def test_artifacts_summary_volume_skips_unknown(filled):
    summary = artifacts.build_summary(filled, "run-b", now=NOW)
    # One Kalshi market has no volume, so the mean is over the other three.
    assert summary["byPlatform"]["kalshi"]["avgVolume"] == pytest.approx((1200.0 + 54000.5 + 98000.0) / 3, abs=0.01)


def test_artifacts_summary_top_categories(filled):
    summary = artifacts.build_summary(filled, "run-b", now=NOW)
    assert summary["byPlatform"]["kalshi"]["topCategories"] == ["Politics", "Climate", "Economics"]
    assert summary["byPlatform"]["polymarket"]["topCategories"] == ["Economy", "Politics", "Weather"]


def test_artifacts_health_validates(filled):
    status = artifacts.build_health(filled, "run-b", now=NOW)
    artifacts.validate_artifact("health", status)
    assert status["status"] == "healthy"
    assert status["lastEtlRun"]["marketsProcessed"] == 7
    assert status["lastEtlRun"]["opportunitiesFound"] == 3
    assert status["lastEtlRun"]["duration"] == pytest.approx(9.5)


def test_artifacts_empty_warehouse_validates(warehouse_con):
    response = artifacts.build_opportunities(warehouse_con, "nothing", processing_time=0.0, now=NOW)
    summary = artifacts.build_summary(warehouse_con, "nothing", now=NOW)
    status = artifacts.build_health(warehouse_con, "nothing", now=NOW)
    artifacts.validate_artifact("opportunities", response)
    artifacts.validate_artifact("summary", summary)
    artifacts.validate_artifact("health", status)
    assert response["metadata"]["totalFound"] == 0
    assert summary["byPlatform"]["polymarket"] == {"count": 0, "avgVolume": 0.0, "topCategories": []}
    assert status["status"] == "down"


def test_artifacts_invalid_names_failing_path(filled):
    response = artifacts.build_opportunities(filled, "run-b", processing_time=1.0, now=NOW)
    response["opportunities"][1]["sellMarket"]["price"] = 1.5
    with pytest.raises(ArtifactValidationError) as caught:
        artifacts.validate_artifact("opportunities", response)
    assert "$.opportunities[1].sellMarket.price" in str(caught.value)
    assert caught.value.artifact == "opportunities"


@pytest.mark.parametrize(("change", "path"), [
    (lambda obj: obj["opportunities"][0].pop("expiresAt"), "$.opportunities[0]"),
    (lambda obj: obj["opportunities"][0].update(detectedAt="yesterday"), "$.opportunities[0].detectedAt"),
    (lambda obj: obj["opportunities"][0].update(direction="sideways"), "$.opportunities[0].direction"),
    (lambda obj: obj["opportunities"][0].update(riskFlags="thin_depth"), "$.opportunities[0].riskFlags"),
    (lambda obj: obj["opportunities"][0]["buyMarket"].update(platform="manifold"), "$.opportunities[0].buyMarket.platform"),
    (lambda obj: obj["opportunities"][0].update(confidence=1.2), "$.opportunities[0].confidence"),
    (lambda obj: obj["metadata"]["confidence"].pop("low"), "$.metadata.confidence"),
])
def test_artifacts_invalid_opportunity_rejected(filled, change, path):
    response = artifacts.build_opportunities(filled, "run-b", processing_time=1.0, now=NOW)
    broken = copy.deepcopy(response)
    change(broken)
    with pytest.raises(ArtifactValidationError) as caught:
        artifacts.validate_artifact("opportunities", broken)
    assert f"at {path}" in str(caught.value)


def test_artifacts_invalid_health_status_rejected(filled):
    status = artifacts.build_health(filled, "run-b", now=NOW)
    status["status"] = "fine"
    with pytest.raises(ArtifactValidationError, match=r"\$\.status"):
        artifacts.validate_artifact("health", status)


def test_artifacts_invalid_writes_nothing(filled, tmp_path):
    summary = artifacts.build_summary(filled, "run-b", now=NOW)
    summary["totalMarkets"] = -1
    run_dir = tmp_path / "run"
    with pytest.raises(ArtifactValidationError):
        artifacts.write_artifact("summary", summary, run_dir)
    assert not (run_dir / "summary.json").exists()
    assert not run_dir.exists() or list(run_dir.iterdir()) == []


def test_artifacts_failed_write_keeps_earlier_file(filled, tmp_path):
    good = artifacts.build_summary(filled, "run-b", now=NOW)
    run_dir = tmp_path / "run"
    path = artifacts.write_artifact("summary", good, run_dir)
    before = path.read_bytes()
    bad = copy.deepcopy(good)
    bad["byPlatform"]["kalshi"]["count"] = "four"
    with pytest.raises(ArtifactValidationError, match=r"\$\.byPlatform\.kalshi\.count"):
        artifacts.write_artifact("summary", bad, run_dir)
    assert path.read_bytes() == before
    assert [item.name for item in run_dir.iterdir()] == ["summary.json"]


def test_artifacts_nan_rejected_before_write(filled, tmp_path):
    response = artifacts.build_opportunities(filled, "run-b", processing_time=1.0, now=NOW)
    response["opportunities"][0]["grossGap"] = float("nan")
    with pytest.raises(ArtifactValidationError, match="NaN"):
        artifacts.write_artifact("opportunities", response, tmp_path / "out")
    assert not (tmp_path / "out" / "opportunities.json").exists()


def test_artifacts_write_round_trip(filled, tmp_path):
    response = artifacts.build_opportunities(filled, "run-b", processing_time=2.5, now=NOW)
    path = artifacts.write_artifact("opportunities", response, tmp_path / "out")
    assert path == tmp_path / "out" / "opportunities.json"
    assert json.loads(path.read_text(encoding="utf-8")) == response
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_artifacts_write_replaces_earlier_file(filled, tmp_path):
    first = artifacts.build_health(filled, "run-b", now=NOW)
    artifacts.write_artifact("health", first, tmp_path)
    second = artifacts.build_health(filled, "run-b", now=NOW, extra_errors=["convex: dry run only"])
    path = artifacts.write_artifact("health", second, tmp_path)
    assert json.loads(path.read_text(encoding="utf-8"))["status"] == "degraded"


def test_artifacts_unknown_name_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown artifact 'report'"):
        artifacts.write_artifact("report", {}, tmp_path)


def test_artifacts_validates_pricing_output(warehouse_con):
    """The pricing layer's own opportunity objects, stored as it stores them, validate unchanged."""
    rows = [
        {"platform": "kalshi", "market_id": "KXSNOWDEN-26", "series_id": "KXSNOWDEN",
         "title": "Snow in Denver by Jan 5?", "status": "open", "tradeable": True, "yes_ask": 0.30,
         "no_ask": 0.72, "yes_ask_size": 120.0, "volume_usd": 900.0, "close_time": "2027-01-05T00:00:00Z",
         "fetched_at": "2026-12-04T19:59:00Z", "url": "https://kalshi.example/snowden"},
        {"platform": "polymarket", "market_id": "0xsnow", "title": "Denver snow before January 5?",
         "status": "open", "tradeable": True, "yes_ask": 0.33, "no_ask": 0.62, "no_ask_size": 400.0,
         "close_time": "2027-01-05T00:00:00Z", "fetched_at": "2026-12-04T19:59:00Z", "fees_enabled": False,
         "token_yes": "71", "token_no": "72", "url": "https://polymarket.example/snow"},
    ]
    pairs = pd.DataFrame([{
        "pair_id": "KXSNOWDEN-26|0xsnow", "kalshi_id": "KXSNOWDEN-26", "polymarket_id": "0xsnow",
        "orientation": "same", "confidence": 0.88, "accepted": True, "confidence_source": "model_and_rules",
        "review_status": "skipped_no_key", "probability": 0.88, "reason_codes": "",
    }])
    warehouse.replace_run_rows(warehouse_con, "markets", "run-p", coerce_frame(rows, MARKET_COLUMNS))
    markets = warehouse.read_run(warehouse_con, "markets", "run-p")
    priced = price_pairs(pairs, markets, quotes_from_markets(pairs, markets), {}, now=NOW)
    warehouse.replace_run_rows(warehouse_con, "opportunities", "run-p", priced)
    response = artifacts.build_opportunities(warehouse_con, "run-p", processing_time=1.0, now=NOW)
    artifacts.validate_artifact("opportunities", response)
    assert response["metadata"]["totalFound"] == 1
    assert response["opportunities"][0]["buyMarket"]["platform"] == "kalshi"


def test_artifacts_unreadable_opportunity_json(warehouse_con):
    frame = opportunity_frame(current_opportunities())
    frame.loc[1, "opportunity_json"] = "{not json"
    warehouse.replace_run_rows(warehouse_con, "opportunities", "run-x", frame)
    with pytest.raises(ArtifactValidationError, match="row 1 of table opportunities"):
        artifacts.build_opportunities(warehouse_con, "run-x", processing_time=0.0, now=NOW)


def test_artifacts_missing_opportunity_json_column(warehouse_con):
    warehouse.replace_run_rows(warehouse_con, "opportunities", "run-x", pd.DataFrame({"pair_id": ["a|b"]}))
    with pytest.raises(ArtifactValidationError, match="no opportunity_json column"):
        artifacts.build_opportunities(warehouse_con, "run-x", processing_time=0.0, now=NOW)


def test_artifacts_other_runs_left_out(filled):
    response = artifacts.build_opportunities(filled, "run-a", processing_time=0.0, now=NOW)
    assert response["metadata"]["totalFound"] == 1
    assert response["opportunities"][0]["detectedAt"] == (NOW - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
