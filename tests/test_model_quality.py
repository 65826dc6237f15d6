"""Quality checks on recorded data: cross-validated figures on the labeled pairs and an Iran snapshot."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mflib import scoring, training


@pytest.fixture(scope="module")
def cv_result(shared_data):
    pairs = training.load_labeled_pairs(shared_data / "labels" / "dev_pairs.csv")
    oof = training.cross_validate(pairs)
    model = scoring.load_model()
    return training.metrics_at(oof, model.accept_threshold)


def test_model_quality_precision(cv_result):
    assert cv_result["precision"] >= training.TARGET_PRECISION


def test_model_quality_recall(cv_result):
    assert cv_result["recall"] >= training.TARGET_RECALL


def test_model_quality_orientation(cv_result):
    assert cv_result["orientation_accuracy"] == 1.0


def test_model_quality_groups_keep_games_together(shared_data):
    pairs = training.load_labeled_pairs(shared_data / "labels" / "dev_pairs.csv")
    groups = training.cv_groups(pairs)
    games = pairs["kalshi_ticker"].str.extract(r"^(KXNBAGAME-[^-]+)")[0]
    per_game = pd.Series(groups).groupby(games.to_numpy()).nunique()
    assert (per_game == 1).all()


def _kalshi_rows(payload) -> dict[str, dict]:
    rows = {}
    for event in payload:
        for market in event.get("markets") or []:
            rules = " ".join(part for part in (market.get("rules_primary"), market.get("rules_secondary")) if part)
            rows[market["ticker"]] = {"kalshi_ticker": market["ticker"], "kalshi_title": market.get("title") or "",
                                      "kalshi_subtitle": market.get("yes_sub_title") or "",
                                      "kalshi_event_title": event.get("title") or "", "kalshi_rules": rules,
                                      "kalshi_close_time": market.get("close_time") or ""}
    return rows


def _polymarket_rows(payload) -> dict[str, dict]:
    rows = {}
    for event in payload:
        for market in event.get("markets") or []:
            rows[market["slug"]] = {"polymarket_id": str(market["id"]), "polymarket_title": market.get("question") or "",
                                    "polymarket_subtitle": market.get("groupItemTitle") or "",
                                    "polymarket_event_title": event.get("title") or "",
                                    "polymarket_rules": market.get("description") or "",
                                    "polymarket_close_time": market.get("endDate") or "",
                                    "polymarket_outcomes": market.get("outcomes") or ""}
    return rows


@pytest.fixture(scope="module")
def iran_scores(shared_data):
    kalshi = _kalshi_rows(json.loads((shared_data / "raw/kalshi/iran_2026-03-01/kalshi_raw.json").read_text()))
    poly = _polymarket_rows(json.loads((shared_data / "raw/polymarket/iran_2026-03-01/polymarket_raw.json").read_text()))
    recognition = "us-recognizes-reza-pahlavi-as-leader-of-iran-in2026"
    khamenei = next(slug for slug in poly if slug.startswith("khamenei-out-as-supreme-leader-of-iran-by-march-31"))
    selected = {
        "recognition": ("KXRECOGPERSONIRAN-26", recognition),
        "pahlavi_visit": (next(t for t in kalshi if t.startswith("KXPAHLAVIVISITA")), recognition),
        "pahlavi_head": (next(t for t in kalshi if t.startswith("KXPAHLAVIHEAD-27JAN")), recognition),
        "khamenei": ("KXKHAMENEIOUT-AKHA-26APR01", khamenei),
    }
    rows = [{"pair_id": name, **kalshi[ticker], **poly[slug]} for name, (ticker, slug) in selected.items()]
    return scoring.score_pairs(pd.DataFrame(rows)).set_index("pair_id")


def test_model_quality_iran_recognition_same(iran_scores):
    assert iran_scores.loc["recognition", "decision"] == "same"


@pytest.mark.parametrize("name", ["pahlavi_visit", "pahlavi_head", "khamenei"])
def test_model_quality_iran_lookalikes_different(iran_scores, name):
    assert iran_scores.loc[name, "decision"] == "different"
    assert iran_scores.loc[name, "reason_codes"] != ""
