# %% [markdown]
# # Train the pair model and show its cross-validated figures
#
# Trains the same-contract classifier of `mflib.scoring` on the hand-labeled pairs
# (`labels/dev_pairs.csv` in the recorded data folder, found through `MARKETFINDER_DATA`) with
# grouped cross-validation: pairs sharing a Kalshi series (a game for game series) or a
# Polymarket market stay in one fold. Shows precision, recall, the confusion matrix and the
# worst errors at the chosen threshold. Without the data folder the notebook prints why and
# skips the training cells.
#
# Parameters: `labels_csv` (empty: the recorded data folder), `n_splits` (folds), `save_model`
# (write the model to `model_out`). The committed model is written by
# `python scripts/train_model.py`, not by this notebook.

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
labels_csv = ""
n_splits = 5
save_model = False
model_out = "data/nbval/run/pair_model.joblib"

# %%
import plotly.express as px
from IPython.display import display

from mflib import notebook, scoring, training

ctx = notebook.start_layer("research_train_model", run_id=run_id, warehouse_path=warehouse_path, run_dir=run_dir,
                           log_level=log_level)
pairs = training.load_labeled_pairs_if_present(labels_csv or None)
if pairs is None:
    print(f"No labeled pairs at {labels_csv or training.labeled_pairs_path()}; set MARKETFINDER_DATA. Nothing to train.")
else:
    print(f"{len(pairs)} labeled pairs: {pairs['label'].value_counts().to_dict()}")

# %% [markdown]
# ## Cross-validate and choose the threshold

# %%
if pairs is not None:
    features = scoring.pair_features(pairs)
    oof = training.cross_validate(pairs, features, n_splits=n_splits)
    threshold = training.choose_threshold(oof)
    metrics = training.metrics_at(oof, threshold)
    display({key: value for key, value in metrics.items() if key != "confusion"})

# %% [markdown]
# ## Confusion matrix (rows: label, columns: decision)

# %%
if pairs is not None:
    display(px.imshow(metrics["confusion"], text_auto=True, title=f"Confusion matrix at threshold {threshold:.3f}"))

# %% [markdown]
# ## Out-of-fold probabilities by label
#
# Vetoed pairs are `different` whatever their probability.

# %%
if pairs is not None:
    display(px.histogram(oof.assign(vetoed=oof["veto"]), x="probability", color="label", facet_row="vetoed",
                         nbins=40, title="Out-of-fold probability by label"))

# %% [markdown]
# ## Worst errors

# %%
if pairs is not None:
    display(training.worst_errors(oof, pairs, threshold))

# %% [markdown]
# ## Fit on all pairs

# %%
if pairs is not None:
    model = training.train_model(pairs, features, threshold=threshold, cv_metrics=metrics)
    if save_model:
        print(f"model written to {scoring.save_model(model, notebook.resolve_path(model_out))}")

# %%
ctx.record(0 if pairs is None else len(pairs), 0 if pairs is None else metrics["accepted"],
           {} if pairs is None else {"precision": metrics["precision"], "recall": metrics["recall"],
                                     "threshold": threshold})
