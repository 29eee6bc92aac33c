"""Realtime over `GET /ws` end to end, driven by the third-party `websockets` client.

Calls as on POST /rpc, authentication once per socket, subscriptions with filters, resume without
gap or duplicate, sockets closed on credential changes (4001) and for slow consumers (4008),
hostile frames, and two frontends on PostgreSQL + Redis.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bridge.auth.signing import auth_params, authorization_header
from bridge.settings import Settings
from bridge.store.factory import open_stores
from bridge.testing import Deployment, deployment, start_role
from tests.integration.conftest import EXAMPLE_WORKER, REDIS_URL, json_rpc

UNAUTHENTICATED = -32001
# Seconds a test waits for something that should come at once (a bound, never a threshold).
WAIT = 10.0


def rpcbridge(data_dir: Path | None, *args: str) -> str:
    """Run the rpcbridge command on the deployment's store; its stdout."""
    where = ["--data-dir", str(data_dir)] if data_dir is not None else []
    completed = subprocess.run(
        [sys.executable, "-m", "bridge", *args, *where],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip()


def ws_url(bridge_url: str) -> str:
    return bridge_url.replace("http://", "ws://", 1) + "/ws"


async def call(ws: ClientConnection, method: str, params: Any = None, id: Any = 1) -> Any:
    """Send one request and return its reply (events that arrive first are skipped)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id}
    if params is not None:
        message["params"] = params
    await ws.send(json.dumps(message))
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if reply.get("id") == id and "method" not in reply:
            return reply


async def next_event(ws: ClientConnection) -> dict[str, Any]:
    """The params of the next `rpc.event` notification."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if message.get("method") == "rpc.event":
            assert "id" not in message
            return dict(message["params"])


async def closed_with(ws: ClientConnection) -> int | None:
    """Read until the server closes the socket; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def save_person(bridge: Deployment, name: str, city: str) -> None:
    """Cause a person.saved event through POST /rpc."""
    _, answer = json_rpc(
        bridge.url + "/rpc",
        {"jsonrpc": "2.0", "method": "people.save", "params": [name, {"city": city}, "hidden"], "id": 1},
    )
    assert answer["result"] == name


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, dict[str, str]]]:
    """The example worker; users alice (every procedure) and bob (only account.*)."""
    scratch = tmp_path_factory.mktemp("realtime")
    with deployment(
        [EXAMPLE_WORKER], scratch=scratch, env={"RPCBRIDGE_WS_MAX_MESSAGE_BYTES": "4096"}
    ) as running:
        data = scratch / "data"
        keys = {
            "alice": rpcbridge(data, "users", "add", "alice"),
            "bob": rpcbridge(data, "users", "add", "bob", "--scope", "account.*"),
        }
        yield running, keys


async def test_calls_single_batch_notification_and_several_in_flight(
    live: tuple[Deployment, dict[str, str]],
) -> None:
    """Frames carry JSON-RPC as POST /rpc does; a slow call does not hold up a quick one."""
    bridge, _ = live
    async with connect(ws_url(bridge.url)) as ws:
        assert (await call(ws, "math.add", [2, 3]))["result"] == 5
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "math.add", "params": [1, 1]}))  # notification
        await ws.send(
            json.dumps(
                [
                    {"jsonrpc": "2.0", "method": "math.add", "params": [1, 2], "id": "a"},
                    {"jsonrpc": "2.0", "method": "no.such", "id": "b"},
                ]
            )
        )
        batch = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert [r.get("result") for r in batch] == [3, None]
        assert batch[1]["error"]["code"] == -32601
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "slow.sleep", "params": [1.0], "id": "slow"}))
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "math.add", "params": [4, 4], "id": "quick"}))
        first = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        second = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert (first["id"], first["result"]) == ("quick", 8)
        assert second["id"] == "slow"
        bad = await call(ws, "rpc.nothing", id=9)
        assert bad["error"]["code"] == -32601


async def test_authentication_by_header_or_first_call_and_replay_refused(
    live: tuple[Deployment, dict[str, str]],
) -> None:
    """Either form authenticates the socket once; auth=True procedures then run as that user."""
    bridge, keys = live
    async with connect(ws_url(bridge.url)) as ws:
        assert (await call(ws, "account.whoami"))["error"]["code"] == UNAUTHENTICATED
        params = auth_params("alice", keys["alice"])
        assert (await call(ws, "rpc.authenticate", params))["result"] == {"user": "alice"}
        assert (await call(ws, "account.whoami", id=2))["result"] == "alice"
        assert (await call(ws, "account.whoami", id=3))["result"] == "alice"
    async with connect(ws_url(bridge.url)) as ws:
        replayed = await call(ws, "rpc.authenticate", params)
        assert replayed["error"]["code"] == UNAUTHENTICATED
    header = authorization_header("bob", keys["bob"], "GET", "/ws", b"")
    async with connect(ws_url(bridge.url), additional_headers={"Authorization": header}) as ws:
        assert (await call(ws, "account.whoami"))["result"] == "bob"
        forbidden = await call(ws, "math.add", [1, 2], id=2)
        assert forbidden["result"] == 3  # not auth=True: anyone may call it
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with connect(ws_url(bridge.url), additional_headers={"Authorization": header}):
            pass
    assert refused.value.response.status_code == 401  # the same header again is a replay
    settings = Settings(data_dir=bridge.scratch / "data")
    for _ in range(100):  # the call log is written in the background
        if {"alice", "bob"} <= set(await logged(settings, "account.whoami")):
            break
        await asyncio.sleep(0.1)
    assert {"alice", "bob"} <= set(await logged(settings, "account.whoami"))


async def logged(settings: Settings, procedure: str) -> list[str]:
    """The users the call log names for a procedure."""
    stores = await open_stores(settings)
    try:
        async with stores.database.session() as session:
            rows = await session.fetch("SELECT username FROM call_log WHERE procedure = $1", procedure)
        return [row["username"] for row in rows]
    finally:
        await stores.close()


async def test_subscriptions_filter_and_auth_hooks(live: tuple[Deployment, dict[str, str]]) -> None:
    """Events reach matching subscriptions with offsets; auth hooks need an authenticated, allowed socket."""
    bridge, keys = live
    city = f"Ber-{uuid.uuid4().hex[:6]}"
    async with connect(ws_url(bridge.url)) as ws:
        refused = await call(ws, "rpc.subscribe", {"events": ["person.removed"]})
        assert refused["error"]["code"] == UNAUTHENTICATED
        answer = (
            await call(ws, "rpc.subscribe", {"events": ["person.saved"], "match": {"address.city": city}})
        )["result"]
        assert answer["recovered"] is False
        await asyncio.to_thread(save_person, bridge, "Elsewhere", "Paris")
        await asyncio.to_thread(save_person, bridge, "Jo", city)
        event = await next_event(ws)
        assert event["subscription"] == answer["subscription"]
        assert event["id"].startswith("evt_")
        assert (event["type"], event["epoch"]) == ("person.saved", answer["epoch"])
        assert event["data"] == {"name": "Jo", "address": {"city": city}}  # "secret" never leaves the worker
        assert event["offset"] > answer["offset"]
        assert (await call(ws, "rpc.unsubscribe", {"subscription": answer["subscription"]}, id=2))[
            "result"
        ] is True
        bad = await call(ws, "rpc.subscribe", {"events": ["x"], "match": {"a": {"nope": 1}}}, id=3)
        assert bad["error"]["code"] == -32602
    async with connect(ws_url(bridge.url)) as ws:
        await call(ws, "rpc.authenticate", auth_params("alice", keys["alice"]))
        await call(ws, "rpc.subscribe", {"events": ["person.removed"]}, id=2)
        _, removed = json_rpc(
            bridge.url + "/rpc", {"jsonrpc": "2.0", "method": "people.remove", "params": ["Al"], "id": 1}
        )
        assert removed["result"] is True
        assert (await next_event(ws))["data"] == {"name": "Al"}


async def test_resume_after_a_drop_replays_with_no_gap_and_no_duplicate(
    live: tuple[Deployment, dict[str, str]],
) -> None:
    """Events committed while a client was away arrive on resume, in order, before live ones."""
    bridge, _ = live
    city = f"Res-{uuid.uuid4().hex[:6]}"
    subscribe = {"events": ["person.saved"], "match": {"address.city": city}}
    async with connect(ws_url(bridge.url)) as ws:
        first = (await call(ws, "rpc.subscribe", subscribe))["result"]
        await asyncio.to_thread(save_person, bridge, "p0", city)
        seen = await next_event(ws)
    for number in range(1, 6):  # while nobody listens
        await asyncio.to_thread(save_person, bridge, f"p{number}", city)
    async with connect(ws_url(bridge.url)) as ws:
        since = {"epoch": first["epoch"], "offset": seen["offset"]}
        resumed = (await call(ws, "rpc.subscribe", {**subscribe, "since": since}))["result"]
        assert resumed["recovered"] is True
        assert resumed["offset"] == seen["offset"]
        replayed = [await next_event(ws) for _ in range(5)]
        await asyncio.to_thread(save_person, bridge, "p6", city)
        live_event = await next_event(ws)
        names = [e["data"]["name"] for e in [*replayed, live_event]]
        assert names == [f"p{n}" for n in range(1, 7)]
        offsets = [e["offset"] for e in [*replayed, live_event]]
        assert offsets == sorted(set(offsets))
        assert offsets[0] > seen["offset"]
    async with connect(ws_url(bridge.url)) as ws:
        other = (await call(ws, "rpc.subscribe", {**subscribe, "since": {"epoch": "other", "offset": 1}}))[
            "result"
        ]
        assert other["recovered"] is False


async def test_disabling_a_user_closes_their_sockets_with_4001_within_2_s(
    live: tuple[Deployment, dict[str, str]],
) -> None:
    """`rpcbridge users disable` closes the user's sockets; others stay open."""
    bridge, _ = live
    data = bridge.scratch / "data"
    key = rpcbridge(data, "users", "add", "dave")
    async with connect(ws_url(bridge.url)) as dave, connect(ws_url(bridge.url)) as anonymous:
        await call(dave, "rpc.authenticate", auth_params("dave", key))
        await call(anonymous, "math.add", [1, 1])
        await asyncio.to_thread(rpcbridge, data, "users", "disable", "dave")
        disabled_at = time.monotonic()
        assert await closed_with(dave) == 4001
        elapsed = time.monotonic() - disabled_at
        assert (await call(anonymous, "math.add", [1, 2], id=2))["result"] == 3
    assert elapsed < 2.0, f"closed {elapsed:.2f} s after the command returned"


async def test_rotate_key_keeps_sockets_and_revoking_the_old_key_closes_them(
    live: tuple[Deployment, dict[str, str]],
) -> None:
    """Both keys stay valid after rotate-key; revoke-old-keys closes only old-key sockets."""
    bridge, _ = live
    data = bridge.scratch / "data"
    old = rpcbridge(data, "users", "add", "erin")
    async with connect(ws_url(bridge.url)) as on_old:
        await call(on_old, "rpc.authenticate", auth_params("erin", old))
        new = (await asyncio.to_thread(rpcbridge, data, "users", "rotate-key", "erin")).split()[-1]
        # Two credential polls (the rotation closes nothing), and the verifier's 1 s key cache lapses.
        await asyncio.sleep(1.5)
        async with connect(ws_url(bridge.url)) as on_new:
            assert (await call(on_new, "rpc.authenticate", auth_params("erin", new)))["result"] == {
                "user": "erin"
            }
            assert (await call(on_old, "account.whoami", id=2))["result"] == "erin"
            await asyncio.to_thread(rpcbridge, data, "users", "revoke-old-keys", "erin")
            assert await closed_with(on_old) == 4001
            reply = await call(on_new, "account.whoami", id=3)
            assert reply.get("result") == "erin", reply


async def test_hostile_frames_get_an_error_or_a_documented_close(
    live: tuple[Deployment, dict[str, str]],
) -> None:
    """Binary (1003), oversized (1009), invalid UTF-8 (1007), deep nesting (a JSON-RPC error)."""
    bridge, _ = live
    async with connect(ws_url(bridge.url)) as ws:
        await ws.send("{")  # not JSON
        assert json.loads(await ws.recv())["error"]["code"] == -32700
        await ws.send("[" * 1000 + "]" * 1000)  # nested past max_depth: refused before parsing
        assert json.loads(await ws.recv())["error"]["code"] == -32006
        await ws.send(b'{"jsonrpc": "2.0", "method": "math.add", "params": [1, 2], "id": 1}')
        assert await closed_with(ws) == 1003
    async with connect(ws_url(bridge.url), max_size=None) as ws:
        await ws.send("x" * 5000)
        assert await closed_with(ws) == 1009
    async with connect(ws_url(bridge.url)) as ws:
        # A text frame whose payload is not UTF-8: sent raw, as a broken client would.
        ws.protocol.send_text(b"\xff\xfe")
        ws.send_data()
        assert await closed_with(ws) == 1007
    async with connect(ws_url(bridge.url)) as ws:
        assert (await call(ws, "math.add", [1, 2]))["result"] == 3  # the frontend still serves


def test_a_consumer_that_never_reads_is_closed_with_4008_and_resumes(tmp_path: Path) -> None:
    """A full send queue closes the socket with 4008; resuming with since replays everything missed."""
    env = {"RPCBRIDGE_WS_SEND_QUEUE": "5", "RPCBRIDGE_MAX_BODY_BYTES": str(4 << 20)}
    with deployment([EXAMPLE_WORKER], scratch=tmp_path, env=env) as bridge:
        asyncio.run(slow_consumer(bridge))


async def slow_consumer(bridge: Deployment) -> None:
    # Big events, no compression and a small receive buffer fill the TCP buffers quickly; the
    # send queue then fills.
    payload, count = "y" * 1_000_000, 20
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = bridge.url.removeprefix("http://").rsplit(":", 1)
    raw.connect((host, int(port)))
    async with connect(ws_url(bridge.url), sock=raw, max_queue=1, max_size=None, compression=None) as ws:
        start = (await call(ws, "rpc.subscribe", {"events": ["person.saved"]}))["result"]
        for number in range(count):
            await asyncio.to_thread(save_person, bridge, f"n{number}", payload)
        code = await closed_with(ws)
    assert code == 4008
    async with connect(ws_url(bridge.url), max_size=None) as ws:
        since = {"epoch": start["epoch"], "offset": start["offset"]}
        resumed = (await call(ws, "rpc.subscribe", {"events": ["person.saved"], "since": since}))["result"]
        assert resumed["recovered"] is True
        names = [(await next_event(ws))["data"]["name"] for _ in range(count)]
        assert names == [f"n{number}" for number in range(count)]


@pytest.mark.postgres
@pytest.mark.redis
def test_two_frontends_on_postgresql_and_redis(tmp_path: Path, postgres_url: str) -> None:
    """An event caused on frontend A reaches a subscriber on B; a disabled user's sockets close on both."""
    config = tmp_path / "rpcbridge.toml"
    prefix = f"rpcbridge-test-{uuid.uuid4().hex}:"
    config.write_text(
        f'database_url = "{postgres_url}"\nredis_url = "{REDIS_URL}"\nredis_prefix = "{prefix}"\n'
    )
    settings_args = ["--config", str(config)]
    with deployment([EXAMPLE_WORKER], settings_args=settings_args, scratch=tmp_path) as a:
        common = ["--data-dir", str(tmp_path / "data"), *settings_args]
        sidecar_b = start_role(
            "sidecar",
            ["--grpc-port", "0", "--admin-port", "0", "--worker", a.workers[0].facts["address"], *common],
            tmp_path,
            a.env,
        )
        a.extra.append(sidecar_b)
        frontend_b = start_role(
            "frontend", ["--sidecar", sidecar_b.facts["grpc"], "--http-port", "0", *common], tmp_path, a.env
        )
        a.extra.append(frontend_b)
        key = rpcbridge(None, "users", "add", "frank", *settings_args)
        asyncio.run(across_frontends(a, str(frontend_b.facts["url"]), key, settings_args))


async def across_frontends(a: Deployment, url_b: str, key: str, settings_args: list[str]) -> None:
    async with connect(ws_url(a.url)) as on_a, connect(ws_url(url_b)) as on_b:
        await call(on_a, "rpc.authenticate", auth_params("frank", key))
        await call(on_b, "rpc.authenticate", auth_params("frank", key))
        sub_a = (await call(on_a, "rpc.subscribe", {"events": ["person.saved"]}, id=2))["result"]
        sub_b = (await call(on_b, "rpc.subscribe", {"events": ["person.saved"]}, id=2))["result"]
        assert sub_a["epoch"] == sub_b["epoch"]
        await asyncio.to_thread(save_person, a, "Across", "Basel")
        event_a, event_b = await next_event(on_a), await next_event(on_b)
        assert event_b["data"]["name"] == "Across"
        assert (event_a["id"], event_a["offset"]) == (event_b["id"], event_b["offset"])
        async with connect(ws_url(url_b)) as resumed:  # resuming on B with what A reported
            since = {"epoch": sub_a["epoch"], "offset": event_a["offset"] - 1}
            answer = (await call(resumed, "rpc.subscribe", {"events": ["person.saved"], "since": since}))[
                "result"
            ]
            assert answer["recovered"] is True
            assert (await next_event(resumed))["id"] == event_a["id"]
        await asyncio.to_thread(rpcbridge, None, "users", "disable", "frank", *settings_args)
        assert await closed_with(on_a) == 4001
        assert await closed_with(on_b) == 4001


def test_the_example_client_prints_events(live: tuple[Deployment, dict[str, str]]) -> None:
    """examples/ws_client.py subscribes and prints each event as one JSON line."""
    bridge, _ = live
    city = f"Ex-{uuid.uuid4().hex[:6]}"
    script = Path(__file__).parents[2] / "examples" / "ws_client.py"
    with subprocess.Popen(
        [sys.executable, str(script), ws_url(bridge.url), "person.saved", "--count", "2"],
        stdout=subprocess.PIPE,
        text=True,
    ) as client:
        try:
            for _ in range(100):  # events until it has printed two (it subscribes at some point)
                save_person(bridge, "ex", city)
                if client.poll() is not None:
                    break
                time.sleep(0.1)
            output, _ = client.communicate(timeout=WAIT)
        finally:
            client.kill()
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 2
    assert [line["data"]["address"]["city"] for line in lines] == [city, city]
    assert lines[0]["offset"] < lines[1]["offset"]


def test_bounds_idle_subscriptions_sockets_and_metrics(tmp_path: Path) -> None:
    """Idle sockets close with 4002, subscriptions and sockets are capped, metrics count what happened."""
    env = {
        "RPCBRIDGE_WS_IDLE_SECONDS": "1",
        "RPCBRIDGE_WS_MAX_SUBSCRIPTIONS": "2",
        "RPCBRIDGE_WS_MAX_SOCKETS": "2",
    }
    with deployment([EXAMPLE_WORKER], scratch=tmp_path, env=env) as bridge:
        asyncio.run(bounded(bridge))
        metrics = urllib.request.urlopen(bridge.url + "/metrics", timeout=WAIT).read().decode()
    assert 'rpcbridge_frontend_ws_recoveries_total{outcome="not_recovered"} 1.0' in metrics
    assert "rpcbridge_frontend_ws_sockets 0.0" in metrics
    assert "rpcbridge_frontend_ws_subscriptions 0.0" in metrics
    assert "rpcbridge_frontend_ws_events_sent_total 2.0" in metrics


async def bounded(bridge: Deployment) -> None:
    async with connect(ws_url(bridge.url)) as idle:
        assert await closed_with(idle) == 4002
    async with connect(ws_url(bridge.url)) as ws, connect(ws_url(bridge.url)) as second:
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with connect(ws_url(bridge.url)):
                pass
        assert refused.value.response.status_code == 503
        first = (await call(ws, "rpc.subscribe", {"events": ["person.saved"]}))["result"]
        since = {"epoch": "another", "offset": 0}
        other = (await call(ws, "rpc.subscribe", {"events": ["*"], "since": since}, id=2))["result"]
        assert other["recovered"] is False
        assert (await call(ws, "rpc.subscribe", {"events": ["x"]}, id=3))["error"]["code"] == -32602
        await asyncio.sleep(1.5)  # subscribed sockets are not idle
        await asyncio.to_thread(save_person, bridge, "Jo", "Bern")
        got = {(await next_event(ws))["subscription"], (await next_event(ws))["subscription"]}
        assert got == {first["subscription"], other["subscription"]}
        assert await closed_with(second) == 4002  # no subscription, no call: idle
