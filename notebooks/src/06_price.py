# %% [markdown]
# # Price: the edge a trader can take after fees, at a size the books can fill
#
# For every accepted pair this layer prices both hedges: YES on one venue plus NO on the other
# (a `same` pair), or YES plus YES and NO plus NO (an `inverted` pair). Each hedged contract pays
# $1 in every outcome both venues share. The layer walks both ask ladders together and keeps
# adding contracts while the next one still pays back more than its price plus both taker fees.
# Kalshi charges 0.07 x C x P x (1 - P) per order, times the series multiplier, rounded up to
# the cent. Polymarket charges the market's or its category's rate, only where fees are enabled.
# The layer writes one row per direction with an edge to table `opportunities` and the ladders
# used to table `books`.
#
# Parameters that matter: `stake_usd` (the trade size reported next to the full executable
# size), `min_profit_margin` (net profit / cost needed to keep a direction),
# `max_quote_age_seconds` and `min_depth_contracts` (the `stale_quote` and `thin_depth` flags),
# `fetch_books` (false: use each market's best ask, flagged `top_of_book_only`), and the
# `*_books_replay` lists of recorded book files or folders that replace fetching. Fetched books
# are saved under `raw_dir/books/<venue>/` (`orderbook_<ticker>.json`, `books_NNN.json`), so
# that folder can be given as a replay list later.
# `detected_at` (ISO 8601, empty for now) fixes the pricing time so a replay is reproducible.

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
raw_dir = "data/nbval/raw"
stake_usd = 100
kalshi_fee_rate = 0.07
polymarket_category_fee_rates = {
    "crypto": 0.07, "sports": 0.03, "finance": 0.04, "politics": 0.04, "tech": 0.04, "mentions": 0.04,
    "economics": 0.05, "culture": 0.05, "weather": 0.05, "other": 0.05, "geopolitics": 0.0,
}
min_profit_margin = 0.0
max_quote_age_seconds = 120
min_depth_contracts = 10
fetch_books = False
kalshi_base_url = "https://api.elections.kalshi.com/trade-api/v2"
clob_base_url = "https://clob.polymarket.com"
kalshi_books_replay = []
polymarket_books_replay = []
rate_limit_per_second = 5.0
detected_at = ""

# %%
from datetime import UTC, datetime

from mflib import books, notebook, pricing, warehouse
from mflib.pricing import views

ctx = notebook.start_layer("price", run_id=run_id, warehouse_path=warehouse_path, run_dir=run_dir,
                           log_level=log_level)
params = pricing.validate_price_params({
    "stake_usd": stake_usd, "kalshi_fee_rate": kalshi_fee_rate,
    "polymarket_category_fee_rates": polymarket_category_fee_rates, "min_profit_margin": min_profit_margin,
    "max_quote_age_seconds": max_quote_age_seconds, "min_depth_contracts": min_depth_contracts,
    "fetch_books": fetch_books, "kalshi_base_url": kalshi_base_url, "clob_base_url": clob_base_url,
    "kalshi_books_replay": kalshi_books_replay, "polymarket_books_replay": polymarket_books_replay,
    "rate_limit_per_second": rate_limit_per_second,
})
now = datetime.fromisoformat(detected_at) if detected_at else datetime.now(UTC)

# %% [markdown]
# ## Accepted pairs
#
# The pairs the review layer accepted, with their orientation and confidence.

# %%
pairs = pricing.accepted_pairs(warehouse.read_run(ctx.con, "reviewed_pairs", run_id))
markets = warehouse.read_run(ctx.con, "markets", run_id)
pairs.reindex(columns=["pair_id", "orientation", "confidence", "confidence_source"]).head(20)

# %% [markdown]
# ## Quotes
#
# Where each market side's asks came from: `book` (fetched), `replay` (recorded files),
# `market_top` (the market's best ask only) or `none` (no ask at all).

# %%
quotes = books.collect_quotes(pairs, markets, params, raw_root=notebook.resolve_path(raw_dir) / "books")
warehouse.replace_run_rows(ctx.con, "books", run_id, quotes.books_frame())
views.quote_sources(quotes)

# %% [markdown]
# ## Opportunities
#
# One row per direction with a profit after both venues' fees, at the largest size the books can
# fill and at the target stake. The net margin is net profit divided by cost (prices plus fees).

# %%
evaluated = pricing.evaluate_pairs(pairs, markets, quotes, params, now=now)
opportunities = pricing.select_opportunities(evaluated, params)
warehouse.replace_run_rows(ctx.con, "opportunities", run_id, opportunities)
views.opportunities_view(opportunities)

# %% [markdown]
# ## Net edge against the gross gap
#
# Every priced direction: the gap between $1 and the two best asks, against what is left per
# contract after fees at the executable size. Points below the dotted line lost that much to fees
# and depth; points below zero have no edge.

# %%
views.edge_figure(evaluated)

# %%
ctx.record(len(pairs), len(opportunities), {
    "directions_priced": len(evaluated),
    "with_edge": int(evaluated["has_edge"].sum()) if len(evaluated) else 0,
    "quote_notes": quotes.notes,
})
