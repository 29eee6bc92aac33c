"""Tracing and metrics configuration: nothing of OpenTelemetry without an endpoint; the endpoint and
the metrics port come from settings (OTEL_EXPORTER_OTLP_ENDPOINT honoured); registries report the process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bridge.errors import ConfigError
from bridge.frontend.metrics import FrontendMetrics
from bridge.settings import load_settings
from bridge.sidecar.metrics import SidecarMetrics
from bridge.worker_metrics import WorkerMetrics


def loaded_after(imports: str) -> list[str]:
    """The opentelemetry and bridge.otel modules a fresh interpreter has loaded after `imports`."""
    code = (
        f"import sys; from bridge.tracing import configure_tracing; {imports};"
        " configure_tracing('', 'rpcbridge-test');"
        " print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'bridge.otel'))))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [name.strip("' ") for name in shown.stdout.strip()[1:-1].split(",") if name]


def test_without_an_endpoint_opentelemetry_is_never_imported() -> None:
    """Without otel_endpoint a worker loads no opentelemetry module, the servers none of ours.

    (redis, a server dependency, imports the opentelemetry API by itself when it is installed.)
    """
    assert loaded_after("import bridge.worker_main") == []
    servers = loaded_after("import bridge.cli, bridge.frontend.app, bridge.sidecar.main")
    assert not [name for name in servers if name.startswith(("bridge.otel", "opentelemetry.sdk.trace"))]


def test_the_endpoint_comes_from_the_setting_else_the_standard_variable() -> None:
    """otel_endpoint wins; without it OTEL_EXPORTER_OTLP_ENDPOINT is used."""
    standard = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}
    assert load_settings(environ=standard).otel_endpoint == "http://collector:4317"
    both = {**standard, "RPCBRIDGE_OTEL_ENDPOINT": "http://mine:4317"}
    assert load_settings(environ=both).otel_endpoint == "http://mine:4317"
    assert load_settings(environ={}).otel_endpoint == ""


def test_metrics_port_is_off_by_default_and_checked() -> None:
    """-1 (off) by default; 0 and real ports accepted; anything else refused."""
    assert load_settings(environ={}).metrics_port == -1
    assert load_settings(flags={"metrics_port": 0}, environ={}).metrics_port == 0
    with pytest.raises(ConfigError, match="metrics_port"):
        load_settings(flags={"metrics_port": -2}, environ={})


@pytest.mark.parametrize("metrics", [FrontendMetrics, SidecarMetrics, WorkerMetrics])
def test_every_registry_reports_the_process_the_gc_and_the_platform(metrics: type) -> None:
    """Process, GC and platform collectors are registered on each process's own registry."""
    names = {family.name for family in metrics().registry.collect()}
    assert {"process_cpu_seconds", "python_gc_collections", "python_info"} <= names
