"""End-to-end tests of `python -m mflib.match` on a small hand-written pairs file."""

from __future__ import annotations

import csv
import subprocess
import sys

import pandas as pd

from mflib import match
from mflib.config import REPO_ROOT

HEADER = ["pair_id", "kalshi_ticker", "kalshi_event_title", "kalshi_title", "kalshi_subtitle", "kalshi_rules",
          "kalshi_close_time", "polymarket_id", "polymarket_event_title", "polymarket_title", "polymarket_subtitle",
          "polymarket_rules", "polymarket_close_time", "polymarket_outcomes", "note"]

ROWS = [
    ["visit-same", "KXTRIPPERU-26JUL01-AMEN", "Who will visit Peru?", "Will Ana Mendes visit Peru before Jul 1, 2026?",
     "Ana Mendes", "If Ana Mendes is physically present in Peru before Jul 1, 2026, then the market resolves to Yes.",
     "2026-07-01T14:00:00Z", "5101", "Peru visits", "Will Ana Mendes enter Peru by June 30?", "Ana Mendes",
     'This market will resolve to "Yes" if Ana Mendes enters Peru by June 30, 2026, 11:59 PM ET.', "", "", "ignored"],
    ["visit-deadline", "KXTRIPPERU-26MAY01-AMEN", "", "Will Ana Mendes visit Peru before May 1, 2026?", "", "", "",
     "5102", "", "Will Ana Mendes visit Peru by March 31, 2026?", "", "", "", "", ""],
    ["game-inverted", "KXNBAGAME-26FEB02CHIMIA-MIA", "Chicago at Miami", "Chicago at Miami Winner?", "Miami", "", "",
     "5103", "Bulls vs. Heat", "Bulls vs. Heat", "", "", "2026-02-03T01:00:00Z", '["Bulls", "Heat"]', ""],
    ["game-same", "KXNBAGAME-26FEB02CHIMIA-CHI", "Chicago at Miami", "Chicago at Miami Winner?", "Chicago", "", "",
     "5103", "Bulls vs. Heat", "Bulls vs. Heat", "", "", "2026-02-03T01:00:00Z", '["Bulls", "Heat"]', ""],
    ["strike-differs", "KXCPI-26DEC-T3.5", "", "Will CPI inflation be above 3.5% in 2026?", "", "", "",
     "5104", "", "Will CPI inflation be above 4% in 2026?", "", "", "", "", ""],
    ["empty-texts", "KXEMPTY", "", "", "", "", "", "5105", "", "", "", "", "", "", ""],
]


def write_pairs(path, header=HEADER, rows=ROWS):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mflib.match", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)


def test_match_cli_end_to_end(tmp_path):
    source = write_pairs(tmp_path / "pairs.csv")
    out = tmp_path / "out" / "predictions.csv"
    completed = run_cli(str(source), "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    result = pd.read_csv(out, keep_default_na=False).set_index("pair_id")
    assert list(result.columns) == ["decision", "probability", "reason"]
    assert result.loc["visit-deadline", "decision"] == "different"
    assert "deadline_mismatch" in result.loc["visit-deadline", "reason"]
    assert result.loc["game-inverted", "decision"] == "inverted"
    assert result.loc["game-same", "decision"] == "same"
    assert result.loc["strike-differs", "decision"] == "different"
    assert "threshold_mismatch" in result.loc["strike-differs", "reason"]
    assert result.loc["empty-texts", "decision"] == "different"
    assert "missing_title" in result.loc["empty-texts", "reason"]
    assert result.loc["visit-same", "decision"] in ("same", "different")


def test_match_cli_threshold_zero_accepts(tmp_path):
    source = write_pairs(tmp_path / "pairs.csv")
    out = tmp_path / "predictions.csv"
    assert match.main([str(source), "--out", str(out), "--threshold", "0"]) == 0
    result = pd.read_csv(out, keep_default_na=False).set_index("pair_id")
    assert result.loc["visit-same", "decision"] == "same"
    assert result.loc["visit-deadline", "decision"] == "different"


def test_match_cli_missing_file(tmp_path):
    completed = run_cli(str(tmp_path / "absent.csv"), "--out", str(tmp_path / "out.csv"))
    assert completed.returncode == 2
    assert "absent.csv not found" in completed.stderr


def test_match_cli_missing_columns_named(tmp_path):
    header = [name for name in HEADER if name not in ("kalshi_rules", "polymarket_title")]
    rows = [[value for name, value in zip(HEADER, row, strict=True) if name in header] for row in ROWS]
    source = write_pairs(tmp_path / "pairs.csv", header, rows)
    completed = run_cli(str(source), "--out", str(tmp_path / "out.csv"))
    assert completed.returncode == 2
    assert "kalshi_rules" in completed.stderr
    assert "polymarket_title" in completed.stderr
    assert not (tmp_path / "out.csv").exists()


def test_match_cli_threshold_out_of_range(tmp_path, capsys):
    source = write_pairs(tmp_path / "pairs.csv")
    assert match.main([str(source), "--out", str(tmp_path / "out.csv"), "--threshold", "2"]) == 2
    assert "outside 0..1" in capsys.readouterr().err


def test_match_cli_bad_model_path(tmp_path, capsys):
    source = write_pairs(tmp_path / "pairs.csv")
    assert match.main([str(source), "--out", str(tmp_path / "out.csv"), "--model", str(tmp_path / "none.joblib")]) == 2
    assert "retrain with python scripts/train_model.py" in capsys.readouterr().err


def test_match_cli_empty_file(tmp_path, capsys):
    source = tmp_path / "pairs.csv"
    source.write_text("", encoding="utf-8")
    assert match.main([str(source), "--out", str(tmp_path / "out.csv")]) == 2
    assert "empty" in capsys.readouterr().err


def test_match_pairs_in_process(tmp_path):
    pairs = match.read_pairs(write_pairs(tmp_path / "pairs.csv"))
    result = match.match_pairs(pairs)
    assert list(result.columns) == match.OUTPUT_COLUMNS
    assert len(result) == len(ROWS)
