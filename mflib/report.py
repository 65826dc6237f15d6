"""Tables and plotly charts of the stakeholder report, built from the warehouse, and its HTML export.

Every builder takes the open warehouse and returns a DataFrame or a plotly Figure. Missing tables
and empty runs give an empty frame or a figure that states there is nothing to show, so the
report notebook runs on a fresh or partial warehouse. An unreadable opportunity_json of the
current run raises ArtifactValidationError (the history leaves such rows out and logs a count).
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from mflib import artifacts, health, warehouse

log = logging.getLogger(__name__)

VENUE_NAMES = {"kalshi": "Kalshi", "polymarket": "Polymarket"}
LAYER_ORDER = ("fetch", "bucket", "filter", "score", "review", "price", "report", "publish")
MAX_CATEGORIES = 12
BAND_COLORS = {"high": "#2a9d8f", "medium": "#e9c46a", "low": "#e76f51"}
DIRECTION_LABELS = {
    "kalshi_yes_polymarket_no": "Kalshi YES + Polymarket NO",
    "kalshi_no_polymarket_yes": "Kalshi NO + Polymarket YES",
    "kalshi_yes_polymarket_yes": "Kalshi YES + Polymarket YES",
    "kalshi_no_polymarket_no": "Kalshi NO + Polymarket NO",
}


# ----------------------------------------------------------------------------- notes and headline


def skipped_notes(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """List in plain words what this run skipped or could not do, for the top of the report."""
    notes: list[str] = []
    if artifacts.count_run_rows(con, "markets", run_id) == 0:
        notes.append("This run has no markets: the fetch layer stored none, so no pair was compared or priced.")
    venues = warehouse.read_run(con, "venue_status", run_id)
    if _is_replay(con, run_id, venues):
        notes.append(
            "This run used recorded market data (replay), not live prices, so its opportunities "
            "show what the recording contained and may no longer be tradeable."
        )
    for row in venues.to_dict("records"):
        name = venue_name(row.get("platform"))
        error = str(row.get("error") or "").strip()
        if not health.as_bool(row.get("ok"), default=True):
            reason = f" ({error})" if error else ""
            notes.append(
                f"{name} could not be fetched{reason}, so no pair involving {name} was priced in this run."
            )
        elif health.as_bool(row.get("partial"), default=False):
            notes.append(
                f"{name} was fetched only in part ({_int(row.get('pages'))} pages, "
                f"{_int(row.get('markets'))} markets), so some of its markets and opportunities are missing."
            )
    reviewed = warehouse.read_run(con, "reviewed_pairs", run_id)
    if not reviewed.empty and "review_status" in reviewed.columns:
        counts = reviewed["review_status"].value_counts()
        messages = {
            "skipped_no_key": "The LLM review was skipped for {n} pairs because ANTHROPIC_API_KEY was not set; "
                              "their confidence comes from the scoring model and rules alone.",
            "skipped_cap": "{n} pairs were not sent to the LLM review because the per-run review cap was reached.",
            "skipped_budget": "{n} pairs were not sent to the LLM review because the run's review budget was spent.",
            "error": "The LLM review failed for {n} pairs; the review notebook lists the errors.",
        }
        for status, template in messages.items():
            count = int(counts.get(status, 0))
            if count:
                notes.append(template.format(n=count))
    return notes


def headline(con: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    """Return the run's key figures: markets per venue, opportunities, best net margin and health status."""
    summary = artifacts.build_summary(con, run_id)
    opportunities = artifacts.load_opportunities(con, run_id)
    margins = [_float(item.get("profitMargin")) for item in opportunities]
    margins = [value for value in margins if value is not None]
    status = artifacts.build_health(con, run_id)["status"]
    rows = [
        ("Kalshi markets", f"{summary['byPlatform']['kalshi']['count']:,}"),
        ("Polymarket markets", f"{summary['byPlatform']['polymarket']['count']:,}"),
        ("Opportunities after fees", f"{len(opportunities):,}"),
        ("Best net margin", _percent(max(margins)) if margins else "none"),
        ("Pipeline health", status),
    ]
    return pd.DataFrame(rows, columns=["figure", "value"])


# ----------------------------------------------------------------------------- funnel


def funnel(con: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    """Return rows in, rows out and seconds of each layer of the run, in pipeline order."""
    columns = ["layer", "rows_in", "rows_out", "seconds", "pass_rate"]
    if not warehouse.table_exists(con, "layer_stats"):
        return pd.DataFrame(columns=columns)
    stats = warehouse.layer_stats(con, run_id)
    if stats.empty:
        return pd.DataFrame(columns=columns)
    order = {layer: position for position, layer in enumerate(LAYER_ORDER)}
    stats["position"] = stats["layer"].map(lambda layer: order.get(layer, len(order)))
    stats = stats.sort_values("position", kind="stable").reset_index(drop=True)
    rows_in = stats["rows_in"].astype("float64")
    # Bucketing can output more rows than it reads (a market may sit in several buckets), so the
    # rate can exceed 1. The fetch layer reads no rows, so its rate is empty.
    stats["pass_rate"] = (stats["rows_out"] / rows_in.where(rows_in > 0)).round(3)
    stats["seconds"] = stats["seconds"].round(2)
    return stats[columns]


def funnel_figure(stats: pd.DataFrame) -> go.Figure:
    """Chart the rows each layer passes on, with its seconds in the label."""
    title = "Rows passed on by each layer"
    if stats.empty:
        return empty_figure("No layer has recorded its counts for this run yet.", title)
    labels = [f"{rows:,} rows, {seconds:.1f} s" for rows, seconds in zip(stats["rows_out"], stats["seconds"], strict=True)]
    figure = go.Figure(go.Funnel(y=stats["layer"], x=stats["rows_out"], text=labels, textinfo="text"))
    figure.update_layout(title=title, margin={"l": 90})
    return figure


# ----------------------------------------------------------------------------- opportunities


def opportunity_frame(con: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    """Flatten the run's opportunity objects into one row each, sorted by net margin from highest to lowest."""
    columns = ["id", "buy_venue", "buy_title", "buy_url", "sell_venue", "sell_title", "sell_url",
               "direction", "contracts", "net_margin", "annualized_return", "confidence", "band",
               "gross_gap", "net_per_contract", "fees_per_contract", "risk_flags"]
    rows = []
    for item in artifacts.load_opportunities(con, run_id):
        buy = item.get("buyMarket") or {}
        sell = item.get("sellMarket") or {}
        contracts = _float(item.get("executableSize"))
        net_usd = _float(item.get("netProfitUsd"))
        fees_usd = _float((item.get("fees") or {}).get("total"))
        per_contract = contracts if contracts and contracts > 0 else None
        confidence = _float(item.get("confidence"))
        rows.append({
            "id": str(item.get("id", "")),
            "buy_venue": venue_name(buy.get("platform")),
            "buy_title": str(buy.get("title", "")),
            "buy_url": str(buy.get("url") or ""),
            "sell_venue": venue_name(sell.get("platform")),
            "sell_title": str(sell.get("title", "")),
            "sell_url": str(sell.get("url") or ""),
            "direction": str(item.get("direction") or ""),
            "contracts": contracts,
            "net_margin": _float(item.get("profitMargin")),
            "annualized_return": _float(item.get("annualizedReturn")),
            "confidence": confidence,
            "band": artifacts.confidence_band(confidence or 0.0),
            "gross_gap": _float(item.get("grossGap")),
            "net_per_contract": net_usd / per_contract if per_contract and net_usd is not None else None,
            "fees_per_contract": fees_usd / per_contract if per_contract and fees_usd is not None else None,
            "risk_flags": ", ".join(str(flag) for flag in item.get("riskFlags") or []),
        })
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("contracts", "net_margin", "annualized_return", "confidence", "gross_gap",
                   "net_per_contract", "fees_per_contract"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Float64")
    return frame.sort_values("net_margin", ascending=False, na_position="last").reset_index(drop=True)


def opportunities_table(con: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    """Return the opportunities as a display table: linked titles of both markets, sizes, margins, flags.

    The market columns hold HTML anchors (titles and URLs escaped), so show the table with
    `table_html`, which does not escape again.
    """
    frame = opportunity_frame(con, run_id)
    table = pd.DataFrame({
        "Buy YES on": [f"{html.escape(venue)}: {anchor(title, url)}" for venue, title, url
                       in zip(frame["buy_venue"], frame["buy_title"], frame["buy_url"], strict=True)],
        "Sell YES (buy NO) on": [f"{html.escape(venue)}: {anchor(title, url)}" for venue, title, url
                                 in zip(frame["sell_venue"], frame["sell_title"], frame["sell_url"], strict=True)],
        "Legs": [html.escape(DIRECTION_LABELS.get(value, value)) for value in frame["direction"]],
        "Contracts": [_plain(value, "{:,.0f}") for value in frame["contracts"]],
        "Net margin after fees": [_percent(value) for value in frame["net_margin"]],
        "Annualized return": [_percent(value) for value in frame["annualized_return"]],
        "Confidence": [_plain(value, "{:.2f}") for value in frame["confidence"]],
        "Risk flags": [html.escape(value) for value in frame["risk_flags"]],
    })
    return table


def anchor(title: str, url: str) -> str:
    """Return an HTML link to a market that opens in a new tab, or the escaped title when there is no URL."""
    text = html.escape(title or "(untitled)")
    if not url or not url.startswith(("https://", "http://")):
        return text
    return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">{text}</a>'


def net_vs_gross_figure(con: duckdb.DuckDBPyConnection, run_id: str) -> go.Figure:
    """Chart the net profit per contract against the gross gap: the distance below the diagonal is what fees and depth take."""
    title = "Net edge after fees against the gross price gap (USD per contract)"
    frame = opportunity_frame(con, run_id)
    frame = frame[frame["gross_gap"].notna() & frame["net_per_contract"].notna()]
    if frame.empty:
        return empty_figure("No opportunity in this run reports both a gross gap and a net profit.", title)
    plot = pd.DataFrame({
        "gross gap": frame["gross_gap"].astype("float64"),
        "net per contract": frame["net_per_contract"].astype("float64"),
        "confidence band": frame["band"].astype(str),
        "market": frame["buy_title"].astype(str),
    })
    figure = px.scatter(plot, x="gross gap", y="net per contract", color="confidence band",
                        hover_name="market", color_discrete_map=BAND_COLORS, title=title)
    top = float(max(plot["gross gap"].max(), plot["net per contract"].max(), 0.01))
    figure.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="no fees, full depth",
                                line={"dash": "dot", "color": "grey"}))
    return figure


def confidence_figure(con: duckdb.DuckDBPyConnection, run_id: str) -> go.Figure:
    """Chart how many opportunities fall in each confidence range, colored by band."""
    title = "Confidence of the opportunities"
    frame = opportunity_frame(con, run_id)
    frame = frame[frame["confidence"].notna()]
    if frame.empty:
        return empty_figure("No opportunity to show: the run found none.", title)
    plot = pd.DataFrame({"confidence": frame["confidence"].astype("float64"), "band": frame["band"].astype(str)})
    figure = px.histogram(plot, x="confidence", color="band", color_discrete_map=BAND_COLORS,
                          category_orders={"band": ["low", "medium", "high"]}, title=title)
    figure.update_traces(xbins={"start": 0.0, "end": 1.0, "size": 0.05})
    figure.update_xaxes(range=[0, 1])
    return figure


def categories_figure(con: duckdb.DuckDBPyConnection, run_id: str) -> go.Figure:
    """Chart the markets per category and venue (the categories with the most markets)."""
    title = "Markets by category"
    markets = warehouse.read_run(con, "markets", run_id)
    if markets.empty or "category" not in markets.columns:
        return empty_figure("No markets were stored for this run.", title)
    frame = pd.DataFrame({
        "venue": markets["platform"].map(venue_name).astype(str),
        "category": markets["category"].astype("string").fillna("").str.strip().replace("", "(none)").astype(str),
    })
    counts = frame.groupby(["category", "venue"]).size().reset_index(name="markets")
    top = counts.groupby("category")["markets"].sum().sort_values(ascending=False).head(MAX_CATEGORIES).index
    counts = counts[counts["category"].isin(top)]
    figure = px.bar(counts, y="category", x="markets", color="venue", orientation="h", barmode="group",
                    category_orders={"category": list(top)}, title=title)
    figure.update_layout(height=max(320, 40 * len(top) + 120))
    return figure


# ----------------------------------------------------------------------------- history across runs


def opportunity_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Return one row per run that priced pairs: start time, opportunities found, best and median net margin."""
    columns = ["run_id", "started_at", "opportunities", "best_margin", "median_margin"]
    sightings = _sightings(con)
    priced_runs = _priced_runs(con)
    if sightings.empty and priced_runs.empty:
        return pd.DataFrame(columns=columns)
    per_run = (
        sightings.groupby("run_id")
        .agg(opportunities=("id", "size"), best_margin=("margin", "max"), median_margin=("margin", "median"))
        .reset_index()
        if not sightings.empty
        else pd.DataFrame(columns=["run_id", "opportunities", "best_margin", "median_margin"])
    )
    frame = priced_runs.merge(per_run, on="run_id", how="outer")
    starts = _run_starts(con, sightings)
    frame["started_at"] = frame["run_id"].map(starts)
    frame["opportunities"] = pd.to_numeric(frame["opportunities"], errors="coerce").fillna(0).astype(int)
    return frame.sort_values(["started_at", "run_id"], na_position="first").reset_index(drop=True)[columns]


def history_figure(history: pd.DataFrame) -> go.Figure:
    """Chart the opportunities found per run over time."""
    title = "Opportunities per run"
    if history.empty:
        return empty_figure("The warehouse holds no priced run yet.", title)
    plot = history.copy()
    plot["started_at"] = pd.to_datetime(plot["started_at"], utc=True)
    plot["opportunities"] = plot["opportunities"].astype(int)
    figure = px.line(plot, x="started_at", y="opportunities", markers=True, hover_name="run_id", title=title)
    figure.update_yaxes(rangemode="tozero")
    return figure


def opportunity_persistence(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Return how long each opportunity id persisted: first seen, last seen and the number of runs it appeared in."""
    columns = ["id", "market", "first_seen", "last_seen", "runs", "latest_margin"]
    sightings = _sightings(con)
    if sightings.empty:
        return pd.DataFrame(columns=columns)
    sightings["seen_at"] = sightings["run_id"].map(_run_starts(con, sightings))
    sightings = sightings.sort_values("seen_at")
    frame = (
        sightings.groupby("id")
        .agg(market=("market", "last"), first_seen=("seen_at", "min"), last_seen=("seen_at", "max"),
             runs=("run_id", "nunique"), latest_margin=("margin", "last"))
        .reset_index()
    )
    return frame.sort_values(["runs", "last_seen"], ascending=False).reset_index(drop=True)[columns]


# ----------------------------------------------------------------------------- display and export


def empty_figure(message: str, title: str) -> go.Figure:
    """Return a figure without axes that shows message in its middle."""
    figure = go.Figure()
    figure.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                          font={"size": 15})
    figure.update_layout(title=title, height=260, xaxis={"visible": False}, yaxis={"visible": False})
    return figure


def table_html(frame: pd.DataFrame, *, escaped: bool = False) -> str:
    """Render a table without its index. escaped=True keeps cells as HTML (from `opportunities_table`)."""
    return frame.to_html(index=False, escape=not escaped, border=0, na_rep="", classes="mf-table")


def show_table(frame: pd.DataFrame, empty_message: str, *, escaped: bool = False) -> None:
    """Display frame in the notebook as an HTML table, or empty_message as a sentence when it has no rows.

    escaped=True shows cells as HTML (for tables from `opportunities_table`).
    """
    from IPython.display import HTML, Markdown, display

    if frame.empty:
        display(Markdown(f"*{empty_message}*"))
        return
    display(HTML(table_html(frame, escaped=escaped)))


def show_notes(notes: list[str], none_message: str = "Nothing was skipped in this run.") -> None:
    """Display the skipped-work notes as a bulleted list, or none_message when there are none."""
    from IPython.display import Markdown, display

    if not notes:
        display(Markdown(none_message))
        return
    display(Markdown("\n".join(f"- {note}" for note in notes)))


def artifact_files(paths: list[Path]) -> pd.DataFrame:
    """Return the name and size of each written artifact (names only, so no local path reaches the report)."""
    return pd.DataFrame({
        "file": [Path(path).name for path in paths],
        "bytes": [Path(path).stat().st_size for path in paths],
    })


EXTERNAL_SCRIPT = re.compile(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>')


def render_report_html(executed_notebook: Path, html_path: Path) -> Path:
    """Export an executed report notebook to standalone HTML without code, prompts or log output.

    Charts keep working offline because the notebook embeds plotly.js in its first chart output
    (plotly's "notebook" renderer, set by `mflib.notebook.configure_plotly`). Cells tagged
    remove-cell are dropped and cells tagged remove-output lose their outputs.
    """
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    executed_notebook = Path(executed_notebook)
    html_path = Path(html_path)
    notebook = nbformat.read(executed_notebook, as_version=4)
    removed = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        visible = [output for output in cell.get("outputs", [])
                   if not (output.get("output_type") == "stream" and output.get("name") == "stderr")]
        removed += len(cell.get("outputs", [])) - len(visible)
        cell["outputs"] = visible

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={"remove-cell"}, remove_all_outputs_tags={"remove-output"}),
        enabled=True,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": "MarketFinder report"}})
    # The lab template links require.js and MathJax from a CDN. The report needs neither, because
    # plotly.js is inline and defines window.Plotly itself, so the links go and the file makes no
    # request to another host when opened.
    body, external = EXTERNAL_SCRIPT.subn("", body)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    log.info("report %s written from %s (%d log outputs and %d external scripts left out, %d bytes)",
             html_path, executed_notebook.name, removed, external, len(body))
    return html_path


# ----------------------------------------------------------------------------- helpers


def venue_name(platform: object) -> str:
    text = str(platform or "").strip()
    return VENUE_NAMES.get(text, text or "unknown venue")


def _sightings(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Return one row per opportunity per run across all runs: run_id, id, market, margin, detected_at."""
    columns = ["run_id", "id", "market", "margin", "detected_at"]
    if not warehouse.table_exists(con, "opportunities"):
        return pd.DataFrame(columns=columns)
    described = {row[0] for row in con.execute('DESCRIBE "opportunities"').fetchall()}
    if "opportunity_json" not in described:
        return pd.DataFrame(columns=columns)

    rows = []
    skipped = 0
    for run_id, text in con.execute("SELECT run_id, opportunity_json FROM opportunities").fetchall():
        try:
            item = json.loads(text)
        except (TypeError, json.JSONDecodeError):
            skipped += 1
            continue
        if not isinstance(item, dict) or not item.get("id"):
            skipped += 1
            continue
        rows.append({
            "run_id": run_id,
            "id": str(item["id"]),
            "market": str((item.get("buyMarket") or {}).get("title", "")),
            "margin": _float(item.get("profitMargin")),
            "detected_at": pd.to_datetime(item.get("detectedAt"), utc=True, errors="coerce"),
        })

    if skipped:
        log.warning("history: %d opportunity rows without a readable opportunity_json were left out", skipped)
    frame = pd.DataFrame(rows, columns=columns)
    frame["margin"] = pd.to_numeric(frame["margin"], errors="coerce")
    return frame


def _priced_runs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not warehouse.table_exists(con, "layer_stats"):
        return pd.DataFrame(columns=["run_id"])
    return con.execute("SELECT DISTINCT run_id FROM layer_stats WHERE layer = 'price'").df()


def _run_starts(con: duckdb.DuckDBPyConnection, sightings: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Map run_id to its start: table runs, else the earliest detectedAt of its opportunities."""
    starts: dict[str, pd.Timestamp] = {}
    if not sightings.empty:
        for run_id, moment in sightings.groupby("run_id")["detected_at"].min().items():
            if not pd.isna(moment):
                starts[str(run_id)] = pd.Timestamp(moment)
    if warehouse.table_exists(con, "runs"):
        for run_id, moment in con.execute("SELECT run_id, started_at FROM runs").fetchall():
            if moment is not None:
                starts[str(run_id)] = pd.Timestamp(moment).tz_convert("UTC")
    return starts


def _is_replay(con: duckdb.DuckDBPyConnection, run_id: str, venues: pd.DataFrame) -> bool:
    if not venues.empty and "mode" in venues.columns and (venues["mode"].astype(str) == "replay").any():
        return True
    if warehouse.table_exists(con, "runs"):
        row = con.execute("SELECT replay FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return bool(row and row[0])
    return False


def _float(value: object) -> float | None:
    if value is None or value is pd.NA or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _int(value: object) -> int:
    number = _float(value)
    return int(number) if number is not None else 0


def _percent(value: object) -> str:
    number = _float(value)
    return "" if number is None else f"{number:.2%}"


def _plain(value: object, pattern: str) -> str:
    number = _float(value)
    return "" if number is None else pattern.format(number)
