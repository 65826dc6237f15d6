"""Raw API pages, the unit every source yields, saved to disk before they are parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Page:
    """One API response page. `payload` is the decoded JSON; `source` names the file or URL."""

    venue: str              # "kalshi" | "polymarket"
    number: int             # 1-based page number within the listing
    source: str             # raw file path (replay, and live after saving) or URL
    payload: Any
    url: str = ""


class RawPageWriter:
    """Write raw response bodies under <root>/<venue>/ so that any run can be replayed."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def write(self, venue: str, name: str, body: bytes) -> Path:
        folder = self.root / venue
        folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:150]
        path = folder / safe
        path.write_bytes(body)
        return path


@dataclass
class ListingReport:
    """Outcome of one venue listing: pages and records read, and whether the listing stopped early."""

    venue: str
    pages: int = 0
    records: int = 0
    partial: bool = False
    warnings: list[str] = field(default_factory=list)

