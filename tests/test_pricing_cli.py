"""The pricing command line on a small cases file."""

from __future__ import annotations

import json
import subprocess
import sys

from mflib.pricing.cli import main

CASES = [
    {"id": "walk", "orientation": "same",
     "kalshi": {"yes_asks": [[0.42, 100], [0.40, 50]], "no_asks": [[0.62, 10]], "fee_multiplier": 1.0},
     "polymarket": {"yes_asks": [[0.40, 10]], "no_asks": [[0.55, 30], [0.56, 200]],
                    "fees_enabled": False, "fee_rate": None, "category": "politics"},
     "stake_usd": 100},
    {"id": "fees_win", "orientation": "same",
     "kalshi": {"yes_asks": [[0.50, 1]], "no_asks": []},
     "polymarket": {"yes_asks": [], "no_asks": [[0.49, 1]], "fees_enabled": False},
     "stake_usd": None},
    {"id": "inverted", "orientation": "inverted",
     "kalshi": {"yes_asks": [[0.30, None]], "no_asks": [[0.60, 5]]},
     "polymarket": {"yes_asks": [[0.60, 100]], "no_asks": [[0.35, 100]], "fees_enabled": True, "category": "crypto"},
     "stake_usd": 50},
]


def _run(path):
    return subprocess.run([sys.executable, "-m", "mflib.pricing", str(path)], capture_output=True, text=True, timeout=60)


def test_pricing_cli_prints_best_directions(tmp_path):
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(CASES))
    result = _run(path)
    assert result.returncode == 0, result.stderr
    walk, fees_win, inverted = json.loads(result.stdout)
    assert walk["direction"] == "kalshi_yes_polymarket_no"
    assert walk["contracts"] == "150"
    assert walk["cost"] == "148.25"
    assert walk["fees"] == {"kalshi": "2.55", "polymarket": "0", "total": "2.55"}
    assert walk["net_profit"] == "1.75"
    assert walk["margin"] == "0.011804"
    assert walk["stake"]["contracts"] == "101.6"
    assert fees_win["direction"] is None
    assert fees_win["gross_gap"] == "0.01"
    assert fees_win["margin"] is None
    # NO+NO: 5 x (0.60 + 0.35) = 4.75, Kalshi fee 0.09, Polymarket fee 0.07963 (crypto rate 0.07).
    assert inverted["direction"] == "kalshi_no_polymarket_no"
    assert inverted["fees"]["polymarket"] == "0.07963"
    assert inverted["net_profit"] == "0.08037"


def test_pricing_cli_rejects_bad_orientation(tmp_path, capsys):
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([{**CASES[0], "orientation": "sideways"}]))
    assert main([str(path)]) == 2
    assert "sideways" in capsys.readouterr().err


def test_pricing_cli_rejects_price_above_one(tmp_path, capsys):
    case = {**CASES[0], "kalshi": {"yes_asks": [[42, 10]], "no_asks": []}}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([case]))
    assert main([str(path)]) == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_pricing_cli_missing_file(tmp_path, capsys):
    assert main([str(tmp_path / "absent.json")]) == 2
    assert "not found" in capsys.readouterr().err


def test_pricing_cli_exact_decimal_input(tmp_path, capsys):
    # 0.1 and 0.7 are not exact binary floats; the file is parsed straight to Decimal.
    case = {"id": "exact", "orientation": "same",
            "kalshi": {"yes_asks": [[0.1, 3]], "no_asks": []},
            "polymarket": {"yes_asks": [], "no_asks": [[0.7, 3]], "fees_enabled": False}}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([case]))
    assert main([str(path)]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["cost"] == "2.42"          # 0.30 + 2.10 + Kalshi fee ceil(0.0189) = 0.02
    assert result["net_profit"] == "0.58"
