"""Logging, configured in exactly one place: each process calls `configure_logging` once at start."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str, role: str) -> None:
    """Log lines to stderr as `time level role logger message`, at the given level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {role} %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
