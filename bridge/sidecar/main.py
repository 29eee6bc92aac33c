"""The sidecar process's start-up (`rpcbridge sidecar`): stores, workers, interceptors, gRPC, admin site.

Wires the sidecar's parts together, once; every resource it opens is closed in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from bridge.admin.console import AdminConsole, WebhookConsole
from bridge.admin.login_throttle import MAX_ATTEMPTS, WINDOW_SECONDS, LoginThrottle
from bridge.admin.site import create_admin_app, start_admin_site
from bridge.auth.verifier import Verifier
from bridge.events.model import Event
from bridge.events.webhook_signing import new_secret
from bridge.readiness import announce
from bridge.rpc.proxy_server import serve_proxy
from bridge.settings import Settings
from bridge.sidecar.authentication import AuthenticateCalls
from bridge.sidecar.call_recording import RecordCalls, render_payload
from bridge.sidecar.catalogue import Catalogue
from bridge.sidecar.event_commit import ListEvents, commit_emitted_events
from bridge.sidecar.health import SidecarReadiness, watch_readiness
from bridge.sidecar.interception import Interceptor
from bridge.sidecar.job_retention import purge_jobs_forever
from bridge.sidecar.job_runner import JobRunner
from bridge.sidecar.jobs import JOB_CODEC, BackgroundJobs
from bridge.sidecar.listener_input import check_listener
from bridge.sidecar.mail_sender import MailServer, sync_admin_mail_listener
from bridge.sidecar.metrics import SidecarMetrics
from bridge.sidecar.observation import ObserveCalls, SummarySink, write_access_line
from bridge.sidecar.realtime import EventFeed, RealtimeService
from bridge.sidecar.retention import purge_forever
from bridge.sidecar.service import SidecarService, forward_to_worker
from bridge.sidecar.shared_state import admin_session_key, require_shared_nonces
from bridge.sidecar.socket_auth import TOKEN_KEY_SETTING, CredentialWatch, SocketAuthority, SocketTokens
from bridge.sidecar.webhook_api import WebhookApi
from bridge.sidecar.webhook_delivery import DeliveryRules, WebhookDelivery, poll_interval
from bridge.sidecar.webhook_targets import WebhookPolicy
from bridge.sidecar.worker_pool import WorkerPool
from bridge.store.call_log_writer import CallLogWriter
from bridge.store.database import utc_now
from bridge.store.event_history import EventHistory, open_event_history, shared_setting
from bridge.store.factory import open_stores
from bridge.store.login_attempts import RedisLoginThrottle
from bridge.store.records import CallRecord


async def run_sidecar(settings: Settings, ready_file: Path | None) -> None:
    """Serve the sidecar (gRPC proxy, interceptors, stores and admin site) until cancelled."""
    # Refused before anything opens: the scale-out checks (docs/deployment.md).
    require_shared_nonces(settings)
    worker_secret = settings.checked_worker_secret()
    session_key = admin_session_key(settings)
    catalogue = Catalogue()
    pool = WorkerPool(
        catalogue,
        settings.workers,
        worker_secret,
        settings.catalogue_refresh_seconds,
        settings.worker_tls,
        settings.stream_calls,
    )
    metrics = SidecarMetrics()
    policy = WebhookPolicy.from_settings(settings.webhook_allow_http, settings.webhook_allow_networks)
    # Checked now, so a bad smtp_url or smtp_from stops the start rather than the first mail.
    mail = MailServer.from_settings(settings.smtp_url, settings.smtp_from)
    delivery: WebhookDelivery | None = None

    def on_events(events: Sequence[Event], deliveries: int) -> None:
        metrics.events_committed(events, deliveries)
        if deliveries and delivery is not None:
            delivery.wake()

    async with contextlib.AsyncExitStack() as stack:
        history: EventHistory | None = None

        async def publish(events: Sequence[Event]) -> None:
            if history is not None:
                await history.append(events)

        stores = await open_stores(settings, publish, on_events=on_events)
        stack.push_async_callback(stores.close)
        history = open_event_history(settings, stores.database, stores.events)
        stack.push_async_callback(history.aclose)
        await sync_admin_mail_listener(stores.listeners, settings.admin_emails, new_secret(), utc_now())
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
            WebhookApi(
                stores.listeners,
                verifier,
                policy,
                JOB_CODEC.decode_call,
                JOB_CODEC.encode_outcome,
                metrics.auth_failed,
                allow_mailto=settings.webhook_allow_mailto,
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
        delivery = WebhookDelivery(
            stores.outbox,
            policy,
            DeliveryRules(
                schedule=settings.webhook_retry_schedule,
                timeout=settings.webhook_timeout,
                retry_after_max=settings.webhook_retry_after_max,
                disable_after=settings.webhook_disable_after,
                concurrency=settings.webhook_concurrency,
                per_listener=settings.webhook_concurrency_per_listener,
            ),
            metrics,
            poll_interval(settings.webhook_retry_schedule),
            mail,
        )
        await delivery.start()
        stack.push_async_callback(delivery.aclose)
        metrics.watch_jobs(lambda: runner.running)
        service = SidecarService(pool, interceptors, settings.max_timeout, forward)
        record_outgoing = writer.record if settings.log_outgoing else _discard
        server = await serve_proxy(
            service,
            f"{settings.grpc_host}:{settings.grpc_port}",
            record_outgoing,
            realtime=RealtimeService(feed, sockets),
        )
        stack.push_async_callback(server.stop)
        readiness = SidecarReadiness(catalogue, stores.database, stores.nonces)
        await server.set_serving(not await readiness.problems())
        watching = asyncio.create_task(watch_readiness(readiness.problems, server.set_serving))
        stack.callback(watching.cancel)
        login_attempts = None
        if settings.redis_url:
            throttle = RedisLoginThrottle(
                settings.redis_url, MAX_ATTEMPTS, WINDOW_SECONDS, LoginThrottle().attempt
            )
            stack.push_async_callback(throttle.aclose)
            login_attempts = throttle.attempt
        console = AdminConsole(
            users=stores.users,
            call_log=stores.call_log,
            admin=stores.admin,
            workers=catalogue.workers,
            describe=catalogue.describe,
            session_key=session_key,
            login_attempts=login_attempts,
            trusted_proxies=settings.trusted_proxies,
            webhooks=WebhookConsole(
                listeners=stores.listeners,
                events=stores.events,
                check=lambda url, events, match, owner: check_listener(
                    url, events, match, owner, policy, utc_now()
                ),
                secret_overlap=settings.webhook_secret_overlap,
            ),
            frontend_url=settings.frontend_public_url,
        )
        admin_app = create_admin_app(metrics.registry, console, readiness.problems)
        admin = await start_admin_site(admin_app, settings.admin_host, settings.admin_port)
        stack.push_async_callback(admin.stop)
        facts = {"grpc": server.address, "admin": admin.url}
        if settings.metrics_port >= 0:
            # Metrics on a port of their own, for a scraper that must not reach the admin site.
            metrics_site = await start_admin_site(
                create_admin_app(metrics.registry), settings.metrics_host, settings.metrics_port
            )
            stack.push_async_callback(metrics_site.stop)
            facts["metrics"] = f"{metrics_site.url}/metrics"
        announce(ready_file, role="sidecar", **facts)
        await asyncio.Event().wait()


def _discard(record: CallRecord) -> None:
    """Outgoing call records are not kept when `log_outgoing` is off."""
