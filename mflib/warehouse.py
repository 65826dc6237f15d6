"""The DuckDB warehouse: one file, every table keyed by run_id, earlier runs kept for history."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("data/warehouse.duckdb")


def connect(path: str | Path = DEFAULT_PATH, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and create, unless read-only) the warehouse file."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        _ensure_bookkeeping(con)
    return con


def _ensure_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS runs (
            run_id VARCHAR PRIMARY KEY, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
            status VARCHAR, params_json VARCHAR, error VARCHAR, replay BOOLEAN
        )"""
    )
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS layer_stats (
            run_id VARCHAR, layer VARCHAR, rows_in BIGINT, rows_out BIGINT,
            seconds DOUBLE, recorded_at TIMESTAMPTZ, details_json VARCHAR
        )"""
    )


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    # fetchall, not fetchone: DuckDB 2.0 rejects register() on a connection whose last result
    # was not read to the end.
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchall()
    return bool(rows and rows[0][0])


def replace_run_rows(con: duckdb.DuckDBPyConnection, table: str, run_id: str, df: pd.DataFrame) -> int:
    """Replace this run's rows of `table` with df (a run_id column is added), creating the table or
    adding new columns as needed. Nested values must already be JSON strings. Returns rows written."""
    frame = df.copy()
    frame["run_id"] = run_id
    con.register("_incoming", frame)
    try:
        if not table_exists(con, table):
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _incoming LIMIT 0')
        existing = {row[0] for row in con.execute(f'DESCRIBE "{table}"').fetchall()}
        described = {row[0]: row[1] for row in con.execute("DESCRIBE _incoming").fetchall()}
        for column, column_type in described.items():
            if column not in existing:
                # An all-null column is typed INTEGER by DuckDB; store it as text so later runs fit.
                if column_type == "INTEGER" and frame[column].isna().all():
                    column_type = "VARCHAR"
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {column_type}')
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f'DELETE FROM "{table}" WHERE run_id = ?', [run_id])
            if len(frame):
                con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming')
        except Exception:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.unregister("_incoming")
    return len(frame)


def read_run(con: duckdb.DuckDBPyConnection, table: str, run_id: str) -> pd.DataFrame:
    """Return this run's rows of `table` (empty frame when the table does not exist yet)."""
    if not table_exists(con, table):
        return pd.DataFrame()
    return con.execute(f'SELECT * FROM "{table}" WHERE run_id = ?', [run_id]).df()


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, params: dict, *, replay: bool) -> None:
    con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
    con.execute(
        "INSERT INTO runs VALUES (?, ?, NULL, 'running', ?, NULL, ?)",
        [run_id, datetime.now(UTC), json.dumps(params, default=str), replay],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None = None) -> None:
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, error = ? WHERE run_id = ?",
        [datetime.now(UTC), status, error, run_id],
    )


def record_layer(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    layer: str,
    rows_in: int,
    rows_out: int,
    seconds: float,
    details: dict[str, Any] | None = None,
) -> None:
    """Store one layer's counts and timing (replacing an earlier record of the same layer and run)."""
    con.execute("DELETE FROM layer_stats WHERE run_id = ? AND layer = ?", [run_id, layer])
    con.execute(
        "INSERT INTO layer_stats VALUES (?, ?, ?, ?, ?, ?, ?)",
        [run_id, layer, int(rows_in), int(rows_out), float(seconds), datetime.now(UTC),
         json.dumps(details or {}, default=str)],
    )
    log.info("layer %s: %d in, %d out, %.2f s", layer, rows_in, rows_out, seconds)


def layer_stats(con: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    return con.execute(
        "SELECT layer, rows_in, rows_out, seconds, details_json FROM layer_stats "
        "WHERE run_id = ? ORDER BY recorded_at",
        [run_id],
    ).df()


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    """Measure wall seconds of a block: `with timed() as t: ...; t["seconds"]`."""
    result = {"seconds": 0.0}
    start = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - start
