"""Score market pairs from a CSV file: python -m mflib.match PAIRS.csv --out PREDICTIONS.csv

Input columns: pair_id, kalshi_ticker, kalshi_title, kalshi_rules, polymarket_id,
polymarket_title, polymarket_rules; optional kalshi_event_title, kalshi_subtitle,
kalshi_close_time, polymarket_event_title, polymarket_subtitle, polymarket_close_time,
polymarket_outcomes (the Gamma JSON string, e.g. ["Heat", "Bulls"]). Any value may be empty;
other columns are ignored. Output columns: pair_id, decision (same|inverted|different),
probability, reason (the reason codes, ';'-joined). Scoring is `mflib.scoring.score_pairs`, the
code the pipeline runs; no LLM is called.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from mflib import scoring
from mflib.errors import ModelVersionError, SchemaError

log = logging.getLogger(__name__)

OUTPUT_COLUMNS = ["pair_id", "decision", "probability", "reason"]


def read_pairs(path: Path) -> pd.DataFrame:
    """Read a pairs CSV with every column as text and check the required columns."""
    if not path.is_file():
        raise FileNotFoundError(f"pairs file {path} not found")
    try:
        pairs = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise SchemaError(str(path), "the file is empty; expected a header row with the pair columns") from exc
    scoring.check_pair_columns(pairs, str(path))
    return pairs.reset_index(drop=True)


def match_pairs(pairs: pd.DataFrame, model_path: str | Path | None = None, threshold: float | None = None) -> pd.DataFrame:
    """Score pairs and return the CLI output columns."""
    model = scoring.load_model(model_path)
    scored = scoring.score_pairs(pairs, model, accept_threshold=threshold)
    return pd.DataFrame({
        "pair_id": scored["pair_id"],
        "decision": scored["decision"],
        "probability": scored["probability"],
        "reason": scored["reason_codes"],
    })[OUTPUT_COLUMNS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mflib.match",
                                     description="Decide whether each Kalshi/Polymarket pair is the same contract.")
    parser.add_argument("pairs", type=Path, help="input CSV of pairs")
    parser.add_argument("--out", type=Path, required=True, help="output CSV of predictions")
    parser.add_argument("--threshold", type=float, default=None,
                        help="accept probability, 0..1 (default: the threshold stored with the model)")
    parser.add_argument("--model", type=Path, default=None,
                        help=f"model file (default: {scoring.DEFAULT_MODEL_PATH.relative_to(scoring.MODEL_DIR.parent.parent)})")
    parser.add_argument("--log-level", default="WARNING", help="logging level (default: WARNING)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        print(f"error: --threshold {args.threshold} is outside 0..1", file=sys.stderr)
        return 2
    try:
        pairs = read_pairs(args.pairs)
        result = match_pairs(pairs, args.model, args.threshold)
    except (FileNotFoundError, SchemaError, ModelVersionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(args.out, index=False)
    counts = result["decision"].value_counts().to_dict()
    print(f"scored {len(result)} pairs -> {args.out}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
