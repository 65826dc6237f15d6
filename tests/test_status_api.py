"""The status API served on 127.0.0.1 by a test, called with real httpx."""

from __future__ import annotations

import sys
import threading
import time

import httpx
import pytest
from convex_stub import sample_opportunity, write_artifacts

from mflib.status_api import TOKEN_ENV, ApiConfig, RateLimiter, make_server

TOKEN = "sync-token-for-tests-9d2e"
SLEEP_COMMAND = [sys.executable, "-c", "import time; time.sleep(30)"]


def start_server(tmp_path, *, env=None, rate_per_minute=600.0, sync_command=None):
    config = ApiConfig(
        outputs_dir=tmp_path / "outputs",
        sync_command=sync_command or SLEEP_COMMAND,
        working_dir=tmp_path,
        rate_per_minute=rate_per_minute,
    )
    server = make_server(config, "127.0.0.1", 0, env={TOKEN_ENV: TOKEN} if env is None else env)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


@pytest.fixture()
def api(tmp_path):
    write_artifacts(tmp_path / "outputs" / "latest", [sample_opportunity(1), sample_opportunity(2)])
    server = start_server(tmp_path)
    with httpx.Client(base_url=server.url, timeout=5.0) as client:
        yield client
    server.close()


@pytest.fixture()
def empty_api(tmp_path):
    server = start_server(tmp_path)
    with httpx.Client(base_url=server.url, timeout=5.0) as client:
        yield client
    server.close()


@pytest.mark.parametrize(
    ("route", "key"),
    [("/api/arbitrage/latest", "opportunities"), ("/api/markets/summary", "byPlatform"), ("/api/health", "lastEtlRun")],
)
def test_status_api_serves_artifact(api, route, key):
    response = api.get(route)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert key in response.json()


def test_status_api_latest_opportunities(api):
    body = api.get("/api/arbitrage/latest").json()

    assert [item["id"] for item in body["opportunities"]] == ["opp-test-00001", "opp-test-00002"]
    assert body["metadata"]["totalFound"] == 2


def test_status_api_missing_outputs(empty_api):
    response = empty_api.get("/api/health")

    assert response.status_code == 503
    assert response.json()["error"] == "outputs_missing"
    assert "make run" in response.json()["detail"]


def test_status_api_invalid_artifact(tmp_path, api):
    (tmp_path / "outputs" / "latest" / "summary.json").write_text("{not json", encoding="utf-8")

    response = api.get("/api/markets/summary")

    assert response.status_code == 500
    assert response.json()["error"] == "artifact_invalid"


def test_status_api_unknown_route(api):
    response = api.get("/api/nothing")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "/api/health" in response.json()["detail"]


def test_status_api_wrong_method(api):
    response = api.post("/api/health")

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"


def test_status_api_sync_missing_token(api):
    response = api.post("/api/sync")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_status_api_sync_bad_token(api):
    response = api.post("/api/sync", headers={"Authorization": "Bearer not-the-token"})

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert api.get("/api/sync").json()["status"] == "idle"


def test_status_api_sync_disabled_without_env(tmp_path):
    server = start_server(tmp_path, env={})
    try:
        response = httpx.post(server.url + "/api/sync", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5.0)
    finally:
        server.close()

    assert response.status_code == 503
    assert response.json()["error"] == "sync_disabled"
    assert TOKEN_ENV in response.json()["detail"]


def test_status_api_sync_starts_once(api):
    headers = {"Authorization": f"Bearer {TOKEN}"}

    first = api.post("/api/sync", headers=headers)
    second = api.post("/api/sync", headers=headers)
    state = api.get("/api/sync").json()

    assert first.status_code == 202
    assert first.json()["status"] == "running"
    assert first.json()["runHandle"]
    assert second.status_code == 409
    assert second.json()["error"] == "sync_running"
    assert state["runHandle"] == first.json()["runHandle"]
    assert state["status"] == "running"


def test_status_api_sync_reports_exit(tmp_path):
    command = [sys.executable, "-c", "import os, sys; print(os.environ.get('MARKETFINDER_SYNC_TOKEN')); sys.exit(3)"]
    server = start_server(tmp_path, sync_command=command)
    try:
        with httpx.Client(base_url=server.url, timeout=5.0) as client:
            started = client.post("/api/sync", headers={"Authorization": f"Bearer {TOKEN}"}).json()
            deadline = time.monotonic() + 10
            state = client.get("/api/sync").json()
            while state["status"] == "running" and time.monotonic() < deadline:
                time.sleep(0.05)
                state = client.get("/api/sync").json()
    finally:
        server.close()

    output = (tmp_path / "outputs" / "sync" / f"{started['runHandle']}.log").read_text(encoding="utf-8")
    assert state["status"] == "failed"
    assert state["exitCode"] == 3
    assert TOKEN not in output


def test_status_api_rate_limit(tmp_path):
    write_artifacts(tmp_path / "outputs" / "latest", [])
    server = start_server(tmp_path, rate_per_minute=5)
    try:
        with httpx.Client(base_url=server.url, timeout=5.0) as client:
            statuses = [client.get("/api/health").status_code for _ in range(8)]
            limited = client.get("/api/health")
    finally:
        server.close()

    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 3
    assert limited.json()["error"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1


def test_status_api_bucket_refills():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])

    for _ in range(60):
        assert limiter.take("10.0.0.1") == 0.0
    wait = limiter.take("10.0.0.1")
    now[0] += 1.0
    after_refill = limiter.take("10.0.0.1")
    other_client = limiter.take("10.0.0.2")

    assert wait == pytest.approx(1.0)
    assert after_refill == 0.0
    assert other_client == 0.0


def test_status_api_logs_requests(api, caplog):
    caplog.set_level("INFO", logger="mflib.status_api")

    api.get("/api/nothing")
    # The server logs after it has sent the response, so wait briefly for the line.
    deadline = time.monotonic() + 2
    lines: list[str] = []
    while not lines and time.monotonic() < deadline:
        lines = [record.getMessage() for record in caplog.records if record.name == "mflib.status_api"]
        time.sleep(0.01)
    assert any(line.startswith("GET /api/nothing 404 ") and line.endswith("127.0.0.1 (not_found)") for line in lines)


def test_status_api_cli_help(capsys):
    from mflib import status_api

    with pytest.raises(SystemExit):
        status_api.parse_args(["--help"])

    assert "--rate-per-minute" in capsys.readouterr().out
    assert status_api.parse_args([]).port == 8787


def test_status_api_health_shows_newer_failed_run(tmp_path, api):
    failed = tmp_path / "outputs" / "runs" / "20991231T000000Z-dead"
    failed.mkdir(parents=True)
    time.sleep(0.05)
    (failed / "FAILED.txt").write_text("01_fetch.ipynb failed in cell 4: VenueUnreachableError\n")

    health = api.get("/api/health").json()

    assert health["status"] == "degraded"
    assert "20991231T000000Z-dead" in health["lastEtlRun"]["errors"][0]
    assert "VenueUnreachableError" in health["lastEtlRun"]["errors"][0]


def test_status_api_health_ignores_older_failed_run(tmp_path):
    failed = tmp_path / "outputs" / "runs" / "20000101T000000Z-old0"
    failed.mkdir(parents=True)
    (failed / "FAILED.txt").write_text("an old failure\n")
    time.sleep(0.05)
    write_artifacts(tmp_path / "outputs" / "latest", [sample_opportunity(1)])
    server = start_server(tmp_path)
    with httpx.Client(base_url=server.url, timeout=5.0) as client:
        health = client.get("/api/health").json()
    server.close()

    assert health["status"] == "healthy"
    assert not any("old0" in error for error in health["lastEtlRun"]["errors"])
