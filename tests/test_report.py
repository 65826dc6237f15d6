"""The report: tables and charts from the warehouse, skipped-work notes, the notebook and its HTML export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import plotly.graph_objects as go
import pytest
from artifact_fixtures import (
    NOW,
    build_warehouse,
    current_opportunities,
    opportunity,
    opportunity_frame,
    reviewed_frame,
    venue_frame,
)

from mflib import artifacts, report, warehouse
from mflib.config import REPO_ROOT

FAKE_ANTHROPIC_KEY = "sk-ant-fake-report-test-0987654321"
FAKE_DEPLOY_KEY = "prod:fake-report-deploy-key-5555"
REPORT_NOTEBOOK = REPO_ROOT / "notebooks" / "07_report.ipynb"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The two-run warehouse file, built once; each test reads or changes its own copy."""
    path = tmp_path_factory.mktemp("report") / "template.duckdb"
    con = warehouse.connect(path)
    build_warehouse(con)
    con.close()
    return path


@pytest.fixture()
def filled(template, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(template, path)
    con = warehouse.connect(path)
    yield con
    con.close()


def annotation_texts(figure: go.Figure) -> list[str]:
    return [annotation.text for annotation in figure.layout.annotations]


# ----------------------------------------------------------------------------- notes


def test_report_notes_clean_run(filled):
    assert report.skipped_notes(filled, "run-b") == []


def test_report_notes_no_llm_key(filled):
    warehouse.replace_run_rows(filled, "reviewed_pairs", "run-b", reviewed_frame(["skipped_no_key", "skipped_no_key"]))
    notes = report.skipped_notes(filled, "run-b")
    assert len(notes) == 1
    assert "ANTHROPIC_API_KEY was not set" in notes[0]
    assert "2 pairs" in notes[0]


def test_report_notes_replay_from_runs(filled):
    filled.execute("UPDATE runs SET replay = true WHERE run_id = 'run-b'")
    notes = report.skipped_notes(filled, "run-b")
    assert len(notes) == 1
    assert "recorded market data (replay)" in notes[0]


def test_report_notes_replay_from_venue_mode(filled):
    warehouse.replace_run_rows(filled, "venue_status", "run-b", venue_frame(mode="replay"))
    notes = report.skipped_notes(filled, "run-b")
    assert any("replay" in note for note in notes)


def test_report_notes_failed_venue(filled):
    warehouse.replace_run_rows(filled, "venue_status", "run-b", venue_frame(kalshi_ok=False))
    notes = report.skipped_notes(filled, "run-b")
    assert notes == ["Kalshi could not be fetched (HTTP 503 after 4 attempts), so no pair involving Kalshi "
                     "was priced in this run."]


def test_report_notes_partial_venue(filled):
    warehouse.replace_run_rows(filled, "venue_status", "run-b", venue_frame(polymarket_partial=True))
    notes = report.skipped_notes(filled, "run-b")
    assert len(notes) == 1
    assert notes[0].startswith("Polymarket was fetched only in part (2 pages, 3 markets)")


def test_report_notes_review_cap_and_errors(filled):
    warehouse.replace_run_rows(filled, "reviewed_pairs", "run-b",
                               reviewed_frame(["skipped_cap", "error", "reviewed", "skipped_budget"]))
    notes = report.skipped_notes(filled, "run-b")
    assert len(notes) == 3
    assert any("review cap" in note for note in notes)
    assert any("budget" in note for note in notes)
    assert any("failed for 1 pairs" in note for note in notes)


# ----------------------------------------------------------------------------- tables and charts


def test_report_headline_figures(filled):
    frame = report.headline(filled, "run-b")
    values = dict(zip(frame["figure"], frame["value"], strict=True))
    assert values["Kalshi markets"] == "4"
    assert values["Polymarket markets"] == "3"
    assert values["Opportunities after fees"] == "3"
    assert values["Best net margin"] == "8.40%"
    assert values["Pipeline health"] == "healthy"


def test_report_funnel_in_layer_order(filled):
    frame = report.funnel(filled, "run-b")
    assert frame["layer"].tolist() == ["fetch", "bucket", "filter", "score", "review", "price"]
    assert frame.loc[frame["layer"] == "filter", "pass_rate"].iloc[0] == pytest.approx(0.5)
    assert pd.isna(frame.loc[frame["layer"] == "fetch", "pass_rate"].iloc[0])


def test_report_funnel_figure(filled):
    figure = report.funnel_figure(report.funnel(filled, "run-b"))
    assert len(figure.data) == 1
    assert list(figure.data[0].x) == [7, 12, 6, 4, 3, 3]
    assert "4.5 s" in figure.data[0].text[0]


def test_report_opportunities_table_links(filled):
    table = report.opportunities_table(filled, "run-b")
    assert len(table) == 3
    first = table.iloc[0]
    assert first["Buy YES on"].startswith('Kalshi: <a href="https://kalshi.example/markets/kxfedcut-26dec"')
    assert 'href="https://polymarket.example/event/0xc3"' in first["Sell YES (buy NO) on"]
    assert first["Net margin after fees"] == "8.40%"
    assert first["Confidence"] == "0.70"
    assert first["Risk flags"] == "close_times_differ"
    assert first["Legs"] == "Kalshi YES + Polymarket NO"
    assert first["Contracts"] == "100"


def test_report_opportunities_table_escapes_titles(warehouse_con):
    item = current_opportunities()[0]
    item["buyMarket"]["title"] = 'Rain <script>alert("x")</script> & hail?'
    item["buyMarket"]["url"] = "javascript:alert(1)"
    warehouse.replace_run_rows(warehouse_con, "opportunities", "run-x", opportunity_frame([item]))
    html_text = report.table_html(report.opportunities_table(warehouse_con, "run-x"), escaped=True)
    assert "<script>" not in html_text
    assert "&lt;script&gt;" in html_text
    assert "javascript:" not in html_text


def test_report_net_vs_gross_figure(filled):
    figure = report.net_vs_gross_figure(filled, "run-b")
    points = sum(len(trace.x) for trace in figure.data if trace.mode == "markers")
    assert points == 3
    assert any(trace.name == "no fees, full depth" for trace in figure.data)


def test_report_confidence_figure(filled):
    figure = report.confidence_figure(filled, "run-b")
    bands = sorted(trace.name for trace in figure.data)
    assert bands == ["high", "low", "medium"]


def test_report_categories_figure(filled):
    figure = report.categories_figure(filled, "run-b")
    venues = sorted(trace.name for trace in figure.data)
    assert venues == ["Kalshi", "Polymarket"]
    kalshi = next(trace for trace in figure.data if trace.name == "Kalshi")
    assert dict(zip(kalshi.y, kalshi.x, strict=True))["Politics"] == 2


def test_report_history_across_runs(filled):
    history = report.opportunity_history(filled)
    assert history["run_id"].tolist() == ["run-a", "run-b"]
    assert history["opportunities"].tolist() == [1, 3]
    assert history["best_margin"].tolist() == [0.02, 0.084]
    figure = report.history_figure(history)
    assert list(figure.data[0].y) == [1, 3]


def test_report_history_counts_empty_priced_run(filled):
    warehouse.record_layer(filled, "run-c", "price", 0, 0, 0.1)
    filled.execute("INSERT INTO runs VALUES ('run-c', ?, NULL, 'succeeded', '{}', NULL, false)",
                   [NOW.replace(hour=21)])
    history = report.opportunity_history(filled)
    assert history["run_id"].tolist() == ["run-a", "run-b", "run-c"]
    assert history["opportunities"].tolist() == [1, 3, 0]


def test_report_persistence(filled):
    frame = report.opportunity_persistence(filled)
    rain = frame[frame["id"] == "KXRAINSEA-26DEC10|0xa1|kalshi_yes_polymarket_no"].iloc[0]
    assert rain["runs"] == 2
    assert rain["first_seen"] == pd.Timestamp("2026-12-04T19:30:00Z")
    assert rain["last_seen"] == pd.Timestamp("2026-12-04T20:00:00Z")
    assert rain["latest_margin"] == pytest.approx(0.031)
    assert frame["id"].iloc[0] == rain["id"]


def test_report_persistence_skips_unreadable_rows(warehouse_con):
    good = opportunity("KXA", "0x1", margin=0.05, confidence=0.9, detected=NOW,
                       kalshi_title="A?", polymarket_title="A?")
    frame = opportunity_frame([good])
    frame = pd.concat([frame, pd.DataFrame({"opportunity_json": ["{broken"]})], ignore_index=True)
    warehouse.replace_run_rows(warehouse_con, "opportunities", "run-x", frame)
    assert len(report.opportunity_persistence(warehouse_con)) == 1


def test_report_empty_warehouse(warehouse_con):
    assert report.skipped_notes(warehouse_con, "none") == [
        "This run has no markets: the fetch layer stored none, so no pair was compared or priced."]
    assert report.funnel(warehouse_con, "none").empty
    assert report.opportunities_table(warehouse_con, "none").empty
    assert report.opportunity_history(warehouse_con).empty
    assert report.opportunity_persistence(warehouse_con).empty
    assert report.headline(warehouse_con, "none")["value"].tolist() == ["0", "0", "0", "none", "down"]
    figures = [
        report.funnel_figure(report.funnel(warehouse_con, "none")),
        report.net_vs_gross_figure(warehouse_con, "none"),
        report.confidence_figure(warehouse_con, "none"),
        report.categories_figure(warehouse_con, "none"),
        report.history_figure(report.opportunity_history(warehouse_con)),
    ]
    for figure in figures:
        assert len(figure.data) == 0
        assert len(annotation_texts(figure)) == 1


# ----------------------------------------------------------------------------- HTML export


def execute(source: Path, target: Path, env_secrets, **parameters) -> Path:
    """Execute a notebook with papermill in a kernel whose environment contains fake secrets."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env_secrets.items():
            patch.setenv(name, value)
        patch.delenv("MARKETFINDER_ALERT_WEBHOOK_URL", raising=False)
        papermill.execute_notebook(str(source), str(target), parameters=parameters, kernel_name="python3",
                                   cwd=str(target.parent), progress_bar=False)
    return target


SECRETS = {"ANTHROPIC_API_KEY": FAKE_ANTHROPIC_KEY, "CONVEX_DEPLOY_KEY": FAKE_DEPLOY_KEY}


@pytest.fixture(scope="module")
def tiny_html(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Tiny report"),
        nbformat.v4.new_code_cell("label = 'tiny'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("from mflib import notebook\nnotebook.configure_plotly()\n"
                                  "import logging\nlogging.basicConfig()\nlogging.getLogger('x').warning('log line')"),
        nbformat.v4.new_code_cell("import plotly.graph_objects as go\n"
                                  "only_in_code_marker = 'unused'\n"
                                  "go.Figure(go.Bar(x=['alpha-bar', 'beta-bar'], y=[3, 5]), "
                                  "layout={'title': 'Tiny chart title'})"),
    ]
    source = folder / "tiny.ipynb"
    nbformat.write(notebook, source)
    executed = execute(source, folder / "tiny_out.ipynb", SECRETS)
    path = report.render_report_html(executed, folder / "tiny.html")
    return path.read_text(encoding="utf-8")


def test_report_html_embeds_plotly(tiny_html):
    assert "window.Plotly = Plotly" in tiny_html
    assert "plotly.js v" in tiny_html
    assert 'class="plotly-graph-div"' in tiny_html
    assert "Plotly.newPlot" in tiny_html


def test_report_html_has_figure_data(tiny_html):
    assert "alpha-bar" in tiny_html
    assert "Tiny chart title" in tiny_html


def test_report_html_hides_code(tiny_html):
    assert "only_in_code_marker" not in tiny_html
    assert "configure_plotly" not in tiny_html
    assert "In&nbsp;[" not in tiny_html


def test_report_html_hides_logs(tiny_html):
    assert "log line" not in tiny_html


def test_report_html_no_secret(tiny_html):
    assert FAKE_ANTHROPIC_KEY not in tiny_html
    assert FAKE_DEPLOY_KEY not in tiny_html


@pytest.fixture(scope="module")
def report_run(template, tmp_path_factory):
    """The report notebook executed on a copy of the two-run warehouse, and its HTML."""
    folder = tmp_path_factory.mktemp("report_run")
    database = folder / "warehouse.duckdb"
    shutil.copyfile(template, database)
    run_dir = folder / "run"
    run_dir.mkdir()
    executed = execute(REPORT_NOTEBOOK, run_dir / "07_report.ipynb", SECRETS, run_id="run-b",
                       warehouse_path=str(database), run_dir=str(run_dir))
    html_path = report.render_report_html(executed, run_dir / "report.html")
    return run_dir, database, html_path.read_text(encoding="utf-8")


def test_report_notebook_writes_valid_artifacts(report_run):
    run_dir, _, _ = report_run
    for name in artifacts.ARTIFACT_NAMES:
        obj = json.loads((run_dir / f"{name}.json").read_text(encoding="utf-8"))
        artifacts.validate_artifact(name, obj)
    response = json.loads((run_dir / "opportunities.json").read_text(encoding="utf-8"))
    # Without processing_time_seconds the notebook reports the 9.5 s its layers recorded.
    assert response["metadata"]["processingTime"] == 9.5
    assert response["metadata"]["totalFound"] == 3


def test_report_notebook_records_layer(report_run):
    _, database, _ = report_run
    con = warehouse.connect(database, read_only=True)
    stats = con.execute("SELECT rows_in, rows_out, details_json FROM layer_stats "
                        "WHERE run_id = 'run-b' AND layer = 'report'").fetchall()
    con.close()
    assert len(stats) == 1
    assert stats[0][0] == 3
    assert stats[0][1] == 3
    assert json.loads(stats[0][2])["status"] == "healthy"


def test_report_notebook_html_content(report_run):
    _, database, html_text = report_run
    assert html_text.count('class="plotly-graph-div"') == 5
    assert "plotly.js v" in html_text
    assert 'href="https://kalshi.example/markets/kxfedcut-26dec"' in html_text
    assert "Nothing was skipped in this run." in html_text
    assert "report.show_table" not in html_text
    assert FAKE_ANTHROPIC_KEY not in html_text
    assert FAKE_DEPLOY_KEY not in html_text
    assert str(database) not in html_text


def test_report_notebook_empty_warehouse(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    executed = execute(REPORT_NOTEBOOK, run_dir / "07_report.ipynb", SECRETS, run_id="empty",
                       warehouse_path=str(tmp_path / "warehouse.duckdb"), run_dir=str(run_dir))
    html_text = report.render_report_html(executed, run_dir / "report.html").read_text(encoding="utf-8")
    assert "No opportunity with a profit after fees was found in this run." in html_text
    health = json.loads((run_dir / "health.json").read_text(encoding="utf-8"))
    assert health["status"] == "down"


def test_report_html_loads_no_external_script(tmp_path):
    import nbformat

    from mflib import report

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Report")]
    source = tmp_path / "07_report.ipynb"
    nbformat.write(notebook, source)
    html = report.render_report_html(source, tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'src="http' not in html
    assert "Report" in html
