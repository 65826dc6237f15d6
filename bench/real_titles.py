"""Run bucketing, filtering and scoring on the recorded legacy snapshot of real market titles.

Run from the repository root: `.venv/bin/python bench/real_titles.py [--path FILE] [--top N]`.
The default file is unified_markets.parquet under the recorded data folder (MARKETFINDER_DATA).
Prints the pairs left after each layer, the seconds per layer and the best pairs found.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mflib.bucketing import assign_buckets  # noqa: E402
from mflib.config import shared_data_dir  # noqa: E402
from mflib.filtering import find_candidates  # noqa: E402
from mflib.sources.legacy_parquet import load_unified_markets  # noqa: E402

DEFAULT_FILE = Path("raw") / "marketfinder_2025-06-24" / "unified_markets.parquet"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=None, help="legacy unified_markets.parquet file")
    parser.add_argument("--top", type=int, default=25, help="number of best pairs to print")
    parser.add_argument("--max-close-gap-days", type=float, default=None,
                        help="override the filter's max_close_gap_days, in days (a large value shows deadline lookalikes)")
    parser.add_argument("--log-level", default="WARNING", help="logging level of the layers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    path = args.path or shared_data_dir() / DEFAULT_FILE

    markets = load_unified_markets(path)
    counts = markets[markets["tradeable"].fillna(False)]["platform"].value_counts()
    print(f"markets: {len(markets)} in file, tradeable {counts.get('kalshi', 0)} Kalshi + "
          f"{counts.get('polymarket', 0)} Polymarket")

    started = time.perf_counter()
    buckets = assign_buckets(markets, {})
    bucket_seconds = time.perf_counter() - started
    started = time.perf_counter()
    filter_params = {} if args.max_close_gap_days is None else {"max_close_gap_days": args.max_close_gap_days}
    filtered = find_candidates(markets, buckets.buckets, filter_params)
    filter_seconds = time.perf_counter() - started
    print(f"naive pairs {buckets.naive_pairs:,}; after bucketing {buckets.bucketed_pairs:,} "
          f"in {len(buckets.stats)} buckets ({bucket_seconds:.2f} s); candidates {len(filtered.candidates):,} "
          f"({filter_seconds:.2f} s)")
    print("rejected pairs by reason: " + ", ".join(
        f"{row.reason} {row.pairs:,}" for row in filtered.rejected.itertuples()))

    candidates = filtered.candidates
    scored = None
    started = time.perf_counter()
    try:
        from mflib import scoring

        pairs = scoring.pairs_from_candidates(candidates, markets)
        scores = scoring.score_pairs(pairs, scoring.load_model())
        scored = candidates.merge(scores, on="pair_id")
        score_seconds = time.perf_counter() - started
        decisions = scored["decision"].value_counts().to_dict()
        print(f"scored {len(scored):,} pairs ({score_seconds:.2f} s): {decisions}")
    except Exception as exc:  # noqa: BLE001 - report and show the filter's best pairs instead
        print(f"scoring not run: {type(exc).__name__}: {exc}")

    with pd.option_context("display.width", 200, "display.max_colwidth", 70):
        if scored is not None:
            best = scored.sort_values(["probability", "text_score"], ascending=False).head(args.top)
            print(best[["probability", "decision", "text_score", "kalshi_title", "polymarket_title",
                        "reason_codes"]].to_string(index=False))
        else:
            print(candidates.head(args.top)[["text_score", "kalshi_id", "kalshi_title", "polymarket_title"]]
                  .to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
