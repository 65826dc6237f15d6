"""The whole notebook chain through run_pipeline.py and papermill, on the CI fixture and on the
recorded Iran snapshots, including what a failed run must leave behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from mflib.config import REPO_ROOT

pytestmark = pytest.mark.slow

SECRET = "sk-ant-test-never-written-0000"
DEPLOY_KEY = "prod:never-written-deploy-key"
ARTIFACTS = ("opportunities.json", "summary.json", "health.json")


def run_pipeline(params: str, tmp: Path, *overrides: str, env_extra: dict | None = None):
    args = [
        sys.executable, str(REPO_ROOT / "run_pipeline.py"), "--params", params,
        "--set", f"run.warehouse={tmp / 'warehouse.duckdb'}",
        "--set", f"run.outputs_dir={tmp / 'outputs'}",
        "--set", f"run.raw_dir={tmp / 'raw'}",
    ]
    for override in overrides:
        args += ["--set", override]
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "CONVEX_URL")}
    env.update(env_extra or {})
    return subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)


def only_run_dir(outputs: Path) -> Path:
    runs = sorted((outputs / "runs").iterdir())
    assert runs, "no run folder was created"
    return runs[-1]


def query(tmp: Path, sql: str, params=()):
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, list(params)).df()


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ci_run")
    result = run_pipeline("params/ci.yaml", tmp, env_extra={"CONVEX_DEPLOY_KEY": DEPLOY_KEY})
    return tmp, result


def test_pipeline_ci_fixture_exits_zero(ci_run):
    tmp, result = ci_run
    assert result.returncode == 0, result.stderr[-4000:]


def test_pipeline_ci_fixture_writes_run_folder(ci_run):
    tmp, _ = ci_run
    run_dir = only_run_dir(tmp / "outputs")
    for notebook in ("01_fetch", "02_bucket", "03_filter", "04_score", "05_review", "06_price",
                     "07_report", "08_publish"):
        assert (run_dir / f"{notebook}.ipynb").is_file(), notebook
    assert (run_dir / "report.html").is_file()
    assert (run_dir / "publish_requests.json").is_file()


def test_pipeline_ci_fixture_artifacts_validate(ci_run):
    from mflib import artifacts

    tmp, _ = ci_run
    latest = tmp / "outputs" / "latest"
    for name in ARTIFACTS:
        obj = json.loads((latest / name).read_text(encoding="utf-8"))
        artifacts.validate_artifact(name.removesuffix(".json"), obj)


def test_pipeline_ci_fixture_finds_opportunity(ci_run):
    tmp, _ = ci_run
    response = json.loads((tmp / "outputs" / "latest" / "opportunities.json").read_text())
    assert response["metadata"]["totalFound"] >= 1
    assert len(response["opportunities"]) == response["metadata"]["totalFound"]


def test_pipeline_ci_fixture_fed_cut_is_the_opportunity(ci_run):
    tmp, _ = ci_run
    response = json.loads((tmp / "outputs" / "latest" / "opportunities.json").read_text())
    best = response["opportunities"][0]
    assert best["kalshiMarketId"] == "KXFEDDECISION-27JUN-CUT"
    assert best["direction"] == "kalshi_yes_polymarket_no"
    assert best["profitMargin"] > 0


def test_pipeline_ci_fixture_orients_two_team_game(ci_run):
    tmp, _ = ci_run
    scored = query(tmp, "SELECT kalshi_id, decision, orientation FROM scored_pairs WHERE kalshi_id LIKE 'KXNBAGAME%'")
    by_team = {row.kalshi_id.rsplit("-", 1)[1]: (row.decision, row.orientation) for row in scored.itertuples()}
    assert by_team["BOS"] == ("same", "same")
    assert by_team["DEN"] == ("inverted", "inverted")


def test_pipeline_ci_fixture_rejects_deadline_near_miss(ci_run):
    tmp, _ = ci_run
    response = json.loads((tmp / "outputs" / "latest" / "opportunities.json").read_text())
    titles = " ".join(o["buyMarket"]["title"] + o["sellMarket"]["title"] for o in response["opportunities"])
    assert "Whitfield" not in titles


def test_pipeline_ci_fixture_report_has_charts(ci_run):
    tmp, _ = ci_run
    html = (tmp / "outputs" / "latest" / "report.html").read_text(encoding="utf-8")
    assert "plotly" in html.lower()
    assert "Plotly.newPlot" in html or "plotly-graph-div" in html


def test_pipeline_ci_fixture_writes_no_secret(ci_run):
    tmp, _ = ci_run
    for path in (tmp / "outputs").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert DEPLOY_KEY not in text, path


def test_pipeline_ci_fixture_stores_layer_stats(ci_run):
    tmp, _ = ci_run
    stats = query(tmp, "SELECT layer, rows_in, rows_out, seconds FROM layer_stats")
    assert set(stats["layer"]) >= {"fetch", "bucket", "filter", "score", "review", "price", "report", "publish"}
    runs = query(tmp, "SELECT status FROM runs")
    assert runs["status"].tolist() == ["succeeded"]


def test_pipeline_failed_run_keeps_latest(ci_run):
    tmp, _ = ci_run
    latest = tmp / "outputs" / "latest"
    before = {name: (latest / name).read_bytes() for name in ARTIFACTS}
    result = run_pipeline("params/ci.yaml", tmp, f"fetch.kalshi_replay=[{tmp / 'missing-folder'}]",
                          env_extra={"CONVEX_DEPLOY_KEY": DEPLOY_KEY})
    assert result.returncode == 1
    after = {name: (latest / name).read_bytes() for name in ARTIFACTS}
    assert after == before
    failed = only_run_dir(tmp / "outputs")
    assert (failed / "FAILED.txt").is_file()
    assert "01_fetch" in (failed / "FAILED.txt").read_text()
    assert not (failed / "publish_requests.json").exists()
    assert not (failed / "08_publish.ipynb").exists()
    statuses = query(tmp, "SELECT status FROM runs ORDER BY started_at")["status"].tolist()
    assert statuses == ["succeeded", "failed"]


def test_pipeline_unknown_parameter_rejected(tmp_path):
    result = run_pipeline("params/ci.yaml", tmp_path, "filter.no_such_threshold=3")
    assert result.returncode == 2
    assert "filter.no_such_threshold" in result.stderr
    assert not (tmp_path / "outputs" / "runs").exists()


def test_pipeline_help_lists_options():
    result = subprocess.run([sys.executable, str(REPO_ROOT / "run_pipeline.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--params" in result.stdout
    assert "--set" in result.stdout


def pahlavi_condition_id(shared: Path) -> str:
    events = json.loads((shared / "raw/polymarket/iran_2026-03-01/polymarket_raw.json").read_text())
    for event in events:
        for market in event.get("markets", []):
            if market.get("slug") == "us-recognizes-reza-pahlavi-as-leader-of-iran-in2026":
                return market["conditionId"]
    raise AssertionError("Pahlavi recognition market not found in the recorded Polymarket file")


@pytest.fixture(scope="module")
def iran_run(tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("iran_run")
    result = run_pipeline(
        "params/replay.yaml", tmp,
        f"fetch.kalshi_replay=[{shared_data / 'raw/kalshi/iran_2026-03-01'}]",
        f"fetch.polymarket_replay=[{shared_data / 'raw/polymarket/iran_2026-03-01'}]",
    )
    return tmp, result, shared_data


def test_pipeline_iran_snapshot_exits_zero(iran_run):
    tmp, result, _ = iran_run
    assert result.returncode == 0, result.stderr[-4000:]


def test_pipeline_iran_pairs_pahlavi_recognition(iran_run):
    tmp, _, shared = iran_run
    condition_id = pahlavi_condition_id(shared)
    scored = query(tmp, "SELECT kalshi_id, polymarket_id, decision FROM scored_pairs WHERE polymarket_id = ?",
                   [condition_id])
    match = scored[scored["kalshi_id"] == "KXRECOGPERSONIRAN-26"]
    assert len(match) == 1
    assert match["decision"].iloc[0] == "same"


def test_pipeline_iran_rejects_khamenei_deadline_pair(iran_run):
    tmp, _, _ = iran_run
    response = json.loads((tmp / "outputs" / "latest" / "opportunities.json").read_text())
    kalshi_ids = {opp.get("kalshiMarketId") for opp in response["opportunities"]}
    assert not any(str(k).startswith("KXKHAMENEIOUT") for k in kalshi_ids)


def test_pipeline_iran_prices_only_tradeable(iran_run):
    tmp, _, _ = iran_run
    priced = query(tmp, "SELECT DISTINCT kalshi_id, polymarket_id FROM opportunities")
    markets = query(tmp, "SELECT market_id, tradeable FROM markets")
    tradeable = set(markets.loc[markets["tradeable"].fillna(False).astype(bool), "market_id"])
    for row in priced.itertuples():
        assert row.kalshi_id in tradeable
        assert row.polymarket_id in tradeable


def test_pipeline_wrong_value_type_rejected(tmp_path):
    result = run_pipeline("params/ci.yaml", tmp_path, "filter.min_text_score=abc")
    assert result.returncode == 2
    assert "filter.min_text_score" in result.stderr
    assert not (tmp_path / "outputs" / "runs").exists()
