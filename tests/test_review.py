"""Review layer against a local stand-in for the Anthropic API (tests/anthropic_stub.py)."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from anthropic_stub import AnthropicStub, Reply
from review_helpers import FAST, TEST_KEY, make_markets, make_scored, verdict

from mflib import review, verdicts
from mflib.errors import ConfigError


@pytest.fixture()
def stub():
    with AnthropicStub(TEST_KEY) as server:
        yield server


def run(scored, markets, con, stub, run_id="r1", **params):
    return review.review_pairs(scored, markets, con, {**FAST, **params}, run_id=run_id,
                               api_key=TEST_KEY, base_url=stub.base_url)


def by_pair(result) -> dict[str, dict]:
    return {row["pair_id"]: row for row in result.reviewed.to_dict("records")}


def test_review_verdicts_parsed(warehouse_con, stub):
    stub.verdicts["KXTEST-1"] = verdict("different", 0.8, "Kalshi counts snow at the airport, Polymarket downtown.")
    result = run(make_scored(3), make_markets(3), warehouse_con, stub)
    rows = by_pair(result)

    assert len(stub.messages) == 3
    assert rows["KXTEST-0|0xpoly000"]["review_status"] == "reviewed"
    assert rows["KXTEST-0|0xpoly000"]["llm_relation"] == "same"
    assert rows["KXTEST-0|0xpoly000"]["accepted"]
    assert rows["KXTEST-0|0xpoly000"]["confidence_source"] == "llm"
    assert rows["KXTEST-0|0xpoly000"]["llm_model"] == "claude-haiku-5-5"
    assert rows["KXTEST-1|0xpoly001"]["llm_relation"] == "different"
    assert not rows["KXTEST-1|0xpoly001"]["accepted"]
    assert "airport" in rows["KXTEST-1|0xpoly001"]["disagreement"]
    assert rows["KXTEST-1|0xpoly001"]["confidence"] == pytest.approx(0.2)
    assert json.loads(rows["KXTEST-2|0xpoly002"]["llm_risks_json"]) == []
    assert result.usage["pairs_reviewed"] == 3
    assert result.usage["estimated_cost_usd"] > 0
    assert stub.rejected == []


def test_review_request_shape(warehouse_con, stub):
    run(make_scored(1), make_markets(1), warehouse_con, stub)
    body = stub.messages[0]
    user_text = body["messages"][0]["content"]

    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "concrete outcome" in body["system"][0]["text"]
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert body["max_tokens"] == 1024
    assert "Resolves Yes if station 0 reports measurable snow" in user_text
    assert "This market resolves Yes if station 0" in user_text
    assert "Close time (UTC): 2027-01-31T23:59:00+00:00" in user_text
    assert "text_score" in user_text
    assert "Outcome playing YES: Yes" in user_text


def test_review_prompt_caching_counted(warehouse_con, stub):
    result = run(make_scored(3), make_markets(3), warehouse_con, stub, max_concurrency=1)

    assert result.usage["cache_creation_input_tokens"] > 0
    assert result.usage["cache_read_input_tokens"] == 2 * result.usage["cache_creation_input_tokens"]


def test_review_retries_429_529_500(warehouse_con, stub, caplog):
    fast_retry = {"retry-after-ms": "20"}
    stub.replies.extend([Reply(status=429, headers={"retry-after": "0.02"}), Reply(status=529, headers=fast_retry),
                         Reply(status=500, headers=fast_retry)])
    with caplog.at_level(logging.WARNING, logger="mflib.llm"):
        result = run(make_scored(1), make_markets(1), warehouse_con, stub, max_concurrency=1)
    statuses = [status for method, path, status in stub.http_log if path == "/v1/messages"]

    assert statuses == [429, 529, 500, 200]
    assert result.reviewed.loc[0, "review_status"] == "reviewed"
    assert "HTTP 429" in caplog.text
    assert "HTTP 529" in caplog.text
    assert "HTTP 500" in caplog.text


def test_review_retries_exhausted_is_error(warehouse_con, stub):
    fast_retry = {"retry-after-ms": "5"}
    stub.replies.extend([Reply(status=529, headers=fast_retry) for _ in range(3)])
    result = run(make_scored(1), make_markets(1), warehouse_con, stub, max_concurrency=1, max_retries=2)
    row = result.reviewed.iloc[0]

    assert row["review_status"] == "error"
    assert not row["accepted"]
    assert "529" in row["disagreement"]
    assert result.usage["pairs_error"] == 1


def test_review_invalid_reply_retried_once(warehouse_con, stub):
    stub.replies.append(Reply(text="The markets look the same to me."))
    result = run(make_scored(1), make_markets(1), warehouse_con, stub)

    assert len(stub.messages) == 2
    assert result.reviewed.loc[0, "review_status"] == "reviewed"
    assert result.usage["requests"] == 2


def test_review_invalid_reply_twice_is_error(warehouse_con, stub):
    broken = json.dumps({"relation": "probably", "confidence": 0.7, "decisive_difference": "x", "resolution_risks": []})
    stub.replies.extend([Reply(text="not json"), Reply(text=broken)])
    result = run(make_scored(1), make_markets(1), warehouse_con, stub)
    row = result.reviewed.iloc[0]

    assert len(stub.messages) == 2
    assert row["review_status"] == "error"
    assert pd.isna(row["llm_relation"])
    assert not row["accepted"]
    assert "relation" in row["disagreement"]
    assert verdicts.lookup(warehouse_con, pd.DataFrame(columns=verdicts.KEY_COLUMNS)).empty


def test_review_confidence_out_of_range_is_invalid(warehouse_con, stub):
    too_sure = verdict("same", 1.5)
    stub.replies.extend([Reply(verdict=too_sure), Reply(verdict=too_sure)])
    result = run(make_scored(1), make_markets(1), warehouse_con, stub)

    assert result.reviewed.loc[0, "review_status"] == "error"


def test_review_batch_out_of_order_with_errored_entry(warehouse_con, stub):
    stub.verdicts["KXTEST-0"] = verdict("inverted", 0.7, "Kalshi names the home team.")
    stub.verdicts["KXTEST-3"] = verdict("different", 0.95, "Different stations.")
    stub.batch_errored.add("KXTEST-2")
    stub.batch_expired.add("KXTEST-4")
    stub.batch_polls_in_progress = 2
    result = run(make_scored(5), make_markets(5), warehouse_con, stub, batch_min_pairs=5)
    rows = by_pair(result)

    assert len(stub.batches) == 1
    assert stub.messages == []
    assert result.usage["mode"] == "batch"
    assert result.usage["batch_id"] in stub.batches
    assert rows["KXTEST-0|0xpoly000"]["llm_relation"] == "inverted"
    assert rows["KXTEST-1|0xpoly001"]["llm_relation"] == "same"
    assert rows["KXTEST-3|0xpoly003"]["llm_relation"] == "different"
    assert rows["KXTEST-2|0xpoly002"]["review_status"] == "error"
    assert "errored" in rows["KXTEST-2|0xpoly002"]["disagreement"]
    assert rows["KXTEST-4|0xpoly004"]["review_status"] == "error"
    assert "expired" in rows["KXTEST-4|0xpoly004"]["disagreement"]
    assert result.usage["pairs_reviewed"] == 3


def test_review_batch_request_shape(warehouse_con, stub):
    run(make_scored(3), make_markets(3), warehouse_con, stub, batch_min_pairs=2)
    requests = next(iter(stub.batches.values()))["requests"]

    assert [request["custom_id"] for request in requests] == ["pair-00000", "pair-00001", "pair-00002"]
    assert all(request["params"]["model"] == "claude-haiku-5-5" for request in requests)
    assert stub.rejected == []


def test_review_batch_invalid_reply_retried(warehouse_con, stub):
    stub.batch_invalid.add("KXTEST-1")
    result = run(make_scored(3), make_markets(3), warehouse_con, stub, batch_min_pairs=3)
    rows = by_pair(result)

    assert len(stub.messages) == 1
    assert "KXTEST-1" in stub.messages[0]["messages"][0]["content"]
    assert rows["KXTEST-1|0xpoly001"]["review_status"] == "reviewed"
    assert result.usage["requests"] == 4


def test_review_batch_timeout_cancels(warehouse_con, stub):
    stub.batch_polls_in_progress = 10_000
    result = run(make_scored(2), make_markets(2), warehouse_con, stub, batch_min_pairs=2, batch_timeout_seconds=0.1)

    assert set(result.reviewed["review_status"]) == {"error"}
    assert any(path.endswith("/cancel") for _, path, _ in stub.http_log)


def test_review_cache_reused_across_runs(warehouse_con, stub):
    run(make_scored(3), make_markets(3), warehouse_con, stub, run_id="r1")
    sent_first = len(stub.messages)
    second = run(make_scored(3), make_markets(3), warehouse_con, stub, run_id="r2")

    assert sent_first == 3
    assert len(stub.messages) == 3
    assert set(second.reviewed["review_status"]) == {"cached"}
    assert second.usage["requests"] == 0
    assert second.reviewed["accepted"].all()


def test_review_cache_changed_text_sends_one(warehouse_con, stub):
    run(make_scored(3), make_markets(3), warehouse_con, stub, run_id="r1")
    markets = make_markets(3)
    changed = (markets["platform"] == "polymarket") & (markets["market_id"] == "0xpoly002")
    markets.loc[changed, "rules"] = "Resolves Yes only if the snow total exceeds 2 inches."
    second = run(make_scored(3), markets, warehouse_con, stub, run_id="r2")
    rows = by_pair(second)

    assert len(stub.messages) == 4
    assert "exceeds 2 inches" in stub.messages[-1]["messages"][0]["content"]
    assert rows["KXTEST-2|0xpoly002"]["review_status"] == "reviewed"
    assert rows["KXTEST-0|0xpoly000"]["review_status"] == "cached"


def test_review_cache_keyed_by_model(warehouse_con, stub):
    run(make_scored(2), make_markets(2), warehouse_con, stub, run_id="r1")
    run(make_scored(2), make_markets(2), warehouse_con, stub, run_id="r2", model_fast="claude-sonnet-5-5")

    assert len(stub.messages) == 4


def test_review_budget_stop(warehouse_con, stub):
    result = run(make_scored(4), make_markets(4), warehouse_con, stub, max_concurrency=1, budget_usd=1e-9)
    statuses = list(result.reviewed["review_status"])

    assert statuses == ["reviewed", "skipped_budget", "skipped_budget", "skipped_budget"]
    assert len(stub.messages) == 1
    assert result.usage["budget_stopped"]
    assert any("budget" in note for note in result.notes)
    assert result.reviewed.loc[1, "confidence_source"] == "model_and_rules"


def test_review_budget_zero_batch_sends_nothing(warehouse_con, stub):
    result = run(make_scored(3), make_markets(3), warehouse_con, stub, batch_min_pairs=2, budget_usd=0.0)

    assert stub.batches == {}
    assert set(result.reviewed["review_status"]) == {"skipped_budget"}
    assert result.usage["budget_stopped"]


def test_review_veto_with_llm_same_not_accepted(warehouse_con, stub):
    scored = make_scored(2, veto=[True, False])
    result = run(scored, make_markets(2), warehouse_con, stub)
    rows = by_pair(result)

    assert rows["KXTEST-0|0xpoly000"]["llm_relation"] == "same"
    assert not rows["KXTEST-0|0xpoly000"]["accepted"]
    assert "vetoed" in rows["KXTEST-0|0xpoly000"]["disagreement"]
    assert rows["KXTEST-1|0xpoly001"]["accepted"]


def test_review_orientation_flip_is_disagreement(warehouse_con, stub):
    stub.verdicts["KXTEST-0"] = verdict("inverted", 0.85, "YES on Kalshi pays when the Polymarket NO pays.")
    result = run(make_scored(1), make_markets(1), warehouse_con, stub)
    row = result.reviewed.iloc[0]

    assert row["decision"] == "same"
    assert row["orientation"] == "same"
    assert row["llm_relation"] == "inverted"
    assert not row["accepted"]
    assert row["disagreement"].startswith("orientation: scoring says same, LLM says inverted")
    assert row["confidence"] == pytest.approx(0.15)


def test_review_gate_skipped_statuses():
    frame = make_scored(3, veto=[False, True, False])
    frame["review_status"] = ["skipped_budget", "skipped_cap", "error"]
    for name in ("llm_relation", "llm_confidence", "llm_difference", "review_error"):
        frame[name] = None
    gated = review.apply_rule_gate(frame)

    assert list(gated["accepted"]) == [True, False, False]
    assert list(gated["confidence"]) == list(frame["probability"])
    assert set(gated["confidence_source"]) == {"model_and_rules"}


def test_review_threshold_cap_and_different(warehouse_con, stub):
    scored = make_scored(4, probabilities=[0.9, 0.8, 0.7, 0.3])
    scored.loc[4] = {**scored.loc[0].to_dict(), "pair_id": "KXTEST-0|0xother", "polymarket_id": "0xother",
                     "decision": "different"}
    result = run(scored, make_markets(4), warehouse_con, stub, max_pairs_per_run=2)
    rows = by_pair(result)

    assert "KXTEST-0|0xother" not in rows
    assert rows["KXTEST-0|0xpoly000"]["review_status"] == "reviewed"
    assert rows["KXTEST-1|0xpoly001"]["review_status"] == "reviewed"
    assert rows["KXTEST-2|0xpoly002"]["review_status"] == "skipped_cap"
    assert rows["KXTEST-3|0xpoly003"]["review_status"] == "not_reviewed"
    assert len(stub.messages) == 2


def test_review_liquidity_breaks_ties(warehouse_con, stub):
    markets = make_markets(2)
    markets.loc[markets["market_id"] == "KXTEST-1", "liquidity_usd"] = 50_000.0
    markets.loc[markets["market_id"] == "0xpoly001", "liquidity_usd"] = 50_000.0
    result = run(make_scored(2, probabilities=[0.9, 0.9]), markets, warehouse_con, stub, max_pairs_per_run=1)

    assert list(result.reviewed["pair_id"]) == ["KXTEST-1|0xpoly001", "KXTEST-0|0xpoly000"]
    assert list(result.reviewed["review_status"]) == ["reviewed", "skipped_cap"]


def test_review_strong_model_near_threshold(warehouse_con, stub):
    scored = make_scored(2, probabilities=[0.95, 0.55])
    result = run(scored, make_markets(2), warehouse_con, stub, model_strong="claude-sonnet-5-5")
    rows = by_pair(result)

    assert rows["KXTEST-0|0xpoly000"]["llm_model"] == "claude-haiku-5-5"
    assert rows["KXTEST-1|0xpoly001"]["llm_model"] == "claude-sonnet-5-5"
    assert sorted(body["model"] for body in stub.messages) == ["claude-haiku-5-5", "claude-sonnet-5-5"]


def test_review_wrong_key_is_error(warehouse_con, stub):
    result = review.review_pairs(make_scored(1), make_markets(1), warehouse_con, FAST, run_id="r1",
                                 api_key="sk-ant-wrong", base_url=stub.base_url)

    assert result.reviewed.loc[0, "review_status"] == "error"
    assert "401" in result.reviewed.loc[0, "disagreement"]
    assert stub.rejected[0][0] == 401


def test_review_offline_skip(warehouse_con, monkeypatch, caplog):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    scored = make_scored(3, probabilities=[0.9, 0.6, 0.2], veto=[False, True, False])
    with caplog.at_level(logging.INFO, logger="mflib.review"):
        result = review.review_pairs(scored, make_markets(3), warehouse_con, {}, run_id="r1")
    skip_lines = [record for record in caplog.records if "ANTHROPIC_API_KEY is not set" in record.getMessage()]

    assert set(result.reviewed["review_status"]) == {"skipped_no_key"}
    assert list(result.reviewed["confidence"]) == [0.9, 0.6, 0.2]
    assert set(result.reviewed["confidence_source"]) == {"model_and_rules"}
    assert list(result.reviewed["accepted"]) == [True, False, True]
    assert len(skip_lines) == 1
    assert sum("ANTHROPIC_API_KEY" in note for note in result.notes) == 1
    assert result.usage["requests"] == 0


def test_review_offline_empty_input(warehouse_con, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    result = review.review_pairs(pd.DataFrame(), pd.DataFrame(), warehouse_con, {}, run_id="r1")
    written = review.store_review(warehouse_con, result, run_id="r1")

    assert result.reviewed.empty
    assert list(result.reviewed.columns)[-10:] == list(review.REVIEW_COLUMNS)
    assert written == 0
    assert any("ANTHROPIC_API_KEY" in note for note in result.notes)


def test_review_key_read_from_environment(warehouse_con, stub, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", stub.base_url)
    result = review.review_pairs(make_scored(1), make_markets(1), warehouse_con, FAST, run_id="r1")

    assert result.reviewed.loc[0, "review_status"] == "reviewed"


def test_review_store_writes_tables(warehouse_con, stub):
    result = run(make_scored(2), make_markets(2), warehouse_con, stub)
    review.store_review(warehouse_con, result, run_id="r1")
    stored = warehouse_con.execute("SELECT pair_id, accepted, review_status FROM reviewed_pairs WHERE run_id = 'r1'").fetchall()
    usage = warehouse_con.execute("SELECT requests, estimated_cost_usd, budget_stopped FROM review_usage WHERE run_id = 'r1'").fetchall()
    cached = warehouse_con.execute("SELECT count(*) FROM verdicts").fetchall()

    assert len(stored) == 2
    assert usage[0][0] == 2
    assert usage[0][1] > 0
    assert usage[0][2] is False
    assert cached[0][0] == 2


@pytest.mark.parametrize(("key", "value"), [
    ("review_threshold", 1.5),
    ("max_pairs_per_run", -1),
    ("model_fast", ""),
    ("model_strong", 3),
    ("budget_usd", "five"),
    ("prompt_version", "v999"),
    ("requests_per_minute", 0),
    ("reviewthreshold", 0.5),
])
def test_review_invalid_param_names_key(warehouse_con, key, value):
    with pytest.raises(ConfigError) as error:
        review.validate_params({key: value})
    assert key in str(error.value)


def test_review_model_without_price_rejected():
    with pytest.raises(ConfigError) as error:
        review.validate_params({"model_strong": "claude-opus-5-5"})
    assert "claude-opus-5-5" in str(error.value)


def test_review_cost_estimate():
    cfg = review.validate_params({})
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000, "cache_read_input_tokens": 1_000_000}

    assert review.estimate_cost(cfg, "claude-haiku-5-5", usage, batch=False) == pytest.approx(0.61)
    assert review.estimate_cost(cfg, "claude-haiku-5-5", usage, batch=True) == pytest.approx(0.305)
