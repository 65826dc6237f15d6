"""Count labeled same/inverted pairs with a positive edge after fees, from their recorded top-of-book asks.

    .venv/bin/python bench/dev_pairs_edges.py [--csv PATH]

Input: labels/dev_pairs.csv of the recorded data folder (see mflib.config.shared_data_dir).
Its k_*_ask and p_*_ask columns are top-of-book asks in cents taken at the same moment on both
venues. Assumptions, printed with the figures:
- Polymarket asks of 99 or 99.9 cents on both sides mean an empty book, so that venue has no offer.
- No depth is recorded. "1 contract" prices one contract at the best asks; "$100" assumes the best
  ask holds enough contracts for a $100 stake, which can only overstate the edge.
- Polymarket fees: disabled (every recorded market has feesEnabled false), and again enabled at a
  category rate: sports (0.03) for the NBA rows, and the highest rate (0.07) for the others,
  because the file names no category.
- Kalshi fee: 0.07 x C x P x (1 - P) rounded up to the cent, series multiplier 1.
The pricing code is mflib.pricing.hedge.price_hedge, the same as the pipeline's.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd

from mflib.config import shared_data_dir
from mflib.fees import DEFAULT_KALSHI_FEE_RATE, DEFAULT_POLYMARKET_CATEGORY_FEE_RATES
from mflib.pricing.hedge import LegTerms, price_hedge
from mflib.pricing.opportunity import DIRECTIONS, DIRECTIONS_BY_ORIENTATION

EMPTY_BOOK_CENTS = {Decimal("99"), Decimal("99.9")}
DEEP = Decimal(10) ** 9
STAKE = Decimal(100)


def _cents(value) -> Decimal | None:
    if pd.isna(value):
        return None
    return Decimal(str(value))


def best_edge(row: pd.Series, *, size: Decimal, poly_rate: Decimal, empty_rule: bool) -> tuple[Decimal, Decimal] | None:
    """Return (net profit, gross gap) of the best direction, or None when a needed ask is missing."""
    asks = {key: _cents(row[key]) for key in ("k_yes_ask", "k_no_ask", "p_yes_ask", "p_no_ask")}
    if empty_rule and asks["p_yes_ask"] in EMPTY_BOOK_CENTS and asks["p_no_ask"] in EMPTY_BOOK_CENTS:
        asks["p_yes_ask"] = asks["p_no_ask"] = None
    best = None
    for direction in DIRECTIONS_BY_ORIENTATION[row["label"]]:
        kalshi_side, poly_side = DIRECTIONS[direction]
        kalshi_ask, poly_ask = asks[f"k_{kalshi_side}_ask"], asks[f"p_{poly_side}_ask"]
        if kalshi_ask is None or poly_ask is None:
            continue
        first = LegTerms("kalshi", kalshi_side, ((kalshi_ask / 100, size),), DEFAULT_KALSHI_FEE_RATE)
        second = LegTerms("polymarket", poly_side, ((poly_ask / 100, size),), poly_rate)
        result = price_hedge(first, second, STAKE)
        execution = result.executable if size == 1 else result.stake
        net = execution.net_profit if result.has_edge else Decimal(0)
        if best is None or net > best[0] or (net == best[0] and result.gross_gap > best[1]):
            best = (net, result.gross_gap)
    return best


def summarize(pairs: pd.DataFrame, *, empty_rule: bool) -> list[dict]:
    rows = []
    for fees in ("disabled", "enabled"):
        for label, size in (("1 contract", Decimal(1)), ("$100 stake", DEEP)):
            positive = priced = 0
            for _, row in pairs.iterrows():
                if fees == "enabled":
                    category = "sports" if str(row["source"]).startswith("nba") else "unknown"
                    rate = DEFAULT_POLYMARKET_CATEGORY_FEE_RATES.get(category, max(DEFAULT_POLYMARKET_CATEGORY_FEE_RATES.values()))
                else:
                    rate = Decimal(0)
                best = best_edge(row, size=size, poly_rate=rate, empty_rule=empty_rule)
                if best is None:
                    continue
                priced += 1
                positive += best[0] > 0
            rows.append({"polymarket fees": fees, "size": label, "priced pairs": priced, "positive edge": positive})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=shared_data_dir() / "labels" / "dev_pairs.csv",
                        help="labeled pairs file (default: labels/dev_pairs.csv of the recorded data folder)")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"error: {args.csv} not found; set MARKETFINDER_DATA to the recorded data folder", file=sys.stderr)
        return 2
    frame = pd.read_csv(args.csv)
    matched = frame[frame["label"].isin(["same", "inverted"])]
    with_asks = matched.dropna(subset=["k_yes_ask", "k_no_ask", "p_yes_ask", "p_no_ask"])
    empty = with_asks[with_asks["p_yes_ask"].isin([99, 99.9]) & with_asks["p_no_ask"].isin([99, 99.9])]
    print(f"same/inverted pairs: {len(matched)}; with all four asks: {len(with_asks)} "
          f"(same {int((with_asks['label'] == 'same').sum())}, inverted {int((with_asks['label'] == 'inverted').sum())}); "
          f"Polymarket book empty (99/99.9 on both sides): {len(empty)}")
    print("\nEmpty Polymarket books count as no offer:")
    print(pd.DataFrame(summarize(with_asks, empty_rule=True)).to_string(index=False))
    print("\nSensitivity, taking 99/99.9 cents as real asks:")
    print(pd.DataFrame(summarize(with_asks, empty_rule=False)).to_string(index=False))
    gaps = []
    for _, row in with_asks.iterrows():
        best = best_edge(row, size=Decimal(1), poly_rate=Decimal(0), empty_rule=False)
        if best is not None:
            gaps.append(float(best[1]))
    if gaps:
        print(f"\nbest gross gap per pair at the literal asks (dollars): max {max(gaps):.4f}, median {sorted(gaps)[len(gaps) // 2]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
