"""Parameter sets: load a YAML file, apply `key=value` overrides, expand data paths."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from mflib.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_ENV_VAR = "MARKETFINDER_DATA"

# Sections of a parameter file: `run` is shared by every notebook, the others feed one layer each.
SECTIONS = ("run", "fetch", "bucket", "filter", "score", "review", "price", "report", "publish")


def shared_data_dir() -> Path:
    """Return the folder of recorded API responses and labels (env MARKETFINDER_DATA, else ../shared/data)."""
    value = os.environ.get(DATA_ENV_VAR)
    if value:
        return Path(value).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "data").resolve()


def _expand(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace("${MARKETFINDER_DATA}", str(shared_data_dir()))
        return os.path.expandvars(value)
    if isinstance(value, list):
        return [_expand(item) for item in value]
    if isinstance(value, dict):
        return {key: _expand(item) for key, item in value.items()}
    return value


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split `section.key=value` into its key path and a YAML-parsed value."""
    if "=" not in text:
        raise ConfigError(text, "an override must look like section.key=value, for example filter.min_text_score=70")
    key, raw = text.split("=", 1)
    path = [part for part in key.strip().split(".") if part]
    if len(path) < 2:
        raise ConfigError(key, f"name the section too, as in filter.{key.strip()}=...; the sections are {', '.join(SECTIONS)}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(key, f"value {raw!r} is not valid YAML: {exc}") from exc
    return path, value


def apply_overrides(params: dict, overrides: list[str]) -> dict:
    """Return a copy of params with each `section.key=value` override applied."""
    result = copy.deepcopy(params)
    for text in overrides:
        path, value = parse_override(text)
        if path[0] not in SECTIONS:
            raise ConfigError(path[0], f"unknown section; expected one of {', '.join(SECTIONS)}")
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(".".join(path), f"{part!r} is not a section, so it cannot hold keys")
        node[path[-1]] = value
    return result


def load_params(path: str | Path, overrides: list[str] | None = None) -> dict:
    """Load a parameter file, apply overrides and expand ${MARKETFINDER_DATA} and environment variables.

    Secrets are never read from here: API keys come from the environment inside the layer that
    needs them, so they cannot end up in an executed notebook.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), "parameter file not found; pass one of params/*.yaml with --params")
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), f"not valid YAML: {exc}") from exc
    if not isinstance(params, dict):
        raise ConfigError(str(path), "the file must contain a mapping of sections")
    unknown = sorted(set(params) - set(SECTIONS))
    if unknown:
        raise ConfigError(unknown[0], f"unknown section in {path}; expected {', '.join(SECTIONS)}")
    for section in SECTIONS:
        value = params.setdefault(section, {})
        if value is None:
            params[section] = {}
        elif not isinstance(value, dict):
            raise ConfigError(section, f"must be a mapping of parameters, got {type(value).__name__}")
    params = apply_overrides(params, overrides or [])
    return _expand(params)


def require(section: dict, key: str, kind: type | tuple[type, ...], *, name: str = "") -> Any:
    """Return section[key] after checking its type, or raise ConfigError naming the key."""
    label = f"{name}.{key}" if name else key
    if key not in section:
        raise ConfigError(label, "missing; add it to the parameter file")
    value = section[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(label, f"expected a number, got {value!r}")
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(label, f"expected {expected}, got {value!r}")
    return value
