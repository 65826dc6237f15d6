"""A tiny run of the synthetic universe through bucketing and filtering."""

from __future__ import annotations

import sys

import pytest

from mflib.bucketing import assign_buckets
from mflib.config import REPO_ROOT
from mflib.filtering import find_candidates

sys.path.insert(0, str(REPO_ROOT))

from bench.synthetic import generate_universe  # noqa: E402


@pytest.fixture(scope="module")
def universe():
    return generate_universe(kalshi_markets=300, polymarket_markets=1200, seed=3)


@pytest.fixture(scope="module")
def candidates(universe):
    buckets = assign_buckets(universe.markets, {})
    return find_candidates(universe.markets, buckets.buckets, {"extract_facts": False}).candidates


def test_bench_synthetic_sizes(universe):
    counts = universe.markets["platform"].value_counts()
    assert abs(counts["kalshi"] - 300) <= 30
    assert abs(counts["polymarket"] - 1200) <= 120


def test_bench_synthetic_truth_ids_exist(universe):
    ids = set(universe.markets["market_id"])
    assert set(universe.truth["kalshi_id"]) <= ids
    assert set(universe.truth["polymarket_id"]) <= ids


def test_bench_synthetic_plants_every_kind(universe):
    kinds = set(universe.truth["kind"])
    for kind in ("crypto_strike", "date_ladder", "election_candidate", "game", "threshold", "deadline",
                 "entity", "orientation"):
        assert kind in kinds


def test_bench_synthetic_same_seed_same_universe():
    first = generate_universe(kalshi_markets=100, polymarket_markets=400, seed=5)
    second = generate_universe(kalshi_markets=100, polymarket_markets=400, seed=5)
    assert first.markets["title"].tolist() == second.markets["title"].tolist()


def test_bench_synthetic_true_pairs_reach_scoring(universe, candidates):
    truth = universe.truth[universe.truth["relation"] != "different"]
    pair_ids = truth["kalshi_id"] + "|" + truth["polymarket_id"]
    reached = pair_ids.isin(set(candidates["pair_id"])).mean()
    assert reached >= 0.97


def test_bench_synthetic_candidates_far_fewer_than_pairs(universe, candidates):
    kalshi = int((universe.markets["platform"] == "kalshi").sum())
    poly = len(universe.markets) - kalshi
    assert len(candidates) * 100 <= kalshi * poly
