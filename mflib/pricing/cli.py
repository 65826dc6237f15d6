"""Command line: price hand-written hedge cases with the same code as the pipeline.

    python -m mflib.pricing CASES.json

CASES.json is a JSON list of cases:

    {"id": "c1", "orientation": "same" | "inverted",
     "kalshi": {"yes_asks": [[price, size], ...], "no_asks": [...], "fee_multiplier": 1.0},
     "polymarket": {"yes_asks": [...], "no_asks": [...], "fees_enabled": false,
                    "fee_rate": null, "category": "politics"},
     "stake_usd": 100}

Prices are dollars (0..1) and sizes contracts; a null size means unknown and counts as one
contract. The output is a JSON list with, per case, the direction with the highest net profit
(null when no direction has an edge) and its contracts, cost, fees per venue, net profit and
margin, as decimal strings in dollars.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from mflib.fees import (
    DEFAULT_KALSHI_FEE_RATE,
    DEFAULT_POLYMARKET_CATEGORY_FEE_RATES,
    polymarket_fee_rate,
    to_decimal,
)
from mflib.pricing.hedge import HedgeResult, LegTerms, price_hedge
from mflib.pricing.opportunity import DIRECTIONS, DIRECTIONS_BY_ORIENTATION

DEFAULT_STAKE_USD = Decimal(100)


class CaseError(ValueError):
    """A case in the cases file is missing a field or has an invalid value."""


def decimal_text(value: Decimal | None) -> str | None:
    """Format a Decimal as plain fixed-point text without trailing zeros ("1.75", "0", "100")."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _ladder(case_id: str, venue: dict, key: str) -> tuple[tuple[Decimal, Decimal | None], ...]:
    raw = venue.get(key) or []
    if not isinstance(raw, list):
        raise CaseError(f"case {case_id!r}: {key} must be a list of [price, size], got {raw!r}")
    levels = []
    for entry in raw:
        if not isinstance(entry, list) or len(entry) != 2:
            raise CaseError(f"case {case_id!r}: {key} level {entry!r} must be [price, size]")
        try:
            price, size = to_decimal(entry[0]), to_decimal(entry[1])
        except ValueError as exc:
            raise CaseError(f"case {case_id!r}: {key} level {entry!r}: {exc}") from exc
        if price is None or not (0 < price < 1):
            raise CaseError(f"case {case_id!r}: {key} price {entry[0]!r} must be between 0 and 1 (dollars)")
        if size is not None and size <= 0:
            raise CaseError(f"case {case_id!r}: {key} size {entry[1]!r} must be positive or null")
        levels.append((price, size))
    return tuple(sorted(levels, key=lambda level: level[0]))


def _execution_fields(result: HedgeResult, size: str) -> dict[str, Any]:
    execution = result.executable if size == "executable" else result.stake
    return {
        "contracts": decimal_text(execution.contracts),
        "cost": decimal_text(execution.cost),
        "fees": {
            "kalshi": decimal_text(execution.first_fee),
            "polymarket": decimal_text(execution.second_fee),
            "total": decimal_text(execution.fees),
        },
        "net_profit": decimal_text(execution.net_profit),
        "margin": decimal_text(execution.profit_margin.quantize(Decimal("0.000001")) if execution.profit_margin is not None else None),
    }


def price_case(case: dict) -> dict[str, Any]:
    """Price both directions of one case and return the best one (see the module docstring)."""
    if not isinstance(case, dict):
        raise CaseError(f"each case must be a JSON object, got {case!r}")
    case_id = str(case.get("id", ""))
    orientation = case.get("orientation")
    if orientation not in DIRECTIONS_BY_ORIENTATION:
        raise CaseError(f"case {case_id!r}: orientation must be 'same' or 'inverted', got {orientation!r}")
    kalshi = case.get("kalshi") or {}
    polymarket = case.get("polymarket") or {}
    try:
        stake = to_decimal(case.get("stake_usd"))
        multiplier = to_decimal(kalshi.get("fee_multiplier"))
        poly_fee_rate = to_decimal(polymarket.get("fee_rate"))
    except ValueError as exc:
        raise CaseError(f"case {case_id!r}: {exc}") from exc
    stake = DEFAULT_STAKE_USD if stake is None else stake
    kalshi_rate = DEFAULT_KALSHI_FEE_RATE * (multiplier if multiplier is not None else Decimal(1))
    poly_rate, _ = polymarket_fee_rate(
        fees_enabled=bool(polymarket.get("fees_enabled")),
        fee_rate=poly_fee_rate,
        category=polymarket.get("category"),
        category_rates=DEFAULT_POLYMARKET_CATEGORY_FEE_RATES,
    )

    results: dict[str, HedgeResult] = {}
    for direction in DIRECTIONS_BY_ORIENTATION[orientation]:
        kalshi_side, polymarket_side = DIRECTIONS[direction]
        first = LegTerms("kalshi", kalshi_side, _ladder(case_id, kalshi, f"{kalshi_side}_asks"), kalshi_rate)
        second = LegTerms("polymarket", polymarket_side, _ladder(case_id, polymarket, f"{polymarket_side}_asks"), poly_rate)
        results[direction] = price_hedge(first, second, stake)

    with_edge = {direction: result for direction, result in results.items() if result.has_edge}
    output: dict[str, Any] = {"id": case.get("id"), "direction": None}
    if with_edge:
        best = max(sorted(with_edge), key=lambda direction: with_edge[direction].executable.net_profit)
        output["direction"] = best
        output.update(_execution_fields(with_edge[best], "executable"))
        output["gross_gap"] = decimal_text(with_edge[best].gross_gap)
        output["stake"] = {"usd": decimal_text(stake), **_execution_fields(with_edge[best], "stake")}
    else:
        zero = decimal_text(Decimal(0))
        output.update({
            "contracts": zero, "cost": zero,
            "fees": {"kalshi": zero, "polymarket": zero, "total": zero},
            "net_profit": zero, "margin": None,
        })
        gaps = [result.gross_gap for result in results.values() if result.gross_gap is not None]
        output["gross_gap"] = decimal_text(max(gaps)) if gaps else None
        output["stake"] = None
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mflib.pricing", description="Price hedge cases (prices in dollars) and print the best direction of each as JSON.")
    parser.add_argument("cases", type=Path, help="JSON file with a list of cases")
    args = parser.parse_args(argv)
    try:
        cases = json.loads(args.cases.read_text(encoding="utf-8-sig"), parse_float=Decimal)
    except FileNotFoundError:
        print(f"error: cases file {args.cases} not found", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: cases file {args.cases} is not valid JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(cases, list):
        print(f"error: cases file {args.cases} must contain a JSON list of cases", file=sys.stderr)
        return 2
    try:
        results = [price_case(case) for case in cases]
    except CaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
