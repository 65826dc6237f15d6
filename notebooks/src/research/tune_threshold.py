# %% [markdown]
# # Tune the accept threshold of the pair model
#
# Uses out-of-fold probabilities of the labeled pairs (grouped cross-validation, as in
# `train_model`) to show the precision-recall curve, the confusion matrix at `threshold`, and
# which pairs that threshold gains or loses against `reference_threshold`. Pairs with a veto
# (deadline, threshold, entity or scope mismatch) stay `different` at every threshold. Without
# the recorded data folder the notebook prints why and skips the rest.
#
# Parameters: `threshold` (the one to inspect), `reference_threshold` (`None`: the threshold
# stored with the committed model), `labels_csv` (empty: the recorded data folder).

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
threshold = 0.5
reference_threshold = None
labels_csv = ""

# %%
import plotly.express as px
from IPython.display import display

from mflib import notebook, scoring, training

ctx = notebook.start_layer("research_tune_threshold", run_id=run_id, warehouse_path=warehouse_path,
                           run_dir=run_dir, log_level=log_level)
reference = scoring.load_model().accept_threshold if reference_threshold is None else reference_threshold
pairs = training.load_labeled_pairs_if_present(labels_csv or None)
if pairs is None:
    print(f"No labeled pairs at {labels_csv or training.labeled_pairs_path()}; set MARKETFINDER_DATA. Nothing to tune.")
else:
    oof = training.cross_validate(pairs)
    print(f"{len(pairs)} labeled pairs; reference threshold {reference:.3f}")

# %% [markdown]
# ## Precision and recall by threshold

# %%
if pairs is not None:
    curve = training.precision_recall_frame(oof)
    figure = px.line(curve, x="recall", y="precision", hover_data=["threshold", "accepted", "false_positives"],
                     markers=True, title="Precision-recall curve (out of fold)")
    figure.add_hline(y=training.TARGET_PRECISION, line_dash="dot")
    figure.add_vline(x=training.TARGET_RECALL, line_dash="dot")
    display(figure)

# %%
if pairs is not None:
    display(px.line(curve.melt(id_vars="threshold", value_vars=["precision", "recall"]), x="threshold", y="value",
                    color="variable", title="Precision and recall against the threshold"))

# %% [markdown]
# ## Confusion matrix at `threshold`

# %%
if pairs is not None:
    metrics = training.metrics_at(oof, threshold)
    display({key: value for key, value in metrics.items() if key != "confusion"})
    display(px.imshow(metrics["confusion"], text_auto=True, title=f"Confusion matrix at threshold {threshold:.3f}"))

# %% [markdown]
# ## Pairs gained or lost against the reference threshold
#
# `right` is true when the decision at `threshold` matches the label.

# %%
if pairs is not None:
    changes = training.threshold_changes(oof, pairs, threshold, reference)
    display(px.histogram(changes, x="change", color="right", barmode="group",
                         title=f"Pairs changed from {reference:.3f} to {threshold:.3f}") if len(changes) else "no change")
    display(changes)

# %%
ctx.record(0 if pairs is None else len(pairs), 0 if pairs is None else metrics["accepted"],
           {"threshold": threshold, "reference_threshold": reference})
