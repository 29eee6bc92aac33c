"""Stores shared between processes: Redis nonces across two sidecars, the call log in SQLite and PG."""

from __future__ import annotations

import asyncio
import xmlrpc.client
from pathlib import Path

import grpc
import pytest

from bridge.auth.signing import auth_params
from bridge.rpc.values import from_value, to_value
from bridge.settings import Settings
from bridge.store.factory import open_stores
from bridge.store.nonce_stores import CLIENT_NAME
from bridge.store.records import CallFilter, CallRecord
from bridge.testing import Deployment, deployment, start_role, wait_until
from rpcbridge.v1 import worker_pb2, worker_pb2_grpc
from tests.integration.conftest import EXAMPLE_WORKER, REDIS_URL, json_rpc
from tests.integration.stores.test_nonce_stores import kill_connections_named
from tests.integration.test_authentication import rpcbridge, xmlrpc_fault_code


def invoke(address: str, request: worker_pb2.InvokeRequest) -> worker_pb2.InvokeResponse:
    with grpc.insecure_channel(address) as channel:
        response: worker_pb2.InvokeResponse = worker_pb2_grpc.WorkerStub(channel).Invoke(request)
        return response


@pytest.mark.redis
def test_two_sidecars_sharing_redis_refuse_a_nonce_replayed_across_them(tmp_path: Path) -> None:
    """A nonce used through sidecar A is a replay at sidecar B when both use the same Redis."""
    env = {"RPCBRIDGE_REDIS_URL": REDIS_URL}
    with deployment([EXAMPLE_WORKER], env=env, scratch=tmp_path) as bridge:
        key = rpcbridge(tmp_path / "data", "users", "add", "alice")
        args = ["--grpc-port", "0", "--admin-port", "0", "--data-dir", str(tmp_path / "data")]
        second = start_role(
            "sidecar", [*args, "--worker", bridge.workers[0].facts["address"]], tmp_path, bridge.env
        )
        bridge.extra.append(second)
        params = [to_value(p) for p in auth_params("alice", key)]
        request = worker_pb2.InvokeRequest(procedure="account.whoami", params=params)
        assert from_value(invoke(bridge.grpc_address, request).result) == "alice"
        with pytest.raises(grpc.RpcError) as raised:
            invoke(second.facts["grpc"], request)
        assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.redis
def test_sidecar_survives_redis_dropping_its_connections(tmp_path: Path) -> None:
    """Redis closes the sidecar's pooled connections (CLIENT KILL, as a restart or idle timeout
    would): the next authenticated calls succeed, none says "temporarily unavailable"."""
    env = {"RPCBRIDGE_REDIS_URL": REDIS_URL}
    with deployment([EXAMPLE_WORKER], env=env, scratch=tmp_path) as bridge:
        key = rpcbridge(tmp_path / "data", "users", "add", "alice")
        url = bridge.url + "/rpc"
        assert xmlrpc_fault_code(url, "account.whoami", *auth_params("alice", key)) == "alice"
        name = f"{CLIENT_NAME}-{bridge.sidecar.process.pid}"
        assert asyncio.run(kill_connections_named(name)) >= 1
        for _ in range(3):
            assert xmlrpc_fault_code(url, "account.whoami", *auth_params("alice", key)) == "alice"


def test_unreachable_redis_fails_auth_closed_and_keeps_public_procedures(tmp_path: Path) -> None:
    """With the configured Redis down, authenticated calls fail clearly; the rest keep working."""
    with deployment(
        [EXAMPLE_WORKER], env={"RPCBRIDGE_REDIS_URL": "redis://127.0.0.1:1/0"}, scratch=tmp_path
    ) as bridge:
        key = rpcbridge(tmp_path / "data", "users", "add", "alice")
        _, answer = json_rpc(
            bridge.url + "/rpc",
            {"jsonrpc": "2.0", "method": "account.whoami", "params": auth_params("alice", key), "id": 1},
        )
        assert answer["error"]["code"] == -32001
        # The reason once: the standard message, and the detail without the message repeated.
        assert (answer["error"]["message"], answer["error"]["data"]) == (
            "Unauthenticated",
            "authentication temporarily unavailable",
        )
        proxy = xmlrpc.client.ServerProxy(bridge.url + "/rpc")
        with proxy, pytest.raises(xmlrpc.client.Fault) as refused:
            proxy.account.whoami(*auth_params("alice", key))
        assert refused.value.faultString == "Unauthenticated: authentication temporarily unavailable"
        assert xmlrpc_fault_code(bridge.url + "/rpc", "echo", "still here") == "still here"


def logged_calls(settings: Settings, procedure: str) -> list[CallRecord]:
    async def query() -> list[CallRecord]:
        stores = await open_stores(settings)
        try:
            return (await stores.call_log.query(CallFilter(procedure=procedure), limit=50, offset=0)).records
        finally:
            await stores.close()

    return asyncio.run(query())


def check_call_log(bridge: Deployment, settings: Settings, cli_args: tuple[str, ...] = ()) -> None:
    """Make an authenticated and a failing call, then find both rows with the expected fields."""
    key = rpcbridge(bridge.scratch / "data", "users", "add", "alice", *cli_args)
    url = bridge.url + "/rpc"
    assert xmlrpc_fault_code(url, "account.transfer", *auth_params("alice", key), 5, "9999") == {
        "by": "alice",
        "amount": 5,
    }
    assert xmlrpc_fault_code(url, "math.divide", 1, 0) == 1
    wait_until(lambda: logged_calls(settings, "account.transfer") and logged_calls(settings, "math.divide"))
    [transfer] = logged_calls(settings, "account.transfer")
    assert (transfer.direction, transfer.protocol, transfer.user, transfer.outcome) == (
        "incoming",
        "xmlrpc",
        "alice",
        "ok",
    )
    assert (
        transfer.request_id and transfer.peer and transfer.request_bytes > 0 and transfer.response_bytes > 0
    )
    assert (
        transfer.arguments is not None
        and "9999" not in transfer.arguments
        and "[redacted]" in transfer.arguments
    )
    assert key not in transfer.arguments and "alice" not in transfer.arguments
    [divide] = logged_calls(settings, "math.divide")
    assert (divide.outcome, divide.fault_code, divide.user) == ("fault", 1, "")


def test_call_log_rows_in_sqlite(tmp_path: Path) -> None:
    """Calls are logged to SQLite in the data directory, auth params and sensitive params redacted."""
    env = {"RPCBRIDGE_LOG_ARGUMENTS": "true"}
    with deployment([EXAMPLE_WORKER], env=env, scratch=tmp_path) as bridge:
        check_call_log(bridge, Settings(data_dir=tmp_path / "data"))


@pytest.mark.postgres
@pytest.mark.redis
def test_call_log_rows_in_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """With database_url pointing at PostgreSQL, users and the call log live there."""
    config = tmp_path / "rpcbridge.toml"
    # A sidecar on PostgreSQL needs Redis beside it (DESIGN.md, Scale-out).
    config.write_text(f'database_url = "{postgres_url}"\nredis_url = "{REDIS_URL}"\nlog_arguments = true\n')
    with deployment([EXAMPLE_WORKER], settings_args=["--config", str(config)], scratch=tmp_path) as bridge:
        check_call_log(bridge, Settings(database_url=postgres_url), ("--config", str(config)))
