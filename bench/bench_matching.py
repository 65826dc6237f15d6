"""Benchmark bucketing, filtering and scoring on a synthetic universe; prints the figures.

Run from the repository root: `.venv/bin/python bench/bench_matching.py [--kalshi N --polymarket M]`.

Measured in one process: wall seconds per layer, peak RSS, the share of planted pairs that reach
the scoring layer and the pair reduction. On a random sample it also measures the recall of
bucketing + filtering against a brute-force rapidfuzz cdist over every pair, with the speed-up.
Peak RSS comes from resource.getrusage, which reports the process maximum, so it includes the
generator and the brute-force matrices.
"""

from __future__ import annotations

import argparse
import logging
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import generate_universe  # noqa: E402
from mflib.bucketing import assign_buckets  # noqa: E402
from mflib.filtering import (  # noqa: E402
    SCORERS,
    find_candidates,
    number_mask,
    number_overlap,
    rank_scores,
    resolve_filter_params,
    text_features,
)

log = logging.getLogger("bench")

# The filter's own extraction is off here because the scoring layer extracts the same facts again.
FILTER_PARAMS = {"extract_facts": False}


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scoring(candidates: pd.DataFrame, markets: pd.DataFrame) -> tuple[pd.DataFrame | None, float, str]:
    """Score the candidates with the committed model; returns (scores, seconds, note)."""
    started = time.perf_counter()
    try:
        from mflib import scoring

        pairs = scoring.pairs_from_candidates(candidates, markets)
        scores = scoring.score_pairs(pairs, scoring.load_model())
    except Exception as exc:  # noqa: BLE001 - the benchmark reports any scoring failure and goes on
        return None, time.perf_counter() - started, f"scoring not run: {type(exc).__name__}: {exc}"
    return scores, time.perf_counter() - started, "scoring run with the committed model"


def planted_report(truth: pd.DataFrame, candidates: pd.DataFrame, scores: pd.DataFrame | None) -> pd.DataFrame:
    found = set(candidates["pair_id"])
    table = truth.assign(pair_id=truth["kalshi_id"] + "|" + truth["polymarket_id"])
    table["reached_scoring"] = table["pair_id"].isin(found)
    if scores is not None:
        table = table.merge(scores[["pair_id", "decision", "reason_codes"]], on="pair_id", how="left")
    return table


def brute_force_recall(markets: pd.DataFrame, kalshi_count: int, polymarket_count: int, seed: int) -> dict:
    """Compare bucketing + filtering with a cdist over every pair of a random sample.

    The reference for a Kalshi market is its best match over every Polymarket market of the sample,
    ranked by the filter's own rank score and held to the same min_text_score and
    max_close_gap_days, so the figure measures what bucketing loses. The market counts as recalled
    when the candidates hold a pair with that rank score (ties count as found). Recall is reported
    for best matches above several text-score floors, because low-scoring best matches mostly
    share template words only.
    """
    settings = resolve_filter_params(FILTER_PARAMS)
    rng = np.random.default_rng(seed)
    kalshi = markets[markets["platform"] == "kalshi"]
    poly = markets[markets["platform"] == "polymarket"]
    sample = pd.concat([
        kalshi.iloc[rng.choice(len(kalshi), size=min(kalshi_count, len(kalshi)), replace=False)],
        poly.iloc[rng.choice(len(poly), size=min(polymarket_count, len(poly)), replace=False)],
    ], ignore_index=True)
    sample_kalshi = sample[sample["platform"] == "kalshi"].reset_index(drop=True)
    sample_poly = sample[sample["platform"] == "polymarket"].reset_index(drop=True)

    started = time.perf_counter()
    k_texts, k_numbers = text_features(sample_kalshi["title"].tolist(), sample_kalshi["subtitle"].tolist())
    p_texts, p_numbers = text_features(sample_poly["title"].tolist(), sample_poly["subtitle"].tolist())
    text = process.cdist(k_texts, p_texts, scorer=SCORERS[settings["scorer"]], workers=-1, dtype=np.float32)
    k_masks = np.array([number_mask(value) for value in k_numbers], dtype=np.uint64)
    p_masks = np.array([number_mask(value) for value in p_numbers], dtype=np.uint64)
    numbers = number_overlap(k_masks[:, None], p_masks[None, :])
    k_days = pd.to_datetime(sample_kalshi["close_time"], utc=True).astype("int64").to_numpy() / 86_400e6
    p_days = pd.to_datetime(sample_poly["close_time"], utc=True).astype("int64").to_numpy() / 86_400e6
    gap = np.abs(k_days[:, None] - p_days[None, :])
    rank = rank_scores(text, numbers, gap, settings)
    rank[(gap > settings["max_close_gap_days"]) | (text < settings["min_text_score"])] = -np.inf
    best_column = rank.argmax(axis=1)
    best_rank = rank[np.arange(len(rank)), best_column]
    best_text = text[np.arange(len(rank)), best_column]
    brute_seconds = time.perf_counter() - started
    started = time.perf_counter()
    buckets = assign_buckets(sample, {})
    result = find_candidates(sample, buckets.buckets, FILTER_PARAMS)
    pipeline_seconds = time.perf_counter() - started

    reference = pd.DataFrame({"kalshi_id": sample_kalshi["market_id"].to_numpy(), "best": best_text,
                              "best_rank": best_rank})
    reference = reference[np.isfinite(reference["best_rank"])]
    found_best = result.candidates.groupby("kalshi_id")["rank_score"].max()
    reference["found"] = found_best.reindex(reference["kalshi_id"]).fillna(-np.inf).to_numpy()
    reference["recalled"] = reference["found"] >= reference["best_rank"].round(2) - 0.02
    recall_by_floor = {}
    for floor in (settings["min_text_score"], 70.0, 80.0):
        above = reference[reference["best"] >= floor]
        recall_by_floor[floor] = (float(above["recalled"].mean()) if len(above) else float("nan"), len(above))
    return {
        "sample": f"{len(sample_kalshi)} x {len(sample_poly)}",
        "recall_by_floor": recall_by_floor,
        "brute_force_seconds": brute_seconds,
        "pipeline_seconds": pipeline_seconds,
        "speedup": brute_seconds / pipeline_seconds if pipeline_seconds else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kalshi", type=int, default=10_000, help="Kalshi markets in the universe")
    parser.add_argument("--polymarket", type=int, default=40_000, help="Polymarket markets in the universe")
    parser.add_argument("--seed", type=int, default=7, help="generator and sampling seed")
    parser.add_argument("--sample-kalshi", type=int, default=2_000, help="Kalshi markets in the brute-force sample")
    parser.add_argument("--sample-polymarket", type=int, default=8_000, help="Polymarket markets in the sample")
    parser.add_argument("--log-level", default="WARNING", help="logging level of the layers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    started = time.perf_counter()
    universe = generate_universe(args.kalshi, args.polymarket, seed=args.seed)
    markets = universe.markets
    counts = markets["platform"].value_counts()
    print(f"universe: {counts.get('kalshi', 0)} Kalshi + {counts.get('polymarket', 0)} Polymarket markets, "
          f"{len(universe.truth)} planted pairs, generated in {time.perf_counter() - started:.1f} s")
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"{len(__import__('os').sched_getaffinity(0))} cores available")

    started = time.perf_counter()
    buckets = assign_buckets(markets, {})
    bucket_seconds = time.perf_counter() - started
    started = time.perf_counter()
    filtered = find_candidates(markets, buckets.buckets, FILTER_PARAMS)
    filter_seconds = time.perf_counter() - started
    scores, score_seconds, score_note = run_scoring(filtered.candidates, markets)
    total = bucket_seconds + filter_seconds + score_seconds

    candidates = len(filtered.candidates)
    print(f"pairs: naive {buckets.naive_pairs:,}, after bucketing {buckets.bucketed_pairs:,}"
          f"{' (upper bound)' if buckets.bucketed_pairs_is_upper_bound else ''}, candidates {candidates:,}"
          f" ({buckets.naive_pairs / max(candidates, 1):,.0f}x fewer than naive)")
    print(f"seconds: bucketing {bucket_seconds:.2f}, filtering {filter_seconds:.2f}, scoring {score_seconds:.2f} "
          f"({score_note}); total {total:.2f}")

    report = planted_report(universe.truth, filtered.candidates, scores)
    true_pairs = report[report["relation"] != "different"]
    print(f"planted true pairs reaching scoring: {true_pairs['reached_scoring'].mean():.2%} "
          f"({int(true_pairs['reached_scoring'].sum())} of {len(true_pairs)})")
    by_kind = report.groupby(["relation", "kind"])["reached_scoring"].agg(["mean", "size"])
    print(by_kind.rename(columns={"mean": "reached", "size": "planted"}).to_string())
    if scores is not None:
        decided = report[report["reached_scoring"]].groupby(["relation", "kind"])["decision"].value_counts()
        print("decisions of planted pairs that reached scoring:")
        print(decided.unstack(fill_value=0).to_string())

    recall = brute_force_recall(markets, args.sample_kalshi, args.sample_polymarket, args.seed)
    print(f"brute-force sample {recall['sample']}: brute force {recall['brute_force_seconds']:.2f} s, "
          f"bucketing + filtering {recall['pipeline_seconds']:.2f} s, speed-up {recall['speedup']:.1f}x")
    pairs_per_second = args.sample_kalshi * args.sample_polymarket / recall["brute_force_seconds"]
    full_estimate = buckets.naive_pairs / pairs_per_second
    print(f"  estimate for a brute force over all {buckets.naive_pairs:,} pairs at the sample's rate: "
          f"{full_estimate:.0f} s against {bucket_seconds + filter_seconds:.1f} s of bucketing + filtering "
          f"({full_estimate / (bucket_seconds + filter_seconds):.1f}x); not run, its score matrix alone "
          f"would need {buckets.naive_pairs * 4 / 2**30:.1f} GiB")
    for floor, (share, count) in recall["recall_by_floor"].items():
        print(f"  recall of brute-force best matches scoring >= {floor:g}: {share:.2%} of {count}")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
