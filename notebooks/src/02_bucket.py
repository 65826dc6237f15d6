# %% [markdown]
# # Bucket: group markets so only plausible Kalshi-Polymarket pairs get compared
#
# Comparing every Kalshi market with every Polymarket market is tens of millions of pairs at
# full scale. This layer puts each tradeable market into one or more buckets and only markets
# that share a bucket are compared by the filter layer:
#
# - **Keyword buckets** (`kw:<word>`): the market's rarest words that occur on both venues, such
#   as a person, team, asset or place name, plus team or person codes from Kalshi tickers and
#   Polymarket slugs. A word is rare when its inverse document frequency ln(N / markets with the
#   word) is at least `min_keyword_idf`; each market keeps its `max_keywords_per_market` rarest.
# - **Fallback buckets** for markets without such a word: category and close month
#   (`cat:<category>|<YYYY-MM>`), then category, then close month, then `all`, always one that
#   contains both venues. No market is parked in a bucket where it cannot pair.
# - **Category windows** (`cat:<category>|<window start>+<w>d`): every market also joins the bucket of its
#   category and close-time window of `category_window_days` days (windows overlap, so close
#   times up to that many days apart meet). This finds pairs whose shared words are all common,
#   such as "Fed", "rate" and "June"; 0 turns it off.
# - **Close-time splits**: a bucket with more than `max_bucket_pairs` pairs is split into
#   overlapping close-time windows, trying each width of `split_levels_days` in turn. A window of
#   w days keeps every pair whose close times differ by at most w days together.
#
# `only_tradeable` leaves out markets that are closed or have no ask. `max_exact_pair_count` caps
# the work spent counting distinct pairs (above it the count is an upper bound).

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
only_tradeable = True
min_keyword_idf = 4.0
max_keywords_per_market = 4
category_window_days = 31
max_bucket_pairs = 250000
split_levels_days = [31, 7, 2]
max_exact_pair_count = 30000000

# %%
import pandas as pd
import plotly.express as px

from mflib import bucketing, notebook, warehouse

ctx = notebook.start_layer("bucket", run_id=run_id, warehouse_path=warehouse_path, run_dir=run_dir,
                           log_level=log_level)
bucket_params = {
    "only_tradeable": only_tradeable,
    "min_keyword_idf": min_keyword_idf,
    "max_keywords_per_market": max_keywords_per_market,
    "category_window_days": category_window_days,
    "max_bucket_pairs": max_bucket_pairs,
    "split_levels_days": split_levels_days,
    "max_exact_pair_count": max_exact_pair_count,
}
markets = warehouse.read_run(ctx.con, "markets", run_id)

# %% [markdown]
# ## Assign buckets
#
# The log shows markets considered, buckets, splits and the pairs left.

# %%
result = bucketing.assign_buckets(markets, bucket_params)
warehouse.replace_run_rows(ctx.con, "buckets", run_id, result.buckets)
warehouse.replace_run_rows(ctx.con, "bucket_stats", run_id, result.stats)
summary = pd.DataFrame({
    "figure": ["markets in the table", "markets bucketed", "buckets", "naive pairs", "pairs after bucketing",
               "reduction (x)"],
    "value": [len(markets), result.buckets["market_id"].nunique(), len(result.stats), result.naive_pairs,
              result.bucketed_pairs, round(result.naive_pairs / max(result.bucketed_pairs, 1), 1)],
})
summary

# %% [markdown]
# ## Pairs per bucket, before and after the close-time split
#
# `parent_pairs` is the pair count of the bucket before it was split (equal to `pairs` when it
# was not split).

# %%
result.stats.head(30)

# %%
largest = result.stats.head(30).melt(id_vars="bucket", value_vars=["parent_pairs", "pairs"],
                                     var_name="count", value_name="kalshi x polymarket pairs")
px.bar(largest, x="bucket", y="kalshi x polymarket pairs", color="count", barmode="group", log_y=True,
       title="Largest buckets: pairs before (parent_pairs) and after the close-time split")

# %%
layer_seconds = ctx.record(len(markets), len(result.buckets), {
    "naive_pairs": result.naive_pairs,
    "bucketed_pairs": result.bucketed_pairs,
    "bucketed_pairs_is_upper_bound": result.bucketed_pairs_is_upper_bound,
    "buckets": len(result.stats),
    "split_buckets": int(result.stats["split"].sum()),
})
