"""deploy/grafana/rpcbridge.json: valid JSON whose every query names metrics the processes export."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry

from bridge.frontend.metrics import FrontendMetrics
from bridge.sidecar.metrics import SidecarMetrics
from bridge.worker_metrics import WorkerMetrics

DASHBOARD = Path(__file__).parents[3] / "deploy" / "grafana" / "rpcbridge.json"
# Metric names in PromQL: bridge metrics and the process collectors' ones.
_METRIC = re.compile(r"\b(?:rpcbridge|process|python)_[a-z0-9_]+")
# Sample names a family of each type exposes, by suffix.
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
    "info": ("_info",),
}


def exported(registry: CollectorRegistry) -> set[str]:
    """Every sample name the registry can expose, labelled metrics included before their first sample."""
    names: set[str] = set()
    for family in registry.collect():
        names |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


def test_every_metric_the_dashboard_queries_is_exported() -> None:
    """Each panel query names only metrics of the frontend, sidecar or worker registries."""
    sidecar = SidecarMetrics()
    sidecar.watch_call_log(lambda: 0, lambda: 0)
    sidecar.watch_jobs(lambda: 0)
    known = set().union(*(exported(m.registry) for m in (FrontendMetrics(), sidecar, WorkerMetrics())))
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in _METRIC.findall(target["expr"])
    }
    assert queried, "the dashboard queries nothing"
    assert queried - known == set()
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
