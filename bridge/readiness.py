"""How a child process tells `rpcbridge up` it is listening: a small JSON file written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def announce(path: Path | None, **facts: Any) -> None:
    """Write `facts` (role, addresses) to `path`, if given, in one atomic rename."""
    if path is None:
        return
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(facts), encoding="utf-8")
    os.replace(partial, path)


def read_announcement(path: Path) -> dict[str, Any] | None:
    """The facts a child announced, or None while it has not yet."""
    try:
        facts: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return facts
