"""Train the pair model on the labeled pairs, print its cross-validated figures and save it.

Usage: python scripts/train_model.py [--data labels.csv] [--out mflib/models/pair_model.joblib]

Writes the model, its metadata JSON and mflib/models/MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from mflib import scoring, training


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="labeled pairs CSV (default: labels/dev_pairs.csv in the recorded data folder)")
    parser.add_argument("--out", type=Path, default=scoring.DEFAULT_MODEL_PATH, help="model file to write")
    parser.add_argument("--card", type=Path, default=scoring.MODEL_DIR / "MODEL_CARD.md", help="model card to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    data_path = args.data or training.labeled_pairs_path()
    try:
        pairs = training.load_labeled_pairs(data_path)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = training.run_training(pairs)
    metrics = result["metrics"]

    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 70)
    print(f"labeled pairs: {len(pairs)} ({pairs['label'].value_counts().to_dict()})")
    print(f"accept threshold: {metrics['threshold']:.4f}")
    print(f"cross-validated precision: {metrics['precision']:.3f}  recall: {metrics['recall']:.3f}  "
          f"orientation right on accepted true pairs: {metrics['orientation_accuracy']:.3f}")
    print("confusion matrix (rows: label, columns: decision):")
    print(metrics["confusion"].to_string())
    print("ten worst errors:")
    print(result["errors"].to_string(index=False))

    model_path = scoring.save_model(result["model"], args.out)
    args.card.write_text(training.model_card(result, data_path), encoding="utf-8")
    size_kb = model_path.stat().st_size / 1024
    print(f"wrote {model_path} ({size_kb:.0f} KB), {scoring.metadata_path_for(model_path)} and {args.card}")
    targets_met = metrics["precision"] >= training.TARGET_PRECISION and metrics["recall"] >= training.TARGET_RECALL
    if not targets_met:
        print(f"warning: below the targets precision >= {training.TARGET_PRECISION} at recall >= {training.TARGET_RECALL}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
