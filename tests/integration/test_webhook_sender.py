"""One webhook attempt against a real receiver on 127.0.0.1: statuses, redirects, time limit, TLS, SSRF.

The receiver is an aiohttp server in the test's loop; the sender runs its blocking exchange in a
thread, so the loop stays free to serve it. Signatures are checked with the reference verifier.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime
import email.utils
import gc
import socket
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_aiohttp import AiohttpServer
from standardwebhooks.webhooks import Webhook

from bridge.events.delivery_body import encode_delivery_body
from bridge.events.model import Event
from bridge.events.webhook_signing import delivery_headers, new_secret
from bridge.sidecar.webhook_sender import AttemptResult, send_attempt
from bridge.sidecar.webhook_targets import WebhookPolicy, check_listener_url

LOCAL = WebhookPolicy.from_settings(allow_http=True, allow_networks=["127.0.0.0/8"])
SECRET = new_secret()
EVENT = Event("person.saved", {"name": "Jo"})
BODY = encode_delivery_body(EVENT)


@dataclass
class Receiver:
    """A webhook receiver that records what it got and answers by path."""

    base: str = ""
    seen: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append((request.path_qs, dict(request.headers), body))
        self.arrived.set()
        name = request.match_info["name"]
        if name == "ok":
            return web.Response(text="thanks")
        if name == "fail":
            return web.Response(status=500, text="x" * 5000)
        if name == "gone":
            return web.Response(status=410)
        if name == "slow-down":
            return web.Response(status=429, headers={"Retry-After": "120"})
        if name == "unavailable":
            later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
            return web.Response(
                status=503, headers={"Retry-After": email.utils.format_datetime(later, usegmt=True)}
            )
        if name == "moved":
            return web.Response(status=302, headers={"Location": "/hook/ok"})
        await self.release.wait()  # "slow": answers only when the test is over
        return web.Response(text="too late")


async def start(aiohttp_server: AiohttpServer, **server: Any) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook/{name}", receiver.handle)
    running = await aiohttp_server(app, **server)
    receiver.base = f"{running.scheme}://127.0.0.1:{running.port}"
    yield receiver
    receiver.release.set()


@pytest.fixture
async def receiver(aiohttp_server: AiohttpServer) -> AsyncIterator[Receiver]:
    async for started in start(aiohttp_server):
        yield started


async def attempt(url: str, policy: WebhookPolicy = LOCAL, **options: Any) -> AttemptResult:
    """One signed attempt to `url`, checked under `policy`."""
    headers = delivery_headers([SECRET], EVENT.id, int(time.time()), BODY)
    target = check_listener_url(url, LOCAL)
    options.setdefault("time_limit", 10)
    return await send_attempt(target, policy, BODY, headers, **options)


async def test_success_is_signed_and_verifiable(receiver: Receiver) -> None:
    """A 200 is success; the receiver got one POST with the body, which standardwebhooks verifies."""
    result = await attempt(receiver.base + "/hook/ok?tenant=7")
    assert (result.status, result.error, result.excerpt, result.succeeded) == (200, None, "thanks", True)
    assert result.duration > 0
    [(path, headers, body)] = receiver.seen
    assert path == "/hook/ok?tenant=7"
    assert body == BODY
    assert headers["Host"] == receiver.base.removeprefix("http://")
    assert headers["Content-Type"] == "application/json"
    assert Webhook(SECRET).verify(body, headers)["id"] == EVENT.id


@pytest.mark.parametrize(
    ("name", "status"), [("fail", 500), ("gone", 410), ("moved", 302)], ids=["500", "410", "302"]
)
async def test_other_statuses_are_reported_not_followed(receiver: Receiver, name: str, status: int) -> None:
    """Any non-2xx status is a failed attempt with that status; a redirect is not followed."""
    result = await attempt(f"{receiver.base}/hook/{name}")
    assert (result.status, result.error, result.succeeded) == (status, None, False)
    assert len(receiver.seen) == 1  # the 302's Location was never requested


async def test_response_excerpt_is_capped_at_one_kib(receiver: Receiver) -> None:
    """Only the first 1024 bytes of a long response are kept for the delivery log."""
    result = await attempt(receiver.base + "/hook/fail")
    assert result.excerpt == "x" * 1024


async def test_retry_after_in_seconds_and_as_a_date(receiver: Receiver) -> None:
    """Retry-After is read in both of its forms: delay-seconds and HTTP-date."""
    slow_down = await attempt(receiver.base + "/hook/slow-down")
    assert (slow_down.status, slow_down.retry_after) == (429, 120.0)
    unavailable = await attempt(receiver.base + "/hook/unavailable")
    assert unavailable.status == 503
    assert unavailable.retry_after is not None and 0 < unavailable.retry_after <= 3600


async def test_slow_receiver_hits_the_time_limit(receiver: Receiver) -> None:
    """A receiver that does not answer within the time limit gives a timed-out attempt, no status."""
    result = await attempt(receiver.base + "/hook/slow", time_limit=0.5)
    assert (result.status, result.error) == (None, "timed out after 0.5 s")
    assert len(receiver.seen) == 1


async def test_a_cancelled_attempt_leaves_no_lost_exception(receiver: Receiver) -> None:
    """Cancelled mid-attempt (a sidecar stopping): the aborted thread's error is not reported as lost."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    executor = concurrent.futures.ThreadPoolExecutor(1)
    try:
        running = asyncio.create_task(attempt(receiver.base + "/hook/slow", executor=executor))
        await receiver.arrived.wait()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await asyncio.to_thread(executor.shutdown, True)  # the exchange's thread has ended
        for _ in range(3):
            await asyncio.sleep(0)  # its future's completion, posted to the loop by the thread
        gc.collect()
        assert reported == []
    finally:
        loop.set_exception_handler(None)
        executor.shutdown()


async def test_connection_refused() -> None:
    """A port nobody listens on gives an error naming the address, no status."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await attempt(f"http://127.0.0.1:{port}/hook/ok")
    assert result.status is None
    assert result.error == f"connection refused by 127.0.0.1:{port}"


async def test_forbidden_target_is_never_connected_to(receiver: Receiver) -> None:
    """Under a policy that no longer allows loopback, the attempt fails with the reason, unsent."""
    result = await attempt(receiver.base + "/hook/ok", policy=WebhookPolicy(allow_http=True))
    assert result.status is None
    assert result.error is not None and "loopback" in result.error
    assert receiver.seen == []


def resolving_to(*addresses: str) -> Any:
    """A resolver that answers `addresses` for any name, as getaddrinfo entries."""

    async def resolve(host: str, port: int) -> Sequence[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    return resolve


async def test_next_checked_address_is_tried_when_one_refuses(receiver: Receiver) -> None:
    """When the first resolved address refuses the connection, the next one gets the delivery."""
    port = receiver.base.rsplit(":", 1)[1]
    result = await attempt(
        f"http://hooks.example:{port}/hook/ok", resolver=resolving_to("127.0.0.2", "127.0.0.1")
    )
    assert result.status == 200
    assert receiver.seen[0][1]["Host"] == f"hooks.example:{port}"


def certificate_for(name: str, directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for the DNS name `name`, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize(("served_name", "ok"), [("webhook.test", True), ("other.test", False)])
async def test_tls_goes_to_the_checked_address_but_verifies_the_host_name(
    aiohttp_server: AiohttpServer, tmp_path: Path, served_name: str, ok: bool
) -> None:
    """Connected to a pinned 127.0.0.1, TLS still sends SNI and checks the certificate for the URL's host."""
    cert, key = certificate_for(served_name, tmp_path)
    server_names: list[str | None] = []
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    def record_server_name(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        server_names.append(name)

    server_context.sni_callback = record_server_name
    client_context = ssl.create_default_context(cafile=cert)
    async for receiver in start(aiohttp_server, ssl=server_context):
        port = receiver.base.rsplit(":", 1)[1]
        result = await attempt(
            f"https://webhook.test:{port}/hook/ok",
            resolver=resolving_to("127.0.0.1"),
            ssl_context=client_context,
        )
        assert server_names == ["webhook.test"]
        if ok:
            assert (result.status, result.error) == (200, None)
            assert receiver.seen[0][1]["Host"] == f"webhook.test:{port}"
        else:
            assert result.status is None
            assert result.error is not None and result.error.startswith(
                "TLS certificate refused for webhook.test"
            )
            assert receiver.seen == []


@pytest.fixture
async def dripping_server() -> AsyncIterator[int]:
    """A raw TCP server that answers any request with header lines, one every 0.2 s, never ending them."""

    finished: list[asyncio.Event] = []

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        finished.append(done := asyncio.Event())
        try:
            await reader.read(65536)
            writer.write(b"HTTP/1.1 200 OK\r\n")
            for _ in range(300):  # bounded: a minute at most, long after any attempt gave up
                writer.write(b"X-Drip: a\r\n")
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    if not await asyncio.wait_for(reader.read(1), 0.2):
                        break  # the sender hung up
        except ConnectionError:
            pass
        finally:
            writer.close()
            done.set()

    server = await asyncio.start_server(drip, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]
        for done in finished:
            await done.wait()


async def test_time_limit_bounds_the_whole_attempt_not_each_read(dripping_server: int) -> None:
    """A receiver that keeps every read alive but never finishes its response is cut off at the limit."""
    result = await attempt(f"http://127.0.0.1:{dripping_server}/hook/ok", time_limit=1)
    assert (result.status, result.error) == (None, "timed out after 1 s")


async def test_time_limit_bounds_a_tls_handshake_that_never_completes() -> None:
    """A TLS target that accepts the connection but never answers the handshake times out."""
    silent: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)  # keep the connection open, say nothing

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        result = await attempt(
            f"https://webhook.test:{port}/", resolver=resolving_to("127.0.0.1"), time_limit=0.5
        )
        for writer in silent:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        server.close()
    assert (result.status, result.error) == (None, "timed out after 0.5 s")
