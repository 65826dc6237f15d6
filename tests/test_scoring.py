"""Tests of pair scoring: vetoes, orientation, the model file and its version check."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from mflib import scoring
from mflib.errors import ModelVersionError, SchemaError


def pair(**values) -> dict:
    row = {name: "" for name in scoring.PAIR_TEXT_COLUMNS}
    row.update(pair_id="p1", kalshi_ticker="KXTEST-26", polymarket_id="900")
    row.update(values)
    return row


def score(*rows: dict) -> pd.DataFrame:
    return scoring.score_pairs(pd.DataFrame(list(rows)))


def features(*rows: dict) -> pd.DataFrame:
    return scoring.pair_features(pd.DataFrame(list(rows)))


GAME = {
    "kalshi_ticker": "KXNBAGAME-26FEB02CHIMIA-MIA",
    "kalshi_title": "Chicago at Miami Winner?",
    "kalshi_event_title": "Chicago at Miami",
    "polymarket_title": "Bulls vs. Heat",
    "polymarket_event_title": "Bulls vs. Heat",
    "polymarket_outcomes": '["Bulls", "Heat"]',
}


def test_scoring_game_team_is_outcome_one_inverted():
    result = features(pair(**GAME, kalshi_subtitle="Miami"))
    assert result["orientation"].iat[0] == "inverted"
    assert not result["veto"].iat[0]


def test_scoring_game_team_is_outcome_zero_same():
    result = features(pair(**{**GAME, "kalshi_ticker": "KXNBAGAME-26FEB02CHIMIA-CHI"}, kalshi_subtitle="Chicago"))
    assert result["orientation"].iat[0] == "same"


def test_scoring_game_team_from_ticker_code():
    result = features(pair(**GAME))
    assert result["orientation"].iat[0] == "inverted"


def test_scoring_game_other_team_vetoed():
    result = features(pair(**{**GAME, "polymarket_title": "Bulls vs. Knicks", "polymarket_outcomes": '["Bulls", "Knicks"]'},
                           kalshi_subtitle="Miami"))
    assert "entity_mismatch" in result["reason_codes"].iat[0]
    assert result["veto"].iat[0]


def test_scoring_complement_wording_inverted():
    result = features(pair(kalshi_title="Will any member of the council resign before Jan 1, 2027?",
                           polymarket_title="Will no one resign from the council before 2027?"))
    assert result["orientation"].iat[0] == "inverted"


def test_scoring_plain_question_same_orientation():
    result = features(pair(kalshi_title="Will Ana Mendes visit Peru before Jul 1, 2026?",
                           polymarket_title="Will Ana Mendes enter Peru by June 30?"))
    assert result["orientation"].iat[0] == "same"
    assert result["reason_codes"].iat[0] == ""


def test_scoring_reversed_outcome_list_flips():
    result = features(pair(kalshi_title="Will Ana Mendes visit Peru in 2026?", polymarket_title="Ana Mendes visits Peru in 2026?",
                           polymarket_outcomes='["No", "Yes"]'))
    assert result["orientation"].iat[0] == "inverted"


@pytest.mark.parametrize(
    ("kalshi_title", "polymarket_title", "code"),
    [
        ("Will Ana Mendes visit Peru before May 1, 2026?", "Will Ana Mendes visit Peru by March 31, 2026?", "deadline_mismatch"),
        ("Will Ana Mendes visit Peru before Apr 17, 2026?", "Will Ana Mendes visit Peru by April 30?", "deadline_mismatch"),
        ("Will the rate be on Jul 1, 2026 above 3%?", "Will the rate pass 3% by June 30, 2026?", "deadline_mismatch"),
        ("Will inflation be above 3.5% in 2026?", "Will inflation be above 4% in 2026?", "threshold_mismatch"),
        ("Will the score be at least 58 in 2026?", "Will the score be between 58.0 and 58.9 in 2026?", "threshold_mismatch"),
        ("Will approval be below 35% in 2026?", "Will approval hit 35% in 2026?", "threshold_mismatch"),
        ("Will Ana Mendes visit Peru in 2026?", "Will Ana Mendes visit Chile in 2026?", "entity_mismatch"),
        ("Will Carl Brandt be charged with a crime before 2027?", "Will AI be charged with a crime before 2027?", "entity_mismatch"),
        ("Will Ana Mendes be the next to leave the council in 2026?", "Will Ana Mendes leave the council in 2026?", "subset_superset"),
        ("Will Ana Mendes win the nomination in 2028?", "Will Ana Mendes win the presidency in 2028?", "subset_superset"),
        ("Will Ana Mendes visit Peru in 2026?", "Will Ana Mendes lead Peru in 2026?", "event_mismatch"),
        ("How many storms will make landfall in 2026?", "Will a storm make landfall in 2026?", "count_vs_binary"),
        ("Will Peru qualify for the Cup Round of 16?", "Will Peru win the 2026 Cup?", "event_mismatch"),
        ("Will Peru qualify for the Cup Semifinals?", "Will Peru reach the Cup Final?", "event_mismatch"),
        ("Will the Detroit pro football team win the title in 2026?", "Will the Detroit Pistons win the 2026 NBA Finals?", "entity_mismatch"),
        ("Will the Detroit pro football team win exactly 9 times this season?", "Will Detroit win in 2026?", "count_vs_binary"),
    ],
)
def test_scoring_veto_reasons(kalshi_title, polymarket_title, code):
    result = features(pair(kalshi_title=kalshi_title, polymarket_title=polymarket_title))
    assert code in result["reason_codes"].iat[0].split(";")
    assert result["veto"].iat[0]


def test_scoring_within_a_day_not_vetoed():
    result = features(pair(kalshi_title="Will Ana Mendes visit Peru before Jan 1, 2027?",
                           polymarket_title="Will Ana Mendes visit Peru in 2026?"))
    assert not result["veto"].iat[0]


def test_scoring_equal_thresholds_not_vetoed():
    result = features(pair(kalshi_title="Will there be 6 or more storms in 2026?",
                           polymarket_title="Will there be >= 6 storms in 2026?"))
    assert not result["veto"].iat[0]


def test_scoring_season_unstated_reason():
    result = features(pair(kalshi_title="Will the Hornets win the 2025-26 championship?",
                           polymarket_title="Will the Hornets win the championship?"))
    assert "season_unstated" in result["reason_codes"].iat[0]


def test_scoring_score_pairs_columns():
    result = score(pair(kalshi_title="Will Ana Mendes visit Peru before Jul 1, 2026?",
                        polymarket_title="Will Ana Mendes enter Peru by June 30?"))
    assert list(result.columns) == scoring.SCORED_COLUMNS
    assert 0.0 <= result["probability"].iat[0] <= 1.0
    assert json.loads(result["features_json"].iat[0])["title_token_set"] > 0


def test_scoring_veto_overrides_probability():
    result = scoring.score_pairs(pd.DataFrame([pair(kalshi_title="Will Ana Mendes visit Peru before May 1, 2026?",
                                                    polymarket_title="Will Ana Mendes visit Peru by March 31, 2026?")]),
                                 accept_threshold=0.0)
    assert result["decision"].iat[0] == "different"


def test_scoring_threshold_zero_accepts_clean_pair():
    result = scoring.score_pairs(pd.DataFrame([pair(kalshi_title="Will Ana Mendes visit Peru before Jul 1, 2026?",
                                                    polymarket_title="Will Ana Mendes enter Peru by June 30?")]),
                                 accept_threshold=0.0)
    assert result["decision"].iat[0] == "same"


def test_scoring_threshold_out_of_range():
    with pytest.raises(ValueError, match="accept_threshold"):
        scoring.score_pairs(pd.DataFrame([pair(kalshi_title="a", polymarket_title="b")]), accept_threshold=1.5)


def test_scoring_empty_pairs():
    result = scoring.score_pairs(pd.DataFrame(columns=scoring.PAIR_TEXT_COLUMNS))
    assert list(result.columns) == scoring.SCORED_COLUMNS
    assert result.empty


def test_scoring_missing_columns_named():
    with pytest.raises(SchemaError, match="kalshi_rules, polymarket_id"):
        scoring.pair_features(pd.DataFrame([{"pair_id": "p", "kalshi_ticker": "K", "kalshi_title": "t",
                                             "polymarket_title": "t", "polymarket_rules": ""}]))


def test_scoring_many_pairs_fast():
    rows = [pair(pair_id=f"p{i}", kalshi_ticker=f"KXTEST-26-C{i}", kalshi_title=f"Will person {i} visit Peru in 2026?",
                 polymarket_id=str(i), polymarket_title=f"Will person {i} enter Peru in 2026?") for i in range(4000)]
    result = scoring.score_pairs(pd.DataFrame(rows))
    assert len(result) == 4000


def test_scoring_pairs_from_candidates():
    markets = pd.DataFrame([
        {"platform": "kalshi", "market_id": "KXV-26JUL01-AM", "title": "Will Ana Mendes visit Peru before Jul 1, 2026?",
         "subtitle": "Ana Mendes", "event_title": "Visits", "rules": "If she visits, Yes.", "close_time": "2026-07-01T14:00:00Z",
         "liquidity_usd": 120.0, "volume_usd": 5.0, "outcome_yes": None, "outcome_no": None},
        {"platform": "polymarket", "market_id": "0xaa", "title": "Will Ana Mendes enter Peru by June 30?", "subtitle": "",
         "event_title": "Peru", "rules": "Resolves Yes if she enters.", "close_time": "2026-06-30T00:00:00Z",
         "liquidity_usd": 900.0, "volume_usd": 50.0, "outcome_yes": "Yes", "outcome_no": "No"},
    ])
    candidates = pd.DataFrame([{"pair_id": "KXV-26JUL01-AM|0xaa", "kalshi_id": "KXV-26JUL01-AM", "polymarket_id": "0xaa",
                                "bucket": "peru"},
                               {"pair_id": "KXV-26JUL01-AM|0xgone", "kalshi_id": "KXV-26JUL01-AM",
                                "polymarket_id": "0xgone", "bucket": "peru"}])
    pairs = scoring.pairs_from_candidates(candidates, markets)
    assert len(pairs) == 1
    assert pairs["kalshi_ticker"].iat[0] == "KXV-26JUL01-AM"
    assert pairs["polymarket_outcomes"].iat[0] == '["Yes", "No"]'
    assert pairs["polymarket_liquidity_usd"].iat[0] == 900.0
    assert pairs["bucket"].iat[0] == "peru"
    assert isinstance(pairs["kalshi_close_time"].iat[0], pd.Timestamp)
    assert scoring.score_pairs(pairs)["decision"].iat[0] in ("same", "different")


def test_scoring_model_loads():
    model = scoring.load_model()
    assert model.feature_names == scoring.FEATURE_NAMES
    assert 0.0 < model.accept_threshold < 1.0


def test_scoring_model_file_small():
    assert scoring.DEFAULT_MODEL_PATH.stat().st_size < 5 * 1024 * 1024


def test_scoring_model_version_mismatch(tmp_path):
    model_path = tmp_path / "pair_model.joblib"
    shutil.copy(scoring.DEFAULT_MODEL_PATH, model_path)
    metadata = json.loads(scoring.metadata_path_for(scoring.DEFAULT_MODEL_PATH).read_text())
    metadata["versions"]["scikit-learn"] = "0.1.0"
    scoring.metadata_path_for(model_path).write_text(json.dumps(metadata))
    with pytest.raises(ModelVersionError, match="retrain with python scripts/train_model.py"):
        scoring.load_model(model_path)


def test_scoring_model_missing_metadata(tmp_path):
    model_path = tmp_path / "pair_model.joblib"
    shutil.copy(scoring.DEFAULT_MODEL_PATH, model_path)
    with pytest.raises(ModelVersionError, match="not found"):
        scoring.load_model(model_path)


def test_scoring_model_missing_file(tmp_path):
    with pytest.raises(ModelVersionError, match="not found"):
        scoring.load_model(tmp_path / "absent.joblib")
