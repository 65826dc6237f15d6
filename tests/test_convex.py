"""Convex publishing against the local stub in tests/convex_stub.py (real httpx on 127.0.0.1)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from convex_stub import (
    METRIC_FIELDS,
    OPPORTUNITY_FIELDS,
    PLATFORM_FIELDS,
    STATUS_ARGS,
    SYNC_OPPORTUNITIES_ARGS,
    SYNC_SUMMARY_ARGS,
    ConvexStub,
    sample_opportunity,
    write_artifacts,
)

from mflib import convex
from mflib.config import REPO_ROOT
from mflib.errors import ConfigError, PublishError

DEPLOY_KEY = "prod:stub-test|b8f1c0ffee42secret"
FAST = {"timeout_seconds": 3.0, "max_retries": 2, "backoff_seconds": 0.01}
NOW = datetime(2026, 11, 2, 10, 5, tzinfo=UTC)


@pytest.fixture()
def stub():
    with ConvexStub(DEPLOY_KEY, timeout_sleep_seconds=1.5) as server:
        yield server


def live_env(stub: ConvexStub, key: str = DEPLOY_KEY) -> dict[str, str]:
    return {"CONVEX_URL": stub.url, "CONVEX_DEPLOY_KEY": key}


def make_run(tmp_path, name: str, count: int, **kwargs):
    run_dir = tmp_path / name
    write_artifacts(run_dir, [sample_opportunity(number) for number in range(count)], **kwargs)
    return run_dir


def test_convex_publish_stores_documents(tmp_path, stub):
    run_dir = make_run(tmp_path, "run-a", 3)

    report = convex.publish_run(run_dir, FAST, env=live_env(stub), now=NOW)

    documents = stub.documents("arbitrageOpportunities")
    first = documents[0]
    assert report.mode == "live"
    assert report.calls == 3
    assert report.chunks == 1
    assert report.retried is False
    assert len(documents) == 3
    assert first["opportunityId"] == "opp-test-00000"
    assert first["buyMarketTitle"] == "Will test city 0 record snow before March?"
    assert first["sellPlatform"] == "polymarket"
    assert first["profitMargin"] == pytest.approx(0.031)
    assert first["status"] == "active"
    assert first["lastSeenRunId"] == "run-a"
    assert first["sellVolume"] is None
    assert first["details"]["riskFlags"] == ["top_of_book_only"]
    assert [row["platform"] for row in stub.documents("marketSummaries")] == ["kalshi", "polymarket"]
    assert stub.documents("systemStatus")[0]["status"] == "healthy"
    assert stub.documents("systemStatus")[0]["metrics"]["opportunitiesFound"] == 3


def test_convex_publish_twice_is_identical(tmp_path, stub):
    run_dir = make_run(tmp_path, "run-a", 4)
    convex.publish_run(run_dir, FAST, env=live_env(stub), now=NOW)
    before = stub.snapshot()

    report = convex.publish_run(run_dir, FAST, env=live_env(stub), now=NOW)

    first_value = json.loads(report.results[0]["value"])
    assert stub.snapshot() == before
    assert first_value == {"inserted": 0, "updated": 0, "unchanged": 4, "expired": 0}


def test_convex_absent_opportunities_expire(tmp_path, stub):
    convex.publish_run(make_run(tmp_path, "run-a", 3), FAST, env=live_env(stub))

    convex.publish_run(make_run(tmp_path, "run-b", 2), FAST, env=live_env(stub))

    by_id = {row["opportunityId"]: row for row in stub.documents("arbitrageOpportunities")}
    assert len(by_id) == 3
    assert by_id["opp-test-00002"]["status"] == "expired"
    assert by_id["opp-test-00002"]["expiredInRunId"] == "run-b"
    assert by_id["opp-test-00000"]["status"] == "active"
    assert by_id["opp-test-00001"]["lastSeenRunId"] == "run-b"


def test_convex_expired_opportunity_returns(tmp_path, stub):
    convex.publish_run(make_run(tmp_path, "run-a", 2), FAST, env=live_env(stub))
    convex.publish_run(make_run(tmp_path, "run-b", 1), FAST, env=live_env(stub))

    convex.publish_run(make_run(tmp_path, "run-c", 2), FAST, env=live_env(stub))

    returned = {row["opportunityId"]: row for row in stub.documents("arbitrageOpportunities")}["opp-test-00001"]
    assert returned["status"] == "active"
    assert returned["lastSeenRunId"] == "run-c"
    assert "expiredInRunId" not in returned


def test_convex_empty_run_expires_all(tmp_path, stub):
    convex.publish_run(make_run(tmp_path, "run-a", 2), FAST, env=live_env(stub))

    report = convex.publish_run(make_run(tmp_path, "run-b", 0), FAST, env=live_env(stub))

    statuses = [row["status"] for row in stub.documents("arbitrageOpportunities")]
    assert report.chunks == 1
    assert statuses == ["expired", "expired"]


def test_convex_chunks_by_item_limit(tmp_path):
    params = {**FAST, "max_chunk_items": 10}
    with ConvexStub(DEPLOY_KEY, max_array_items=10) as stub:
        report = convex.publish_run(make_run(tmp_path, "run-a", 25), params, env=live_env(stub))
        documents = stub.documents("arbitrageOpportunities")

    sizes = [row["items"] for row in report.results if row["path"] == "arbitrage:syncOpportunities"]
    assert report.chunks == 3
    assert sizes == [10, 10, 5]
    assert len(documents) == 25
    assert all(row["status"] == "active" for row in documents)


def test_convex_chunks_by_byte_limit(tmp_path):
    limit = 4096
    params = {**FAST, "max_chunk_bytes": limit}
    with ConvexStub(DEPLOY_KEY, max_argument_bytes=limit) as stub:
        report = convex.publish_run(make_run(tmp_path, "run-a", 12), params, env=live_env(stub))
        documents = stub.documents("arbitrageOpportunities")
        statuses = [request["status"] for request in stub.requests]

    assert report.chunks > 1
    assert all(row["bytes"] <= limit for row in report.results)
    assert statuses == [200] * len(statuses)
    assert len(documents) == 12


def test_convex_chunks_over_array_limit():
    documents = [{"opportunityId": f"o{number}"} for number in range(convex.MAX_ARRAY_ITEMS + 1)]

    chunks = convex.chunk_documents(
        documents, max_items=convex.MAX_ARRAY_ITEMS, max_bytes=convex.MAX_ARGUMENT_BYTES,
        envelope_bytes=200, path="arbitrage:syncOpportunities",
    )

    assert [len(chunk) for chunk in chunks] == [convex.MAX_ARRAY_ITEMS, 1]


def test_convex_oversize_document_names_id(tmp_path):
    big = sample_opportunity(7)
    big["reasoning"] = "x" * (convex.MAX_DOCUMENT_BYTES + 10)
    run_dir = tmp_path / "run-a"
    write_artifacts(run_dir, [sample_opportunity(1), big])

    with pytest.raises(PublishError) as caught:
        convex.publish_run(run_dir, {"mode": "dry_run", "max_chunk_bytes": convex.MAX_ARGUMENT_BYTES}, env={})

    assert "opp-test-00007" in str(caught.value)
    assert "document limit" in str(caught.value)


def test_convex_function_error_not_retried(tmp_path, stub):
    stub.fail_next("function_error")

    with pytest.raises(PublishError) as caught:
        convex.publish_run(make_run(tmp_path, "run-a", 2), FAST, env=live_env(stub))

    assert "scripted function error" in str(caught.value)
    assert caught.value.status_code == 560
    assert len(stub.requests) == 1
    assert stub.documents("arbitrageOpportunities") == []


def test_convex_server_error_retried(tmp_path, stub):
    stub.fail_next("server_error")

    report = convex.publish_run(make_run(tmp_path, "run-a", 2), FAST, env=live_env(stub))

    assert report.retried is True
    assert report.retries == 1
    assert report.calls == 4
    assert "HTTP 500" in report.errors[0]
    assert len(stub.documents("arbitrageOpportunities")) == 2
    assert stub.documents("systemStatus")[0]["status"] == "degraded"
    assert report.health_rewritten is False


def test_convex_rate_limit_retried(tmp_path, stub):
    stub.fail_next("rate_limited", "rate_limited")
    params = {**FAST, "backoff_seconds": 20.0}

    report = convex.publish_run(make_run(tmp_path, "run-a", 1), params, env=live_env(stub))

    assert report.retries == 2
    assert report.seconds < 10
    assert "HTTP 429" in report.errors[0]
    assert len(stub.documents("arbitrageOpportunities")) == 1


def test_convex_retry_rewrites_health(tmp_path, stub, warehouse_con):
    import pandas as pd

    from mflib import warehouse

    markets = pd.DataFrame({"platform": ["kalshi", "polymarket"], "market_id": ["TEST-1", "0xtest1"]})
    warehouse.replace_run_rows(warehouse_con, "markets", "run-a", markets)
    run_dir = make_run(tmp_path, "run-a", 2)
    stub.fail_next("server_error")

    report = convex.publish_run(run_dir, FAST, env=live_env(stub), con=warehouse_con)

    health = json.loads((run_dir / "health.json").read_text(encoding="utf-8"))
    sent = stub.documents("systemStatus")[0]
    assert report.health_rewritten is True
    assert health["status"] == "degraded"
    assert any("retry" in error for error in health["lastEtlRun"]["errors"])
    assert sent["status"] == "degraded"
    assert sent["errors"] == health["lastEtlRun"]["errors"]


def test_convex_timeout_retried_then_fails(tmp_path, stub):
    stub.fail_next("timeout", "timeout", "timeout")
    params = {**FAST, "timeout_seconds": 0.3}

    with pytest.raises(PublishError) as caught:
        convex.publish_run(make_run(tmp_path, "run-a", 1), params, env=live_env(stub))

    assert "timed out" in str(caught.value)
    assert "3 attempts" in str(caught.value)
    assert len(stub.requests) == 3


def test_convex_bad_key_rejected(tmp_path, stub):
    with pytest.raises(PublishError) as caught:
        convex.publish_run(make_run(tmp_path, "run-a", 1), FAST, env=live_env(stub, key="wrong-key"))

    assert caught.value.status_code == 401
    assert "CONVEX_DEPLOY_KEY" in str(caught.value)
    assert "wrong-key" not in str(caught.value)
    assert len(stub.requests) == 1


def test_convex_unknown_path_rejected(tmp_path, stub):
    params = {**FAST, "mutation_summary": "markets:noSuchFunction"}

    with pytest.raises(PublishError) as caught:
        convex.publish_run(make_run(tmp_path, "run-a", 1), params, env=live_env(stub))

    assert caught.value.status_code == 404
    assert caught.value.path == "markets:noSuchFunction"


def test_convex_dry_run_hides_key(tmp_path):
    run_dir = make_run(tmp_path, "run-a", 3)
    env = {"CONVEX_DEPLOY_KEY": DEPLOY_KEY}

    report = convex.publish_run(run_dir, {}, env=env, now=NOW)

    written = json.loads((run_dir / convex.REQUESTS_FILE).read_text(encoding="utf-8"))
    first = written["requests"][0]
    every_file = "".join(path.read_text(encoding="utf-8") for path in run_dir.rglob("*") if path.is_file())
    assert report.mode == "dry_run"
    assert report.calls == 3
    assert len(written["requests"]) == 3
    assert first["headers"]["Authorization"] == "Convex <CONVEX_DEPLOY_KEY>"
    assert first["url"] == "<CONVEX_URL>/api/mutation"
    assert first["body"]["path"] == "arbitrage:syncOpportunities"
    assert first["body"]["format"] == "json"
    assert len(first["body"]["args"]["opportunities"]) == 3
    assert DEPLOY_KEY not in every_file


def test_convex_dry_run_bodies_accepted_by_stub(tmp_path, stub):
    run_dir = make_run(tmp_path, "run-a", 2)
    convex.publish_run(run_dir, {"mode": "dry_run"}, env={})
    written = json.loads((run_dir / convex.REQUESTS_FILE).read_text(encoding="utf-8"))

    for request in written["requests"]:
        value = stub._run_mutation(request["body"]["path"], request["body"]["args"])
        assert value is not None

    assert len(stub.documents("arbitrageOpportunities")) == 2


def test_convex_missing_artifacts_hint(tmp_path):
    with pytest.raises(ConfigError) as caught:
        convex.publish_run(tmp_path / "empty", {"mode": "dry_run"}, env={})

    assert "07_report" in str(caught.value)
    assert "opportunities.json" in str(caught.value)


def test_convex_live_without_url_rejected(tmp_path):
    with pytest.raises(ConfigError) as caught:
        convex.publish_run(make_run(tmp_path, "run-a", 1), {"mode": "live"}, env={})

    assert "CONVEX_URL" in str(caught.value)


def test_convex_url_without_key_rejected(tmp_path, stub):
    with pytest.raises(PublishError) as caught:
        convex.publish_run(make_run(tmp_path, "run-a", 1), FAST, env={"CONVEX_URL": stub.url})

    assert "CONVEX_DEPLOY_KEY" in str(caught.value)
    assert stub.requests == []


@pytest.mark.parametrize(
    ("key", "value"),
    [("max_chunk_items", 9000), ("max_chunk_bytes", 17 * 1024 * 1024), ("mode", "sometimes"),
     ("timeout_seconds", "fast"), ("mutation_status", "updateSyncStatus")],
)
def test_convex_settings_rejected(key, value):
    with pytest.raises(ConfigError) as caught:
        convex.PublishSettings.from_params({key: value})

    assert key in str(caught.value)


def test_convex_reference_functions_match_stub():
    schema = (REPO_ROOT / "convex" / "schema.ts").read_text(encoding="utf-8")
    arbitrage = (REPO_ROOT / "convex" / "arbitrage.ts").read_text(encoding="utf-8")
    markets = (REPO_ROOT / "convex" / "markets.ts").read_text(encoding="utf-8")
    system = (REPO_ROOT / "convex" / "system.ts").read_text(encoding="utf-8")

    expected = [
        ("schema.ts", schema, OPPORTUNITY_FIELDS | PLATFORM_FIELDS | METRIC_FIELDS),
        ("arbitrage.ts", arbitrage, SYNC_OPPORTUNITIES_ARGS),
        ("markets.ts", markets, SYNC_SUMMARY_ARGS),
        ("system.ts", system, STATUS_ARGS),
    ]
    for file_name, text, names in expected:
        for name in sorted(names):
            assert re.search(rf"\b{name}:", text), f"{file_name} lacks the field {name}"
    assert "export const syncOpportunities = mutation(" in arbitrage
    assert "export const syncSummary = mutation(" in markets
    assert "export const updateSyncStatus = mutation(" in system
    assert '.index("by_profitMargin", ["profitMargin"])' in schema
    assert '.index("by_opportunityId", ["opportunityId"])' in schema
