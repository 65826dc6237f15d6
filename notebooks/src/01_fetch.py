# %% [markdown]
# # Fetch: every market of Kalshi and Polymarket in one schema
#
# This layer lists the markets of both venues and normalizes them into the unified market
# schema (`mflib.schema.MARKET_COLUMNS`): prices in dollars from 0 to 1, a missing ask as null
# ("no offer"), outcome labels, close times in UTC and fee fields. Records with a bad value go to
# the `quarantine` table with a reason code. They never stop the run.
#
# Each venue runs live or from recorded files:
#
# - **Live** when its replay list is empty. Kalshi is read from `GET /events` with nested
#   markets, and Polymarket from Gamma's events listing. Every raw page is written under
#   `raw_dir/<venue>/` before it is parsed, so the run can be replayed later.
# - **Replay** when `kalshi_replay` or `polymarket_replay` lists files or folders of recorded
#   responses (any listing shape of that venue). A file that is not a listing stops the run with
#   its name. Add its name or a glob to `replay_skip` to leave it out.
#
# One venue failing leaves the other usable, and `venue_status` records the failure. Both
# failing stops the run with a message on how to run on a recorded snapshot.
#
# Parameters that matter: the replay lists, `rate_limit_per_second` (requests per second per
# venue), `max_total_seconds` (time budget of one request with its retries), the page sizes and
# `max_pages` (each live listing stops after that many pages, and `None` reads everything).
# The defaults replay the small CI fixture, so the notebook runs offline.

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
raw_dir = "data/nbval/raw"
kalshi_base_url = "https://api.elections.kalshi.com/trade-api/v2"
polymarket_base_url = "https://gamma-api.polymarket.com"
kalshi_replay = ["tests/fixtures/ci/kalshi"]
polymarket_replay = ["tests/fixtures/ci/polymarket"]
replay_skip = []
rate_limit_per_second = {"kalshi": 10, "polymarket": 5}
timeout_seconds = 20
max_retries = 5
max_total_seconds = 600
kalshi_page_size = 200
polymarket_page_size = 500
max_pages = None

# %%
from mflib import fetch, notebook

ctx = notebook.start_layer("fetch", run_id=run_id, warehouse_path=warehouse_path, run_dir=run_dir,
                           log_level=log_level)
fetch_params = {
    "kalshi_base_url": kalshi_base_url,
    "polymarket_base_url": polymarket_base_url,
    "kalshi_replay": [str(notebook.resolve_path(path)) for path in kalshi_replay],
    "polymarket_replay": [str(notebook.resolve_path(path)) for path in polymarket_replay],
    "replay_skip": replay_skip,
    "rate_limit_per_second": rate_limit_per_second,
    "timeout_seconds": timeout_seconds,
    "max_retries": max_retries,
    "max_total_seconds": max_total_seconds,
    "kalshi_page_size": kalshi_page_size,
    "polymarket_page_size": polymarket_page_size,
    "max_pages": max_pages,
}
raw_root = notebook.resolve_path(raw_dir)

# %% [markdown]
# ## List and normalize
#
# Live pages are saved under `raw_root` first. The log shows pages, records, quarantined records
# by reason and seconds per venue.

# %%
result = fetch.fetch_markets(fetch_params, run_id=run_id, raw_root=raw_root)
rows_out = fetch.store_fetch(ctx.con, result, run_id=run_id)

# %% [markdown]
# ## Markets per venue
#
# `mode` is live or replay. `ok` is false when the venue failed, and `partial` is true when its
# listing stopped early. `tradeable` counts open markets with at least one ask.

# %%
fetch.venue_summary(result)

# %% [markdown]
# ## Quarantined records
#
# Records left out of `markets`, by venue, reason code and field. The `quarantine` table contains
# each one with an excerpt of the bad value and the page it came from.

# %%
fetch.quarantine_summary(result.quarantine)

# %% [markdown]
# ## Markets by category
#
# The venues name categories differently (Kalshi "Economics", Polymarket "Economy"), so one
# topic may appear under two names.

# %%
fetch.category_chart(result.markets)

# %%
ctx.record(result.records, rows_out, fetch.layer_details(result))
