"""Build notebooks/*.ipynb from their plain-text sources in notebooks/src/.

A source file is Python in the "percent" format: `# %%` starts a code cell, `# %% [markdown]`
a markdown cell whose lines start with "# ", and `# %% tags=["parameters"]` the papermill
parameters cell. Editing the .py source and re-running this script keeps reviews readable;
tests check that the committed notebooks match their sources.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "notebooks" / "src"
CELL_MARK = re.compile(r"^# %%(?P<rest>.*)$")


def parse_cells(text: str) -> list[nbformat.NotebookNode]:
    cells = []
    kind, tags, lines = None, [], []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines())
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = list(tags)
        cells.append(cell)

    for line in text.splitlines():
        match = CELL_MARK.match(line)
        if match:
            flush()
            rest = match.group("rest")
            kind = "markdown" if "[markdown]" in rest else "code"
            tag_match = re.search(r"tags=(\[.*\])", rest)
            tags = json.loads(tag_match.group(1)) if tag_match else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def build_notebook(source: Path) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = parse_cells(source.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{source.stem[:40]}-{index}".replace("_", "-")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def target_for(source: Path) -> Path:
    relative = source.relative_to(SOURCES)
    return ROOT / "notebooks" / relative.with_suffix(".ipynb")


def render(source: Path) -> str:
    return nbformat.writes(build_notebook(source)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a notebook differs from its source")
    args = parser.parse_args(argv)
    stale = []
    for source in sorted(SOURCES.rglob("*.py")):
        target = target_for(source)
        text = render(source)
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target.relative_to(ROOT)))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if stale:
        print("out of date, run `python scripts/build_notebooks.py`: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
