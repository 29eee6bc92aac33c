"""The sidecar process's start-up (`rpcbridge sidecar`): stores, workers, interceptors, gRPC, admin site.

Wires the sidecar's parts together, once; every resource it opens is closed in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from bridge.admin.console import AdminConsole
from bridge.admin.site import create_admin_app, start_admin_site
from bridge.auth.verifier import Verifier
from bridge.events.model import Event
from bridge.readiness import announce
from bridge.rpc.proxy_server import serve_proxy
from bridge.settings import Settings
from bridge.sidecar.authentication import AuthenticateCalls
from bridge.sidecar.call_recording import RecordCalls, render_payload
from bridge.sidecar.catalogue import Catalogue
from bridge.sidecar.event_commit import ListEvents, commit_emitted_events
from bridge.sidecar.interception import Interceptor
from bridge.sidecar.job_retention import purge_jobs_forever
from bridge.sidecar.job_runner import JobRunner
from bridge.sidecar.jobs import JOB_CODEC, BackgroundJobs
from bridge.sidecar.metrics import SidecarMetrics
from bridge.sidecar.observation import ObserveCalls, SummarySink, write_access_line
from bridge.sidecar.realtime import EventFeed, RealtimeService
from bridge.sidecar.retention import purge_forever
from bridge.sidecar.service import SidecarService, forward_to_worker
from bridge.sidecar.socket_auth import TOKEN_KEY_SETTING, CredentialWatch, SocketAuthority, SocketTokens
from bridge.sidecar.worker_pool import WorkerPool
from bridge.store.call_log_writer import CallLogWriter
from bridge.store.event_history import EventHistory, open_event_history, shared_setting
from bridge.store.factory import open_stores
from bridge.store.records import CallRecord


async def run_sidecar(settings: Settings, ready_file: Path | None) -> None:
    """Serve the sidecar (gRPC proxy, interceptors, stores and admin site) until cancelled."""
    catalogue = Catalogue()
    pool = WorkerPool(
        catalogue,
        settings.workers,
        settings.worker_secret,
        settings.catalogue_refresh_seconds,
        settings.worker_tls,
        settings.stream_calls,
    )
    metrics = SidecarMetrics()
    async with contextlib.AsyncExitStack() as stack:
        history: EventHistory | None = None

        async def publish(events: Sequence[Event]) -> None:
            if history is not None:
                await history.append(events)

        stores = await open_stores(settings, publish, on_events=metrics.events_committed)
        stack.push_async_callback(stores.close)
        history = open_event_history(settings, stores.database, stores.events)
        stack.push_async_callback(history.aclose)
        writer = CallLogWriter(stores.call_log)
        await writer.start()
        stack.push_async_callback(writer.aclose)
        metrics.watch_call_log(lambda: writer.queue_depth, lambda: writer.dropped)
        sinks: list[SummarySink] = [write_access_line, metrics.observe]
        if settings.log_incoming:
            render = render_payload if settings.log_arguments else None
            sinks.append(RecordCalls(writer.record, catalogue.describe, render))
        verifier = Verifier(stores.users, stores.nonces, settings.auth_skew_seconds)
        feed = EventFeed(history)
        watch = CredentialWatch(stores.users, settings.ws_credentials_poll_seconds, feed.control)
        await watch.refresh()
        sockets = SocketAuthority(
            verifier,
            stores.users,
            SocketTokens((await shared_setting(stores.database, TOKEN_KEY_SETTING)).encode()),
            watch,
        )
        for forever in (watch.run(), feed.follow()):
            task = asyncio.create_task(forever)
            stack.callback(task.cancel)
        # Jobs go through the same event commit as calls: a job's events are kept before it finishes.
        forward = commit_emitted_events(
            forward_to_worker(pool), stores.events, catalogue.hook, metrics.event_dropped
        )
        runner = JobRunner(
            stores.jobs,
            forward,
            JOB_CODEC,
            concurrency=settings.job_concurrency,
            timeout=settings.job_deadline,
            retry_max_seconds=settings.job_retry_max_seconds,
            lease_seconds=settings.job_lease_seconds,
            heartbeat_seconds=settings.job_heartbeat_seconds,
        )
        interceptors: list[Interceptor] = [
            ObserveCalls(sinks),
            ListEvents(catalogue.hooks, JOB_CODEC.decode_call, JOB_CODEC.encode_outcome),
            AuthenticateCalls(verifier, catalogue.describe, metrics.auth_failed, sockets),
            BackgroundJobs(
                stores.jobs, catalogue.describe, verifier, JOB_CODEC, runner.wake, metrics.auth_failed
            ),
        ]
        purging = asyncio.create_task(purge_forever(stores.call_log, settings.log_retention_days))
        stack.callback(purging.cancel)
        job_purging = asyncio.create_task(
            purge_jobs_forever(stores.jobs, settings.job_retention_days, JOB_CODEC)
        )
        stack.callback(job_purging.cancel)
        event_purging = asyncio.create_task(
            purge_forever(stores.events, settings.event_retention_days, what="events and delivery logs")
        )
        stack.callback(event_purging.cancel)
        await pool.start()
        stack.push_async_callback(pool.aclose)
        # Started once the catalogue is loaded; stopped before the pool closes, so its runs end first.
        await runner.start()
        stack.push_async_callback(runner.aclose)
        service = SidecarService(pool, interceptors, settings.max_timeout, forward)
        record_outgoing = writer.record if settings.log_outgoing else _discard
        server = await serve_proxy(
            service,
            f"{settings.grpc_host}:{settings.grpc_port}",
            record_outgoing,
            realtime=RealtimeService(feed, sockets),
        )
        stack.push_async_callback(server.stop)
        console = AdminConsole(
            users=stores.users,
            call_log=stores.call_log,
            admin=stores.admin,
            workers=catalogue.workers,
            describe=catalogue.describe,
            frontend_url=settings.frontend_public_url,
        )
        admin_app = create_admin_app(metrics.registry, console)
        admin = await start_admin_site(admin_app, settings.admin_host, settings.admin_port)
        stack.push_async_callback(admin.stop)
        announce(ready_file, role="sidecar", grpc=server.address, admin=admin.url)
        await asyncio.Event().wait()


def _discard(record: CallRecord) -> None:
    """Outgoing call records are not kept when `log_outgoing` is off."""
