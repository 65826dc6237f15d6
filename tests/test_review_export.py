"""Export of cached verdicts as labeled pairs in the columns of the hand-labeled pairs file."""

from __future__ import annotations

import json

from anthropic_stub import AnthropicStub
from review_helpers import FAST, TEST_KEY, make_markets, make_scored, verdict

from mflib import review, verdicts, warehouse


def test_review_export_labeled_pairs(warehouse_con):
    markets = make_markets(3)
    warehouse.replace_run_rows(warehouse_con, "markets", "r1", markets)
    with AnthropicStub(TEST_KEY) as stub:
        stub.verdicts["KXTEST-1"] = verdict("different", 0.9, "Different weather stations.")
        stub.verdicts["KXTEST-2"] = verdict("same", 0.4)
        review.review_pairs(make_scored(3), markets, warehouse_con, FAST, run_id="r1",
                            api_key=TEST_KEY, base_url=stub.base_url)
    exported = verdicts.export_labeled_pairs(warehouse_con, min_confidence=0.5)
    rows = {row["pair_id"]: row for row in exported.to_dict("records")}

    assert list(exported.columns) == verdicts.EXPORT_COLUMNS
    assert set(rows) == {"KXTEST-0|0xpoly000", "KXTEST-1|0xpoly001"}
    assert rows["KXTEST-0|0xpoly000"]["label"] == "same"
    assert rows["KXTEST-0|0xpoly000"]["difference"] == ""
    assert rows["KXTEST-1|0xpoly001"]["label"] == "different"
    assert rows["KXTEST-1|0xpoly001"]["difference"] == "Different weather stations."
    assert rows["KXTEST-0|0xpoly000"]["kalshi_ticker"] == "KXTEST-0"
    assert rows["KXTEST-0|0xpoly000"]["polymarket_rules"].startswith("This market resolves Yes")
    assert json.loads(rows["KXTEST-0|0xpoly000"]["polymarket_outcomes"]) == ["Yes", "No"]
    assert rows["KXTEST-0|0xpoly000"]["kalshi_close_time"].startswith("2027-01-31T23:59:00")


def test_review_export_empty_warehouse(warehouse_con):
    exported = verdicts.export_labeled_pairs(warehouse_con)

    assert exported.empty
    assert list(exported.columns) == verdicts.EXPORT_COLUMNS
