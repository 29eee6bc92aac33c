"""Legacy adapters: put an existing XML-RPC or JSON-RPC server behind the bridge as a worker.

`build_adapter(UpstreamConfig(url, ...))` discovers the upstream's methods and returns a
`bridge.Worker` that forwards to it through the client kit; `bridge.legacy.main.run_legacy` serves it.
Must not import grpc or aiohttp.
"""

from bridge.legacy.adapter import LegacyWorker, build_adapter, transport_fault
from bridge.legacy.discovery import UpstreamMethod, discover
from bridge.legacy.upstream import UpstreamConfig

__all__ = ["LegacyWorker", "UpstreamConfig", "UpstreamMethod", "build_adapter", "discover", "transport_fault"]
