"""Parameter files, overrides and the warehouse bookkeeping."""

from __future__ import annotations

import pytest

from mflib import warehouse
from mflib.config import load_params, parse_override
from mflib.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_fills_missing_sections(tmp_path):
    params = load_params(write(tmp_path, "run:\n  log_level: DEBUG\n"))
    assert params["run"]["log_level"] == "DEBUG"
    assert params["filter"] == {}


def test_config_override_parses_yaml_values(tmp_path):
    params = load_params(write(tmp_path, "filter:\n  min_text_score: 60\n"),
                         ["filter.min_text_score=72.5", "fetch.kalshi_replay=[a, b]"])
    assert params["filter"]["min_text_score"] == 72.5
    assert params["fetch"]["kalshi_replay"] == ["a", "b"]


def test_config_expands_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETFINDER_DATA", str(tmp_path / "recorded"))
    params = load_params(write(tmp_path, "fetch:\n  kalshi_replay: ['${MARKETFINDER_DATA}/raw/kalshi']\n"))
    assert params["fetch"]["kalshi_replay"] == [str(tmp_path / "recorded" / "raw" / "kalshi")]


def test_config_unknown_section_rejected(tmp_path):
    with pytest.raises(ConfigError, match="filtr"):
        load_params(write(tmp_path, "filtr:\n  min_text_score: 60\n"))


def test_config_missing_file_names_path(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml"):
        load_params(tmp_path / "nope.yaml")


def test_config_override_without_section_rejected():
    with pytest.raises(ConfigError, match="section"):
        parse_override("min_text_score=3")


def test_config_override_without_equals_rejected():
    with pytest.raises(ConfigError, match="section.key=value"):
        parse_override("filter.min_text_score")


def test_warehouse_replace_run_rows_keeps_other_runs(warehouse_con):
    import pandas as pd

    warehouse.replace_run_rows(warehouse_con, "t", "r1", pd.DataFrame({"a": [1, 2]}))
    warehouse.replace_run_rows(warehouse_con, "t", "r2", pd.DataFrame({"a": [3]}))
    warehouse.replace_run_rows(warehouse_con, "t", "r1", pd.DataFrame({"a": [5], "b": ["new column"]}))
    first = warehouse.read_run(warehouse_con, "t", "r1")
    second = warehouse.read_run(warehouse_con, "t", "r2")
    assert first["a"].tolist() == [5]
    assert first["b"].tolist() == ["new column"]
    assert second["a"].tolist() == [3]


def test_warehouse_read_missing_table_is_empty(warehouse_con):
    assert warehouse.read_run(warehouse_con, "never_written", "r1").empty
