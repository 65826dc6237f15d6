"""Live Polymarket listing: every active, open Gamma event with its nested markets.

Gamma's `GET /events` pages by `limit` (at most 500) and `offset`, but offsets past about
2,000 have been reported to fail with HTTP 422, and pages have been reported to repeat when
the server ignores the paging value. The listing therefore combines two strategies
(`strategy="auto"`, the default):

1. Keyset paging on `GET /events/keyset`, sending `after_cursor` = the previous `next_cursor`
   until a response has none. The response may be a bare list of events or an object with
   `events` (or `data`) and `next_cursor`; both are accepted. This pass ends early when the
   endpoint returns HTTP 400/404/405/410/422, or when the cursor stalls (a cursor or a page of
   event ids comes back a second time).
2. When keyset paging did not finish, offset paging on `GET /events` (ordered by id, so that
   offsets are stable), first over the whole listing up to the offset cap, then in end-date
   windows (`end_date_min` / `end_date_max`, from 2000-01-01 to 2100-01-01). A window whose
   events do not fit under the cap is split in two until they fit. A probe request of one event
   at `offset=offset_cap` shows whether a window fits before its pages are read. When the server
   rejects an offset below `offset_cap` with HTTP 422, the cap is lowered for the rest of the
   listing. Against tests/venue_server.py with 30,000 events spread over two years (500 per
   page, cap 2,000), this pass sent 129 requests where 60 pages hold the events.

Every request sends `active=true` and `closed=false` explicitly, because `/events` has been
reported to return closed events when `closed` is omitted. Events already yielded (by id, or
slug when the id is missing) are dropped from later pages, so the overlapping passes and
windows never yield an event twice. A page that repeats an earlier page of the same window is
requested once more, and the window is split if it repeats again.

Known gaps:
- Events without an end date are reached only by the whole-listing pass, so when the listing
  exceeds the cap, undated events past the first `offset_cap + page_size` (by id) are missed;
  a warning says so.
- Events ending before 2000 or after 2100 are reached the same way.
- A window of one second whose events still exceed the cap stops there (`report.partial`), and
  so does the listing after 4,096 windows.
- Whether `end_date_min` / `end_date_max` include their bounds was not checked against the
  live API, so neighbouring windows share their edge instant and the duplicates are dropped.
- Offset paging over a changing listing can skip an event that moves between two requests.
- Raw pages are saved unfiltered, so a replay of them contains the duplicates that this module
  drops; the parser downstream must deduplicate by market id. Probe responses are not saved.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tqdm import tqdm

from mflib.errors import FetchError, SchemaError
from mflib.http import HttpClient, HttpStatusError
from mflib.sources.base import ListingReport, Page, RawPageWriter

log = logging.getLogger(__name__)

VENUE = "polymarket"
MAX_PAGE_SIZE = 500
# NOTE: 2,000 is the offset reported to fail with HTTP 422, not a documented limit.
DEFAULT_OFFSET_CAP = 2000
STRATEGIES = ("auto", "keyset", "windows")
WINDOW_START = datetime(2000, 1, 1, tzinfo=UTC)
WINDOW_END = datetime(2100, 1, 1, tzinfo=UTC)
MIN_WINDOW = timedelta(seconds=1)
# Bounds the requests spent splitting windows when the server misbehaves (about 2 per window).
MAX_WINDOWS = 4096
# Statuses meaning "this endpoint or parameter is not supported here", so another strategy is tried.
UNSUPPORTED_STATUSES = frozenset({400, 404, 405, 410, 422})


class _MaxPagesReached(Exception):
    pass


def iter_event_pages(
    client: HttpClient,
    base_url: str,
    *,
    page_size: int = 500,
    writer: RawPageWriter | None = None,
    max_pages: int | None = None,
    report: ListingReport | None = None,
    progress: bool = True,
    offset_cap: int = DEFAULT_OFFSET_CAP,
    strategy: str = "auto",
) -> Iterator[Page]:
    """Yield pages of active, open Gamma events; each payload is a list of events not yielded before.

    `strategy` is "auto" (keyset, then offset windows for what keyset missed), "keyset" or
    "windows". `report.pages` counts pages read (including dropped repeats), `report.records`
    the markets yielded. Raises FetchError when a request fails after its retries and
    SchemaError when a page is not a list of events.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size={page_size}: expected 1 to {MAX_PAGE_SIZE}")
    if offset_cap < page_size:
        raise ValueError(f"offset_cap={offset_cap}: expected at least page_size={page_size}")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r}: expected one of {', '.join(STRATEGIES)}")

    report = report if report is not None else ListingReport(VENUE)
    listing = _Listing(client, base_url.rstrip("/"), page_size, writer, max_pages, report, progress)
    started = time.monotonic()
    log.info("Polymarket listing started: %s, strategy %s, %d events per page", base_url, strategy, page_size)

    try:
        complete = False
        if strategy in ("auto", "keyset"):
            complete = yield from listing.keyset_pages()
            if not complete and strategy == "keyset":
                listing.stop_early("keyset paging did not reach the last page")
        if not complete and strategy in ("auto", "windows"):
            if strategy == "auto":
                log.warning("Polymarket listing: continuing with offset paging in end-date windows")
            yield from listing.window_pages(offset_cap)
    except _MaxPagesReached:
        listing.stop_early(f"stopped after max_pages={max_pages}; more pages remained")
    finally:
        listing.bar.close()

    log.info(
        "Polymarket listing finished: %d pages read, %d events and %d markets yielded in %.1f s%s",
        listing.pages_read, len(listing.seen), report.records, time.monotonic() - started,
        " (partial)" if report.partial else "",
    )


class _Listing:
    """State shared by both strategies: ids already yielded, page numbers and the report."""

    def __init__(
        self,
        client: HttpClient,
        base_url: str,
        page_size: int,
        writer: RawPageWriter | None,
        max_pages: int | None,
        report: ListingReport,
        progress: bool,
    ):
        self.client = client
        self.base_url = base_url
        self.page_size = page_size
        self.writer = writer
        self.max_pages = max_pages
        self.report = report
        self.seen: set[str] = set()
        self.offset_cap = DEFAULT_OFFSET_CAP
        self.pages_read = 0
        self.bar = tqdm(desc="Polymarket markets", unit=" markets", disable=not progress)

    # Keyset strategy

    def keyset_pages(self) -> Generator[Page, None, bool]:
        """Yield pages from /events/keyset; return True when the last page was reached."""
        url = f"{self.base_url}/events/keyset"
        cursor = ""
        sent_cursors: set[str] = set()
        page_ids: set[frozenset[str]] = set()
        while True:
            params = self._filters()
            if cursor:
                params["after_cursor"] = cursor
            try:
                payload, number = self._fetch(url, params)
            except HttpStatusError as exc:
                if exc.status_code not in UNSUPPORTED_STATUSES:
                    raise
                log.warning("Polymarket keyset paging unavailable (HTTP %d on %s)", exc.status_code, url)
                return False

            events, next_cursor = _keyset_parts(payload, url, number)
            ids = frozenset(_event_key(event) for event in events)
            if events and ids in page_ids:
                log.warning("Polymarket keyset page %d repeats an earlier page (after_cursor %r); "
                            "the server ignored the cursor", number, cursor)
                return False
            page_ids.add(ids)
            sent_cursors.add(cursor)
            yield from self._emit(events, number, url)

            if not next_cursor:
                return isinstance(payload, dict) or len(events) < self.page_size
            if next_cursor in sent_cursors:
                log.warning("Polymarket keyset page %d returned cursor %r a second time", number, next_cursor)
                return False
            cursor = next_cursor

    # Offset strategy

    def window_pages(self, offset_cap: int) -> Iterator[Page]:
        """Yield pages from /events by offset, splitting end-date windows that exceed the cap."""
        url = f"{self.base_url}/events"
        self.offset_cap = offset_cap
        complete = yield from self._window(url, None, None, probe=False)
        if complete:
            return
        readable = self.offset_cap + self.page_size
        message = (f"more than {readable} open events, so events without an end date beyond "
                   f"the first {readable} by id may be missing")
        log.warning("Polymarket listing: %s; listing the rest in end-date windows", message)
        self.report.warnings.append(message)

        pending = [(WINDOW_START, WINDOW_END)]
        windows = 0
        while pending:
            windows += 1
            if windows > MAX_WINDOWS:
                self.stop_early(f"stopped after {MAX_WINDOWS} end-date windows; "
                                f"{len(pending)} windows were not listed")
                return
            low, high = pending.pop()
            complete = yield from self._window(url, low, high, probe=True)
            if complete:
                continue
            if high - low <= MIN_WINDOW:
                self.stop_early(f"end-date window {_iso(low)}..{_iso(high)} holds more events than "
                                f"the offset cap of {self.offset_cap} allows; some were not listed")
                continue
            middle = low + (high - low) / 2
            log.debug("Polymarket window %s..%s exceeds the offset cap; splitting at %s",
                      _iso(low), _iso(high), _iso(middle))
            pending.append((middle, high))
            pending.append((low, middle))

    def _window(
        self, url: str, low: datetime | None, high: datetime | None, *, probe: bool,
    ) -> Generator[Page, None, bool]:
        """Yield the pages of one window; return False when the window does not fit under the cap."""
        params = self._filters()
        params.update(order="id", ascending="true")
        if low is not None and high is not None:
            params.update(end_date_min=_iso(low), end_date_max=_iso(high))

        if probe and self._window_exceeds_cap(url, params):
            return False

        offset = 0
        page_ids: list[frozenset[str]] = []
        requested_again = False
        while offset <= self.offset_cap:
            try:
                payload, number = self._fetch(url, {**params, "offset": offset})
            except HttpStatusError as exc:
                if exc.status_code != 422 or offset == 0:
                    raise
                self._lower_cap(offset, url)
                return False
            events = _event_list(payload, url, number)

            ids = frozenset(_event_key(event) for event in events)
            if events and ids in page_ids:
                if requested_again:
                    log.warning("Polymarket page at offset %d repeats an earlier page again", offset)
                    return False
                log.warning("Polymarket page %d at offset %d repeats an earlier page; requesting "
                            "it again", number, offset)
                requested_again = True
                continue
            requested_again = False
            page_ids.append(ids)
            yield from self._emit(events, number, url)

            if len(events) < self.page_size:
                return True
            offset += self.page_size
        return False

    def _window_exceeds_cap(self, url: str, params: dict[str, Any]) -> bool:
        """Ask for the one event at the offset cap; return True when it exists.

        A window fits only with at most offset_cap + page_size events, so a window with an event
        at offset_cap may still fit. It is split anyway: a one-event probe is far cheaper than
        reading a full page to find out.
        """
        while True:
            probe = {**params, "limit": 1, "offset": self.offset_cap}
            try:
                payload = self.client.get_json(url, params=probe, venue=VENUE)
            except HttpStatusError as exc:
                if exc.status_code != 422:
                    raise
                self._lower_cap(self.offset_cap, url)
                continue
            return bool(_event_list(payload, url, 0))

    def _lower_cap(self, rejected_offset: int, url: str) -> None:
        """Lower the offset cap below an offset the server rejected with HTTP 422."""
        lowered = min(self.offset_cap, rejected_offset - self.page_size)
        if lowered < self.page_size:
            raise FetchError(VENUE, url, f"offset {rejected_offset} was rejected with HTTP 422, so offset "
                                         "paging cannot list more than one page; lower offset_cap or "
                                         "use strategy='keyset'")
        log.warning("Polymarket rejected offset %d with HTTP 422; lowering the offset cap from %d to %d",
                    rejected_offset, self.offset_cap, lowered)
        self.offset_cap = lowered

    # Shared helpers

    def _filters(self) -> dict[str, Any]:
        return {"active": "true", "closed": "false", "limit": self.page_size}

    def _fetch(self, url: str, params: dict[str, Any]) -> tuple[Any, int]:
        if self.max_pages is not None and self.pages_read >= self.max_pages:
            raise _MaxPagesReached
        number = self.pages_read + 1
        name = f"events_page_{number:04d}.json"
        payload = self.client.get_json(url, params=params, venue=VENUE, raw_writer=self.writer, raw_name=name)
        self.pages_read = number
        self.report.pages += 1
        return payload, number

    def _emit(self, events: list[dict], number: int, url: str) -> Iterator[Page]:
        fresh = []
        for event in events:
            key = _event_key(event)
            if key in self.seen:
                continue
            self.seen.add(key)
            fresh.append(event)
        dropped = len(events) - len(fresh)
        if dropped:
            log.debug("Polymarket page %d: %d events already listed were dropped", number, dropped)
        if not fresh:
            return
        markets = sum(len(event.get("markets") or []) for event in fresh)
        self.report.records += markets
        self.bar.update(markets)
        source = str(self.writer.root / VENUE / f"events_page_{number:04d}.json") if self.writer else url
        yield Page(venue=VENUE, number=number, source=source, payload=fresh, url=url)

    def stop_early(self, message: str) -> None:
        log.warning("Polymarket listing: %s", message)
        self.report.partial = True
        self.report.warnings.append(message)


def _event_key(event: dict) -> str:
    return str(event.get("id") or event.get("slug") or id(event))


def _event_list(payload: Any, url: str, number: int) -> list[dict]:
    if not isinstance(payload, list):
        raise SchemaError(url, f"Polymarket events page {number}: expected a list of events, "
                               f"got {type(payload).__name__}; check the base URL")
    _check_events(payload, url, number)
    return payload


def _check_events(events: list, url: str, number: int) -> None:
    for position, event in enumerate(events):
        if not isinstance(event, dict):
            raise SchemaError(url, f"Polymarket events page {number}: item {position} is a "
                                   f"{type(event).__name__}, expected an event object")


def _keyset_parts(payload: Any, url: str, number: int) -> tuple[list[dict], str]:
    """Split a keyset response into its events and next cursor ("" on the last page)."""
    if isinstance(payload, list):
        _check_events(payload, url, number)
        return payload, ""
    if isinstance(payload, dict):
        events = payload.get("events", payload.get("data"))
        if isinstance(events, list):
            _check_events(events, url, number)
            cursor = payload.get("next_cursor") or payload.get("nextCursor") or ""
            return events, str(cursor)
    raise SchemaError(url, f"Polymarket keyset page {number}: expected a list of events or an object "
                           f"with 'events' and 'next_cursor', got {type(payload).__name__}")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
