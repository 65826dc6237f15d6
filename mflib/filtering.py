"""Filtering: compare titles inside each bucket and keep the best Polymarket matches per Kalshi market.

Text similarity is rapidfuzz's token-sort ratio, computed as `fuzz.ratio` over texts that were
normalized once per market (title plus subtitle, lower case, amounts written plainly, stopwords
removed, tokens de-duplicated and sorted). That gives the token-sort score at the speed of plain
`ratio`. `scorer="token_set_ratio"` or `"WRatio"` trade about 30x the time for subset matching.

Large buckets are scored with `process.cdist`, one matrix per bucket. Small ones are gathered into
one list of distinct pairs scored by `process.cpdist`, because a cdist call per tiny bucket costs
more in Python overhead than in scoring.

A pair stays when it passes `min_text_score` and `max_close_gap_days`. Each Kalshi market then
keeps its `top_k` Polymarket markets by a rank score: the text score, plus `number_weight` times
the share of numbers both texts contain, minus `close_gap_weight` per day of close-time gap. The
number term puts the right strike or date of a ladder first.

Near-misses that differ only in deadline or threshold stay in the candidates with their extracted
facts, so the scoring layer can give them a reason code. `drop_fact_mismatches` rejects them here
instead, counted under reason codes.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import time
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from mflib import teams
from mflib.bucketing import (
    KALSHI,
    POLYMARKET,
    is_number,
    keyword_stem,
    resolve_params,
    sorted_unique,
    tokenize,
)
from mflib.errors import ConfigError, SchemaError

log = logging.getLogger(__name__)

SCORERS = {"token_sort_ratio": fuzz.ratio, "token_set_ratio": fuzz.token_set_ratio, "WRatio": fuzz.WRatio}

DEFAULT_PARAMS: dict[str, tuple[object, type | tuple[type, ...]]] = {
    # token_sort_ratio (fast, on pre-sorted tokens), token_set_ratio or WRatio.
    "scorer": ("token_sort_ratio", str),
    # Minimum text score (0-100) for a pair to stay.
    "min_text_score": (55.0, (int, float)),
    # Polymarket matches kept per Kalshi market, best rank score first.
    "top_k": (2, int),
    # Maximum difference between the two close times, in days. A missing close time passes.
    "max_close_gap_days": (31.0, (int, float)),
    # Markets with less liquidity in USD are left out. A missing liquidity passes.
    "min_liquidity_usd": (0.0, (int, float)),
    # rapidfuzz worker threads, where -1 uses every core.
    "workers": (-1, int),
    # Rank points added when every number of the shorter number list occurs in the other text
    # (scaled by the share that does).
    "number_weight": (15.0, (int, float)),
    # Rank points removed per day of close-time gap.
    "close_gap_weight": (0.1, (int, float)),
    # Buckets with fewer pairs than this are scored together through one cpdist call.
    "small_bucket_pairs": (20_000, int),
    # Add deadline and threshold facts from mflib.extract to the candidates.
    "extract_facts": (True, bool),
    # Reject candidates whose extracted deadline or threshold differs, instead of keeping them
    # for the scoring layer to label.
    "drop_fact_mismatches": (False, bool),
}

REJECT_TEXT = "text_score_below_min"
REJECT_GAP = "close_gap_over_max"
REJECT_TOP_K = "not_in_top_k"
REJECT_LIQUIDITY = "liquidity_below_min"
REJECT_DEADLINE = "deadline_differs"
REJECT_THRESHOLD = "threshold_differs"


@dataclass
class FilterResult:
    """The candidate pairs of one run, the rejected pair counts per reason and summary figures."""

    candidates: pd.DataFrame
    rejected: pd.DataFrame  # reason, pairs
    stats: dict = field(default_factory=dict)


def text_features(titles: list, subtitles: list) -> tuple[list[str], list[str]]:
    """Return the compared texts and number signatures of markets, one of each per market.

    A text is the sorted distinct content tokens of title and subtitle, with a plural or
    third-person "s" stripped (see keyword_stem). A number signature is the sorted distinct
    numbers among them ("100000 25"), used to rank the rungs of a ladder.
    """
    joined = [
        f"{title if isinstance(title, str) else ''} {subtitle if isinstance(subtitle, str) else ''}"
        for title, subtitle in zip(titles, subtitles, strict=True)
    ]
    positions, tokens = tokenize(joined)
    if len(tokens):
        raw_codes, raw_vocabulary = pd.factorize(pd.Series(tokens, dtype=object))
        tokens = np.array([keyword_stem(token) for token in raw_vocabulary], dtype=object)[raw_codes]
    # Sorting (position, alphabetical token rank) as one integer key de-duplicates and orders the
    # tokens of every market in one numpy pass.
    codes, uniques = pd.factorize(pd.Series(tokens, dtype=object), sort=True)
    keys = sorted_unique(positions * max(len(uniques), 1) + codes)
    positions, codes = keys // max(len(uniques), 1), keys % max(len(uniques), 1)
    vocabulary = np.asarray(uniques, dtype=object)
    frame = pd.DataFrame({"position": positions, "token": vocabulary[codes] if len(keys) else vocabulary[:0]})
    numeric_vocabulary = np.array([is_number(token) for token in vocabulary], dtype=bool)
    numeric = frame[numeric_vocabulary[codes]] if len(keys) else frame
    return _join_groups(frame, len(titles)), _join_groups(numeric, len(titles))


def _join_groups(frame: pd.DataFrame, count: int) -> list[str]:
    """Join the sorted tokens of each position with spaces, giving "" to positions without tokens."""
    result = [""] * count
    if frame.empty:
        return result
    positions = frame["position"].to_numpy()
    tokens = frame["token"].to_numpy(dtype=object)
    starts = np.r_[0, np.flatnonzero(np.diff(positions)) + 1]
    ends = np.r_[starts[1:], len(positions)]
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        result[positions[start]] = " ".join(tokens[start:end])
    return result


def _prepare_markets(markets: pd.DataFrame, market_ids_in_buckets: np.ndarray, settings: dict) -> tuple[pd.DataFrame, int]:
    in_buckets = pd.Index(market_ids_in_buckets).get_indexer(markets["market_id"].to_numpy(dtype=object)) >= 0
    table = markets[in_buckets].drop_duplicates("market_id")
    if "liquidity_usd" in table.columns and settings["min_liquidity_usd"] > 0:
        liquidity = pd.to_numeric(table["liquidity_usd"], errors="coerce")
        low = liquidity.notna() & (liquidity < settings["min_liquidity_usd"])
        table = table[~low.to_numpy()]
        dropped = int(low.sum())
    else:
        dropped = 0
    table = table.reset_index(drop=True)
    titles = table["title"].tolist()
    subtitles = table["subtitle"].tolist() if "subtitle" in table.columns else [""] * len(table)
    tickers = table["market_id"].astype("string").fillna("").tolist()
    subtitles = [_with_team_nicknames(title, subtitle, ticker)
                 for title, subtitle, ticker in zip(titles, subtitles, tickers, strict=True)]
    texts, numbers = text_features(titles, subtitles)
    close = pd.to_datetime(table["close_time"], utc=True, errors="coerce")
    prepared = pd.DataFrame(
        {
            "market_id": table["market_id"].astype("string").to_numpy(),
            "platform": table["platform"].astype("string").to_numpy(),
            "title": table["title"].astype("string").to_numpy(),
            "text": pd.Series(texts, dtype=object),
            "numbers": pd.Series(numbers, dtype=object),
            "number_mask": np.array([number_mask(signature) for signature in numbers], dtype=np.uint64),
            "close_day": ((close - pd.Timestamp(0, tz="UTC")).dt.total_seconds() / 86400.0).to_numpy(
                dtype=float, na_value=np.nan
            ),
        }
    )
    return prepared, dropped


def _with_team_nicknames(title: object, subtitle: object, ticker: str) -> str:
    """Append the canonical nicknames of the teams named in a market, so that a Kalshi game named
    by cities and the Polymarket game named by nicknames share their words. The ticker goes in
    only as a hint that a Kalshi market is about basketball (KXNBA...)."""
    subtitle = subtitle if isinstance(subtitle, str) else ""
    names = teams.team_nicknames(f"{title if isinstance(title, str) else ''} {subtitle} {ticker}")
    return f"{subtitle} {' '.join(names)}".strip() if names else subtitle


def number_mask(signature: str) -> int:
    """Hash each number of a signature to one of 64 bits, so number sets intersect with a bitwise and."""
    mask = 0
    for token in signature.split():
        mask |= 1 << (zlib.crc32(token.encode("ascii")) % 64)
    return mask


def number_overlap(kalshi_masks: np.ndarray, poly_masks: np.ndarray) -> np.ndarray:
    """Return 100 x shared numbers / numbers of the shorter side (0 when a side has none).

    Two numbers can hash to the same bit, so the share is an upper estimate. With a handful of
    numbers per title a collision is rare.
    """
    shared = np.bitwise_count(kalshi_masks & poly_masks).astype(np.float32)
    smaller = np.minimum(np.bitwise_count(kalshi_masks), np.bitwise_count(poly_masks)).astype(np.float32)
    return np.where(smaller > 0, 100.0 * shared / np.maximum(smaller, 1), 0.0).astype(np.float32)


def rank_scores(text: np.ndarray, numbers: np.ndarray, gap: np.ndarray, settings: dict) -> np.ndarray:
    """Return the score that orders a Kalshi market's matches: text, number overlap, close-time gap."""
    penalty = settings["close_gap_weight"] * np.nan_to_num(gap, nan=0.0)
    return text + settings["number_weight"] * numbers / 100.0 - penalty


def _top_k_rows(kalshi: np.ndarray, rank: np.ndarray, top_k: int) -> np.ndarray:
    """Return a mask that keeps the top_k highest rank scores of each Kalshi position."""
    order = np.lexsort((-rank, kalshi))
    sorted_kalshi = kalshi[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_kalshi)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = np.zeros(len(rank), dtype=bool)
    keep[order[(np.arange(len(order)) - group_start) < top_k]] = True
    return keep


class _Collector:
    """Accumulates passing pairs and rejection counts across buckets."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []
        self.rejected = {REJECT_TEXT: 0, REJECT_GAP: 0, REJECT_TOP_K: 0}

    def add(self, bucket: str | np.ndarray, kalshi, poly, text, numbers, gap, rank) -> None:
        self.parts.append(
            pd.DataFrame(
                {"bucket": bucket, "k": kalshi, "p": poly, "text_score": text, "number_score": numbers,
                 "close_gap_days": gap, "rank_score": rank}
            )
        )


def _judge(kalshi, poly, text, numbers, gap, settings, collector: _Collector, bucket, *, prune: bool = False) -> None:
    """Apply the text and close-gap thresholds and collect the pairs that pass.

    With prune, only each Kalshi market's top_k pairs of this bucket are collected. That loses
    nothing, because a pair that lost to top_k others in one bucket cannot be in the global top_k.
    """
    passes_text = text >= settings["min_text_score"]
    collector.rejected[REJECT_TEXT] += int((~passes_text).sum())
    gap_ok = np.isnan(gap) | (gap <= settings["max_close_gap_days"])
    collector.rejected[REJECT_GAP] += int((passes_text & ~gap_ok).sum())
    keep = passes_text & gap_ok
    if not keep.any():
        return
    kalshi, poly, text, numbers, gap = kalshi[keep], poly[keep], text[keep], numbers[keep], gap[keep]
    bucket = bucket[keep] if isinstance(bucket, np.ndarray) else np.full(len(kalshi), bucket, dtype=np.int64)
    rank = rank_scores(text, numbers, gap, settings)
    if prune:
        best = _top_k_rows(kalshi, rank, settings["top_k"])
        collector.rejected[REJECT_TOP_K] += int((~best).sum())
        kalshi, poly, text, numbers, gap, bucket, rank = (
            kalshi[best], poly[best], text[best], numbers[best], gap[best], bucket[best], rank[best]
        )
    collector.add(bucket, kalshi, poly, text, numbers, gap, rank)


def _score_large_bucket(bucket: int, k_idx, p_idx, prepared, scorer, settings, collector) -> None:
    texts = prepared["text"].to_numpy()
    masks = prepared["number_mask"].to_numpy()
    days = prepared["close_day"].to_numpy()
    text = process.cdist(texts[k_idx], texts[p_idx], scorer=scorer, workers=settings["workers"], dtype=np.float32)
    rows, cols = np.nonzero(text >= settings["min_text_score"])
    collector.rejected[REJECT_TEXT] += int(text.size - rows.size)
    if not rows.size:
        return
    kalshi, poly = k_idx[rows], p_idx[cols]
    gap = np.abs(days[kalshi] - days[poly])
    number = number_overlap(masks[kalshi], masks[poly])
    _judge(kalshi, poly, text[rows, cols], number, gap, settings, collector, bucket, prune=True)


def _score_small_buckets(pairs: pd.DataFrame, prepared, scorer, settings, collector) -> None:
    if pairs.empty:
        return
    texts = prepared["text"].to_numpy()
    masks = prepared["number_mask"].to_numpy()
    days = prepared["close_day"].to_numpy()
    k_idx = pairs["k"].to_numpy()
    p_idx = pairs["p"].to_numpy()
    text = process.cpdist(texts[k_idx], texts[p_idx], scorer=scorer, workers=settings["workers"], dtype=np.float32)
    passing = text >= settings["min_text_score"]
    collector.rejected[REJECT_TEXT] += int((~passing).sum())
    k_idx, p_idx, text = k_idx[passing], p_idx[passing], text[passing]
    number = number_overlap(masks[k_idx], masks[p_idx])
    gap = np.abs(days[k_idx] - days[p_idx])
    _judge(k_idx, p_idx, text, number, gap, settings, collector, pairs["bucket"].to_numpy()[passing])


def _bucket_members(buckets: pd.DataFrame, prepared: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Return bucket memberships as integer positions and bucket codes, plus the bucket names."""
    position = pd.Series(np.arange(len(prepared)), index=prepared["market_id"].to_numpy(dtype=object))
    codes, names = pd.factorize(buckets["bucket"].to_numpy(dtype=object))
    members = pd.DataFrame({
        "bucket": codes,
        "position": position.reindex(buckets["market_id"].to_numpy(dtype=object)).to_numpy(),
    })
    members = members.dropna(subset=["position"])
    members["position"] = members["position"].astype(np.int64)
    members["is_kalshi"] = prepared["platform"].to_numpy(dtype=object)[members["position"].to_numpy()] == KALSHI
    return members, np.asarray(names, dtype=object)


def _score_buckets(members: pd.DataFrame, prepared, scorer, settings) -> tuple[_Collector, int]:
    collector = _Collector()
    kalshi_members = members[members["is_kalshi"]]
    poly_members = members[~members["is_kalshi"]]
    sizes = pd.DataFrame({"k": kalshi_members.groupby("bucket").size(), "p": poly_members.groupby("bucket").size()})
    sizes = sizes.fillna(0).astype(np.int64)
    sizes["pairs"] = sizes["k"] * sizes["p"]
    sizes = sizes[sizes["pairs"] > 0]
    is_large = np.zeros(int(members["bucket"].max()) + 1 if len(members) else 0, dtype=bool)
    is_large[sizes.index[sizes["pairs"] >= settings["small_bucket_pairs"]].to_numpy()] = True

    small_k = kalshi_members[~is_large[kalshi_members["bucket"].to_numpy()]]
    small_p = poly_members[~is_large[poly_members["bucket"].to_numpy()]]
    small_pairs = small_k[["bucket", "position"]].merge(small_p[["bucket", "position"]], on="bucket",
                                                        suffixes=("_k", "_p"))
    small_pairs = small_pairs.rename(columns={"position_k": "k", "position_p": "p"})
    # A pair that shares several small buckets is scored once, under its first bucket.
    pair_keys = small_pairs["k"].to_numpy(np.int64) * len(prepared) + small_pairs["p"].to_numpy(np.int64)
    _, first = np.unique(pair_keys, return_index=True)
    small_pairs = small_pairs.iloc[np.sort(first)]
    _score_small_buckets(small_pairs, prepared, scorer, settings, collector)

    large_k = kalshi_members[is_large[kalshi_members["bucket"].to_numpy()]]
    large_p = poly_members[is_large[poly_members["bucket"].to_numpy()]]
    p_lookup = {code: group.to_numpy() for code, group in large_p.groupby("bucket")["position"]}
    for code, group in large_k.groupby("bucket")["position"]:
        _score_large_bucket(int(code), group.to_numpy(), p_lookup[code], prepared, scorer, settings, collector)
    return collector, int(sizes["pairs"].sum())


def _select_candidates(collector: _Collector, settings: dict) -> pd.DataFrame:
    if not collector.parts:
        return pd.DataFrame(columns=["bucket", "k", "p", "text_score", "number_score", "close_gap_days", "rank_score"])
    found = pd.concat(collector.parts, ignore_index=True)
    # The same pair can come from several buckets with the same scores, so keep it once.
    found = found.sort_values("rank_score", ascending=False, kind="stable").drop_duplicates(["k", "p"])
    keep = _top_k_rows(found["k"].to_numpy(), found["rank_score"].to_numpy(), settings["top_k"])
    collector.rejected[REJECT_TOP_K] += int((~keep).sum())
    return found[keep].reset_index(drop=True)


def _fact_features(candidates: pd.DataFrame, markets: pd.DataFrame) -> pd.DataFrame:
    """Add deadline and threshold facts of both markets from mflib.extract, and mismatch flags."""
    from mflib import extract

    ids = set(candidates["kalshi_id"]) | set(candidates["polymarket_id"])
    subset = markets[markets["market_id"].isin(ids)].drop_duplicates("market_id")
    facts = extract.market_facts(subset)
    facts.index = subset["market_id"].to_numpy()
    kalshi = facts.reindex(candidates["kalshi_id"])
    poly = facts.reindex(candidates["polymarket_id"])
    result = candidates.copy()
    result["kalshi_deadline"] = pd.array(kalshi["deadline"].to_numpy(), dtype=object)
    result["polymarket_deadline"] = pd.array(poly["deadline"].to_numpy(), dtype=object)
    result["kalshi_thresholds"] = kalshi["thresholds"].fillna("[]").to_numpy()
    result["polymarket_thresholds"] = poly["thresholds"].fillna("[]").to_numpy()
    gaps, flags = [], []
    for k_deadline, p_deadline, k_thresholds, p_thresholds in zip(
        result["kalshi_deadline"], result["polymarket_deadline"], result["kalshi_thresholds"],
        result["polymarket_thresholds"], strict=True,
    ):
        gap = abs((k_deadline - p_deadline).days) if k_deadline and p_deadline else None
        gaps.append(gap)
        codes = []
        if gap is not None and gap > 1:
            codes.append(REJECT_DEADLINE)
        k_values = {item.get("value") for item in json.loads(k_thresholds)}
        p_values = {item.get("value") for item in json.loads(p_thresholds)}
        if k_values and p_values and not (k_values & p_values):
            codes.append(REJECT_THRESHOLD)
        flags.append(";".join(codes))
    result["deadline_gap_days"] = pd.array(gaps, dtype="Int64")
    result["fact_flags"] = pd.array(flags, dtype="string")
    result["kalshi_deadline"] = result["kalshi_deadline"].map(lambda value: value.isoformat() if value else None)
    result["polymarket_deadline"] = result["polymarket_deadline"].map(lambda value: value.isoformat() if value else None)
    return result


def _check_inputs(markets: pd.DataFrame, buckets: pd.DataFrame, settings: dict) -> None:
    for name in ("platform", "market_id", "title", "close_time"):
        if name not in markets.columns:
            raise SchemaError("markets", f"missing column {name!r}; build the table with mflib.schema.MARKET_COLUMNS")
    for name in ("market_id", "bucket"):
        if name not in buckets.columns:
            raise SchemaError("buckets", f"missing column {name!r}; pass BucketResult.buckets from assign_buckets")
    if settings["scorer"] not in SCORERS:
        raise ConfigError("filter.scorer", f"unknown scorer {settings['scorer']!r}; expected one of {', '.join(SCORERS)}")
    if settings["top_k"] < 1:
        raise ConfigError("filter.top_k", f"must be at least 1, got {settings['top_k']}")
    if settings["min_text_score"] > 100:
        raise ConfigError("filter.min_text_score", f"must be between 0 and 100, got {settings['min_text_score']}")
    if settings["workers"] == 0 or settings["workers"] < -1:
        raise ConfigError("filter.workers", f"must be -1 (every core) or a positive count, got {settings['workers']}")


def resolve_filter_params(params: dict | None) -> dict:
    """Merge the filter parameters over their defaults, raising ConfigError that names a bad key."""
    settings = dict(params or {})
    # workers is checked apart because -1 (every core) is the only negative value allowed.
    workers = settings.pop("workers", -1)
    resolved = resolve_params(settings, {k: v for k, v in DEFAULT_PARAMS.items() if k != "workers"}, "filter")
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise ConfigError("filter.workers", f"expected int, got {workers!r}")
    resolved["workers"] = workers
    return resolved


def find_candidates(markets: pd.DataFrame, buckets: pd.DataFrame, params: dict | None = None) -> FilterResult:
    """Score the pairs inside each bucket and return the candidate pairs with their features.

    Raises ConfigError naming the parameter on a bad value, SchemaError on a missing column.
    """
    settings = resolve_filter_params(params)
    _check_inputs(markets, buckets, settings)
    started = time.perf_counter()
    scorer = SCORERS[settings["scorer"]]

    prepared, low_liquidity = _prepare_markets(markets, buckets["market_id"].unique().to_numpy(dtype=object), settings)
    members, bucket_names = _bucket_members(buckets, prepared)
    log.info("filtering: start, %d markets in %d bucket memberships, scorer %s", len(prepared), len(members),
             settings["scorer"])
    collector, compared = _score_buckets(members, prepared, scorer, settings)
    chosen = _select_candidates(collector, settings)

    market_ids = prepared["market_id"].to_numpy()
    candidates = pd.DataFrame(
        {
            "pair_id": [f"{k}|{p}" for k, p in zip(market_ids[chosen["k"].to_numpy(np.int64)],
                                                   market_ids[chosen["p"].to_numpy(np.int64)], strict=True)],
            "kalshi_id": market_ids[chosen["k"].to_numpy(np.int64)],
            "polymarket_id": market_ids[chosen["p"].to_numpy(np.int64)],
            "bucket": bucket_names[chosen["bucket"].to_numpy(np.int64)],
            "text_score": chosen["text_score"].to_numpy(np.float64).round(2),
            "number_score": chosen["number_score"].to_numpy(np.float64).round(2),
            "rank_score": chosen["rank_score"].to_numpy(np.float64).round(2),
            "close_gap_days": chosen["close_gap_days"].to_numpy(np.float64).round(3),
            "kalshi_title": prepared["title"].to_numpy()[chosen["k"].to_numpy(np.int64)],
            "polymarket_title": prepared["title"].to_numpy()[chosen["p"].to_numpy(np.int64)],
        }
    )
    candidates = candidates.astype({"pair_id": "string", "kalshi_id": "string", "polymarket_id": "string",
                                    "bucket": "string", "kalshi_title": "string", "polymarket_title": "string"})
    rejected = dict(collector.rejected)
    rejected[REJECT_LIQUIDITY] = low_liquidity

    if settings["extract_facts"] and len(candidates) and importlib.util.find_spec("mflib.extract") is None:
        log.warning("filtering: mflib.extract is not installed, so candidates carry no deadline or threshold facts")
    elif settings["extract_facts"] and len(candidates):
        candidates = _fact_features(candidates, markets)
        if settings["drop_fact_mismatches"]:
            flags = candidates["fact_flags"].fillna("")
            for code in (REJECT_DEADLINE, REJECT_THRESHOLD):
                rejected[code] = int(flags.str.contains(code).sum())
            candidates = candidates[flags == ""].reset_index(drop=True)
    candidates = candidates.sort_values(["text_score", "pair_id"], ascending=[False, True], ignore_index=True)

    seconds = time.perf_counter() - started
    rejected_frame = pd.DataFrame({"reason": list(rejected), "pairs": [int(v) for v in rejected.values()]})
    stats = {
        "markets": len(prepared),
        "kalshi_markets": int((prepared["platform"] == KALSHI).sum()),
        "polymarket_markets": int((prepared["platform"] == POLYMARKET).sum()),
        "bucket_pairs_compared": compared,
        "candidates": len(candidates),
        "kalshi_with_candidate": int(candidates["kalshi_id"].nunique()),
        "seconds": round(seconds, 3),
        "scorer": settings["scorer"],
    }
    log.info("filtering: end, %d bucket pairs compared, %d candidates, rejected %s, %.2f s", compared,
             len(candidates), rejected, seconds)
    return FilterResult(candidates=candidates, rejected=rejected_frame, stats=stats)
