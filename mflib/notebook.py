"""Set-up shared by the layer notebooks: logging, plotly rendering, paths and the warehouse."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from mflib import warehouse
from mflib.config import REPO_ROOT

log = logging.getLogger(__name__)

# Layers whose executed notebook is exported to HTML, so their charts must carry plotly.js.
HTML_REPORT_LAYERS = frozenset({"report"})


def resolve_path(path: str | Path) -> Path:
    """Resolve a relative path against the repository root, so notebooks work from any folder."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(getattr(handler, "_mflib", False) for handler in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._mflib = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())


def configure_plotly(renderer: str = "notebook") -> None:
    """Choose how charts are saved in the executed notebook.

    Under papermill the default renderer writes nothing into the saved notebook, so charts would
    vanish from the HTML report. "notebook" embeds plotly.js (about 5 MB) in the first figure's
    output, which the report needs to open offline. "plotly_mimetype" saves only the figure
    JSON, which JupyterLab draws itself, and keeps the other executed notebooks small.
    """
    import plotly.io as pio

    pio.renderers.default = renderer


@dataclass
class LayerContext:
    """A layer notebook's run id, open warehouse connection and run folder."""

    layer: str
    run_id: str
    con: duckdb.DuckDBPyConnection
    run_dir: Path
    started: float = field(default_factory=time.perf_counter)

    def record(self, rows_in: int, rows_out: int, details: dict[str, Any] | None = None) -> float:
        """Store the layer's counts and the seconds since start_layer; returns the seconds."""
        seconds = time.perf_counter() - self.started
        warehouse.record_layer(self.con, self.run_id, self.layer, rows_in, rows_out, seconds, details)
        return seconds


def start_layer(
    layer: str,
    *,
    run_id: str,
    warehouse_path: str | Path,
    run_dir: str | Path,
    log_level: str = "INFO",
) -> LayerContext:
    """Configure logging and plotly, open the warehouse and create the run folder."""
    configure_logging(log_level)
    configure_plotly("notebook" if layer in HTML_REPORT_LAYERS else "plotly_mimetype")
    run_path = resolve_path(run_dir)
    run_path.mkdir(parents=True, exist_ok=True)
    con = warehouse.connect(resolve_path(warehouse_path))
    log.info("layer %s: start (run %s)", layer, run_id)
    return LayerContext(layer=layer, run_id=run_id, con=con, run_dir=run_path)
