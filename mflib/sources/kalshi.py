"""Live Kalshi listing: every open event with its nested markets, page by page.

`GET {base_url}/events?with_nested_markets=true&status=open` pages by cursor: each response
carries `cursor`, which is sent back until it comes back empty or null. `/events` leaves out
multivariate (parlay) events, which is what the matcher wants. Every raw body is saved as
kalshi/events_page_0001.json, ... before it is parsed, so a run can be replayed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from tqdm import tqdm

from mflib.errors import SchemaError
from mflib.http import HttpClient
from mflib.sources.base import ListingReport, Page, RawPageWriter

log = logging.getLogger(__name__)

VENUE = "kalshi"
MAX_EVENTS_PAGE_SIZE = 200


def iter_event_pages(
    client: HttpClient,
    base_url: str,
    *,
    page_size: int = 200,
    writer: RawPageWriter | None = None,
    max_pages: int | None = None,
    report: ListingReport | None = None,
    progress: bool = True,
) -> Iterator[Page]:
    """Yield each page of open Kalshi events (payload: the decoded `{"events": [...], "cursor": ...}`).

    Stops early, with a warning and `report.partial = True`, when the cursor stalls (a cursor
    comes back that was already sent, or a page repeats the events of an earlier page) or when
    `max_pages` is reached before the last page. Raises FetchError when a request fails after
    its retries and SchemaError when a page is not an object with an `events` list.
    """
    if not 1 <= page_size <= MAX_EVENTS_PAGE_SIZE:
        # NOTE: 200 as the maximum page size of /events comes from third-party docs, not Kalshi's own.
        raise ValueError(f"page_size={page_size}: expected 1 to {MAX_EVENTS_PAGE_SIZE}")
    report = report if report is not None else ListingReport(VENUE)
    url = base_url.rstrip("/") + "/events"
    sent_cursors: set[str] = set()
    seen_pages: set[tuple[str, ...]] = set()
    cursor = ""
    pages_read = 0
    started = time.monotonic()
    bar = tqdm(desc="Kalshi markets", unit=" markets", disable=not progress)
    log.info("Kalshi listing started: %s, %d events per page", url, page_size)

    try:
        while True:
            if max_pages is not None and pages_read >= max_pages:
                _stop_early(report, f"stopped after max_pages={max_pages}; more pages remained")
                break

            number = pages_read + 1
            params: dict[str, Any] = {"with_nested_markets": "true", "status": "open", "limit": page_size}
            if cursor:
                params["cursor"] = cursor
            name = f"events_page_{number:04d}.json"
            payload = client.get_json(url, params=params, venue=VENUE, raw_writer=writer, raw_name=name)
            events = _events_of(payload, number, url)

            tickers = tuple(str(event.get("event_ticker", "")) for event in events)
            if events and tickers in seen_pages:
                _stop_early(report, f"page {number} repeats the events of an earlier page "
                                    f"(cursor {cursor!r}); the listing stopped there")
                break
            seen_pages.add(tickers)
            sent_cursors.add(cursor)

            markets = sum(len(event.get("markets") or []) for event in events)
            pages_read = number
            report.pages += 1
            report.records += markets
            bar.update(markets)
            source = str(writer.root / VENUE / name) if writer else url
            yield Page(venue=VENUE, number=number, source=source, payload=payload, url=url)

            next_cursor = payload.get("cursor") or ""
            if not next_cursor:
                break
            if next_cursor in sent_cursors:
                _stop_early(report, f"page {number} returned cursor {next_cursor!r}, which was "
                                    "already sent; the listing stopped there")
                break
            cursor = next_cursor
    finally:
        bar.close()

    log.info(
        "Kalshi listing finished: %d pages, %d markets in %.1f s%s",
        pages_read, report.records, time.monotonic() - started,
        " (partial)" if report.partial else "",
    )


def fetch_series(
    client: HttpClient,
    base_url: str,
    series_ticker: str,
    *,
    writer: RawPageWriter | None = None,
) -> dict:
    """Fetch one series (`GET /series/{ticker}`) and return its `series` object, which contains the fee fields."""
    url = f"{base_url.rstrip('/')}/series/{series_ticker}"
    payload = client.get_json(url, venue=VENUE, raw_writer=writer, raw_name=f"series_{series_ticker}.json")
    series = payload.get("series") if isinstance(payload, dict) else None
    if not isinstance(series, dict):
        raise SchemaError(url, f"series {series_ticker!r}: expected an object with a 'series' object, "
                               f"got {type(payload).__name__}")
    return series


def _events_of(payload: Any, number: int, url: str) -> list[dict]:
    if isinstance(payload, dict) and payload.get("events", ()) is None:
        return []
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise SchemaError(url, f"Kalshi events page {number}: expected an object with an 'events' "
                               f"list, got {type(payload).__name__}; check the base URL")
    for position, event in enumerate(events):
        if not isinstance(event, dict):
            raise SchemaError(url, f"Kalshi events page {number}: item {position} is a "
                                   f"{type(event).__name__}, expected an event object")
    return events


def _stop_early(report: ListingReport, message: str) -> None:
    log.warning("Kalshi listing: %s", message)
    report.partial = True
    report.warnings.append(message)
