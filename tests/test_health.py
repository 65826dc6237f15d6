"""Health status of a run and the alert webhook, against a stub server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from artifact_fixtures import NOW, build_warehouse, reviewed_frame, venue_frame

from mflib import artifacts, health, warehouse

FAKE_ANTHROPIC_KEY = "sk-ant-fake-health-test-1234567890"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The two-run warehouse file, built once; each test changes its own copy."""
    path = tmp_path_factory.mktemp("health") / "template.duckdb"
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


def problems_of(con) -> list[str]:
    return artifacts.build_health(con, "run-b", now=NOW)["lastEtlRun"]["errors"]


def test_health_healthy_run(filled):
    status = artifacts.build_health(filled, "run-b", now=NOW)
    assert status["status"] == "healthy"
    assert status["lastEtlRun"]["errors"] == []


def test_health_failed_venue_degraded(filled):
    warehouse.replace_run_rows(filled, "venue_status", "run-b", venue_frame(kalshi_ok=False))
    status = artifacts.build_health(filled, "run-b", now=NOW)
    assert status["status"] == "degraded"
    assert status["lastEtlRun"]["errors"] == ["kalshi: fetch failed: HTTP 503 after 4 attempts"]


def test_health_partial_venue_degraded(filled):
    warehouse.replace_run_rows(filled, "venue_status", "run-b", venue_frame(polymarket_partial=True))
    status = artifacts.build_health(filled, "run-b", now=NOW)
    assert status["status"] == "degraded"
    assert status["lastEtlRun"]["errors"] == ["polymarket: fetch incomplete after 2 pages and 3 markets"]


def test_health_llm_errors_degraded(filled):
    warehouse.replace_run_rows(filled, "reviewed_pairs", "run-b", reviewed_frame(["reviewed", "error", "error"]))
    status = artifacts.build_health(filled, "run-b", now=NOW)
    assert status["status"] == "degraded"
    assert status["lastEtlRun"]["errors"] == ["review: the LLM review failed for 2 pairs"]


def test_health_skipped_review_stays_healthy(filled):
    warehouse.replace_run_rows(filled, "reviewed_pairs", "run-b", reviewed_frame(["skipped_no_key"] * 3))
    assert artifacts.build_health(filled, "run-b", now=NOW)["status"] == "healthy"


@pytest.mark.parametrize("usage", [
    pd.DataFrame({"requests": [12], "errors": [3]}),
    pd.DataFrame({"model": ["a", "b", "c"], "error": ["timed out", "", "HTTP 529 overloaded"]}),
])
def test_health_review_usage_errors_degraded(filled, usage):
    warehouse.replace_run_rows(filled, "review_usage", "run-b", usage)
    status = artifacts.build_health(filled, "run-b", now=NOW)
    assert status["status"] == "degraded"
    assert len(status["lastEtlRun"]["errors"]) == 1
    assert "the LLM client recorded" in status["lastEtlRun"]["errors"][0]


def test_health_review_usage_without_errors(filled):
    warehouse.replace_run_rows(filled, "review_usage", "run-b", pd.DataFrame({"requests": [4], "errors": [0]}))
    assert artifacts.build_health(filled, "run-b", now=NOW)["status"] == "healthy"


def test_health_publish_retried_degraded(filled):
    status = artifacts.build_health(filled, "run-b", now=NOW, publish_retried=True)
    assert status["status"] == "degraded"
    assert status["lastEtlRun"]["errors"] == ["publish: a Convex mutation succeeded only after a retry"]


def test_health_extra_errors_degraded(filled):
    status = artifacts.build_health(filled, "run-b", now=NOW, extra_errors=["score: model file missing"])
    assert status["status"] == "degraded"
    assert status["lastEtlRun"]["errors"] == ["score: model file missing"]


def test_health_no_markets_down(filled):
    warehouse.replace_run_rows(filled, "markets", "run-b", pd.DataFrame({"platform": pd.Series([], dtype="string")}))
    status = artifacts.build_health(filled, "run-b", now=NOW)
    assert status["status"] == "down"
    assert status["lastEtlRun"]["marketsProcessed"] == 0
    assert status["lastEtlRun"]["errors"] == ["markets: no markets were stored for run run-b"]


def test_health_down_wins_over_degraded(filled):
    warehouse.replace_run_rows(filled, "venue_status", "run-b", venue_frame(kalshi_ok=False))
    status = artifacts.build_health(filled, "run-b", now=NOW)
    assert status["status"] == "degraded"
    down = artifacts.build_health(filled, "unknown-run", now=NOW, publish_retried=True)
    assert down["status"] == "down"


def test_health_rates_over_history(filled):
    # run-a succeeded in 12 s; add a failed run of 30 s and one still running (left out).
    filled.execute("INSERT INTO runs VALUES ('run-0', ?, ?, 'failed', '{}', 'fetch: timed out', false)",
                   [NOW - timedelta(hours=1), NOW - timedelta(hours=1) + timedelta(seconds=30)])
    filled.execute("INSERT INTO runs VALUES ('run-x', ?, NULL, 'running', '{}', NULL, false)",
                   [NOW - timedelta(hours=2)])
    status = artifacts.build_health(filled, "run-b", now=NOW)
    performance = status["performance"]
    assert performance["successRate"] == pytest.approx(2 / 3, abs=1e-4)
    assert performance["errorRate"] == pytest.approx(1 / 3, abs=1e-4)
    assert performance["avgResponseTime"] == pytest.approx((12 + 30 + 9.5) / 3, abs=1e-3)
    assert status["uptime"] == pytest.approx(2 / 3, abs=1e-4)


def test_health_uptime_window_seven_days(filled):
    filled.execute("INSERT INTO runs VALUES ('run-old', ?, ?, 'failed', '{}', NULL, false)",
                   [NOW - timedelta(days=8), NOW - timedelta(days=8) + timedelta(seconds=5)])
    status = artifacts.build_health(filled, "run-b", now=NOW)
    assert status["uptime"] == 1.0
    assert status["performance"]["successRate"] == pytest.approx(2 / 3, abs=1e-4)


def test_health_timestamp_from_runs(filled):
    status = artifacts.build_health(filled, "run-b", now=NOW + timedelta(hours=5))
    assert status["lastEtlRun"]["timestamp"] == "2026-12-04T20:00:00Z"


def test_health_compute_status_table():
    assert health.compute_status(0, []) == "down"
    assert health.compute_status(0, ["x"]) == "down"
    assert health.compute_status(5, ["x"]) == "degraded"
    assert health.compute_status(5, []) == "healthy"


# ----------------------------------------------------------------------------- alert webhook


class AlertStub:
    """A webhook on 127.0.0.1 that stores every JSON body it receives and responds with `reply_status`."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.reply_status = 200
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                stub.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(stub.reply_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def alert_stub():
    stub = AlertStub()
    yield stub
    stub.close()


def health_with(status: str, errors: list[str]) -> dict:
    return {"status": status, "uptime": 1.0,
            "lastEtlRun": {"timestamp": "2026-12-04T20:00:00Z", "duration": 3.0, "marketsProcessed": 7,
                           "opportunitiesFound": 1, "errors": errors},
            "performance": {"avgResponseTime": 3.0, "successRate": 1.0, "errorRate": 0.0}}


def test_health_alert_healthy_not_sent(alert_stub):
    assert health.send_alert(health_with("healthy", []), alert_stub.url, run_id="run-b") is False
    assert alert_stub.bodies == []


@pytest.mark.parametrize("status", ["degraded", "down"])
def test_health_alert_posts_when_unhealthy(alert_stub, status):
    sent = health.send_alert(health_with(status, ["kalshi: fetch failed: HTTP 503"]), alert_stub.url, run_id="run-b")
    assert sent is True
    assert len(alert_stub.bodies) == 1
    body = alert_stub.bodies[0]
    assert body["status"] == status
    assert body["run"] == "run-b"
    assert body["errors"] == ["kalshi: fetch failed: HTTP 503"]
    assert body["timestamp"].endswith("+00:00")
    assert status in body["text"]


def test_health_alert_url_from_env(alert_stub, monkeypatch):
    monkeypatch.setenv(health.ALERT_URL_ENV_VAR, alert_stub.url)
    assert health.send_alert(health_with("down", [])) is True
    assert alert_stub.bodies[0]["status"] == "down"


def test_health_alert_without_url_skipped(monkeypatch):
    monkeypatch.delenv(health.ALERT_URL_ENV_VAR, raising=False)
    assert health.send_alert(health_with("down", [])) is False


def test_health_alert_server_error_not_raised(alert_stub, caplog):
    alert_stub.reply_status = 500
    assert health.send_alert(health_with("degraded", ["x"]), alert_stub.url) is False
    assert "HTTP 500" in caplog.text
    assert alert_stub.url not in caplog.text


def test_health_alert_unreachable_not_raised(caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    assert health.send_alert(health_with("down", []), url, timeout=2.0) is False
    assert "alert webhook failed" in caplog.text
    assert url not in caplog.text


def test_health_alert_redacts_secrets(alert_stub, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_ANTHROPIC_KEY)
    errors = [f"review: request failed with key {FAKE_ANTHROPIC_KEY}"]
    assert health.send_alert(health_with("degraded", errors), alert_stub.url, run_id="run-b") is True
    raw = json.dumps(alert_stub.bodies[0])
    assert FAKE_ANTHROPIC_KEY not in raw
    assert "[redacted]" in alert_stub.bodies[0]["errors"][0]


def test_health_alert_run_from_health(alert_stub):
    failure = {"status": "down", "uptime": 0, "lastEtlRun": {"runId": "run-q", "errors": ["fetch failed"]}}
    assert health.send_alert(failure, alert_stub.url) is True
    assert alert_stub.bodies[0]["run"] == "run-q"


def test_health_alert_caps_errors(alert_stub):
    errors = [f"problem {index} " + "x" * 1000 for index in range(25)]
    health.send_alert(health_with("degraded", errors), alert_stub.url)
    body = alert_stub.bodies[0]
    assert len(body["errors"]) == health.MAX_ALERT_ERRORS
    assert max(len(error) for error in body["errors"]) == health.MAX_ALERT_ERROR_CHARS
