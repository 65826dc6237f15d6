"""Order books of matched markets: Kalshi orderbooks, Polymarket CLOB books, or the market's top of book.

Every ladder here is an ask ladder in dollars, sorted by ascending price, with exact Decimal
prices and sizes. Kalshi books list bids only, so a YES ask ladder is built from the NO bids
(ask = 1 - bid) and a NO ask ladder from the YES bids.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from tqdm.auto import tqdm

from mflib.errors import FetchError, SchemaError, VenueUnreachableError
from mflib.fees import to_decimal
from mflib.sources.base import RawPageWriter

log = logging.getLogger(__name__)

POLYMARKET_BATCH_SIZE = 500
SIDES = ("yes", "no")

# Ladder sources: a fetched or replayed book, the market row's best ask, or nothing.
SOURCE_BOOK = "book"
SOURCE_REPLAY = "replay"
SOURCE_MARKET_TOP = "market_top"
SOURCE_NONE = "none"

Level = tuple[Decimal, Decimal | None]


@dataclass(frozen=True)
class Ladder:
    """Ask levels of one side of one market, cheapest first; a None size means the size is unknown."""

    levels: tuple[Level, ...] = ()
    source: str = SOURCE_NONE
    fetched_at: datetime | None = None

    @property
    def top_of_book_only(self) -> bool:
        return self.source == SOURCE_MARKET_TOP

    @property
    def best_ask(self) -> Decimal | None:
        return self.levels[0][0] if self.levels else None

    @property
    def best_size(self) -> Decimal | None:
        return self.levels[0][1] if self.levels else None

    def to_json(self) -> str:
        return json.dumps([[str(price), None if size is None else str(size)] for price, size in self.levels])


@dataclass
class MarketQuote:
    """YES and NO ask ladders of one market, plus the Kalshi series fee multiplier where known."""

    platform: str
    market_id: str
    yes: Ladder = field(default_factory=Ladder)
    no: Ladder = field(default_factory=Ladder)
    fee_multiplier: Decimal | None = None
    token_yes: str = ""
    token_no: str = ""

    def side(self, name: str) -> Ladder:
        return self.yes if name == "yes" else self.no


@dataclass
class Quotes:
    """Quotes of every market of the accepted pairs, keyed by (platform, market_id)."""

    markets: dict[tuple[str, str], MarketQuote] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def get(self, platform: str, market_id: str) -> MarketQuote | None:
        return self.markets.get((platform, market_id))

    def books_frame(self) -> pd.DataFrame:
        """Return one row per market side for the `books` table, ladders stored as JSON."""
        rows = []
        for quote in self.markets.values():
            for side in SIDES:
                ladder = quote.side(side)
                rows.append({
                    "platform": quote.platform,
                    "market_id": quote.market_id,
                    "side": side,
                    "token_id": (quote.token_yes if side == "yes" else quote.token_no) or None,
                    "source": ladder.source,
                    "levels": len(ladder.levels),
                    "best_ask": None if ladder.best_ask is None else float(ladder.best_ask),
                    "asks_json": ladder.to_json(),
                    "fee_multiplier": None if quote.fee_multiplier is None else float(quote.fee_multiplier),
                    "fetched_at": ladder.fetched_at,
                })
        frame = pd.DataFrame(rows, columns=[
            "platform", "market_id", "side", "token_id", "source", "levels", "best_ask",
            "asks_json", "fee_multiplier", "fetched_at",
        ])
        frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True)
        return frame


# ---------------------------------------------------------------- parsing


def decode_json(body: bytes | str, source: str) -> Any:
    """Decode a JSON body, accepting a leading UTF-8 byte order mark."""
    if isinstance(body, bytes):
        body = body.decode("utf-8-sig")
    else:
        body = body.removeprefix("\ufeff")
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise SchemaError(source, f"not valid JSON: {exc}") from exc


def _level(price_raw: Any, size_raw: Any, *, cents: bool, source: str) -> Level | None:
    try:
        price = to_decimal(price_raw)
        size = to_decimal(size_raw)
    except ValueError as exc:
        raise SchemaError(source, f"book level [{price_raw!r}, {size_raw!r}] is not numeric: {exc}") from exc
    if price is None:
        return None
    if cents:
        price = price / 100
    if not (0 < price < 1) or (size is not None and size <= 0):
        return None
    return price, size


def _bid_levels(raw: Any, *, cents: bool, source: str) -> list[Level]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SchemaError(source, f"expected a list of [price, size] levels, got {type(raw).__name__}")
    levels = []
    for entry in raw:
        if not isinstance(entry, (list, tuple)) or len(entry) < 2:
            raise SchemaError(source, f"book level {entry!r} is not a [price, size] pair")
        level = _level(entry[0], entry[1], cents=cents, source=source)
        if level is not None:
            levels.append(level)
    return levels


def asks_from_bids(bids: Iterable[Level]) -> tuple[Level, ...]:
    """Turn bids of one side into asks of the other side (ask = 1 - bid), cheapest first."""
    return tuple(sorted(((1 - price, size) for price, size in bids), key=lambda level: level[0]))


def parse_kalshi_orderbook(payload: Any, *, source: str = "kalshi orderbook") -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """Return (YES asks, NO asks) from a Kalshi `GET /markets/{ticker}/orderbook` response.

    Accepts the legacy `{"orderbook": {"yes": [[cents, qty]], "no": ...}}` shape (with optional
    `yes_dollars`/`no_dollars` twins, preferred when present) and the fixed-point
    `{"orderbook_fp": {"yes_dollars": [["0.4100", "120.00"]], "no_dollars": ...}}` shape.
    A null side is an empty side. Levels are sorted here because their order is not trusted.
    """
    if isinstance(payload, (bytes, str)):
        payload = decode_json(payload, source)
    if not isinstance(payload, dict):
        raise SchemaError(source, f"expected a JSON object, got {type(payload).__name__}")
    if isinstance(payload.get("orderbook_fp"), dict):
        book = payload["orderbook_fp"]
        yes_bids = _bid_levels(book.get("yes_dollars"), cents=False, source=source)
        no_bids = _bid_levels(book.get("no_dollars"), cents=False, source=source)
    elif isinstance(payload.get("orderbook"), dict):
        book = payload["orderbook"]
        if "yes_dollars" in book or "no_dollars" in book:
            yes_bids = _bid_levels(book.get("yes_dollars"), cents=False, source=source)
            no_bids = _bid_levels(book.get("no_dollars"), cents=False, source=source)
        else:
            yes_bids = _bid_levels(book.get("yes"), cents=True, source=source)
            no_bids = _bid_levels(book.get("no"), cents=True, source=source)
    else:
        raise SchemaError(source, f"no 'orderbook' or 'orderbook_fp' object; keys: {sorted(payload)[:8]}")
    return asks_from_bids(no_bids), asks_from_bids(yes_bids)


def parse_polymarket_book(book: Any, *, source: str = "polymarket book") -> tuple[str, tuple[Level, ...], datetime | None]:
    """Return (token id, asks cheapest first, book timestamp) from one CLOB book object."""
    if not isinstance(book, dict):
        raise SchemaError(source, f"expected a book object, got {type(book).__name__}")
    token_id = str(book.get("asset_id") or "")
    if not token_id:
        raise SchemaError(source, "book has no asset_id, so it cannot be matched to a token")
    asks = []
    for entry in book.get("asks") or []:
        if not isinstance(entry, dict):
            raise SchemaError(source, f"token {token_id}: ask {entry!r} is not a {{price, size}} object")
        level = _level(entry.get("price"), entry.get("size"), cents=False, source=f"{source} token {token_id}")
        if level is not None:
            asks.append(level)
    asks.sort(key=lambda level: level[0])
    timestamp = None
    raw_ts = book.get("timestamp")
    if raw_ts not in (None, ""):
        try:
            timestamp = datetime.fromtimestamp(int(str(raw_ts)) / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError):
            log.warning("%s: token %s has timestamp %r, expected epoch milliseconds; using fetch time", source, token_id, raw_ts)
    return token_id, tuple(asks), timestamp


def parse_series_fee_multiplier(payload: Any, *, source: str = "kalshi series") -> Decimal | None:
    """Return `fee_multiplier` of a Kalshi `GET /series/{ticker}` response, or None when absent."""
    if not isinstance(payload, dict):
        return None
    series = payload.get("series", payload)
    if not isinstance(series, dict):
        return None
    fee_type = series.get("fee_type")
    if fee_type not in (None, "", "quadratic", "quadratic_with_maker_fees"):
        # NOTE: only the quadratic taker formula is implemented; other fee types are priced with it.
        log.warning("%s: fee_type %r is not quadratic; pricing with the quadratic taker fee", source, fee_type)
    try:
        multiplier = to_decimal(series.get("fee_multiplier"))
    except ValueError:
        log.warning("%s: fee_multiplier %r is not a number; assuming 1.0", source, series.get("fee_multiplier"))
        return None
    return multiplier


# ---------------------------------------------------------------- top of book fallback


def _cell(row: pd.Series, column: str) -> Any:
    value = row.get(column) if column in row.index else None
    if value is None or value is pd.NA:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(UTC)
    return stamp.to_pydatetime()


def top_of_book_ladder(row: pd.Series, side: str) -> Ladder:
    """Build a one-level ladder from the market row's best ask (size unknown when not given)."""
    price = to_decimal(_cell(row, f"{side}_ask"))
    if price is None or not (0 < price < 1):
        return Ladder(source=SOURCE_NONE, fetched_at=_timestamp(_cell(row, "fetched_at")))
    size = to_decimal(_cell(row, f"{side}_ask_size"))
    if size is not None and size <= 0:
        size = None
    return Ladder(((price, size),), SOURCE_MARKET_TOP, _timestamp(_cell(row, "fetched_at")))


def _pair_market_ids(pairs: pd.DataFrame) -> tuple[set[str], set[str]]:
    if pairs.empty or not {"kalshi_id", "polymarket_id"} <= set(pairs.columns):
        return set(), set()
    accepted = pairs
    if "accepted" in pairs.columns:
        accepted = pairs[pairs["accepted"].fillna(False).astype(bool)]
    return set(accepted["kalshi_id"].astype(str)), set(accepted["polymarket_id"].astype(str))


def quotes_from_markets(pairs: pd.DataFrame, markets: pd.DataFrame) -> Quotes:
    """Return top-of-book quotes for every market of the accepted pairs, from the market rows alone."""
    kalshi_ids, polymarket_ids = _pair_market_ids(pairs)
    needed = {("kalshi", market_id) for market_id in kalshi_ids} | {("polymarket", market_id) for market_id in polymarket_ids}
    quotes = Quotes()
    for _, row in markets.iterrows():
        key = (str(row["platform"]), str(row["market_id"]))
        if key not in needed:
            continue
        multiplier = None
        try:
            multiplier = to_decimal(_cell(row, "fee_multiplier"))
        except ValueError:
            multiplier = None
        quotes.markets[key] = MarketQuote(
            platform=key[0],
            market_id=key[1],
            yes=top_of_book_ladder(row, "yes"),
            no=top_of_book_ladder(row, "no"),
            fee_multiplier=multiplier,
            token_yes=str(_cell(row, "token_yes") or ""),
            token_no=str(_cell(row, "token_no") or ""),
        )
    missing = len(needed) - len(quotes.markets)
    if missing:
        quotes.notes.append(f"{missing} paired markets are not in the markets table and get no quote")
    return quotes


# ---------------------------------------------------------------- replay files


def _json_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for entry in paths:
        path = Path(entry).expanduser()
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise SchemaError(str(path), "book replay path not found; fix price.*_books_replay in the parameters")
    return files


def load_kalshi_replay(paths: Iterable[str | Path]) -> tuple[dict[str, tuple[tuple[Level, ...], tuple[Level, ...], datetime]], dict[str, Decimal | None]]:
    """Read recorded Kalshi orderbooks and series responses.

    A book file carries no ticker, so its name gives it: `orderbook_<ticker>.json` (as written by
    fetch_quotes) or `<ticker>.json`. Series files are recognised by their `{"series": {...}}` body.
    Returns ({ticker: (yes asks, no asks, file time)}, {series ticker: fee multiplier}).
    """
    books: dict[str, tuple[tuple[Level, ...], tuple[Level, ...], datetime]] = {}
    series: dict[str, Decimal | None] = {}
    for path in _json_files(paths):
        payload = decode_json(path.read_bytes(), str(path))
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        if isinstance(payload, dict) and isinstance(payload.get("series"), dict):
            ticker = str(payload["series"].get("ticker") or path.stem.removeprefix("series_"))
            series[ticker] = parse_series_fee_multiplier(payload, source=str(path))
            continue
        ticker = str(payload.get("ticker") or "") if isinstance(payload, dict) else ""
        ticker = ticker or path.stem.removeprefix("orderbook_")
        yes_asks, no_asks = parse_kalshi_orderbook(payload, source=str(path))
        books[ticker] = (yes_asks, no_asks, modified)
    return books, series


def load_polymarket_replay(paths: Iterable[str | Path]) -> dict[str, tuple[tuple[Level, ...], datetime]]:
    """Read recorded CLOB books (a `/books` list or one `/book` object per file), keyed by token id."""
    books: dict[str, tuple[tuple[Level, ...], datetime]] = {}
    for path in _json_files(paths):
        payload = decode_json(path.read_bytes(), str(path))
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        for book in payload if isinstance(payload, list) else [payload]:
            token_id, asks, stamp = parse_polymarket_book(book, source=str(path))
            books[token_id] = (asks, stamp or modified)
    return books


# ---------------------------------------------------------------- fetching


def _fetch_kalshi(client: Any, base_url: str, tickers: list[str], writer: Any, quotes: Quotes) -> dict[str, tuple[tuple[Level, ...], tuple[Level, ...], datetime]]:
    books = {}
    failures = 0
    for ticker in tqdm(tickers, desc="kalshi orderbooks", disable=len(tickers) < 20):
        url = f"{base_url.rstrip('/')}/markets/{ticker}/orderbook"
        try:
            payload = client.get_json(url, venue="kalshi", raw_writer=writer, raw_name=f"orderbook_{ticker}.json")
            yes_asks, no_asks = parse_kalshi_orderbook(payload, source=url)
        except VenueUnreachableError as exc:
            # Every later ticker would wait out the same retries, so stop asking this host.
            log.warning("kalshi unreachable, top of book used for the remaining %d markets: %s", len(tickers) - len(books) - failures, exc)
            quotes.notes.append(f"Kalshi unreachable while fetching orderbooks: {exc}")
            break
        except (FetchError, SchemaError) as exc:
            failures += 1
            log.warning("kalshi orderbook of %s failed, using the market's top of book: %s", ticker, exc)
            continue
        books[ticker] = (yes_asks, no_asks, datetime.now(UTC))
    if failures:
        quotes.notes.append(f"{failures} Kalshi orderbooks failed; top of book used for them")
    return books


def _fetch_series(client: Any, base_url: str, series_ids: list[str], writer: Any, quotes: Quotes) -> dict[str, Decimal | None]:
    multipliers: dict[str, Decimal | None] = {}
    for series_id in series_ids:
        url = f"{base_url.rstrip('/')}/series/{series_id}"
        try:
            payload = client.get_json(url, venue="kalshi", raw_writer=writer, raw_name=f"series_{series_id}.json")
        except VenueUnreachableError as exc:
            log.warning("kalshi unreachable while fetching series, fee multiplier 1.0 assumed: %s", exc)
            multipliers.update({name: None for name in series_ids if name not in multipliers})
            break
        except FetchError as exc:
            log.warning("kalshi series %s failed, fee multiplier 1.0 assumed: %s", series_id, exc)
            multipliers[series_id] = None
            continue
        multipliers[series_id] = parse_series_fee_multiplier(payload, source=url)
    unknown = sorted(key for key, value in multipliers.items() if value is None)
    if unknown:
        quotes.notes.append(f"fee multiplier unknown for {len(unknown)} Kalshi series ({', '.join(unknown[:5])}); 1.0 assumed")
    return multipliers


def _fetch_polymarket(client: Any, clob_base_url: str, tokens: list[str], writer: Any, quotes: Quotes) -> dict[str, tuple[tuple[Level, ...], datetime]]:
    books: dict[str, tuple[tuple[Level, ...], datetime]] = {}
    base = clob_base_url.rstrip("/")
    failed_batches = 0
    for start in range(0, len(tokens), POLYMARKET_BATCH_SIZE):
        batch = tokens[start:start + POLYMARKET_BATCH_SIZE]
        number = start // POLYMARKET_BATCH_SIZE + 1
        try:
            payload = client.post_json(
                f"{base}/books", [{"token_id": token} for token in batch],
                venue="polymarket", raw_writer=writer, raw_name=f"books_{number:03d}.json",
            )
        except VenueUnreachableError as exc:
            log.warning("polymarket CLOB unreachable, top of book used for the remaining tokens: %s", exc)
            quotes.notes.append(f"Polymarket CLOB unreachable while fetching books: {exc}")
            break
        except FetchError as exc:
            failed_batches += 1
            log.warning("polymarket books batch %d (%d tokens) failed, using top of book: %s", number, len(batch), exc)
            continue
        now = datetime.now(UTC)
        for book in payload if isinstance(payload, list) else []:
            try:
                token_id, asks, stamp = parse_polymarket_book(book, source=f"{base}/books batch {number}")
            except SchemaError as exc:
                log.warning("%s", exc)
                continue
            books[token_id] = (asks, stamp or now)
        for token in batch:
            if token not in books:
                books.update(_fetch_polymarket_single(client, base, token, writer))
    if failed_batches:
        quotes.notes.append(f"{failed_batches} Polymarket /books batches failed; top of book used for their tokens")
    return books


def _fetch_polymarket_single(client: Any, base: str, token: str, writer: Any) -> dict[str, tuple[tuple[Level, ...], datetime]]:
    url = f"{base}/book"
    try:
        payload = client.get_json(url, params={"token_id": token}, venue="polymarket", raw_writer=writer, raw_name=f"book_{token}.json")
        token_id, asks, stamp = parse_polymarket_book(payload, source=url)
    except (FetchError, SchemaError) as exc:
        log.warning("polymarket book of token %s failed, using top of book: %s", token, exc)
        return {}
    return {token_id: (asks, stamp or datetime.now(UTC))}


def _apply_book(quote: MarketQuote, side: str, asks: tuple[Level, ...], stamp: datetime, source: str) -> None:
    # An empty fetched side keeps the market-row quote, because the book may have emptied between the two calls.
    if not asks:
        return
    ladder = Ladder(asks, source, stamp)
    if side == "yes":
        quote.yes = ladder
    else:
        quote.no = ladder


def collect_quotes(pairs: pd.DataFrame, markets: pd.DataFrame, params: dict, *, raw_root: str | Path | None = None) -> Quotes:
    """Return quotes for the accepted pairs: from books when fetching or replaying, else from the market rows.

    Opens an HttpClient only when books are fetched live. `rate_limit_per_second` is requests
    per second per host, or a {"kalshi": ..., "polymarket": ...} mapping. Raw responses are
    written under `raw_root`/<venue>/ when it is given.
    """
    replaying = bool(params.get("kalshi_books_replay") or params.get("polymarket_books_replay"))
    if not params.get("fetch_books") and not replaying:
        return quotes_from_markets(pairs, markets)
    writer = RawPageWriter(raw_root) if raw_root is not None else None
    if not params.get("fetch_books"):
        return fetch_quotes(pairs, markets, client=None, params=params, writer=writer)
    from mflib.http import HttpClient

    rate = params.get("rate_limit_per_second") or 5.0
    host_rates = {}
    if isinstance(rate, dict):
        hosts = {"kalshi": urlsplit(str(params.get("kalshi_base_url"))).hostname, "polymarket": urlsplit(str(params.get("clob_base_url"))).hostname}
        host_rates = {hosts[venue]: float(value) for venue, value in rate.items() if hosts.get(venue)}
        rate = min(rate.values())
    with HttpClient(default_rate_per_second=float(rate), rate_limits=host_rates) as client:
        return fetch_quotes(pairs, markets, client=client, params=params, writer=writer)


def fetch_quotes(pairs: pd.DataFrame, markets: pd.DataFrame, *, client: Any, params: dict, writer: Any = None) -> Quotes:
    """Return quotes for the accepted pairs' markets from order books, fetched or replayed.

    `params` is the validated `price` section. Non-empty `kalshi_books_replay` /
    `polymarket_books_replay` lists replace fetching for that venue; otherwise books are fetched
    through `client` (an `mflib.http.HttpClient`) when `fetch_books` is true. Any market side
    without a usable book keeps its top-of-book quote from the market row.
    """
    started = time.perf_counter()
    quotes = quotes_from_markets(pairs, markets)
    kalshi = sorted(market_id for platform, market_id in quotes.markets if platform == "kalshi")
    polymarket = [quote for (platform, _), quote in sorted(quotes.markets.items()) if platform == "polymarket"]
    series_of = {}
    if "series_id" in markets.columns:
        kalshi_rows = markets[markets["platform"] == "kalshi"]
        series_of = {str(m): str(s) for m, s in zip(kalshi_rows["market_id"], kalshi_rows["series_id"], strict=True) if pd.notna(s) and str(s)}

    kalshi_replay = list(params.get("kalshi_books_replay") or [])
    polymarket_replay = list(params.get("polymarket_books_replay") or [])
    fetch = bool(params.get("fetch_books"))
    kalshi_base = str(params.get("kalshi_base_url") or "")
    clob_base = str(params.get("clob_base_url") or "")

    if kalshi_replay:
        kalshi_books, series_multipliers = load_kalshi_replay(kalshi_replay)
        kalshi_source = SOURCE_REPLAY
    elif fetch and kalshi:
        kalshi_books = _fetch_kalshi(client, kalshi_base, kalshi, writer, quotes)
        series_to_fetch = sorted({series_of[t] for t in kalshi if t in series_of and quotes.markets[("kalshi", t)].fee_multiplier is None})
        series_multipliers = _fetch_series(client, kalshi_base, series_to_fetch, writer, quotes)
        kalshi_source = SOURCE_BOOK
    else:
        kalshi_books, series_multipliers, kalshi_source = {}, {}, SOURCE_BOOK

    for ticker in kalshi:
        quote = quotes.markets[("kalshi", ticker)]
        if ticker in kalshi_books:
            yes_asks, no_asks, stamp = kalshi_books[ticker]
            _apply_book(quote, "yes", yes_asks, stamp, kalshi_source)
            _apply_book(quote, "no", no_asks, stamp, kalshi_source)
        if quote.fee_multiplier is None and series_multipliers.get(series_of.get(ticker, "")) is not None:
            quote.fee_multiplier = series_multipliers[series_of[ticker]]

    tokens = [token for quote in polymarket for token in (quote.token_yes, quote.token_no) if token]
    if polymarket_replay:
        token_books = load_polymarket_replay(polymarket_replay)
        polymarket_source = SOURCE_REPLAY
    elif fetch and tokens:
        token_books = _fetch_polymarket(client, clob_base, tokens, writer, quotes)
        polymarket_source = SOURCE_BOOK
    else:
        token_books, polymarket_source = {}, SOURCE_BOOK
    for quote in polymarket:
        for side, token in (("yes", quote.token_yes), ("no", quote.token_no)):
            if token in token_books:
                asks, stamp = token_books[token]
                _apply_book(quote, side, asks, stamp, polymarket_source)

    sides = [quote.side(side) for quote in quotes.markets.values() for side in SIDES]
    from_books = sum(1 for ladder in sides if ladder.source in (SOURCE_BOOK, SOURCE_REPLAY))
    top_only = sum(1 for ladder in sides if ladder.top_of_book_only)
    log.info(
        "quotes: %d markets, %d sides from books, %d top of book only, %d without an ask, %.2f s",
        len(quotes.markets), from_books, top_only, len(sides) - from_books - top_only, time.perf_counter() - started,
    )
    return quotes
