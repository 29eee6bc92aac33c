"""How a benchmark server says where it listens: a small JSON file written in one atomic rename."""

from __future__ import annotations

import json
import os
from pathlib import Path


def announce_url(path: Path, url: str) -> None:
    """Write {"url": url} to `path` atomically, as the bridge's own roles do."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"url": url}), encoding="utf-8")
    os.replace(partial, path)
