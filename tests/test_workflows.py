"""The GitHub Actions workflows, parsed with PyYAML and checked for the schedule, commands and secrets."""

from __future__ import annotations

import pytest
import yaml

from mflib.config import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
SECRETS = ("ANTHROPIC_API_KEY", "CONVEX_URL", "CONVEX_DEPLOY_KEY", "MARKETFINDER_ALERT_WEBHOOK_URL")


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    return workflow.get("on", workflow.get(True)) or {}


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def commands(workflow: dict, job: str) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow, job))


def step_using(workflow: dict, job: str, action: str) -> dict:
    matches = [step for step in steps(workflow, job) if step.get("uses", "").startswith(action + "@")]
    assert matches, f"job {job} has no step using {action}"
    return matches[0]


@pytest.fixture(scope="module")
def pipeline() -> dict:
    return load("pipeline.yml")


@pytest.fixture(scope="module")
def ci() -> dict:
    return load("ci.yml")


def test_workflows_pipeline_schedule(pipeline):
    on = triggers(pipeline)

    assert on["schedule"] == [{"cron": "*/30 * * * *"}]
    assert "workflow_dispatch" in on


def test_workflows_pipeline_concurrency(pipeline):
    concurrency = pipeline["concurrency"]

    assert concurrency["group"]
    assert concurrency["cancel-in-progress"] is False


def test_workflows_pipeline_runs_make_run(pipeline):
    assert "make run" in commands(pipeline, "run")


def test_workflows_pipeline_pip_cache(pipeline):
    setup = step_using(pipeline, "run", "actions/setup-python")

    assert setup["with"]["cache"] == "pip"


@pytest.mark.parametrize("name", SECRETS)
def test_workflows_pipeline_secret_env(pipeline, name):
    env = pipeline["jobs"]["run"]["env"]

    assert env[name] == f"${{{{ secrets.{name} }}}}"


def test_workflows_pipeline_uploads_always(pipeline):
    upload = step_using(pipeline, "run", "actions/upload-artifact")
    paths = upload["with"]["path"]

    assert upload["if"] == "always()"
    assert "outputs/runs/" in paths
    assert "report.html" in paths


def test_workflows_pages_gated_by_variable(pipeline):
    pages = pipeline["jobs"]["pages"]
    deploy = step_using(pipeline, "pages", "actions/deploy-pages")

    assert pages["needs"] == "run"
    assert "vars.PUBLISH_PAGES" in pages["if"]
    assert pages["permissions"]["pages"] == "write"
    assert deploy["id"] == "deployment"


def test_workflows_ci_triggers(ci):
    on = triggers(ci)

    assert "push" in on
    assert "pull_request" in on


def test_workflows_ci_runs_make_test(ci):
    setup = step_using(ci, "test", "actions/setup-python")

    assert "make test" in commands(ci, "test")
    assert setup["with"]["cache"] == "pip"


def test_workflows_ci_has_no_secrets(ci):
    text = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")

    assert "secrets." not in text
