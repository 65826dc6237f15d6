# %% [markdown]
# # Export LLM verdicts as labeled pairs
#
# The review layer stores every verdict in the `verdicts` table, across runs. This notebook
# joins them with the newest stored text of both markets and writes them in the columns of the
# hand-labeled pairs file (`pair_id, kalshi_ticker, ..., polymarket_outcomes, label,
# difference`), so the scoring model can be retrained on more labels. A verdict's relation
# (`same`, `inverted` or `different`) becomes the label. Read the rows before training on them:
# an LLM verdict is a label of lower quality than a human one.
#
# Parameters: `min_confidence` drops verdicts whose LLM confidence is lower. `prompt_version`
# keeps only the verdicts of one prompt, and an empty value keeps all. `output_csv` is the file
# written, relative to the repository root unless absolute. An empty warehouse gives an empty
# export.

# %% tags=["parameters"]
run_id = "nbval"
warehouse_path = "data/nbval/warehouse.duckdb"
run_dir = "data/nbval/run"
log_level = "INFO"
min_confidence = 0.8
prompt_version = ""
output_csv = "data/nbval/run/verdict_pairs.csv"

# %%
from mflib import notebook, verdicts

ctx = notebook.start_layer("export_verdicts", run_id=run_id, warehouse_path=warehouse_path,
                           run_dir=run_dir, log_level=log_level)
output_path = notebook.resolve_path(output_csv)

# %%
labeled = verdicts.export_labeled_pairs(ctx.con, min_confidence=min_confidence,
                                        prompt_version=prompt_version or None)
labeled["label"].value_counts()

# %%
output_path.parent.mkdir(parents=True, exist_ok=True)
labeled.to_csv(output_path, index=False)
print(f"{len(labeled)} labeled pairs written to {output_path}")
labeled.head(20)

# %%
ctx.record(len(labeled), len(labeled), {"output_csv": str(output_path), "min_confidence": min_confidence})
