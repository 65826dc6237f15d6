"""The Anthropic API key never reaches a written file, a log line or an executed notebook."""

from __future__ import annotations

import logging

import papermill
import pytest
from anthropic_stub import AnthropicStub
from review_helpers import FAST, TEST_KEY, make_markets, make_scored

from mflib import review, warehouse
from mflib.config import REPO_ROOT


def test_review_key_absent_from_warehouse_and_logs(tmp_path, caplog):
    path = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(path)
    with AnthropicStub(TEST_KEY) as stub, caplog.at_level(logging.DEBUG):
        stub.batch_errored.add("KXTEST-1")
        first = review.review_pairs(make_scored(3), make_markets(3), con, FAST, run_id="r1",
                                    api_key=TEST_KEY, base_url=stub.base_url)
        second = review.review_pairs(make_scored(3), make_markets(3), con, {**FAST, "model_fast": "claude-sonnet-5-5",
                                     "batch_min_pairs": 2}, run_id="r2", api_key=TEST_KEY, base_url=stub.base_url)
    review.store_review(con, first, run_id="r1")
    review.store_review(con, second, run_id="r2")
    con.close()
    written = b"".join(file.read_bytes() for file in tmp_path.rglob("*") if file.is_file())

    assert stub.messages
    assert stub.batches
    assert TEST_KEY not in caplog.text
    assert TEST_KEY.encode() not in written
    assert TEST_KEY not in repr(first)
    assert TEST_KEY not in repr(second.usage)


@pytest.mark.slow
def test_review_notebook_key_absent(tmp_path, monkeypatch):
    warehouse_path = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(warehouse_path)
    warehouse.replace_run_rows(con, "markets", "nb1", make_markets(2))
    warehouse.replace_run_rows(con, "scored_pairs", "nb1", make_scored(2))
    con.close()
    output = tmp_path / "05_review.ipynb"
    with AnthropicStub(TEST_KEY) as stub:
        monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", stub.base_url)
        papermill.execute_notebook(
            str(REPO_ROOT / "notebooks" / "05_review.ipynb"), str(output),
            parameters={"run_id": "nb1", "warehouse_path": str(warehouse_path), "run_dir": str(tmp_path / "run"),
                        "log_level": "DEBUG", "requests_per_minute": 60000},
            progress_bar=False, cwd=str(tmp_path),
        )
    con = warehouse.connect(warehouse_path, read_only=True)
    statuses = [row[0] for row in con.execute("SELECT review_status FROM reviewed_pairs WHERE run_id = 'nb1'").fetchall()]
    con.close()
    written = b"".join(file.read_bytes() for file in tmp_path.rglob("*") if file.is_file())

    assert statuses == ["reviewed", "reviewed"]
    assert len(stub.messages) == 2
    assert TEST_KEY.encode() not in written
