# %% [markdown]
# # MarketFinder run report
#
# This report shows what one run of MarketFinder found: pairs of Kalshi and Polymarket markets
# that ask the same question. In each pair, buying YES on one venue and NO on the other costs less
# than the $1 the pair pays out, after fees and at the depth the order books offer. It also writes the three JSON files
# the website reads (`opportunities.json`, `summary.json`, `health.json`) into the run folder, each
# checked against its JSON Schema first.
#
# Parameters: `run_id` picks the run in the warehouse. `processing_time_seconds` is the run's wall
# time reported in `opportunities.json`; at 0 the seconds the earlier layers recorded are used.
# `schedule_minutes` is the interval between scheduled runs, used for `nextUpdate` in
# `summary.json`. `send_health_alert` posts to the webhook in `MARKETFINDER_ALERT_WEBHOOK_URL`
# when the run is degraded or down.

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
processing_time_seconds = 0.0
schedule_minutes = 30
send_health_alert = True

# %%
from mflib import artifacts, health, notebook, report

ctx = notebook.start_layer("report", run_id=run_id, warehouse_path=warehouse_path, run_dir=run_dir,
                           log_level=log_level)
processing_time = processing_time_seconds or artifacts.run_seconds(ctx.con, run_id)

# %% [markdown]
# ## Read this first
#
# What this run skipped or could not do, and what that means for the numbers below.

# %%
report.show_notes(report.skipped_notes(ctx.con, run_id))

# %% [markdown]
# ## Headline

# %%
report.show_table(report.headline(ctx.con, run_id), "No figures are available for this run.")

# %% [markdown]
# ## From all markets to priced opportunities
#
# Each layer narrows the pairs of markets. Bucketing groups markets that could ask the same
# question, and filtering keeps pairs with similar texts and dates. Scoring estimates how likely
# both markets resolve on the same event, the LLM review checks the doubtful pairs, and pricing
# keeps the pairs with a profit after fees. `pass_rate` is the share of a layer's input rows that
# it passed on. It can exceed 1 for bucketing because a market may sit in several buckets.

# %%
funnel = report.funnel(ctx.con, run_id)
report.show_table(funnel, "No layer has recorded its counts for this run yet.")

# %%
report.funnel_figure(funnel)

# %% [markdown]
# ## Opportunities
#
# "Buy YES on" is the venue where YES is cheap; "Sell YES (buy NO) on" is the other venue, where
# the position is closed by buying NO. The net margin is the profit after both venues' fees as a
# share of the money put in. The annualized return scales it to a year by the days until the
# later market closes. Confidence is the estimated probability that both markets resolve on the same
# event. Risk flags name what to check before trading, such as different close times or thin
# order books.

# %%
report.show_table(report.opportunities_table(ctx.con, run_id),
                  "No opportunity with a profit after fees was found in this run.", escaped=True)

# %% [markdown]
# ### What fees and depth take
#
# Each point is one opportunity. It plots the gross gap (1 minus the two best asking prices)
# against the profit per contract that is left after fees at the size the order books can fill.
# A point on the dotted line loses nothing to fees or depth, and the distance below the line is
# what they cost.

# %%
report.net_vs_gross_figure(ctx.con, run_id)

# %% [markdown]
# ### Confidence
#
# High is above 0.8, medium from 0.6 to 0.8 and low below 0.6, the same bands that
# `opportunities.json` counts in its metadata.

# %%
report.confidence_figure(ctx.con, run_id)

# %% [markdown]
# ## Markets by category
#
# The categories with the most markets in this run, per venue. The venues name categories
# differently, so a topic may appear under two names.

# %%
report.categories_figure(ctx.con, run_id)

# %% [markdown]
# ## Across runs
#
# Opportunities found by each run stored in the warehouse, and how long each opportunity lasted.
# The same pair and direction keep the same id from run to run; the table lists the 50 ids seen
# in the most runs.

# %%
history = report.opportunity_history(ctx.con)
report.history_figure(history)

# %%
report.show_table(report.opportunity_persistence(ctx.con).head(50), "No opportunity has been recorded in any run yet.")

# %% [markdown]
# ## Files for the website
#
# The three artifacts are checked against their JSON Schemas and written to the run folder. A
# file that does not match its schema is not written, and the run stops here with an error.

# %%
opportunities = artifacts.build_opportunities(ctx.con, run_id, processing_time=processing_time)
summary = artifacts.build_summary(ctx.con, run_id, schedule_minutes=schedule_minutes)
health_status = artifacts.build_health(ctx.con, run_id)
written = [artifacts.write_artifact(name, obj, ctx.run_dir)
           for name, obj in (("opportunities", opportunities), ("summary", summary), ("health", health_status))]
report.show_table(report.artifact_files(written), "No file was written.")

# %%
alert_sent = health.send_alert(health_status, run_id=run_id) if send_health_alert else False

# %%
details = {"status": health_status["status"], "markets": summary["totalMarkets"], "alert_sent": alert_sent,
           "errors": health_status["lastEtlRun"]["errors"]}
seconds = ctx.record(len(opportunities["opportunities"]), len(written), details)
