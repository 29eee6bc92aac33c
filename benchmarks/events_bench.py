"""`make bench` rows for a call emitting an event to one webhook listener, and the same call without.

Both rows run `rpcbridge up` with benchmarks/events_worker.py, webhooks allowed to loopback over
http, and one listener for bench.saved; only the procedure called differs. The listener is a
receiver thread in the bench's own process (answering 204), so its CPU is never counted as the
bridge's. Imports nothing of the bridge but through the benchmarks' own modules.
"""

from __future__ import annotations

import contextlib
import http.server
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.deployments import UP_BANNER, Deployment, Endpoint, Paths
from benchmarks.measure import Measurement
from benchmarks.payloads import TOKEN, Payload
from benchmarks.processes import ServerFailed, ServerSet, wait_for

KEY = "events"
EVENT_TYPE = "bench.saved"
WORKER_TARGET = "benchmarks/events_worker.py"
# Local development settings (docs/events.md): the receiver is plain http on loopback.
SETTINGS = 'webhook_allow_http = true\nwebhook_allow_networks = ["127.0.0.0/8"]\n'
EMITTING = Payload("JSON-RPC", "bench.save", (TOKEN,), expect=TOKEN)
QUIET = Payload("JSON-RPC", "bench.save_quiet", (TOKEN,), expect=TOKEN)
QUIET_VARIANT = "events: same call, no event"
EMITTING_VARIANT = "events: event to 1 webhook listener"
STORE_FILE = "rpcbridge.sqlite3"
EMITTING_NAME = "events-emitting"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()
        receiver.count()

    def log_message(self, format: str, *args: object) -> None:
        """Say nothing: one line per delivery would flood the bench's output."""


class Receiver:
    """The webhook listener: counts the deliveries it answered with 204 since the last `reset`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self.delivered = 0

    def count(self) -> None:
        """Record one delivery."""
        with self._lock:
            self.delivered += 1

    def url(self) -> str:
        """Its URL, starting it (a daemon thread of this process) on first use and zeroing the count."""
        if self._server is None:
            self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            self._server.daemon_threads = True
            threading.Thread(target=self._server.serve_forever, name="events-receiver", daemon=True).start()
        with self._lock:
            self.delivered = 0
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"


receiver = Receiver()


def data_dir(scratch: Path, name: str) -> Path:
    """The data directory (SQLite store included) of deployment `name` in the run's scratch directory."""
    return scratch / f"{name}-data"


def _starter(name: str) -> Callable[[ServerSet, Paths], Endpoint]:
    """`rpcbridge up` with the events worker and settings, and one listener for bench.saved added."""

    def start(servers: ServerSet, paths: Paths) -> Endpoint:
        config = paths.scratch / f"{name}.toml"
        config.write_text(SETTINGS, encoding="utf-8")
        common = ["--config", str(config), "--data-dir", str(data_dir(paths.scratch, name))]
        rpcbridge = str(paths.project_bin / "rpcbridge")
        ports = ["--http-port", "0", "--grpc-port", "0", "--admin-port", "0"]
        up = servers.start(name, [rpcbridge, "up", "--worker", WORKER_TARGET, *ports, *common], paths.root)

        def banner() -> str | None:
            found = UP_BANNER.search(up.log_text())
            return found.group(1) if found else None

        url: str = wait_for(up, banner, "'rpcbridge is up' line")
        up.note_descendants()
        add = [rpcbridge, "webhooks", "add", receiver.url(), "--event", EVENT_TYPE, "--json", *common]
        if '"secret"' not in servers.run_once(add, paths.root):
            raise ServerFailed("`rpcbridge webhooks add` printed no listener")
        return Endpoint(url)

    return start


DEPLOYMENTS = (
    Deployment(
        KEY,
        "rpcbridge up, bench.save_quiet (no event)",
        (QUIET,),
        _starter("events-quiet"),
        is_bridge=True,
        note="the same deployment as the next row, one listener for bench.saved included; "
        "the call emits nothing",
        variant=QUIET_VARIANT,
    ),
    Deployment(
        KEY,
        "rpcbridge up, bench.save (1 event, 1 webhook)",
        (EMITTING,),
        _starter(EMITTING_NAME),
        is_bridge=True,
        note="each call emits bench.saved; the sidecar commits the event and its delivery before "
        "answering and delivers it to a receiver in the bench's process (its CPU not counted)",
        variant=EMITTING_VARIANT,
    ),
)


@dataclass(frozen=True, slots=True)
class Outbox:
    """What a deployment's store holds once it stopped: events committed, deliveries by state."""

    events: int
    deliveries: dict[str, int]


def read_outbox(database: Path) -> Outbox | None:
    """Count the events and the webhook deliveries by state in a stopped bridge's SQLite store."""
    if not database.is_file():
        return None
    with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as store:
        (events,) = store.execute("SELECT count(*) FROM events").fetchone()
        states = store.execute("SELECT state, count(*) FROM webhook_deliveries GROUP BY state").fetchall()
    return Outbox(events, dict(sorted(states)))


@dataclass(frozen=True, slots=True)
class EventsRatio:
    """The emitting call's CPU per call and requests/s over the quiet call's, and what was delivered."""

    cpu: float
    throughput: float
    received: int
    outbox: Outbox | None

    def __str__(self) -> str:
        if self.outbox is None:
            store = "its store was not found"
        else:
            states = ", ".join(f"{state} {count:,}" for state, count in self.outbox.deliveries.items())
            store = f"{self.outbox.events:,} events committed (one per call), deliveries: {states or 'none'}"
        return (
            "JSON-RPC, call emitting 1 event to 1 webhook / same call without: "
            f"CPU per call {self.cpu:.2f}x, requests/s {self.throughput:.2f}x; "
            f"the receiver got {self.received:,} deliveries; when the bridge stopped, {store}"
        )


def ratios(measurements: Sequence[Measurement], scratch: Path) -> list[EventsRatio]:
    """The emitting row against the quiet row of this run, when both have CPU figures."""
    rows = {m.variant: m for m in measurements if m.key == KEY and m.valid and m.load is not None}
    quiet, emitting = rows.get(QUIET_VARIANT), rows.get(EMITTING_VARIANT)
    if quiet is None or emitting is None or quiet.load is None or emitting.load is None:
        return []
    if not quiet.cpu_us_per_call or not emitting.cpu_us_per_call:
        return []
    return [
        EventsRatio(
            emitting.cpu_us_per_call / quiet.cpu_us_per_call,
            emitting.load.requests_per_second / quiet.load.requests_per_second,
            receiver.delivered,
            read_outbox(data_dir(scratch, EMITTING_NAME) / STORE_FILE),
        )
    ]
