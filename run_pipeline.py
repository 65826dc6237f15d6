"""Run the MarketFinder notebook chain with papermill.

    python run_pipeline.py --params params/replay.yaml [--set filter.min_text_score=70 ...]

Each layer notebook in notebooks/ runs in order with the `run` section of the parameter file
plus its own section as papermill parameters. Executed notebooks, the HTML report and the JSON
artifacts go to outputs/runs/<run_id>/; outputs/latest/ is replaced only when every notebook
succeeded. The exit status is 0 only when the whole chain succeeded.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mflib import warehouse
from mflib.config import REPO_ROOT, load_params
from mflib.errors import ConfigError, MarketFinderError
from mflib.notebook import configure_logging, resolve_path

log = logging.getLogger("run_pipeline")

NOTEBOOK_DIR = REPO_ROOT / "notebooks"


@dataclass(frozen=True)
class Layer:
    name: str          # parameter-file section and layer_stats name
    notebook: str      # file name in notebooks/


LAYERS = (
    Layer("fetch", "01_fetch.ipynb"),
    Layer("bucket", "02_bucket.ipynb"),
    Layer("filter", "03_filter.ipynb"),
    Layer("score", "04_score.ipynb"),
    Layer("review", "05_review.ipynb"),
    Layer("price", "06_price.ipynb"),
    Layer("report", "07_report.ipynb"),
    Layer("publish", "08_publish.ipynb"),
)

RUN_DEFAULTS = {
    "warehouse": "data/warehouse.duckdb",
    "outputs_dir": "outputs",
    "raw_dir": "data/raw",
    "log_level": "INFO",
    "kernel_name": "python3",
    "cell_timeout_seconds": 3600,
}


class StepFailed(MarketFinderError):
    """A notebook of the chain raised; the message names the notebook, cell error and file."""


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def run_settings(params: dict) -> dict:
    settings = {**RUN_DEFAULTS, **params.get("run", {})}
    unknown = sorted(set(settings) - set(RUN_DEFAULTS))
    if unknown:
        raise ConfigError(f"run.{unknown[0]}", f"unknown key; the run section takes {', '.join(RUN_DEFAULTS)}")
    return settings


def notebook_parameters(layer: Layer, params: dict, *, run_id: str, warehouse_path: Path,
                        run_dir: Path, raw_dir: Path, settings: dict) -> dict:
    """Papermill parameters for one notebook: run id and paths, then the layer's own section.

    Unknown keys are rejected here, before anything runs, because papermill would inject them
    as unused variables and a misspelt threshold would silently keep its default.
    """
    import papermill

    declared = papermill.inspect_notebook(str(NOTEBOOK_DIR / layer.notebook))
    values = {
        "run_id": run_id,
        "warehouse_path": str(warehouse_path),
        "run_dir": str(run_dir),
        "log_level": settings["log_level"],
    }
    if "raw_dir" in declared:
        values["raw_dir"] = str(raw_dir)
    for key, value in params.get(layer.name, {}).items():
        if key not in declared:
            known = ", ".join(sorted(k for k in declared if k not in values))
            raise ConfigError(f"{layer.name}.{key}", f"{layer.notebook} has no such parameter; it takes: {known}")
        check_parameter_type(f"{layer.name}.{key}", value, declared[key]["default"])
        values[key] = value
    return values


def check_parameter_type(name: str, value: object, default_source: str) -> None:
    """Reject a value whose kind differs from the notebook default's (a word where a number is
    expected), before any notebook runs. A default of None accepts anything."""
    try:
        default = ast.literal_eval(default_source)
    except (ValueError, SyntaxError):
        return
    if default is None or value is None:
        return
    if isinstance(default, bool):
        matches, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, (int, float, dict)):
        # A rate may be one number or a mapping of numbers per venue; the layer checks which.
        matches, kind = isinstance(value, (int, float, dict)) and not isinstance(value, bool), "a number"
    elif isinstance(default, (list, tuple)):
        matches, kind = isinstance(value, (list, tuple)), "a list"
    else:
        matches, kind = isinstance(value, type(default)), "text"
    if not matches:
        raise ConfigError(name, f"expected {kind} like the default {default_source}, got {value!r}")


def replace_latest(run_dir: Path, outputs_dir: Path) -> Path:
    """Copy the finished run folder to outputs/latest, swapping it in with renames."""
    latest = outputs_dir / "latest"
    staging = outputs_dir / ".latest.new"
    retired = outputs_dir / ".latest.old"
    for leftover in (staging, retired):
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(run_dir, staging)
    if latest.exists():
        latest.rename(retired)
    staging.rename(latest)
    if retired.exists():
        shutil.rmtree(retired)
    return latest


def execute_layer(layer: Layer, parameters: dict, run_dir: Path, settings: dict) -> Path:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output = run_dir / layer.notebook
    try:
        papermill.execute_notebook(
            str(NOTEBOOK_DIR / layer.notebook),
            str(output),
            parameters=parameters,
            kernel_name=settings["kernel_name"],
            cwd=str(REPO_ROOT),
            progress_bar=False,
            log_output=False,
            execution_timeout=int(settings["cell_timeout_seconds"]),
        )
    except PapermillExecutionError as exc:
        # papermill saved the notebook with the failing cell before raising, so the run folder
        # shows the traceback in place.
        raise StepFailed(
            f"{layer.notebook} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
            f"(see {output})"
        ) from exc
    return output


def render_report(run_dir: Path) -> Path | None:
    from mflib import report

    executed = run_dir / "07_report.ipynb"
    return report.render_report_html(executed, run_dir / "report.html")


def print_summary(con, run_id: str) -> None:
    stats = warehouse.layer_stats(con, run_id)
    if stats.empty:
        return
    print(f"\nrun {run_id}: layer timings and counts")
    print(f"  {'layer':<10} {'rows in':>10} {'rows out':>10} {'seconds':>9}")
    for row in stats.itertuples():
        print(f"  {row.layer:<10} {row.rows_in:>10} {row.rows_out:>10} {row.seconds:>9.2f}")


def send_failure_alert(run_id: str, error: str) -> None:
    from mflib import health

    message = {
        "status": "down",
        "uptime": 0,
        "lastEtlRun": {"timestamp": datetime.now(UTC).isoformat(), "runId": run_id, "errors": [error]},
    }
    health.send_alert(message)


def run(params: dict, *, run_id: str | None = None) -> int:
    settings = run_settings(params)
    run_id = run_id or new_run_id()
    outputs_dir = resolve_path(settings["outputs_dir"])
    run_dir = outputs_dir / "runs" / run_id
    raw_dir = resolve_path(settings["raw_dir"]) / run_id
    warehouse_path = resolve_path(settings["warehouse"])
    replay = bool(params["fetch"].get("kalshi_replay") or params["fetch"].get("polymarket_replay"))

    # Check every notebook's parameters before the first one runs.
    plan = [
        (layer, notebook_parameters(layer, params, run_id=run_id, warehouse_path=warehouse_path,
                                    run_dir=run_dir, raw_dir=raw_dir, settings=settings))
        for layer in LAYERS
    ]

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "params.json").write_text(json.dumps(params, indent=2, default=str), encoding="utf-8")
    # The warehouse is a single-writer file: the runner closes it before each notebook opens it.
    with warehouse.connect(warehouse_path) as con:
        warehouse.start_run(con, run_id, params, replay=replay)
    log.info("run %s: start, %d notebooks, outputs in %s", run_id, len(plan), run_dir)

    started = time.perf_counter()
    error: str | None = None
    try:
        for layer, parameters in plan:
            step_start = time.perf_counter()
            if layer.name == "report" and "processing_time_seconds" not in params.get("report", {}):
                # The artifacts report the run's wall time so far, kernel start-ups included.
                parameters = {**parameters, "processing_time_seconds": round(time.perf_counter() - started, 3)}
            log.info("run %s: %s", run_id, layer.notebook)
            execute_layer(layer, parameters, run_dir, settings)
            if layer.name == "report":
                render_report(run_dir)
            log.info("run %s: %s done in %.1f s", run_id, layer.notebook, time.perf_counter() - step_start)
    except (StepFailed, MarketFinderError) as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a kernel crash must still mark the run failed
        error = f"{type(exc).__name__}: {exc}"

    seconds = time.perf_counter() - started
    with warehouse.connect(warehouse_path) as con:
        warehouse.finish_run(con, run_id, "failed" if error else "succeeded", error)
        print_summary(con, run_id)

    if error:
        (run_dir / "FAILED.txt").write_text(error + "\n", encoding="utf-8")
        log.error("run %s failed after %.1f s: %s", run_id, seconds, error)
        log.error("outputs/latest was left as it was; the partial run is in %s", run_dir)
        send_failure_alert(run_id, error)
        return 1

    latest = replace_latest(run_dir, outputs_dir)
    log.info("run %s succeeded in %.1f s; %s updated", run_id, seconds, latest)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run the MarketFinder notebook chain (fetch, bucket, filter, score, review, "
        "price, report, publish) with papermill.",
    )
    parser.add_argument("--params", required=True, type=Path,
                        help="parameter file, e.g. params/default.yaml (live) or params/replay.yaml (recorded data)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override one parameter, value parsed as YAML (repeatable), e.g. --set filter.min_text_score=70")
    parser.add_argument("--run-id", help="run id to use instead of a new UTC timestamp (reusing one replaces its rows)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        params = load_params(args.params, args.overrides)
        configure_logging(params["run"].get("log_level", "INFO"))
        return run(params, run_id=args.run_id)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    sys.exit(main())
