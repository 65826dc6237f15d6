# %% [markdown]
# # Publish to Convex
#
# This layer sends the run's three JSON artifacts (`opportunities.json`, `summary.json`,
# `health.json`, written by notebook 07) to the website's Convex backend through its HTTP API.
# Opportunities are upserted by their stable id in chunks; opportunities of earlier runs that this
# run no longer finds are marked expired, not deleted. Publishing the same run twice changes
# nothing.
#
# The deployment URL and deploy key come only from the environment variables `CONVEX_URL` and
# `CONVEX_DEPLOY_KEY`. With `mode = "auto"`, the layer publishes live when `CONVEX_URL` is set and
# otherwise runs dry: it writes the exact requests, with the URL and key replaced by placeholders,
# to `publish_requests.json` in the run folder.
#
# Parameters:
#
# - `mode`: `auto`, `live` or `dry_run`.
# - `mutation_opportunities`, `mutation_summary`, `mutation_status`: Convex function paths, which
#   must match the functions deployed from `convex/`.
# - `timeout_seconds` per request; `max_retries` and `backoff_seconds` for timeouts, connection
#   failures, 429 and 5xx responses. A function error is never retried.
# - `max_chunk_bytes`, `max_chunk_items`: the size of each syncOpportunities call, kept below
#   Convex's limits of 16 MiB of arguments and 8,192 array items.

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
mode = "auto"
mutation_opportunities = "arbitrage:syncOpportunities"
mutation_summary = "markets:syncSummary"
mutation_status = "system:updateSyncStatus"
timeout_seconds = 20.0
max_retries = 3
backoff_seconds = 1.0
max_chunk_bytes = 4194304
max_chunk_items = 500

# %%
from mflib import convex, notebook

ctx = notebook.start_layer("publish", run_id=run_id, warehouse_path=warehouse_path, run_dir=run_dir,
                           log_level=log_level)
publish_params = {
    "run_id": run_id, "mode": mode, "mutation_opportunities": mutation_opportunities,
    "mutation_summary": mutation_summary, "mutation_status": mutation_status,
    "timeout_seconds": timeout_seconds, "max_retries": max_retries, "backoff_seconds": backoff_seconds,
    "max_chunk_bytes": max_chunk_bytes, "max_chunk_items": max_chunk_items,
}

# %% [markdown]
# ## What will be published
#
# One row per opportunity as it is stored in the `arbitrageOpportunities` table. The fields
# outside the website contract (legs, fees, risk flags) are stored too, under `details`.

# %%
artifacts = convex.load_artifacts(ctx.run_dir)
convex.documents_frame(artifacts)

# %% [markdown]
# ## Publish
#
# The mode, the number of chunks and of requests, and the retries. Any retry makes the run
# degraded: `health.json` is rebuilt and the status sent to Convex is `degraded`.

# %%
publish_report = convex.publish_run(ctx.run_dir, publish_params, con=ctx.con)
publish_report.summary_frame()

# %% [markdown]
# One row per mutation call, with the size of its arguments and the value Convex returned
# (empty in a dry run).

# %%
publish_report.calls_frame()

# %%
ctx.record(publish_report.opportunities, publish_report.opportunities, publish_report.to_dict())
