"""Bucketing: group markets by shared keywords and close time, so only plausible pairs get compared.

A bucket is a set of Kalshi and Polymarket markets that share a rare keyword (a person, team,
asset or place name, a team code from a ticker or slug). Only keywords that occur on both venues
become buckets, because a one-venue bucket can never produce a pair. A market without such a
keyword falls back to a bucket of its category and close month (then its category, then its close
month, then a last-resort bucket "all"). So every market lands in a bucket that contains the
other venue whenever the table contains both venues. Every market also joins a bucket of its category and
close-time window (`category_window_days`), which catches pairs whose shared words are all
common ("Fed", "rate", "June"). A bucket whose pair count
exceeds `max_bucket_pairs` is split into overlapping close-time windows (31, then 7, then 2 days
by default), so two markets whose close times differ by up to the window width share a window.
"""

from __future__ import annotations

import logging
import math
import re
import time
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mflib.errors import ConfigError, SchemaError

log = logging.getLogger(__name__)

KALSHI = "kalshi"
POLYMARKET = "polymarket"

# Parameter name -> (default, accepted types). Each is documented in README-style in the notebook.
DEFAULT_PARAMS: dict[str, tuple[object, type | tuple[type, ...]]] = {
    # Drop markets whose `tradeable` flag is not true before bucketing.
    "only_tradeable": (True, bool),
    # Minimum inverse document frequency ln(N / document count) for a keyword to become a bucket.
    # 4.0 keeps words that occur in at most 1 of every 55 markets.
    "min_keyword_idf": (4.0, (int, float)),
    # Number of rarest keywords per market that become its buckets.
    "max_keywords_per_market": (4, int),
    # A bucket with more Kalshi x Polymarket pairs than this is split by close time.
    "max_bucket_pairs": (250_000, int),
    # Close-time windows, in days, used one after another to split a bucket that is still oversized.
    # A window of w days keeps every pair whose close times differ by at most w days together, so
    # the last (narrowest) level is also the largest close-time gap an oversized bucket still keeps.
    "split_levels_days": ([31, 7, 2], list),
    # When above 0, every market also joins a bucket of its category and close-time window of this
    # many days (windows overlap, as in the splits). That catches pairs without a shared rare
    # keyword, at the cost of more pairs to compare. 0 turns it off.
    "category_window_days": (31, int),
    # Above this many summed bucket pairs, bucketed_pairs is that sum (an upper bound) instead of
    # the exact count of distinct pairs, which would need memory for every pair.
    "max_exact_pair_count": (30_000_000, int),
}

STOPWORDS = frozenset(
    """
    a an the of in on at by to for from with and or not no yes be is are was were will would
    than then this that these those it its as if into over under before after during between
    what which who whom whose when where why how does do did has have had can could should
    any all each every more most less least other another there their they them he she his her
    him our we you your i me my per via vs versus about above below up down out off again
    market markets question resolve resolves resolved resolution
    """.split()
)

# Venue category names mapped to one shared name, so the fallback buckets of both venues meet.
CATEGORY_ALIASES = {
    "elections": "politics",
    "world": "politics",
    "us-current-affairs": "politics",
    "economy": "economics",
    "financials": "economics",
    "finance": "economics",
    "business": "economics",
    "companies": "economics",
    "cryptocurrency": "crypto",
    "science and technology": "technology",
    "tech": "technology",
    "science": "technology",
    "climate and weather": "climate",
    "weather": "climate",
    "culture": "entertainment",
    "pop-culture": "entertainment",
    "pop culture": "entertainment",
}

_NUMBER_SUFFIX = re.compile(r"(\d+(?:\.\d+)?)\s?([kmb])\b")
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_MULTIPLIERS = {"k": 1e3, "m": 1e6, "b": 1e9}
_CODE = re.compile(r"^[A-Z]{2,4}$")


@dataclass
class BucketResult:
    """The bucket memberships of one run and the pair counts before and after bucketing."""

    buckets: pd.DataFrame  # market_id, platform, bucket
    stats: pd.DataFrame  # bucket, kalshi, polymarket, pairs, parent_bucket, parent_pairs, split
    naive_pairs: int  # every considered Kalshi market times every considered Polymarket market
    bucketed_pairs: int  # distinct Kalshi-Polymarket pairs that share at least one bucket
    bucketed_pairs_is_upper_bound: bool = False


def resolve_params(params: dict | None, defaults: dict, section: str) -> dict:
    """Merge params over defaults, raising ConfigError that names an unknown or mistyped key."""
    params = dict(params or {})
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ConfigError(f"{section}.{unknown[0]}", f"unknown parameter; expected one of {', '.join(defaults)}")
    resolved = {}
    for key, (default, kind) in defaults.items():
        value = params.get(key, default)
        numeric = kind in (int, float, (int, float))
        if isinstance(value, bool) and numeric:
            raise ConfigError(f"{section}.{key}", f"expected a number, got {value!r}")
        if not isinstance(value, kind):
            expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise ConfigError(f"{section}.{key}", f"expected {expected}, got {value!r}")
        if numeric and value < 0:
            raise ConfigError(f"{section}.{key}", f"must not be negative, got {value!r}")
        resolved[key] = value
    return resolved


MONTH_NAMES = {
    "jan": "january", "feb": "february", "mar": "march", "apr": "april", "jun": "june", "jul": "july",
    "aug": "august", "sep": "september", "sept": "september", "oct": "october", "nov": "november",
    "dec": "december",
}


def _format_number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def normalize_text(text: object) -> str:
    """Lower-case, strip accents and write amounts plainly ("$106K" and "$106,000" become "106000")."""
    if text is None or text is pd.NA or (isinstance(text, float) and math.isnan(text)):
        return ""
    text = str(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.lower()
    if "," in text:
        text = _THOUSANDS_COMMA.sub("", text)
    return _NUMBER_SUFFIX.sub(lambda m: _format_number(float(m.group(1)) * _MULTIPLIERS[m.group(2)]), text)


def content_tokens(text: object) -> list[str]:
    """Return the tokens of a normalized text without stopwords, month abbreviations spelled out."""
    tokens = []
    for token in _TOKEN.findall(normalize_text(text)):
        if token in STOPWORDS:
            continue
        tokens.append(MONTH_NAMES.get(token, token))
    return tokens


def keyword_stem(token: str) -> str:
    """Strip a plural or third-person "s" so "recognizes" and "recognize" share a bucket."""
    if len(token) > 4 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def is_number(token: str) -> bool:
    return token.replace(".", "", 1).isdigit()


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Return the sorted distinct values (np.unique without its slower hash path for int64)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def tokenize(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Split texts into content tokens, returned as (text position, token) arrays, one row per token.

    Stopwords are dropped and month abbreviations spelled out. Each distinct raw token is looked
    up once, which keeps this fast on tens of thousands of titles.
    """
    positions: list[int] = []
    raw: list[str] = []
    for position, text in enumerate(texts):
        found = _TOKEN.findall(normalize_text(text))
        positions.extend([position] * len(found))
        raw.extend(found)
    codes, uniques = pd.factorize(pd.Series(raw, dtype=object))
    canonical = np.array([None if token in STOPWORDS else MONTH_NAMES.get(token, token) for token in uniques],
                         dtype=object)
    tokens = canonical[codes] if len(raw) else np.array([], dtype=object)
    keep = tokens != None  # noqa: E711
    return np.asarray(positions, dtype=np.int64)[keep], tokens[keep]


def _text_column(markets: pd.DataFrame, name: str) -> pd.Series:
    if name not in markets.columns:
        return pd.Series([""] * len(markets), index=markets.index, dtype="string")
    return markets[name].astype("string").fillna("")


def _code_tokens(platform: str, market_id: str, slug: str) -> list[str]:
    """Team or person codes: the last Kalshi ticker segment, or short words of a Polymarket slug."""
    if platform == KALSHI:
        last = market_id.rsplit("-", 1)[-1] if "-" in market_id else ""
        return [last.lower()] if _CODE.match(last) else []
    return [part for part in slug.split("-") if 2 <= len(part) <= 4 and part.isalpha()]


def market_keywords(markets: pd.DataFrame) -> pd.DataFrame:
    """Return one row per (market position, keyword) from title, subtitle, event title and codes."""
    texts = (
        _text_column(markets, "title") + " " + _text_column(markets, "subtitle") + " " + _text_column(markets, "event_title")
    )
    positions, tokens = tokenize(texts.tolist())
    codes, uniques = pd.factorize(pd.Series(tokens, dtype=object))
    keywords = np.array([keyword_stem(t) if len(t) >= 3 and not is_number(t) else None for t in uniques], dtype=object)
    words = keywords[codes] if len(tokens) else np.array([], dtype=object)
    keep = words != None  # noqa: E711
    positions, words = positions[keep], words[keep]

    platforms = markets["platform"].astype("string").fillna("").tolist()
    market_ids = markets["market_id"].astype("string").fillna("").tolist()
    slugs = _text_column(markets, "slug").tolist()
    code_positions, code_words = [], []
    for position, (platform, market_id, slug) in enumerate(zip(platforms, market_ids, slugs, strict=True)):
        for code in _code_tokens(platform, market_id, slug):
            code_positions.append(position)
            code_words.append(code)
    all_positions = np.concatenate([positions, np.asarray(code_positions, dtype=np.int64)])
    all_words = np.concatenate([words, np.asarray(code_words, dtype=object)])
    # De-duplicate (position, keyword) through integer codes, which is much faster than on strings.
    codes, vocabulary = pd.factorize(pd.Series(all_words, dtype=object), sort=True)
    size = max(len(vocabulary), 1)
    keys = sorted_unique(all_positions * size + codes)
    vocabulary = np.asarray(vocabulary, dtype=object)
    return pd.DataFrame({"position": keys // size, "keyword": vocabulary[keys % size] if len(keys) else vocabulary[:0]})


def _category_names(markets: pd.DataFrame) -> pd.Series:
    category = _text_column(markets, "category").str.strip().str.lower()
    category = category.map(lambda name: CATEGORY_ALIASES.get(name, name) or "uncategorized")
    return category.astype("string")


def _close_months(markets: pd.DataFrame) -> pd.Series:
    close = pd.to_datetime(markets["close_time"], utc=True, errors="coerce")
    months = (close.dt.year * 100 + close.dt.month).astype("Int64")
    names = {value: f"{value // 100:04d}-{value % 100:02d}" for value in months.dropna().unique()}
    return months.map(names).astype("string").fillna("nodate")


def _select_keywords(markets: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Choose each market's rarest keywords among those that occur on both venues."""
    pairs = market_keywords(markets)
    if pairs.empty:
        return pd.DataFrame({"position": pd.Series(dtype=np.int64), "bucket": pd.Series(dtype="string")})
    platform = markets["platform"].to_numpy(dtype=object)[pairs["position"].to_numpy()]
    codes, vocabulary = pd.factorize(pairs["keyword"].to_numpy(dtype=object))
    documents = np.bincount(codes, minlength=len(vocabulary))
    kalshi = np.bincount(codes, weights=(platform == KALSHI), minlength=len(vocabulary))
    idf = np.log(len(markets) / np.maximum(documents, 1))
    eligible = (idf >= settings["min_keyword_idf"]) & (kalshi > 0) & (documents - kalshi > 0)
    keep = eligible[codes]
    chosen = pd.DataFrame({"position": pairs["position"].to_numpy()[keep], "code": codes[keep],
                           "idf": idf[codes[keep]]})
    chosen = chosen.sort_values(["position", "idf", "code"], ascending=[True, False, True], kind="stable")
    chosen = chosen[chosen.groupby("position").cumcount().to_numpy() < settings["max_keywords_per_market"]]
    names = np.asarray(vocabulary, dtype=object)[chosen["code"].to_numpy()]
    return pd.DataFrame({"position": chosen["position"].to_numpy(), "bucket": ["kw:" + name for name in names]})


def _fallback_buckets(markets: pd.DataFrame, missing: np.ndarray) -> pd.DataFrame:
    """Give each market without a keyword the narrowest fallback bucket that contains both venues."""
    category = _category_names(markets)
    month = _close_months(markets)
    is_kalshi = (markets["platform"] == KALSHI).to_numpy()
    candidates = [
        ("cat:" + category + "|" + month).to_numpy(dtype=object),
        ("cat:" + category).to_numpy(dtype=object),
        ("month:" + month).to_numpy(dtype=object),
    ]

    chosen = np.full(len(markets), "all", dtype=object)
    unresolved = missing.copy()
    for keys in candidates:
        # Fallback buckets hold only markets without a keyword, so a key qualifies when those
        # markets include both venues.
        frame = pd.DataFrame({"key": keys[missing], "kalshi": is_kalshi[missing]})
        venues = frame.groupby("key")["kalshi"].agg(["min", "max"])
        both = set(venues.index[(venues["min"] == False) & (venues["max"] == True)])  # noqa: E712
        hit = unresolved & np.array([key in both for key in keys], dtype=bool)
        chosen[hit] = keys[hit]
        unresolved &= ~hit

    positions = np.flatnonzero(missing)
    frame = pd.DataFrame({"position": positions, "bucket": pd.array(chosen[positions], dtype="string")})
    if unresolved.any():
        # The last-resort bucket "all" also takes every fallback market of a venue it lacks, so its
        # markets can still pair. An oversized "all" is split by close time like any other bucket.
        lacking = set()
        if not is_kalshi[unresolved].any():
            lacking.add(True)
        if is_kalshi[unresolved].all():
            lacking.add(False)
        extra = np.flatnonzero(missing & ~unresolved & np.isin(is_kalshi, list(lacking)))
        frame = pd.concat([frame, pd.DataFrame({"position": extra, "bucket": pd.array(["all"] * len(extra), dtype="string")})],
                          ignore_index=True)
    return frame


def _window_starts(windows: np.ndarray, width: int) -> np.ndarray:
    """Return the start date ("YYYY-MM-DD") of each window index, formatting each distinct index once."""
    distinct, inverse = np.unique(windows, return_inverse=True)
    labels = pd.to_datetime(distinct * width, unit="D", utc=True).strftime("%Y-%m-%d").to_numpy(dtype=object)
    return labels[inverse]


def _category_window_buckets(markets: pd.DataFrame, width: int) -> pd.DataFrame:
    """Put every market into category buckets of overlapping close-time windows of `width` days."""
    close = pd.to_datetime(markets["close_time"], utc=True, errors="coerce")
    days = ((close - pd.Timestamp(0, tz="UTC")).dt.total_seconds() / 86400.0).to_numpy(dtype=float, na_value=np.nan)
    dated = ~np.isnan(days)
    window = np.floor(days[dated] / width).astype(np.int64)
    category = _category_names(markets).to_numpy(dtype=object)[dated]
    positions = np.flatnonzero(dated)
    windows = np.concatenate([window, window + 1])
    starts = _window_starts(windows, width)
    names = np.concatenate([category, category])
    labels = [f"cat:{name}|{start}+{width}d" for name, start in zip(names, starts, strict=True)]
    return pd.DataFrame({"position": np.concatenate([positions, positions]),
                         "bucket": pd.array(labels, dtype="string")})


def _split_by_close_time(members: pd.DataFrame, close_days: np.ndarray, width: int) -> pd.DataFrame:
    """Split members into close-time windows of `width` days that overlap by `width` days.

    A market at day t joins the windows of t and of t + width, so two markets whose close times
    differ by at most `width` days share a window. A market without a close time joins every
    window of its bucket.
    """
    days = close_days[members["position"].to_numpy()]
    dated = ~np.isnan(days)
    first = np.where(dated, np.floor(np.nan_to_num(days) / width), -1).astype(np.int64)
    second = np.where(dated, first + 1, -1).astype(np.int64)
    windowed = pd.concat([members.assign(window=first), members[dated].assign(window=second[dated])],
                         ignore_index=True)
    undated = windowed[windowed["window"] < 0]
    dated_rows = windowed[windowed["window"] >= 0]
    if len(undated):
        windows = dated_rows[["bucket", "window"]].drop_duplicates()
        spread = undated.drop(columns="window").merge(windows, on="bucket", how="left")
        spread["window"] = spread["window"].fillna(-1).astype(np.int64)
        dated_rows = pd.concat([dated_rows, spread], ignore_index=True)
    windows = dated_rows["window"].to_numpy()
    label = np.where(windows >= 0, _window_starts(np.maximum(windows, 0), width), "nodate")
    suffix = [f"|{width}d:{value}" for value in label]
    return dated_rows.assign(bucket=dated_rows["bucket"] + suffix).drop(columns="window")


def _bucket_counts(members: pd.DataFrame, is_kalshi: np.ndarray, column: str) -> pd.DataFrame:
    kalshi = is_kalshi[members["position"].to_numpy()]
    counts = pd.DataFrame({column: members[column].to_numpy(), "kalshi": kalshi})
    grouped = counts.groupby(column)["kalshi"].agg(["sum", "size"])
    result = pd.DataFrame(
        {"kalshi": grouped["sum"].astype(np.int64), "polymarket": (grouped["size"] - grouped["sum"]).astype(np.int64)}
    )
    result["pairs"] = result["kalshi"] * result["polymarket"]
    return result


def _distinct_pairs(members: pd.DataFrame, is_kalshi: np.ndarray, limit: int) -> tuple[int, bool]:
    """Count distinct Kalshi-Polymarket pairs across buckets, or return the summed count above limit."""
    counts = _bucket_counts(members, is_kalshi, "bucket")
    total = int(counts["pairs"].sum())
    if total > limit:
        return total, True
    bucket_codes, _ = pd.factorize(members["bucket"])
    frame = pd.DataFrame({"bucket": bucket_codes, "position": members["position"].to_numpy()})
    kalshi_rows = is_kalshi[frame["position"].to_numpy()]
    joined = frame[kalshi_rows].merge(frame[~kalshi_rows], on="bucket", suffixes=("_k", "_p"))
    codes = joined["position_k"].to_numpy(np.int64) * len(is_kalshi) + joined["position_p"].to_numpy(np.int64)
    if not codes.size:
        return 0, False
    codes.sort()
    return int(1 + np.count_nonzero(np.diff(codes))), False


def _check_columns(markets: pd.DataFrame) -> None:
    missing = [name for name in ("platform", "market_id", "close_time") if name not in markets.columns]
    if missing:
        raise SchemaError("markets", f"missing column {missing[0]!r}; build the table with mflib.schema.MARKET_COLUMNS")


def assign_buckets(markets: pd.DataFrame, params: dict | None = None) -> BucketResult:
    """Assign every considered market to one or more buckets and count the pairs they leave.

    Raises ConfigError naming the parameter when a value is unknown, mistyped or negative.
    """
    settings = resolve_params(params, DEFAULT_PARAMS, "bucket")
    levels = settings["split_levels_days"]
    if not levels or any(isinstance(day, bool) or not isinstance(day, int) or day < 1 for day in levels):
        raise ConfigError("bucket.split_levels_days", f"expected a list of positive whole days, got {levels!r}")
    _check_columns(markets)
    started = time.perf_counter()

    considered = markets
    if settings["only_tradeable"] and "tradeable" in markets.columns:
        considered = markets[markets["tradeable"].fillna(False).astype(bool)]
    considered = considered[considered["platform"].isin([KALSHI, POLYMARKET])].reset_index(drop=True)
    dropped = len(markets) - len(considered)
    is_kalshi = (considered["platform"] == KALSHI).to_numpy()
    kalshi_total = int(is_kalshi.sum())
    naive_pairs = kalshi_total * (len(considered) - kalshi_total)
    log.info("bucketing: start, %d markets considered (%d Kalshi), %d not tradeable or of another venue dropped",
             len(considered), kalshi_total, dropped)

    keyword_members = _select_keywords(considered, settings)
    has_keyword = np.zeros(len(considered), dtype=bool)
    has_keyword[keyword_members["position"].to_numpy()] = True
    fallback_members = _fallback_buckets(considered, ~has_keyword)
    pieces = [keyword_members, fallback_members]
    if settings["category_window_days"] > 0:
        pieces.append(_category_window_buckets(considered, settings["category_window_days"]))
    members = pd.concat(pieces, ignore_index=True)
    members = members.rename(columns={"bucket": "parent_bucket"})

    parent_counts = _bucket_counts(members, is_kalshi, "parent_bucket")
    close = pd.to_datetime(considered["close_time"], utc=True, errors="coerce")
    close_days = ((close - pd.Timestamp(0, tz="UTC")).dt.total_seconds() / 86400.0).to_numpy(dtype=float, na_value=np.nan)
    members = members.assign(bucket=members["parent_bucket"])
    split_count = 0
    for width in sorted(levels, reverse=True):
        counts = _bucket_counts(members, is_kalshi, "bucket")
        oversized = counts.index[counts["pairs"] > settings["max_bucket_pairs"]]
        if not len(oversized):
            break
        split_count += len(oversized)
        is_oversized = members["bucket"].isin(oversized).to_numpy()
        split = _split_by_close_time(members[is_oversized], close_days, width)
        members = pd.concat([members[~is_oversized], split], ignore_index=True).drop_duplicates(["position", "bucket"])

    stats = _bucket_counts(members, is_kalshi, "bucket")
    parents = members.drop_duplicates("bucket").set_index("bucket")["parent_bucket"]
    stats["parent_bucket"] = parents.reindex(stats.index).astype("string")
    stats["parent_pairs"] = parent_counts["pairs"].reindex(stats["parent_bucket"]).to_numpy()
    stats["split"] = stats["parent_bucket"] != stats.index.to_series()
    stats = stats.rename_axis("bucket").reset_index().sort_values("pairs", ascending=False, ignore_index=True)
    still_oversized = stats[stats["pairs"] > settings["max_bucket_pairs"]]
    if len(still_oversized):
        # NOTE: the narrowest split level bounds how far a split can go, so these stay large.
        log.warning("bucketing: %d buckets still exceed %d pairs after the close-time split, largest %s with %d",
                    len(still_oversized), settings["max_bucket_pairs"], still_oversized["bucket"].iloc[0],
                    int(still_oversized["pairs"].iloc[0]))

    bucketed_pairs, is_upper_bound = _distinct_pairs(members, is_kalshi, settings["max_exact_pair_count"])
    buckets = pd.DataFrame(
        {
            "market_id": considered["market_id"].to_numpy()[members["position"].to_numpy()],
            "platform": considered["platform"].to_numpy()[members["position"].to_numpy()],
            "bucket": members["bucket"].to_numpy(),
        }
    ).astype("string")
    log.info(
        "bucketing: end, %d memberships in %d buckets (%d splits by close time), %d of %d naive pairs left "
        "(%s), %.2f s",
        len(buckets), len(stats), split_count, bucketed_pairs, naive_pairs,
        "upper bound" if is_upper_bound else "distinct", time.perf_counter() - started,
    )
    return BucketResult(
        buckets=buckets,
        stats=stats,
        naive_pairs=int(naive_pairs),
        bucketed_pairs=int(bucketed_pairs),
        bucketed_pairs_is_upper_bound=is_upper_bound,
    )
