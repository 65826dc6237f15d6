"""Read recorded API responses from disk as pages, so a run can use a snapshot instead of the APIs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from fnmatch import fnmatch
from pathlib import Path

from mflib.errors import SchemaError
from mflib.sources.base import Page
from mflib.sources.shapes import VENUES, detect_shape

log = logging.getLogger(__name__)

UTF8_BOM = b"\xef\xbb\xbf"


def _is_skipped(path: Path, root: Path, skip: Iterable[str]) -> bool:
    """Return True when a skip glob matches the file name, its path under `root` or its full path."""
    candidates = {path.name, path.as_posix()}
    if root.is_dir():
        candidates.add(path.relative_to(root).as_posix())
    return any(fnmatch(candidate, pattern) for pattern in skip for candidate in candidates)


def list_recorded_files(paths: Iterable[str | Path], *, skip: Iterable[str] = ()) -> list[Path]:
    """Expand files and folders (recursively, sorted by path) into the files to replay.

    Hidden files (names starting with ".") are ignored. Raises FileNotFoundError for a path that
    does not exist.
    """
    skip = list(skip)
    files: list[Path] = []
    for location in paths:
        root = Path(location).expanduser()
        if not root.exists():
            raise FileNotFoundError(f"recorded snapshot {root} not found; check the replay paths in the parameters")
        found = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in found:
            if path.name.startswith("."):
                continue
            if _is_skipped(path, root, skip):
                log.info("replay: skipping %s (matches replay_skip)", path)
                continue
            files.append(path)
    return files


def read_recorded_file(path: Path, *, venue: str) -> tuple[object, str]:
    """Decode one recorded response and return (payload, shape); SchemaError when it is not a listing."""
    hint = "add its name or a glob to `replay_skip` if it is not a market listing"
    body = path.read_bytes()
    if body.startswith(UTF8_BOM):
        body = body[len(UTF8_BOM):]
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SchemaError(str(path), f"not a JSON file ({exc}); {hint}") from None
    shape = detect_shape(venue, payload)
    if shape is None:
        raise SchemaError(
            str(path), f"not a recognized {venue} events or markets response; {hint}"
        )
    return payload, shape


def iter_recorded_pages(
    paths: list[str | Path], *, venue: str, skip: Iterable[str] = ()
) -> Iterator[Page]:
    """Yield every recorded file under `paths` as a Page of `venue`, numbered from 1.

    A file whose name or path matches a `skip` glob is left out. Any other file that is not a
    recognized listing response raises SchemaError naming it.
    """
    if venue not in VENUES:
        raise ValueError(f"unknown venue {venue!r}; expected one of {', '.join(VENUES)}")
    files = list_recorded_files(paths, skip=skip)
    for number, path in enumerate(files, start=1):
        payload, shape = read_recorded_file(path, venue=venue)
        log.debug("replay: %s page %d is %s (%s)", venue, number, path, shape)
        yield Page(venue=venue, number=number, source=str(path), payload=payload)
