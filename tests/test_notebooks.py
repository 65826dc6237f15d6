"""The committed notebooks: built from their sources, parameters first, no logic inside."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import nbformat
import pytest

from mflib.config import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").rglob("*.ipynb"))
# Parameter names that would carry a credential; `max_tokens` (an LLM output limit) is fine.
SECRET_NAME = re.compile(r"api_key|deploy_key|secret|password|auth|bearer|(^|_)token$", re.IGNORECASE)
LAYER_NOTEBOOKS = ["01_fetch", "02_bucket", "03_filter", "04_score", "05_review", "06_price",
                   "07_report", "08_publish"]


def test_notebooks_match_sources():
    result = subprocess.run([sys.executable, str(REPO_ROOT / "scripts/build_notebooks.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_notebooks_every_layer_present():
    names = {path.stem for path in NOTEBOOKS}
    for layer in LAYER_NOTEBOOKS:
        assert layer in names, layer


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_parameters_cell_first(path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells, "notebook has no code"
    assert "parameters" in code_cells[0].metadata.get("tags", [])
    assert notebook.cells[0].cell_type == "markdown"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_define_no_functions(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)), cell.source[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_parameters_hold_no_secret_names(path):
    notebook = nbformat.read(path, as_version=4)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    names = re.findall(r"^(\w+)\s*=", parameters.source, flags=re.MULTILINE)
    for name in names:
        assert not SECRET_NAME.search(name), name
