"""Pair scoring: decide whether a Kalshi and a Polymarket market are the same contract.

Three parts work together:
- hard rules (`pair_features`): a deadline, threshold or entity that clearly differs is a
  veto, whatever the probability;
- orientation rules: which outcome of the Polymarket market plays Kalshi's YES, from team
  labels and complement wording, never from prices;
- a calibrated classifier over the pair features, which gives the probability that the two
  markets pay on the same outcomes (in either orientation).
"""

from __future__ import annotations

import json
import logging
import platform as python_platform
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from rapidfuzz import fuzz, process

from mflib import extract
from mflib.errors import ModelVersionError, SchemaError

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL_PATH = MODEL_DIR / "pair_model.joblib"
RETRAIN_HINT = "retrain with python scripts/train_model.py"

# The scoring input form: one row per pair, both markets' texts side by side (the CLI columns).
PAIR_TEXT_COLUMNS = [
    "pair_id", "kalshi_ticker", "kalshi_event_title", "kalshi_title", "kalshi_subtitle", "kalshi_rules",
    "kalshi_close_time", "polymarket_id", "polymarket_event_title", "polymarket_title", "polymarket_subtitle",
    "polymarket_rules", "polymarket_close_time", "polymarket_outcomes",
]
REQUIRED_PAIR_COLUMNS = [
    "pair_id", "kalshi_ticker", "kalshi_title", "kalshi_rules", "polymarket_id", "polymarket_title", "polymarket_rules",
]
SCORED_COLUMNS = ["pair_id", "decision", "probability", "orientation", "reason_codes", "veto", "features_json"]

# Reason codes that veto a pair whatever its probability. The first three are the hard
# mismatches. The scope codes veto too, because the labeled pairs contain too few examples of
# each for the classifier to learn them across cross-validation groups.
VETO_CODES = ("deadline_mismatch", "threshold_mismatch", "entity_mismatch", "subset_superset", "event_mismatch",
              "count_vs_binary", "missing_title")

FEATURE_NAMES = [
    "title_token_set", "title_token_sort", "title_partial", "context_token_set", "rules_token_set",
    "rules_present", "cross_title_rules", "entity_coverage_min", "entity_coverage_mean", "entity_conflict", "place_conflict",
    "subtitle_coverage", "threshold_both", "threshold_one_side", "threshold_match", "threshold_boundary_differs",
    "deadline_both", "deadline_one_side", "deadline_gap_days", "deadline_kind_differs", "team_market",
    "team_found", "subset_superset", "count_vs_binary", "season_unstated", "complement_differs", "event_jaccard",
    "event_differs", "office_scope_differs",
]

DEADLINE_TOLERANCE_DAYS = 1
# A Polymarket close time is a weaker deadline than a stated one (its end date is often the
# resolution date, days after the event), so it vetoes only from this many days apart.
CLOSE_TIME_TOLERANCE_DAYS = 7
LOW_TEXT_SCORE = 50.0


# ---------------------------------------------------------------------------------------------
# Input forms


def check_pair_columns(pairs: pd.DataFrame, source: str = "pairs") -> None:
    """Raise SchemaError naming every required scoring column that `pairs` lacks."""
    missing = [name for name in REQUIRED_PAIR_COLUMNS if name not in pairs.columns]
    if missing:
        raise SchemaError(source, f"missing required column(s): {', '.join(missing)}; "
                                  f"expected at least {', '.join(REQUIRED_PAIR_COLUMNS)}")


def pairs_from_candidates(candidates: pd.DataFrame, markets: pd.DataFrame) -> pd.DataFrame:
    """Join candidate pairs with both markets' texts into the scoring input form.

    `candidates` needs pair_id, kalshi_id, polymarket_id (market_id values); `markets` is the
    unified markets table. Returns PAIR_TEXT_COLUMNS plus kalshi_id, polymarket_id, the close
    times as UTC timestamps, liquidity_usd and volume_usd of each side, and every other
    candidate column unchanged. Candidates whose market is missing from `markets` are dropped
    and counted in the log.
    """
    for name in ("pair_id", "kalshi_id", "polymarket_id"):
        if name not in candidates.columns:
            raise SchemaError("candidates", f"missing required column {name!r}")
    for name in ("market_id", "title"):
        if name not in markets.columns:
            raise SchemaError("markets", f"missing required column {name!r}")
    table = markets.drop_duplicates("market_id").set_index("market_id")

    def side(prefix: str, ids: pd.Series) -> pd.DataFrame:
        picked = table.reindex(ids.astype("string").to_numpy())

        def get(name: str) -> object:
            return picked[name].to_numpy() if name in picked.columns else [None] * len(picked)

        frame = pd.DataFrame({
            f"{prefix}_event_title": get("event_title"),
            f"{prefix}_title": get("title"),
            f"{prefix}_subtitle": get("subtitle"),
            f"{prefix}_rules": get("rules"),
            f"{prefix}_close_time": pd.to_datetime(pd.Series(get("close_time")), utc=True, errors="coerce").to_numpy(),
            f"{prefix}_liquidity_usd": get("liquidity_usd"),
            f"{prefix}_volume_usd": get("volume_usd"),
            f"{prefix}_found": picked["title"].notna().to_numpy(),
        }, index=ids.index)
        if prefix == "polymarket":
            yes_labels = get("outcome_yes")
            no_labels = get("outcome_no")
            frame["polymarket_outcomes"] = [
                json.dumps([extract.clean(yes), extract.clean(no)]) if not extract.is_blank(yes) else ""
                for yes, no in zip(yes_labels, no_labels, strict=True)
            ]
        return frame

    kalshi = side("kalshi", candidates["kalshi_id"])
    poly = side("polymarket", candidates["polymarket_id"])
    result = pd.concat([candidates.reset_index(drop=True), kalshi.reset_index(drop=True), poly.reset_index(drop=True)], axis=1)
    result = result.loc[:, ~result.columns.duplicated(keep="last")]
    result["kalshi_ticker"] = result["kalshi_id"]
    found = result["kalshi_found"] & result["polymarket_found"]
    dropped = int((~found).sum())
    if dropped:
        log.warning("pairs_from_candidates: dropped %d of %d candidates whose market is not in the markets table",
                    dropped, len(result))
    return result.loc[found].drop(columns=["kalshi_found", "polymarket_found"]).reset_index(drop=True)


def _side_frame(pairs: pd.DataFrame, prefix: str) -> pd.DataFrame:
    def get(name: str) -> pd.Series:
        column = f"{prefix}_{name}"
        return pairs[column] if column in pairs.columns else pd.Series([None] * len(pairs), index=pairs.index)

    frame = pd.DataFrame({
        "platform": "kalshi" if prefix == "kalshi" else "polymarket",
        "market_id": (get("ticker") if prefix == "kalshi" else get("id")).astype("string"),
        "title": get("title"),
        "subtitle": get("subtitle"),
        "event_title": get("event_title"),
        "rules": get("rules"),
        "close_time": get("close_time"),
        "outcomes": get("outcomes"),
    }, index=pairs.index)
    return frame.astype({name: "object" for name in ("title", "subtitle", "event_title", "rules", "outcomes")})


def _side_facts(pairs: pd.DataFrame, prefix: str) -> list[dict]:
    """Extract facts once per distinct market of one side and spread them back over the pairs."""
    frame = _side_frame(pairs, prefix)
    columns = [[extract.clean(value) for value in frame[name].astype(object).to_list()] for name in frame.columns]
    keys = ["\x1f".join(values) for values in zip(*columns, strict=True)]
    first_position: dict[str, int] = {}
    for position, key in enumerate(keys):
        first_position.setdefault(key, position)
    records = extract.market_fact_records(frame.iloc[list(first_position.values())])
    by_key = dict(zip(first_position, records, strict=True))
    return [by_key[key] for key in keys]


# ---------------------------------------------------------------------------------------------
# Pair rules


@lru_cache(maxsize=100_000)
def _vocabulary(text: str) -> tuple[frozenset[str], frozenset[str]]:
    words = text.split()
    return frozenset(words), frozenset(word[:5] for word in words if len(word) >= 5)


def _token_coverage(phrase: str, text: str) -> float:
    """Share of a phrase's words (2+ letters) that occur in `text`, as a whole word or by a 5-letter prefix."""
    words = [word for word in phrase.split() if len(word) >= 2]
    if not words:
        return 1.0
    vocabulary, prefixes = _vocabulary(text)
    hits = sum(1 for word in words if word in vocabulary or (len(word) >= 5 and word[:5] in prefixes))
    return hits / len(words)


def _deadline_gap(kalshi: dict, poly: dict) -> float | None:
    """Days between the two window ends, borrowing a missing year from the other side."""
    k_end, p_end = kalshi["deadline"], poly["deadline"]
    if k_end is not None and p_end is not None:
        return float(abs((k_end - p_end).days))
    known, month_day = (k_end, poly["deadline_md"]) if k_end is not None else (p_end, kalshi["deadline_md"])
    if known is not None and month_day:
        month, day = (int(part) for part in month_day.split("-"))
        gaps = []
        for year in (known.year - 1, known.year, known.year + 1):
            candidate = extract._safe_date(year, month, day)
            if candidate:
                gaps.append(abs((candidate - known).days))
        return float(min(gaps)) if gaps else None
    if kalshi["deadline_md"] and poly["deadline_md"]:
        k_month, k_day = (int(part) for part in kalshi["deadline_md"].split("-"))
        p_month, p_day = (int(part) for part in poly["deadline_md"].split("-"))
        first = extract._safe_date(2000, k_month, k_day)
        second = extract._safe_date(2000, p_month, p_day)
        if first and second:
            return float(min(abs((first - second).days), 366 - abs((first - second).days)))
    return None


def _values_equal(first: float, second: float) -> bool:
    return abs(first - second) <= max(1e-6, 1e-4 * max(abs(first), abs(second)))


def compare_thresholds(first: list[dict], second: list[dict]) -> str:
    """Compare two threshold lists: none, one_side, match, boundary (gt vs ge) or mismatch.

    "at least 58" vs "58.0-58.9" is a mismatch (open-ended vs bracket). "above 4.25" vs
    "at least 4.25" is boundary, the same strike with another inclusive end. An "eq" item
    (a bare strike or "$30") matches any direction with the same value.
    """
    if not first and not second:
        return "none"
    if not first or not second:
        return "one_side"
    upward, downward = {"gt", "ge"}, {"lt", "le"}
    best = "mismatch"
    for a in first:
        for b in second:
            if a["direction"] == "range" or b["direction"] == "range":
                if a["direction"] == b["direction"] == "range" and abs(a["low"] - b["low"]) <= 0.1 and abs(a["high"] - b["high"]) <= 0.1:
                    return "match"
                continue
            if not _values_equal(a["value"], b["value"]):
                continue
            if a["direction"] == b["direction"] or "eq" in (a["direction"], b["direction"]):
                return "match"
            if {a["direction"], b["direction"]} <= upward or {a["direction"], b["direction"]} <= downward:
                best = "boundary"
    return best


def _team_orientation(kalshi: dict, poly: dict) -> tuple[bool, str | None, bool]:
    """For a game market return (is a team market, orientation or None, Kalshi team found)."""
    outcomes = poly["outcomes"]
    if not outcomes or extract.is_yes_no(outcomes):
        return False, None, False
    labels = poly["game_teams"] or [extract.normalize_text(label) for label in outcomes]
    team = kalshi["team"]
    if team is None:
        # Outside the team table, match the Kalshi subtitle or title to an outcome label.
        source = kalshi["norm_subtitle"] or kalshi["norm_title"]
        scores = [fuzz.token_set_ratio(source, label) if label else 0 for label in labels]
        if scores and max(scores) >= 90 and scores.count(max(scores)) == 1:
            index = scores.index(max(scores))
            return True, "same" if index == 0 else "inverted", True
        return True, None, False
    if team not in labels:
        return True, None, False
    if kalshi["game_teams"] and set(kalshi["game_teams"]) != set(labels[:2]):
        return True, None, False
    return True, "same" if labels.index(team) == 0 else "inverted", True


def compare_pair(kalshi: dict, poly: dict) -> tuple[dict[str, float], list[str], str]:
    """Compute the rule features, reason codes and orientation of one pair of market facts."""
    features: dict[str, float] = {}
    reasons: list[str] = []

    # Entities: places on both sides that the other lacks, and named subtitles.
    k_places, p_places = set(kalshi["places"]), set(poly["places"])
    place_conflict = bool(k_places - p_places) and bool(p_places - k_places)
    features["place_conflict"] = float(place_conflict)
    coverages = []
    unmatched: list[list[str]] = []
    for own, other in ((kalshi, poly), (poly, kalshi)):
        other_text = other["norm_context"] + " " + other["norm_rules"][:600]
        side_coverages = {entity: _token_coverage(entity, other_text) for entity in own["entities"]
                          if entity not in extract.PLACES}
        coverages.extend(side_coverages.values())
        unmatched.append([entity for entity, value in side_coverages.items() if value == 0.0])
    # Each side names something the other never mentions, and one of them is a full name
    # ("Alvin Bragg" vs "AI"): the markets are about different people or bodies.
    entity_conflict = (
        not poly["game_teams"]
        and all(unmatched)
        and any(len(entity.split()) >= 2 for side in unmatched for entity in side)
    )
    # A full name ("Do Kwon") that the other market never mentions, from a title whose capitals
    # mark proper nouns: the markets are about different people.
    for own, side in ((kalshi, unmatched[0]), (poly, unmatched[1])):
        if not own["title_case"] and not poly["game_teams"]:
            entity_conflict = entity_conflict or any(2 <= len(entity.split()) <= 3 for entity in side)
    features["entity_conflict"] = float(entity_conflict)
    features["entity_coverage_min"] = min(coverages) if coverages else 1.0
    features["entity_coverage_mean"] = sum(coverages) / len(coverages) if coverages else 1.0
    subtitle_coverages = [
        _token_coverage(own["norm_subtitle"], other["norm_context"])
        for own, other in ((kalshi, poly), (poly, kalshi))
        if own["norm_subtitle"] and not own["team"]
    ]
    features["subtitle_coverage"] = min(subtitle_coverages) if subtitle_coverages else 1.0

    # Different leagues ("pro football" against the NBA Finals) are different contracts even when
    # the city or the word "win" is shared.
    k_leagues = set(extract.find_leagues(kalshi["norm_context"]))
    p_leagues = set(extract.find_leagues(poly["norm_context"]))
    league_conflict = bool(k_leagues) and bool(p_leagues) and not (k_leagues & p_leagues)
    entity_conflict = entity_conflict or league_conflict

    team_market, team_orientation, team_found = _team_orientation(kalshi, poly)
    features["team_market"] = float(team_market)
    features["team_found"] = float(team_found)
    if place_conflict or entity_conflict or features["subtitle_coverage"] < 0.5 or (team_market and not team_found):
        reasons.append("entity_mismatch")

    # Thresholds.
    threshold_state = compare_thresholds(kalshi["thresholds"], poly["thresholds"])
    features["threshold_both"] = float(threshold_state in ("match", "boundary", "mismatch"))
    features["threshold_one_side"] = float(threshold_state == "one_side")
    features["threshold_match"] = float(threshold_state == "match")
    features["threshold_boundary_differs"] = float(threshold_state == "boundary")
    if threshold_state in ("mismatch", "boundary"):
        reasons.append("threshold_mismatch")

    # Deadlines.
    gap = _deadline_gap(kalshi, poly)
    features["deadline_both"] = float(gap is not None)
    features["deadline_one_side"] = float(gap is None and bool(kalshi["deadline_kind"]) != bool(poly["deadline_kind"]))
    features["deadline_gap_days"] = min(gap, 400.0) if gap is not None else -1.0
    point_kinds = {kalshi["deadline_kind"] == "on", poly["deadline_kind"] == "on"}
    features["deadline_kind_differs"] = float(gap is not None and len(point_kinds) == 2)
    if gap is not None:
        weak = bool({"close_time", "event"} & {kalshi["deadline_source"], poly["deadline_source"]})
        tolerance = CLOSE_TIME_TOLERANCE_DAYS if weak else DEADLINE_TOLERANCE_DAYS
        starts = (kalshi["window_start"], poly["window_start"])
        start_differs = None not in starts and abs((starts[0] - starts[1]).days) > DEADLINE_TOLERANCE_DAYS
        # "on Jul 1" (a state on one day) is not "by June 30" (an event any time before).
        point_vs_window = features["deadline_kind_differs"] == 1.0
        if (gap > tolerance or start_differs or point_vs_window) and not team_market:
            reasons.append("deadline_mismatch")

    # Scope differences the model weighs (no veto).
    subset = (kalshi["is_race"] != poly["is_race"] or kalshi["is_nomination"] != poly["is_nomination"]
              or kalshi["any_scope"] != poly["any_scope"])
    features["subset_superset"] = float(subset)
    if subset:
        reasons.append("subset_superset")
    k_events, p_events = set(kalshi["events"]), set(poly["events"])
    union = k_events | p_events
    features["event_jaccard"] = len(k_events & p_events) / len(union) if union else 1.0
    features["event_differs"] = float(bool(k_events) and bool(p_events) and k_events != p_events)
    # A named office ("Secretary of State") on one side against "the administration" or "the
    # Cabinet" on the other: leaving one role is not leaving the government.
    office_scope = (kalshi["has_office"] and poly["has_admin_scope"] and not poly["has_office"]) or (
        poly["has_office"] and kalshi["has_admin_scope"] and not kalshi["has_office"])
    features["office_scope_differs"] = float(office_scope)
    one_sided_event = bool(k_events) != bool(p_events) and not (kalshi["game_teams"] or poly["game_teams"])
    if office_scope or features["event_differs"] or one_sided_event:
        reasons.append("subset_superset" if office_scope or k_events < p_events or p_events < k_events else "event_mismatch")
    count_vs_binary = kalshi["is_count"] != poly["is_count"]
    features["count_vs_binary"] = float(count_vs_binary)
    if count_vs_binary:
        reasons.append("count_vs_binary")
    season_unstated = (kalshi["has_season_words"] or poly["has_season_words"]) and features["deadline_one_side"] == 1.0
    features["season_unstated"] = float(season_unstated)
    if season_unstated:
        reasons.append("season_unstated")

    # Orientation: team labels first, then complement wording, then a reversed outcome list.
    complement_differs = (kalshi["complement_count"] - poly["complement_count"]) % 2 == 1
    features["complement_differs"] = float(complement_differs)
    if team_orientation is not None:
        orientation = team_orientation
    else:
        orientation = "inverted" if complement_differs else "same"
        outcomes = [label.strip().lower() for label in poly["outcomes"]]
        if outcomes[:1] == ["no"]:
            orientation = "same" if orientation == "inverted" else "inverted"
    return features, reasons, orientation


def pair_features(pairs: pd.DataFrame) -> pd.DataFrame:
    """Compute the features, reason codes, veto and orientation of every pair (same index).

    `pairs` is the scoring input form (PAIR_TEXT_COLUMNS; optional ones may be absent).
    """
    check_pair_columns(pairs)
    started = time.perf_counter()
    kalshi_facts = _side_facts(pairs, "kalshi")
    poly_facts = _side_facts(pairs, "polymarket")

    k_titles = [facts["norm_text"] for facts in kalshi_facts]
    p_titles = [facts["norm_text"] for facts in poly_facts]
    k_context = [facts["norm_context"] for facts in kalshi_facts]
    p_context = [facts["norm_context"] for facts in poly_facts]
    k_rules = [facts["norm_rules"] for facts in kalshi_facts]
    p_rules = [facts["norm_rules"] for facts in poly_facts]
    text_scores = {
        "title_token_set": process.cpdist(k_titles, p_titles, scorer=fuzz.token_set_ratio, workers=-1),
        "title_token_sort": process.cpdist(k_titles, p_titles, scorer=fuzz.token_sort_ratio, workers=-1),
        "title_partial": process.cpdist(k_titles, p_titles, scorer=fuzz.partial_token_sort_ratio, workers=-1),
        "context_token_set": process.cpdist(k_context, p_context, scorer=fuzz.token_set_ratio, workers=-1),
        "rules_token_set": process.cpdist(k_rules, p_rules, scorer=fuzz.token_set_ratio, workers=-1),
        # Titles against the other side's rules catch paraphrased titles of one question.
        "cross_title_rules": np.maximum(
            process.cpdist(k_titles, p_rules, scorer=fuzz.token_set_ratio, workers=-1),
            process.cpdist(p_titles, k_rules, scorer=fuzz.token_set_ratio, workers=-1),
        ),
    }
    rules_present = np.array([bool(a) and bool(b) for a, b in zip(k_rules, p_rules, strict=True)])

    rows = []
    for position, (kalshi, poly) in enumerate(zip(kalshi_facts, poly_facts, strict=True)):
        features, reasons, orientation = compare_pair(kalshi, poly)
        for name, values in text_scores.items():
            features[name] = float(values[position])
        features["rules_present"] = float(rules_present[position])
        if not rules_present[position]:
            features["rules_token_set"] = -1.0
        if not (kalshi["norm_rules"] or poly["norm_rules"]):
            features["cross_title_rules"] = -1.0
        if not kalshi["norm_title"] or not poly["norm_title"]:
            reasons.append("missing_title")
        if features["title_token_set"] < LOW_TEXT_SCORE and features["context_token_set"] < LOW_TEXT_SCORE:
            reasons.append("low_text_score")
        veto = any(code in VETO_CODES for code in reasons)
        rows.append({
            "orientation": orientation,
            "reason_codes": ";".join(dict.fromkeys(reasons)),
            "veto": veto,
            **{name: features[name] for name in FEATURE_NAMES},
        })
    frame = pd.DataFrame(rows, index=pairs.index, columns=["orientation", "reason_codes", "veto", *FEATURE_NAMES])
    log.info("pair features: %d pairs in %.2f s", len(pairs), time.perf_counter() - started)
    return frame


# ---------------------------------------------------------------------------------------------
# The model


@dataclass
class PairModel:
    """A fitted same-contract classifier with its feature order, threshold and training facts."""

    estimator: Any
    feature_names: list[str]
    accept_threshold: float
    metadata: dict[str, Any] = field(default_factory=dict)

    def predict_probability(self, features: pd.DataFrame) -> np.ndarray:
        matrix = features[self.feature_names].to_numpy(dtype=float)
        return self.estimator.predict_proba(matrix)[:, 1]


def library_versions() -> dict[str, str]:
    return {
        "python": python_platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
    }


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def metadata_path_for(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def check_versions(metadata: dict[str, Any], model_path: Path) -> None:
    """Raise ModelVersionError when the model's scikit-learn major.minor differs from the installed one.

    Python and numpy differences are logged as warnings: joblib files usually load across
    their minor versions, but scikit-learn estimators do not.
    """
    trained = metadata.get("versions", {})
    installed = library_versions()
    trained_sklearn = trained.get("scikit-learn")
    if not trained_sklearn:
        raise ModelVersionError(f"{model_path}: metadata has no scikit-learn version; {RETRAIN_HINT}")
    if _major_minor(trained_sklearn) != _major_minor(installed["scikit-learn"]):
        raise ModelVersionError(
            f"{model_path} was trained with scikit-learn {trained_sklearn}, but {installed['scikit-learn']} is "
            f"installed; {RETRAIN_HINT} (or install scikit-learn {_major_minor(trained_sklearn)}.*)"
        )
    for name in ("python", "numpy"):
        if trained.get(name) and _major_minor(trained[name]) != _major_minor(installed[name]):
            log.warning("%s was trained with %s %s, installed is %s; if scoring fails, %s",
                        model_path, name, trained[name], installed[name], RETRAIN_HINT)


def save_model(model: PairModel, path: str | Path = DEFAULT_MODEL_PATH) -> Path:
    """Write the model (joblib, compressed) and its metadata JSON next to it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {**model.metadata, "versions": library_versions(), "feature_names": model.feature_names,
                "accept_threshold": model.accept_threshold}
    model.metadata = metadata
    joblib.dump({"estimator": model.estimator, "feature_names": model.feature_names,
                 "accept_threshold": model.accept_threshold, "metadata": metadata}, path, compress=3)
    metadata_path_for(path).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_model(path: str | Path | None = None) -> PairModel:
    """Load the committed pair model after checking the library versions it was trained with.

    The metadata JSON next to the model is read first, so a scikit-learn mismatch raises
    ModelVersionError before any unpickling is attempted.
    """
    path = Path(path) if path else DEFAULT_MODEL_PATH
    if not path.is_file():
        raise ModelVersionError(f"pair model {path} not found; {RETRAIN_HINT}")
    metadata_file = metadata_path_for(path)
    if not metadata_file.is_file():
        raise ModelVersionError(f"model metadata {metadata_file} not found; {RETRAIN_HINT}")
    try:
        metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelVersionError(f"model metadata {metadata_file} is not valid JSON ({exc}); {RETRAIN_HINT}") from exc
    check_versions(metadata, path)
    payload = joblib.load(path)
    missing = [name for name in payload["feature_names"] if name not in FEATURE_NAMES]
    if missing:
        raise ModelVersionError(f"{path} uses features this code does not compute ({', '.join(missing)}); {RETRAIN_HINT}")
    return PairModel(estimator=payload["estimator"], feature_names=list(payload["feature_names"]),
                     accept_threshold=float(payload["accept_threshold"]), metadata=payload.get("metadata", metadata))


# ---------------------------------------------------------------------------------------------
# Scoring


def decide(probability: np.ndarray, veto: np.ndarray, orientation: pd.Series, threshold: float) -> np.ndarray:
    """Turn probabilities into decisions: the orientation when accepted and not vetoed, else different."""
    accepted = (probability >= threshold) & ~veto
    return np.where(accepted, orientation.to_numpy(dtype=object), "different")


def score_pairs(pairs: pd.DataFrame, model: PairModel | None = None, *, accept_threshold: float | None = None) -> pd.DataFrame:
    """Score pairs in the scoring input form; returns SCORED_COLUMNS, one row per pair.

    `model` defaults to the committed model (load_model()); `accept_threshold` defaults to the
    threshold stored with the model, chosen in training for precision on the labeled pairs.
    """
    started = time.perf_counter()
    model = model or load_model()
    threshold = model.accept_threshold if accept_threshold is None else float(accept_threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"accept_threshold={threshold!r} is outside 0..1")
    if pairs.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in SCORED_COLUMNS})
    features = pair_features(pairs)
    probability = model.predict_probability(features)
    veto = features["veto"].to_numpy(dtype=bool)
    decision = decide(probability, veto, features["orientation"], threshold)
    feature_columns = features[model.feature_names].round(4)
    features_json = [json.dumps(record) for record in feature_columns.to_dict(orient="records")]
    result = pd.DataFrame({
        "pair_id": pairs["pair_id"].astype("string").to_numpy(),
        "decision": decision,
        "probability": np.round(probability, 6),
        "orientation": features["orientation"].to_numpy(),
        "reason_codes": features["reason_codes"].to_numpy(),
        "veto": veto,
        "features_json": features_json,
    })
    counts = result["decision"].value_counts().to_dict()
    log.info("score pairs: %d pairs in %.2f s (threshold %.3f): %s", len(result),
             time.perf_counter() - started, threshold, counts)
    return result
