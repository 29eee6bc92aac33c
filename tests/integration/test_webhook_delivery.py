"""Webhooks end to end on real processes: signed deliveries that `standardwebhooks` verifies, filters,
the whitelist, retries with one webhook-id, 410, Retry-After, redirects, redelivery, SSRF at attempt
time, a sidecar restart with deliveries pending, and two sidecars sharing one PostgreSQL outbox."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.testing import Deployment, deployment, start_role, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, REDIS_URL, json_rpc
from tests.integration.webhook_receiver import Receiver, Reply, running_receiver

WEBHOOK_ENV = {
    "RPCBRIDGE_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
    "RPCBRIDGE_WEBHOOK_ALLOW_HTTP": "1",
    "RPCBRIDGE_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2",
    "RPCBRIDGE_WEBHOOK_TIMEOUT": "5",
}


def webhooks(bridge: Deployment, *args: str, settings_args: tuple[str, ...] = ()) -> str:
    """Run `rpcbridge webhooks ARGS` on the deployment's store, with its settings; stdout."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge",
            "webhooks",
            *args,
            "--data-dir",
            str(bridge.scratch / "data"),
            *settings_args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, **bridge.env},
    )
    return completed.stdout


def add_listener(
    bridge: Deployment, url: str, *args: str, settings_args: tuple[str, ...] = ()
) -> tuple[str, str]:
    """Add a listener; its id and secret."""
    added = json.loads(webhooks(bridge, "add", url, "--json", *args, settings_args=settings_args))
    return added["id"], added["secret"]


def save(bridge: Deployment, name: str, city: str = "Berlin", secret: str = "hunter2") -> None:  # noqa: S107
    """Call people.save, which emits person.saved with name and address (and secret, whitelisted away)."""
    request = {"jsonrpc": "2.0", "method": "people.save", "params": [name, {"city": city}, secret], "id": 1}
    _, answer = json_rpc(bridge.url + "/rpc", request)
    assert answer == {"jsonrpc": "2.0", "result": name, "id": 1}


def delivery_lines(bridge: Deployment, listener_id: str, settings_args: tuple[str, ...] = ()) -> list[str]:
    return webhooks(bridge, "deliveries", listener_id, settings_args=settings_args).splitlines()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def hooks_bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The example worker, with webhooks allowed to 127.0.0.0/8 over http and a short retry schedule."""
    with deployment([EXAMPLE_WORKER], env=WEBHOOK_ENV, scratch=tmp_path_factory.mktemp("hooks")) as running:
        yield running


def test_signed_delivery_filtered_and_whitelisted(hooks_bridge: Deployment, receiver: Receiver) -> None:
    """The matching listener gets a body standardwebhooks verifies; filters on hidden fields never match."""
    berlin, secret = add_listener(
        hooks_bridge,
        receiver.url + "/berlin",
        "--event",
        "person.saved",
        "--match",
        '{"address.city": {"startswith": "Ber"}, "name": {"startswith": "sig-"}}',
    )
    sneaky, _ = add_listener(hooks_bridge, receiver.url + "/sneaky", "--match", '{"secret": {"any": true}}')
    save(hooks_bridge, "sig-ann", city="Hamburg")
    save(hooks_bridge, "sig-jo")
    wait_until(lambda: len(receiver.received("/berlin")) == 1)
    [request] = receiver.received("/berlin")
    payload = request.verified(secret)
    assert payload["type"] == "person.saved" and payload["id"] == request.webhook_id
    assert payload["data"] == {"name": "sig-jo", "address": {"city": "Berlin"}}
    assert set(json.loads(request.body)) == {"id", "type", "timestamp", "data"}
    assert b"hunter2" not in request.body
    assert request.headers["content-type"] == "application/json"
    # Deliveries are written when the call commits: the filter on `secret` matched nothing.
    assert delivery_lines(hooks_bridge, sneaky) == []
    assert "\tdelivered\tperson.saved\t" in delivery_lines(hooks_bridge, berlin)[0]


def test_failed_attempts_are_retried_with_the_same_webhook_id(
    hooks_bridge: Deployment, receiver: Receiver
) -> None:
    """500, 500, then 200: three attempts, one webhook-id, each in the delivery log."""
    receiver.script("/flaky", Reply(500), Reply(500), Reply(200))
    flaky, secret = add_listener(hooks_bridge, receiver.url + "/flaky", "--match", '{"name": "retry"}')
    save(hooks_bridge, "retry")
    wait_until(lambda: len(receiver.received("/flaky")) == 3)
    attempts = receiver.received("/flaky")
    assert len({r.webhook_id for r in attempts}) == 1
    assert all(r.verified(secret)["data"]["name"] == "retry" for r in attempts)
    wait_until(lambda: "\tdelivered\t" in delivery_lines(hooks_bridge, flaky)[0])
    log = delivery_lines(hooks_bridge, flaky)
    assert "attempts=3" in log[0]
    assert [line.split("\t")[1] for line in log[1:]] == ["500", "500", "200"]


def test_gone_disables_the_listener_with_an_event(hooks_bridge: Deployment, receiver: Receiver) -> None:
    """A 410 disables the listener at once and commits webhook.disabled, which other listeners receive."""
    receiver.script("/gone", Reply(410))
    gone, _ = add_listener(hooks_bridge, receiver.url + "/gone", "--match", '{"name": "gone"}')
    _, watch_secret = add_listener(hooks_bridge, receiver.url + "/watch", "--event", "webhook.disabled")
    save(hooks_bridge, "gone")
    wait_until(lambda: len(receiver.received("/watch")) == 1)
    event = receiver.received("/watch")[0].verified(watch_secret)
    assert event["type"] == "webhook.disabled"
    assert event["data"]["listener"] == gone and "410" in event["data"]["reason"]
    assert len(receiver.received("/gone")) == 1
    assert f"{gone}\tdisabled (the receiver answered 410 Gone)" in webhooks(hooks_bridge, "list")


def test_retry_after_is_waited_out(hooks_bridge: Deployment, receiver: Receiver) -> None:
    """429 with Retry-After: 1 makes the next attempt wait at least a second, not the 0.2 s scheduled."""
    receiver.script("/busy", Reply(429, {"Retry-After": "1"}), Reply(200))
    add_listener(hooks_bridge, receiver.url + "/busy", "--match", '{"name": "busy"}')
    save(hooks_bridge, "busy")
    wait_until(lambda: len(receiver.received("/busy")) == 2)
    first, second = receiver.received("/busy")
    assert second.started - first.ended >= 0.9
    assert first.webhook_id == second.webhook_id


def test_redirects_fail_and_failed_deliveries_can_be_redelivered(
    hooks_bridge: Deployment, receiver: Receiver
) -> None:
    """A 302 is never followed; after the last attempt the delivery is failed; redelivery keeps the id."""
    receiver.script("/moved", Reply(302, {"Location": receiver.url + "/landing"}))
    moved, _ = add_listener(hooks_bridge, receiver.url + "/moved", "--match", '{"name": "moved"}')
    save(hooks_bridge, "moved")
    wait_until(lambda: "\tfailed\t" in (delivery_lines(hooks_bridge, moved) or [""])[0])
    assert len(receiver.received("/moved")) == 4  # the first attempt and three retries
    assert receiver.received("/landing") == []
    delivery_id = delivery_lines(hooks_bridge, moved)[0].split("\t")[0]
    assert delivery_id in webhooks(hooks_bridge, "deliveries", "--failed")
    receiver.script("/moved", Reply(200))
    queued = webhooks(hooks_bridge, "redeliver", "--listener", moved, "--since", "2000-01-01T00:00:00")
    assert queued.strip() == "1 failed deliveries queued"
    wait_until(lambda: "\tdelivered\t" in delivery_lines(hooks_bridge, moved)[0])
    assert webhooks(hooks_bridge, "redeliver", delivery_id).strip() == f"{delivery_id} queued"
    wait_until(lambda: len(receiver.received("/moved")) == 6)
    assert len({r.webhook_id for r in receiver.received("/moved")}) == 1


def test_a_name_resolving_to_a_forbidden_address_fails_at_attempt_time(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Without the allow-list, http://localhost passes registration (a name) but every attempt is refused."""
    env = {**WEBHOOK_ENV, "RPCBRIDGE_WEBHOOK_ALLOW_NETWORKS": "", "RPCBRIDGE_WEBHOOK_RETRY_SCHEDULE": "0.1"}
    port = receiver.url.rsplit(":", 1)[1]
    with deployment([EXAMPLE_WORKER], env=env, scratch=tmp_path) as bridge:
        listener, _ = add_listener(bridge, f"http://localhost:{port}/ssrf")
        save(bridge, "ssrf")
        wait_until(lambda: "\tfailed\t" in (delivery_lines(bridge, listener) or [""])[0])
        attempts = delivery_lines(bridge, listener)[1:]
        assert len(attempts) == 2 and all("loopback" in line for line in attempts)
    assert receiver.received("/ssrf") == []


def test_sidecar_restart_loses_no_pending_delivery(tmp_path: Path, receiver: Receiver) -> None:
    """A sidecar stopped mid-attempt (no answer yet) leaves nothing behind: the next one delivers all."""
    receiver.script("/restart", Reply(200, delay=30))
    with deployment([EXAMPLE_WORKER], env=WEBHOOK_ENV, scratch=tmp_path) as bridge:
        listener, secret = add_listener(bridge, receiver.url + "/restart")
        for n in range(3):
            save(bridge, f"restart-{n}")
        wait_until(lambda: receiver.arrivals("/restart") >= 2)  # two attempts hang (two per listener)
        assert bridge.sidecar.stop() == 0
        receiver.script("/restart", Reply(200))
        address = bridge.workers[0].facts["address"]
        args = ["--grpc-port", "0", "--admin-port", "0", "--data-dir", str(tmp_path / "data")]
        bridge.extra.append(start_role("sidecar", [*args, "--worker", address], tmp_path, bridge.env))

        def all_delivered() -> bool:
            lines = [line for line in delivery_lines(bridge, listener) if "\tevent=" in line]
            return len(lines) == 3 and all("\tdelivered\t" in line for line in lines)

        wait_until(all_delivered, timeout=30)
    names = {r.verified(secret)["data"]["name"] for r in receiver.received("/restart")}
    assert names == {"restart-0", "restart-1", "restart-2"}


@pytest.mark.postgres
def test_two_sidecars_never_attempt_one_delivery_at_once(
    tmp_path: Path, postgres_url: str, receiver: Receiver
) -> None:
    """Two sidecars on one PostgreSQL share the outbox; no webhook-id is ever in flight twice at once."""
    config = tmp_path / "rpcbridge.toml"
    # Sidecars on a shared PostgreSQL share nonces through Redis too (DESIGN.md, Scale-out).
    config.write_text(f'database_url = "{postgres_url}"\nredis_url = "{REDIS_URL}"\n')
    settings_args = ("--config", str(config))
    receiver.script("/shared", Reply(500, delay=0.2), Reply(200, delay=0.2))
    with deployment(
        [EXAMPLE_WORKER], settings_args=settings_args, env=WEBHOOK_ENV, scratch=tmp_path
    ) as bridge:
        address = bridge.workers[0].facts["address"]
        args = [
            "--grpc-port",
            "0",
            "--admin-port",
            "0",
            *settings_args,
            "--data-dir",
            str(tmp_path / "data2"),
        ]
        bridge.extra.append(start_role("sidecar", [*args, "--worker", address], tmp_path, bridge.env))
        listener, _ = add_listener(bridge, receiver.url + "/shared", settings_args=settings_args)
        for n in range(10):
            save(bridge, f"shared-{n}")

        def all_delivered() -> bool:
            lines = [line for line in delivery_lines(bridge, listener, settings_args) if "\tevent=" in line]
            return len(lines) == 10 and all("\tdelivered\t" in line for line in lines)

        wait_until(all_delivered, timeout=60)
    by_id: dict[str, list[Any]] = {}
    for request in receiver.received("/shared"):
        by_id.setdefault(request.webhook_id, []).append(request)
    assert len(by_id) == 10
    for requests in by_id.values():
        spans = sorted((r.started, r.ended) for r in requests)
        assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
