# %% [markdown]
# # LLM review of scored pairs
#
# This layer asks Claude whether each high-scoring Kalshi-Polymarket pair is the same contract:
# YES on one market pays in exactly the outcomes where YES (`same`) or NO (`inverted`) pays on
# the other. It catches differences the scoring model and rules miss, such as a different
# resolution source or different handling of a cancelled event. Each request carries both
# markets' titles, rules, close times and outcome labels, and the scoring features. Replies are
# JSON verdicts checked against a schema; an invalid reply is sent once more, then recorded as an
# error.
#
# The LLM can reject a pair but never accept one that scoring vetoed (deadline, threshold or
# entity mismatch), and it cannot flip the orientation: a disputed orientation is kept as a
# disagreement and the pair is not accepted. Verdicts are cached in the `verdicts` table by both
# market ids, a hash of both texts, the prompt version and the model, so a scheduled run pays only
# for new or changed pairs.
#
# The API key comes only from the environment variable `ANTHROPIC_API_KEY`. Without it the layer
# sends nothing and every pair keeps the scoring confidence (review_status `skipped_no_key`).
#
# Parameters: `review_threshold` (pairs with a lower probability are not sent),
# `max_pairs_per_run`, `model_fast` and `model_strong` (used for pairs within
# `strong_model_margin` of the threshold; `None` turns it off), `batch_min_pairs` (at or above
# it the Message Batches API is used, which costs half), `max_concurrency` and
# `requests_per_minute` for direct calls, `budget_usd` (no new request once the estimated spend
# reaches it), and the prices in USD per million tokens used for the cost estimate.

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
review_threshold = 0.5
max_pairs_per_run = 200
model_fast = "claude-haiku-5-5"
model_strong = None
strong_model_margin = 0.1
max_tokens = 1024
batch_min_pairs = 50
max_concurrency = 4
requests_per_minute = 50
batch_timeout_seconds = 3600
batch_poll_seconds = 10
budget_usd = 5.0
input_price_per_mtok = {"claude-haiku-5-5": 0.10, "claude-sonnet-5-5": 2.0}
output_price_per_mtok = {"claude-haiku-5-5": 0.50, "claude-sonnet-5-5": 10.0}
cache_write_price_factor = 1.25
cache_read_price_factor = 0.1
batch_price_factor = 0.5
prompt_version = "v1"
max_retries = 2
request_timeout_seconds = 120

# %%
from mflib import notebook, review, warehouse

ctx = notebook.start_layer("review", run_id=run_id, warehouse_path=warehouse_path, run_dir=run_dir,
                           log_level=log_level)
review_params = {
    "review_threshold": review_threshold, "max_pairs_per_run": max_pairs_per_run,
    "model_fast": model_fast, "model_strong": model_strong, "strong_model_margin": strong_model_margin,
    "max_tokens": max_tokens,
    "batch_min_pairs": batch_min_pairs, "max_concurrency": max_concurrency,
    "requests_per_minute": requests_per_minute, "batch_timeout_seconds": batch_timeout_seconds,
    "batch_poll_seconds": batch_poll_seconds, "budget_usd": budget_usd,
    "input_price_per_mtok": input_price_per_mtok, "output_price_per_mtok": output_price_per_mtok,
    "cache_write_price_factor": cache_write_price_factor, "cache_read_price_factor": cache_read_price_factor,
    "batch_price_factor": batch_price_factor, "prompt_version": prompt_version,
    "max_retries": max_retries, "request_timeout_seconds": request_timeout_seconds,
}
scored = warehouse.read_run(ctx.con, "scored_pairs", run_id)
markets = warehouse.read_run(ctx.con, "markets", run_id)

# %% [markdown]
# ## Review
#
# The lines below tell whether the review ran, was skipped for lack of an API key, or stopped at
# the budget.

# %%
result = review.review_pairs(scored, markets, ctx.con, review_params, run_id=run_id)
rows_out = review.store_review(ctx.con, result, run_id=run_id)
for line in result.notes:
    print(line)

# %% [markdown]
# ## Reviewed pairs
#
# Every scored pair that scoring did not call `different`, with the final confidence and whether
# it goes on to pricing (`accepted`).

# %%
review.review_table(result.reviewed)

# %% [markdown]
# ## Disagreements
#
# Pairs where the LLM verdict and scoring disagree (the LLM says `different`, names the other
# orientation, or agrees with a pair that scoring vetoed) and pairs whose review failed.

# %%
review.disagreements(result.reviewed)

# %% [markdown]
# ## Usage and estimated cost
#
# Requests sent, tokens (prompt-cache writes and reads counted apart) and the estimated cost in
# USD at the price parameters above.

# %%
review.usage_frame(result.usage)

# %%
ctx.record(len(scored), rows_out, result.usage)
