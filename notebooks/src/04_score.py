# %% [markdown]
# # Score: decide for each candidate pair whether both markets ask the same question
#
# The committed pair model (`mflib.scoring`) turns text similarity and extracted facts of both
# markets into a calibrated probability that the pair is the same contract. Rules derive the
# orientation from the texts and outcome labels: `same` (YES pays together) or `inverted` (YES on
# one pays with NO on the other). A hard mismatch of deadline, threshold or entity is a veto and
# its reason code (for example a deadline or threshold difference) is kept in `reason_codes`.
#
# `accept_threshold` is the probability from which a pair is `same` or `inverted` instead of
# `different`; `None` uses the threshold stored with the model. `model_path` picks another model
# file; `None` uses the committed one.

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
accept_threshold = None
model_path = None

# %%
import plotly.express as px

from mflib import notebook, scoring, warehouse

ctx = notebook.start_layer("score", run_id=run_id, warehouse_path=warehouse_path, run_dir=run_dir,
                           log_level=log_level)
candidates = warehouse.read_run(ctx.con, "candidates", run_id)
markets = warehouse.read_run(ctx.con, "markets", run_id)

# %% [markdown]
# ## Score the candidates

# %%
pairs = scoring.pairs_from_candidates(candidates, markets)
model = scoring.load_model(model_path)
scores = scoring.score_pairs(pairs, model, accept_threshold=accept_threshold)

# %% [markdown]
# ## Write scored_pairs
#
# The table has the columns the review layer reads (`pair_id, kalshi_id, polymarket_id,
# probability, decision, orientation, reason_codes, veto, features_json`) plus the text score and
# both titles for reading.

# %%
scored_pairs = candidates[["pair_id", "kalshi_id", "polymarket_id", "text_score", "kalshi_title",
                           "polymarket_title"]].merge(scores, on="pair_id", how="inner")
rows_out = warehouse.replace_run_rows(ctx.con, "scored_pairs", run_id, scored_pairs)
scored_pairs["decision"].value_counts().rename_axis("decision").reset_index(name="pairs")

# %% [markdown]
# ## Reason codes
#
# One pair can carry several codes.

# %%
reason_codes = scored_pairs["reason_codes"].fillna("").str.split(";").explode()
reason_codes[reason_codes != ""].value_counts().rename_axis("reason_code").reset_index(name="pairs")

# %%
px.histogram(scored_pairs, x="probability", color="decision", nbins=40,
             title="Model probability of the candidate pairs")

# %% [markdown]
# ## Accepted pairs
#
# Pairs with decision `same` or `inverted`, which go on to the review and pricing layers.

# %%
scored_pairs[scored_pairs["decision"] != "different"].sort_values("probability", ascending=False)[
    ["probability", "decision", "orientation", "kalshi_title", "polymarket_title", "reason_codes", "pair_id"]
].head(50)

# %% [markdown]
# ## Lookalikes that differ
#
# The best text matches that scoring called `different`, with the reason codes that explain why
# (for example a different deadline or threshold).

# %%
scored_pairs[scored_pairs["decision"] == "different"].sort_values("text_score", ascending=False)[
    ["text_score", "probability", "veto", "reason_codes", "kalshi_title", "polymarket_title"]
].head(30)

# %%
layer_seconds = ctx.record(len(candidates), rows_out, {"decisions": scored_pairs["decision"].value_counts().to_dict(),
                                       "accept_threshold": accept_threshold})
