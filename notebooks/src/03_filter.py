# %% [markdown]
# # Filter: keep each Kalshi market's best Polymarket matches within its buckets
#
# Inside every bucket the titles (with subtitles) of both venues are compared with rapidfuzz.
# `scorer` picks the similarity: `token_sort_ratio` (default, fast: plain `ratio` over sorted,
# de-duplicated words without stopwords), `token_set_ratio` or `WRatio` (both about 30 times
# slower, better when one title is a subset of the other). Large buckets go through one
# `process.cdist` matrix each, small ones through a single `process.cpdist` call, with `workers`
# threads (-1 uses every core).
#
# A pair is kept when its text score is at least `min_text_score` (0-100) and the close times
# differ by at most `max_close_gap_days`. Markets below `min_liquidity_usd` are left out, and a
# missing liquidity passes. Each Kalshi market keeps its `top_k` matches by rank score: the text
# score plus `number_weight` times the share of shared numbers (strikes, dates) minus
# `close_gap_weight` per day of close-time gap.
#
# With `extract_facts`, deadlines and thresholds from `mflib.extract` are added to each candidate
# and `fact_flags` names a mismatch (`deadline_differs`, `threshold_differs`). Such near-misses
# stay in the candidates so the score layer records why they differ, unless
# `drop_fact_mismatches` rejects them here. Every rejection is counted under a reason code.

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
scorer = "token_sort_ratio"
min_text_score = 55.0
top_k = 2
max_close_gap_days = 31.0
min_liquidity_usd = 0.0
workers = -1
number_weight = 15.0
close_gap_weight = 0.1
small_bucket_pairs = 20000
extract_facts = True
drop_fact_mismatches = False

# %%
import plotly.express as px

from mflib import filtering, notebook, warehouse

ctx = notebook.start_layer("filter", run_id=run_id, warehouse_path=warehouse_path, run_dir=run_dir,
                           log_level=log_level)
filter_params = {
    "scorer": scorer,
    "min_text_score": min_text_score,
    "top_k": top_k,
    "max_close_gap_days": max_close_gap_days,
    "min_liquidity_usd": min_liquidity_usd,
    "workers": workers,
    "number_weight": number_weight,
    "close_gap_weight": close_gap_weight,
    "small_bucket_pairs": small_bucket_pairs,
    "extract_facts": extract_facts,
    "drop_fact_mismatches": drop_fact_mismatches,
}
markets = warehouse.read_run(ctx.con, "markets", run_id)
buckets = warehouse.read_run(ctx.con, "buckets", run_id)

# %% [markdown]
# ## Find candidates

# %%
result = filtering.find_candidates(markets, buckets, filter_params)
rows_out = warehouse.replace_run_rows(ctx.con, "candidates", run_id, result.candidates)
result.stats

# %% [markdown]
# ## Rejected pairs by reason
#
# Counted per bucket comparison, so a pair compared in two buckets counts twice.

# %%
result.rejected

# %% [markdown]
# ## Text scores of the candidates

# %%
px.histogram(result.candidates, x="text_score", nbins=40, title="Text score of candidate pairs")

# %% [markdown]
# ## Best candidates
#
# `fact_flags` is empty when the extracted deadlines and thresholds agree (or are unknown).

# %%
columns_shown = [name for name in ("text_score", "rank_score", "close_gap_days", "fact_flags", "kalshi_title",
                           "polymarket_title", "bucket", "pair_id") if name in result.candidates.columns]
result.candidates[columns_shown].head(30)

# %%
layer_seconds = ctx.record(len(buckets), rows_out, {"rejected": dict(zip(result.rejected["reason"], result.rejected["pairs"], strict=True)),
                                    **result.stats})
