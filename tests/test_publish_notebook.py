"""Notebook 08 executed by papermill against the Convex stub, on hand-written artifacts."""

from __future__ import annotations

import json

import papermill
import pytest
from convex_stub import ConvexStub, sample_opportunity, write_artifacts

from mflib import warehouse
from mflib.config import REPO_ROOT

NOTEBOOK = REPO_ROOT / "notebooks" / "08_publish.ipynb"
DEPLOY_KEY = "prod:notebook-test|5ca1ab1e0ddba11"


def run_notebook(tmp_path, parameters: dict) -> str:
    output = tmp_path / "08_publish.out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(output), parameters=parameters, kernel_name="python3", progress_bar=False,
    )
    return output.read_text(encoding="utf-8")


def test_publish_notebook_live_to_stub(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    write_artifacts(run_dir, [sample_opportunity(number) for number in range(3)])
    parameters = {
        "run_id": "nb-live",
        "warehouse_path": str(tmp_path / "warehouse.duckdb"),
        "run_dir": str(run_dir),
        "max_chunk_items": 2,
    }

    with ConvexStub(DEPLOY_KEY) as stub:
        monkeypatch.setenv("CONVEX_URL", stub.url)
        monkeypatch.setenv("CONVEX_DEPLOY_KEY", DEPLOY_KEY)
        executed = run_notebook(tmp_path, parameters)
        documents = stub.documents("arbitrageOpportunities")
        status = stub.documents("systemStatus")
        url = stub.url

    con = warehouse.connect(tmp_path / "warehouse.duckdb", read_only=True)
    stats = warehouse.layer_stats(con, "nb-live")
    con.close()
    details = json.loads(stats.loc[stats["layer"] == "publish", "details_json"].iloc[0])
    assert len(documents) == 3
    assert {row["lastSeenRunId"] for row in documents} == {"nb-live"}
    assert status[0]["runId"] == "nb-live"
    assert details["mode"] == "live"
    assert details["chunks"] == 2
    assert details["calls"] == 4
    assert DEPLOY_KEY not in executed
    assert url not in executed
    assert not (run_dir / "publish_requests.json").exists()


def test_publish_notebook_missing_artifacts(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVEX_URL", raising=False)

    with pytest.raises(papermill.PapermillExecutionError) as caught:
        run_notebook(
            tmp_path,
            {"run_id": "nb-missing", "warehouse_path": str(tmp_path / "warehouse.duckdb"),
             "run_dir": str(tmp_path / "empty")},
        )

    assert "07_report" in str(caught.value)
