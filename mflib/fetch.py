"""The fetch layer: list every market of both venues (live or from recorded files) and normalize them.

Each venue runs in one of two modes. Live mode pages through the venue's API with
`mflib.http.HttpClient`, writing every raw page under <raw_root>/<venue>/ before it is parsed.
Replay mode reads recorded responses from the files and folders given in the parameters. Both
feed the same normalizer. One venue failing leaves the other's markets usable; both failing
raises VenueUnreachableError.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mflib.errors import ConfigError, FetchError, SchemaError, VenueUnreachableError
from mflib.normalize import markets_frame, normalize_page, quarantine_frame
from mflib.sources.base import ListingReport, Page, RawPageWriter
from mflib.sources.replay import iter_recorded_pages

log = logging.getLogger(__name__)

VENUES = ("kalshi", "polymarket")
REPLAY_COMMAND = "make run PARAMS=params/replay.yaml"

DEFAULT_FETCH_PARAMS: dict[str, Any] = {
    "kalshi_base_url": "https://api.elections.kalshi.com/trade-api/v2",
    "polymarket_base_url": "https://gamma-api.polymarket.com",
    "kalshi_replay": [],
    "polymarket_replay": [],
    "replay_skip": [],
    "rate_limit_per_second": {"kalshi": 10, "polymarket": 5},
    "timeout_seconds": 20,
    "max_retries": 5,
    "max_total_seconds": 600,
    "kalshi_page_size": 200,
    "polymarket_page_size": 500,
    "max_pages": None,
}

# Maximum page sizes. Gamma rejects more than 500 per request. Kalshi's /events maximum of 200
# comes from third-party documentation, and mflib.sources.kalshi enforces the same bound.
MAX_PAGE_SIZE = {"kalshi": 200, "polymarket": 500}

VENUE_STATUS_COLUMNS: dict[str, str] = {
    "platform": "string",
    "mode": "string",        # live | replay
    "ok": "boolean",
    "partial": "boolean",    # the listing stopped early, so some markets may be missing
    "pages": "Int64",
    "markets": "Int64",
    "error": "string",
}


@dataclass(frozen=True)
class FetchParams:
    """The validated `fetch` section of a parameter file."""

    kalshi_base_url: str
    polymarket_base_url: str
    kalshi_replay: list[str]
    polymarket_replay: list[str]
    replay_skip: list[str]
    rate_limit_per_second: dict[str, float]
    timeout_seconds: float
    max_retries: int
    max_total_seconds: float
    kalshi_page_size: int
    polymarket_page_size: int
    max_pages: int | None

    def replay_paths(self, venue: str) -> list[str]:
        return self.kalshi_replay if venue == "kalshi" else self.polymarket_replay

    def base_url(self, venue: str) -> str:
        return self.kalshi_base_url if venue == "kalshi" else self.polymarket_base_url

    def page_size(self, venue: str) -> int:
        return self.kalshi_page_size if venue == "kalshi" else self.polymarket_page_size


@dataclass
class VenueOutcome:
    """Result of one venue's listing: normalized rows, quarantined records and status counts."""

    venue: str
    mode: str
    rows: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)
    pages: int = 0
    records: int = 0
    ok: bool = True
    partial: bool = False
    error: str = ""
    seconds: float = 0.0


@dataclass
class FetchResult:
    """The fetch layer's tables plus the counts the notebook reports."""

    markets: pd.DataFrame
    quarantine: pd.DataFrame
    venue_status: pd.DataFrame
    records: int = 0                 # market records seen, before quarantine and duplicates
    duplicates_dropped: int = 0


# Parameters


def _string_list(section: dict, key: str) -> list[str]:
    value = section[key]
    if value is None:
        return []
    if isinstance(value, str | Path):
        raise ConfigError(f"fetch.{key}", f"expected a list of paths or globs, got the single value {value!r}; write [{value!r}]")
    if not isinstance(value, list) or not all(isinstance(item, str | Path) for item in value):
        raise ConfigError(f"fetch.{key}", f"expected a list of strings, got {value!r}")
    return [str(item) for item in value]


def _number(
    section: dict, key: str, *, integer: bool = False, minimum: float = 0.0, maximum: float | None = None
) -> float | int:
    value = section[key]
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "an integer" if integer else "a number"
        raise ConfigError(f"fetch.{key}", f"expected {expected}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"fetch.{key}", f"must be at least {minimum:g}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"fetch.{key}", f"must be at most {maximum:g}, got {value!r}")
    return value


def _rate_limits(section: dict) -> dict[str, float]:
    value = section["rate_limit_per_second"]
    if not isinstance(value, dict):
        raise ConfigError("fetch.rate_limit_per_second", f"expected a mapping of venue to requests per second, got {value!r}")
    unknown = sorted(set(value) - set(VENUES))
    if unknown:
        raise ConfigError(f"fetch.rate_limit_per_second.{unknown[0]}", f"unknown venue; expected {' or '.join(VENUES)}")
    rates = {**DEFAULT_FETCH_PARAMS["rate_limit_per_second"], **value}
    for venue, rate in rates.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
            raise ConfigError(f"fetch.rate_limit_per_second.{venue}", f"expected a positive number of requests per second, got {rate!r}")
    return {venue: float(rate) for venue, rate in rates.items()}


def read_fetch_params(fetch: dict | None) -> FetchParams:
    """Validate the `fetch` section and fill in defaults, raising ConfigError that names the first bad key."""
    fetch = dict(fetch or {})
    unknown = sorted(set(fetch) - set(DEFAULT_FETCH_PARAMS))
    if unknown:
        raise ConfigError(f"fetch.{unknown[0]}", f"unknown key; the fetch section takes {', '.join(DEFAULT_FETCH_PARAMS)}")
    section = {**DEFAULT_FETCH_PARAMS, **{key: value for key, value in fetch.items()}}

    for key in ("kalshi_base_url", "polymarket_base_url"):
        url = section[key]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"fetch.{key}", f"expected an http(s) URL, got {url!r}")
    max_pages = section["max_pages"]
    if max_pages is not None:
        max_pages = _number(section, "max_pages", integer=True, minimum=1)

    return FetchParams(
        kalshi_base_url=section["kalshi_base_url"].rstrip("/"),
        polymarket_base_url=section["polymarket_base_url"].rstrip("/"),
        kalshi_replay=_string_list(section, "kalshi_replay"),
        polymarket_replay=_string_list(section, "polymarket_replay"),
        replay_skip=_string_list(section, "replay_skip"),
        rate_limit_per_second=_rate_limits(section),
        timeout_seconds=float(_number(section, "timeout_seconds", minimum=0.001)),
        max_retries=int(_number(section, "max_retries", integer=True)),
        max_total_seconds=float(_number(section, "max_total_seconds", minimum=0.001)),
        kalshi_page_size=int(
            _number(section, "kalshi_page_size", integer=True, minimum=1, maximum=MAX_PAGE_SIZE["kalshi"])
        ),
        polymarket_page_size=int(
            _number(section, "polymarket_page_size", integer=True, minimum=1, maximum=MAX_PAGE_SIZE["polymarket"])
        ),
        max_pages=max_pages,
    )


# Page sources


def _make_client(params: FetchParams) -> Any:
    from urllib.parse import urlsplit

    from mflib.http import HttpClient

    rates = {
        urlsplit(params.base_url(venue)).hostname or venue: params.rate_limit_per_second[venue] for venue in VENUES
    }
    return HttpClient(
        timeout_seconds=params.timeout_seconds,
        rate_limits=rates,
        max_retries=params.max_retries,
        max_total_seconds=params.max_total_seconds,
    )


def _live_lister(venue: str) -> Callable[..., Iterator[Page]]:
    if venue == "kalshi":
        from mflib.sources.kalshi import iter_event_pages
    else:
        from mflib.sources.polymarket import iter_event_pages
    return iter_event_pages


def _live_pages(venue: str, params: FetchParams, client: Any, raw_root: Path, report: ListingReport) -> Iterator[Page]:
    lister = _live_lister(venue)
    return lister(
        client,
        params.base_url(venue),
        page_size=params.page_size(venue),
        writer=RawPageWriter(raw_root),
        max_pages=params.max_pages,
        report=report,
    )


# One venue


def _log_page_quarantine(venue: str, page: Page, quarantined: list[dict]) -> None:
    first = quarantined[0]
    log.warning(
        "%s page %d (%s): %d record(s) quarantined; first: market %r has %s=%r (%s)",
        venue, page.number, page.source, len(quarantined),
        first["market_id"] or "(no id)", first["field"], first["value"], first["reason"],
    )


def _stamp_recorded_quotes(rows: list[dict]) -> None:
    """Date recorded quotes by the venue's own update time, so that pricing measures how old a
    replayed price is (and flags it stale) instead of treating it as read just now."""
    for row in rows:
        if row.get("updated_at") is not None:
            row["fetched_at"] = row["updated_at"]


def _collect(venue: str, mode: str, pages: Iterator[Page], fetched_at: datetime) -> VenueOutcome:
    """Normalize every page of one venue. A FetchError ends the listing and marks the venue not ok."""
    outcome = VenueOutcome(venue=venue, mode=mode)
    started = time.perf_counter()
    try:
        for page in pages:
            normalized = normalize_page(venue, page.payload, source=page.source, fetched_at=fetched_at)
            outcome.pages += 1
            outcome.records += normalized.records
            if mode == "replay":
                _stamp_recorded_quotes(normalized.rows)
            outcome.rows.extend(normalized.rows)
            outcome.quarantine.extend(normalized.quarantine)
            if normalized.quarantine:
                _log_page_quarantine(venue, page, normalized.quarantine)
    except FetchError as exc:
        outcome.ok = False
        outcome.partial = outcome.pages > 0
        outcome.error = str(exc)
        log.error(
            "%s: listing failed after %d page(s): %s; continuing with the markets read so far",
            venue, outcome.pages, exc,
        )
    except SchemaError as exc:
        if mode == "replay":
            raise   # a recorded file that is not a listing is a parameter problem, so it stops the run
        # A live page of an unknown shape means the API changed; the other venue can still be used.
        outcome.ok = False
        outcome.partial = outcome.pages > 0
        outcome.error = str(exc)
        log.error("%s: %s; continuing with the markets read so far", venue, exc)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _fetch_venue(
    venue: str, params: FetchParams, *, client: Any, raw_root: Path, fetched_at: datetime
) -> VenueOutcome:
    replay = params.replay_paths(venue)
    if replay:
        for path in replay:
            if not Path(path).expanduser().exists():
                raise ConfigError(f"fetch.{venue}_replay", f"recorded snapshot {path} not found")
        log.info("%s: replaying recorded files from %s", venue, ", ".join(replay))
        return _collect(venue, "replay", iter_recorded_pages(replay, venue=venue, skip=params.replay_skip), fetched_at)

    report = ListingReport(venue=venue)
    log.info("%s: listing open markets from %s", venue, params.base_url(venue))
    outcome = _collect(venue, "live", _live_pages(venue, params, client, raw_root, report), fetched_at)
    if report.partial:
        outcome.partial = True
        log.warning("%s: the listing stopped early, so some markets may be missing: %s", venue, "; ".join(report.warnings))
    return outcome


# The layer


def _status_frame(outcomes: list[VenueOutcome], markets: pd.DataFrame) -> pd.DataFrame:
    kept = markets["platform"].value_counts().to_dict() if len(markets) else {}
    rows = [
        {
            "platform": outcome.venue,
            "mode": outcome.mode,
            "ok": outcome.ok,
            "partial": outcome.partial,
            "pages": outcome.pages,
            "markets": int(kept.get(outcome.venue, 0)),
            "error": outcome.error,
        }
        for outcome in outcomes
    ]
    frame = pd.DataFrame(rows)
    return frame.astype(VENUE_STATUS_COLUMNS)[list(VENUE_STATUS_COLUMNS)]


def fetch_markets(
    fetch: dict,
    *,
    run_id: str,
    raw_root: str | Path,
    client: Any = None,
    now: datetime | None = None,
) -> FetchResult:
    """List and normalize the markets of both venues, live or from recorded files.

    `fetch` is the parameter section (keys and defaults in DEFAULT_FETCH_PARAMS). Live pages are
    saved under `raw_root` (data/raw/<run_id>). `client` replaces the HttpClient built from the
    parameters, and `now` is stored as fetched_at. Raises ConfigError for a bad parameter,
    SchemaError for a recorded file that is not a listing, and VenueUnreachableError when both
    venues fail.
    """
    params = read_fetch_params(fetch)
    fetched_at = now or datetime.now(UTC)
    raw_root = Path(raw_root)
    started = time.perf_counter()
    live = [venue for venue in VENUES if not params.replay_paths(venue)]
    owned_client = client is None and bool(live)
    if owned_client:
        client = _make_client(params)
    log.info("fetch (run %s): kalshi %s, polymarket %s", run_id,
             "live" if "kalshi" in live else "replay", "live" if "polymarket" in live else "replay")

    try:
        outcomes = [
            _fetch_venue(venue, params, client=client, raw_root=raw_root, fetched_at=fetched_at) for venue in VENUES
        ]
    finally:
        if owned_client:
            client.close()

    failed = [outcome for outcome in outcomes if not outcome.ok]
    if len(failed) == len(VENUES):
        # Each error already names its venue, and an unreachable one already gives the replay hint.
        details = "; ".join(
            outcome.error if str(outcome.error).startswith(f"{outcome.venue}:") else f"{outcome.venue}: {outcome.error}"
            for outcome in failed
        )
        hint = "" if REPLAY_COMMAND in details else f" To run on a recorded snapshot instead, use `{REPLAY_COMMAND}`."
        raise VenueUnreachableError(
            ",".join(VENUES),
            ", ".join(params.base_url(venue) for venue in VENUES),
            f"both venues failed. {details}.{hint}",
        )

    rows = [row for outcome in outcomes for row in outcome.rows]
    markets = markets_frame(rows)
    quarantine = quarantine_frame([row for outcome in outcomes for row in outcome.quarantine])
    venue_status = _status_frame(outcomes, markets)

    for outcome in outcomes:
        reasons = Counter(row["reason"] for row in outcome.quarantine)
        log.info(
            "%s (%s): %d page(s), %d record(s), %d market row(s), %d quarantined %s, %.1f s%s",
            outcome.venue, outcome.mode, outcome.pages, outcome.records, len(outcome.rows),
            len(outcome.quarantine), dict(reasons) if reasons else "{}", outcome.seconds,
            "" if outcome.ok else " (FAILED)",
        )
    log.info(
        "fetch: %d markets kept (%d duplicates dropped), %d quarantined, %.1f s",
        len(markets), markets.attrs.get("duplicates_dropped", 0), len(quarantine), time.perf_counter() - started,
    )
    return FetchResult(
        markets=markets,
        quarantine=quarantine,
        venue_status=venue_status,
        records=sum(outcome.records for outcome in outcomes),
        duplicates_dropped=int(markets.attrs.get("duplicates_dropped", 0)),
    )


# Storage and summaries for the notebook


def store_fetch(con: Any, result: FetchResult, *, run_id: str) -> int:
    """Replace this run's rows of `markets`, `quarantine` and `venue_status`; return the markets written."""
    from mflib import warehouse

    written = warehouse.replace_run_rows(con, "markets", run_id, result.markets)
    warehouse.replace_run_rows(con, "quarantine", run_id, result.quarantine)
    warehouse.replace_run_rows(con, "venue_status", run_id, result.venue_status)
    return written


def venue_summary(result: FetchResult) -> pd.DataFrame:
    """Return one row per venue: status, pages, markets, open and tradeable markets, quarantined records."""
    markets, quarantine = result.markets, result.quarantine
    summary = result.venue_status.set_index("platform")[["mode", "ok", "partial", "pages", "markets"]].copy()
    for venue in summary.index:
        rows = markets[markets["platform"] == venue]
        summary.loc[venue, "open"] = int((rows["status"] == "open").sum())
        summary.loc[venue, "tradeable"] = int(rows["tradeable"].fillna(False).sum())
        summary.loc[venue, "quarantined"] = int((quarantine["platform"] == venue).sum())
    return summary.astype({"open": "Int64", "tradeable": "Int64", "quarantined": "Int64"}).reset_index()


def quarantine_summary(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Return the quarantined record counts per venue, reason and field, largest first."""
    if quarantine.empty:
        return pd.DataFrame({"platform": [], "reason": [], "field": [], "records": []})
    counts = quarantine.groupby(["platform", "reason", "field"], dropna=False).size().rename("records")
    return counts.reset_index().sort_values("records", ascending=False, kind="stable").reset_index(drop=True)


def category_chart(markets: pd.DataFrame, *, top: int = 15) -> Any:
    """Return a plotly bar chart of market counts by category and venue (the `top` categories overall)."""
    import plotly.express as px

    frame = markets.assign(category=markets["category"].fillna("(none)"))
    counts = frame.groupby(["category", "platform"]).size().rename("markets").reset_index()
    order = counts.groupby("category")["markets"].sum().sort_values(ascending=False).index[:top].tolist()
    counts = counts[counts["category"].isin(order)]
    return px.bar(
        counts, x="category", y="markets", color="platform", barmode="group",
        category_orders={"category": order}, title="Markets by category and venue",
    )


def layer_details(result: FetchResult) -> dict[str, Any]:
    """Return the counts stored with the layer's statistics, as plain JSON-ready values."""
    per_venue = result.markets["platform"].value_counts()
    per_reason = result.quarantine["reason"].value_counts()
    return {
        "markets_per_venue": {str(venue): int(count) for venue, count in per_venue.items()},
        "quarantined_per_reason": {str(reason): int(count) for reason, count in per_reason.items()},
        "duplicates_dropped": int(result.duplicates_dropped),
        "venue_ok": {
            str(row.platform): bool(row.ok) for row in result.venue_status.itertuples(index=False)
        },
    }
