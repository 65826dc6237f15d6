"""Shared test fixtures: the recorded data folder and a throwaway warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from mflib import warehouse
from mflib.config import DATA_ENV_VAR, REPO_ROOT, shared_data_dir

FIXTURES = REPO_ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The recorded API responses and labels; tests that need them skip when the folder is absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"recorded data folder {path} not found; set {DATA_ENV_VAR} to its location")
    return path


@pytest.fixture()
def warehouse_con(tmp_path):
    con = warehouse.connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
