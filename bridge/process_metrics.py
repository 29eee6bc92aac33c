"""A Prometheus registry that also reports the process: CPU, memory, open files, GC, Python version.

Imports prometheus_client, nothing else of the bridge; each process's metrics start from it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector


def process_registry() -> CollectorRegistry:
    """A fresh registry with the process, GC and platform collectors registered on it."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry
