"""Authentication end to end: signed calls reach auth procedures; every kind of bad credential is refused."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from bridge.auth.signing import auth_params, authorization_header
from bridge.rpc.values import from_value, to_value
from bridge.testing import Deployment, deployment
from rpcbridge.v1 import worker_pb2, worker_pb2_grpc
from tests.integration.conftest import EXAMPLE_WORKER, json_rpc, post

UNAUTHENTICATED = -32001
FORBIDDEN = -32002


def rpcbridge(data_dir: Path, *args: str, stdin: str = "") -> str:
    """Run the rpcbridge command on the deployment's store; its stdout."""
    completed = subprocess.run(
        [sys.executable, "-m", "bridge", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, dict[str, str]]]:
    """A deployment with users alice (all procedures), bob (scoped to account.whoami) and carol (disabled)."""
    scratch = tmp_path_factory.mktemp("auth")
    with deployment([EXAMPLE_WORKER], scratch=scratch) as running:
        data = scratch / "data"
        keys = {
            "alice": rpcbridge(data, "users", "add", "alice"),
            "bob": rpcbridge(data, "users", "add", "bob", "--scope", "account.whoami"),
            "carol": rpcbridge(data, "users", "add", "carol"),
        }
        rpcbridge(data, "users", "disable", "carol")
        yield running, keys


def xmlrpc_fault_code(url: str, method: str, *params: Any) -> int | Any:
    """Call over XML-RPC; the fault code, or the result when there is none."""
    with xmlrpc.client.ServerProxy(url, allow_none=True) as proxy:
        try:
            return getattr(proxy, method)(*params)
        except xmlrpc.client.Fault as fault:
            return fault.faultCode


def test_signed_call_reaches_the_procedure_with_the_user_first(
    secured: tuple[Deployment, dict[str, str]],
) -> None:
    """rpcenable-style auth params are taken out and the procedure receives the caller."""
    bridge, keys = secured
    assert (
        xmlrpc_fault_code(bridge.url + "/rpc", "account.whoami", *auth_params("alice", keys["alice"]))
        == "alice"
    )


def test_replayed_nonce_is_refused(secured: tuple[Deployment, dict[str, str]]) -> None:
    """The same four auth params sent twice: the second call is unauthenticated."""
    bridge, keys = secured
    params = auth_params("alice", keys["alice"])
    assert xmlrpc_fault_code(bridge.url + "/rpc", "account.whoami", *params) == "alice"
    assert xmlrpc_fault_code(bridge.url + "/rpc", "account.whoami", *params) == UNAUTHENTICATED


@pytest.mark.parametrize(
    ("description", "make_params", "expected"),
    [
        (
            "stale timestamp",
            lambda k: auth_params("alice", k["alice"], timestamp=int(time.time()) - 301),
            UNAUTHENTICATED,
        ),
        (
            "future timestamp",
            lambda k: auth_params("alice", k["alice"], timestamp=int(time.time()) + 301),
            UNAUTHENTICATED,
        ),
        ("wrong key", lambda k: auth_params("alice", k["bob"]), UNAUTHENTICATED),
        ("unknown user", lambda k: auth_params("mallory", k["alice"]), UNAUTHENTICATED),
        ("disabled user", lambda k: auth_params("carol", k["carol"]), UNAUTHENTICATED),
        ("short nonce", lambda k: auth_params("alice", k["alice"], nonce="short-nonce"), UNAUTHENTICATED),
        ("no credentials", lambda k: [], UNAUTHENTICATED),
    ],
)
def test_bad_credentials_are_refused(
    secured: tuple[Deployment, dict[str, str]], description: str, make_params: Any, expected: int
) -> None:
    """Each kind of bad credential gets the unauthenticated fault, whatever the reason."""
    bridge, keys = secured
    assert xmlrpc_fault_code(bridge.url + "/rpc", "account.whoami", *make_params(keys)) == expected


def test_out_of_scope_procedure_is_forbidden(secured: tuple[Deployment, dict[str, str]]) -> None:
    """bob may call account.whoami only: account.transfer is forbidden (-32002), not unauthenticated."""
    bridge, keys = secured
    url = bridge.url + "/rpc"
    assert xmlrpc_fault_code(url, "account.whoami", *auth_params("bob", keys["bob"])) == "bob"
    assert (
        xmlrpc_fault_code(url, "account.transfer", *auth_params("bob", keys["bob"]), 5, "1234") == FORBIDDEN
    )


def test_failed_mac_does_not_burn_the_nonce(secured: tuple[Deployment, dict[str, str]]) -> None:
    """A forged signature with someone's nonce does not stop the real call with that nonce."""
    bridge, keys = secured
    good = auth_params("alice", keys["alice"])
    forged = [*good[:3], "0" * 64]
    assert xmlrpc_fault_code(bridge.url + "/rpc", "account.whoami", *forged) == UNAUTHENTICATED
    assert xmlrpc_fault_code(bridge.url + "/rpc", "account.whoami", *good) == "alice"


def json_with_header(bridge: Deployment, key: str, payload: Any, tamper: bool = False) -> tuple[int, Any]:
    body = json.dumps(payload).encode()
    header = authorization_header("alice", key, "POST", "/rpc", body)
    sent = body.replace(b"7", b"8") if tamper else body
    status, _, raw = post(bridge.url + "/rpc", sent, "application/json", {"Authorization": header})
    return status, json.loads(raw) if raw else None


def test_header_form_signs_the_body(secured: tuple[Deployment, dict[str, str]]) -> None:
    """The Authorization header form works, and a body changed after signing is refused."""
    bridge, keys = secured
    payload = {"jsonrpc": "2.0", "method": "account.transfer", "params": [7, "1234"], "id": 1}
    _, answer = json_with_header(bridge, keys["alice"], payload)
    assert answer["result"] == {"by": "alice", "amount": 7}
    _, tampered = json_with_header(bridge, keys["alice"], payload, tamper=True)
    assert tampered["error"]["code"] == UNAUTHENTICATED


def test_batch_with_one_set_of_credentials_is_checked_once(
    secured: tuple[Deployment, dict[str, str]],
) -> None:
    """A JSON-RPC batch whose members share one nonce works: credentials count once per HTTP request."""
    bridge, keys = secured
    params = auth_params("alice", keys["alice"])
    batch = [{"jsonrpc": "2.0", "method": "account.whoami", "params": params, "id": i} for i in range(3)]
    _, answers = json_rpc(bridge.url + "/rpc", batch)
    assert [a["result"] for a in answers] == ["alice"] * 3
    _, replay = json_rpc(bridge.url + "/rpc", batch[0])
    assert replay["error"]["code"] == UNAUTHENTICATED


def test_multicall_with_one_set_of_credentials_is_checked_once(
    secured: tuple[Deployment, dict[str, str]],
) -> None:
    """system.multicall with the same auth params in every entry works once, and not again."""
    bridge, keys = secured
    params = auth_params("alice", keys["alice"])
    with xmlrpc.client.ServerProxy(bridge.url + "/rpc") as proxy:
        multi = xmlrpc.client.MultiCall(proxy)
        multi.account.whoami(*params)
        multi.account.transfer(*params, 3, "0000")
        assert list(multi()) == ["alice", {"by": "alice", "amount": 3}]
        again = xmlrpc.client.MultiCall(proxy)
        again.account.whoami(*params)
        with pytest.raises(xmlrpc.client.Fault) as raised:
            list(again())
    assert raised.value.faultCode == UNAUTHENTICATED


def test_grpc_client_authenticates_with_metadata(secured: tuple[Deployment, dict[str, str]]) -> None:
    """A gRPC client signs method, path and serialized request in metadata, as the header form does."""
    bridge, keys = secured
    request = worker_pb2.InvokeRequest(procedure="account.whoami")
    body = request.SerializeToString()
    header = authorization_header("alice", keys["alice"], "POST", "/rpcbridge.v1.Worker/Invoke", body)
    fields = dict(part.strip().split("=", 1) for part in header.split(" ", 1)[1].split(","))
    metadata = [
        ("rpcbridge-auth-user", fields["Credential"]),
        ("rpcbridge-auth-nonce", fields["Nonce"]),
        ("rpcbridge-auth-timestamp", fields["Timestamp"]),
        ("rpcbridge-auth-signature", fields["Signature"]),
        ("rpcbridge-auth-method", "POST"),
        ("rpcbridge-auth-path", "/rpcbridge.v1.Worker/Invoke"),
        ("rpcbridge-auth-body-sha256", hashlib.sha256(body).hexdigest()),
    ]
    with grpc.insecure_channel(bridge.grpc_address) as channel:
        stub = worker_pb2_grpc.WorkerStub(channel)
        answer = stub.Invoke(request, metadata=metadata)
        assert from_value(answer.result) == "alice"
        with pytest.raises(grpc.RpcError) as raised:
            stub.Invoke(request, metadata=metadata)
    assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_worker_port_refuses_direct_calls(secured: tuple[Deployment, dict[str, str]]) -> None:
    """A client that reaches a worker's port directly gets UNAUTHENTICATED and nothing runs."""
    bridge, _ = secured
    with grpc.insecure_channel(bridge.workers[0].facts["address"]) as channel:
        stub = worker_pb2_grpc.WorkerStub(channel)
        request = worker_pb2.InvokeRequest(procedure="echo", params=[to_value("x")])
        with pytest.raises(grpc.RpcError) as raised:
            stub.Invoke(request, metadata=[("rpcbridge-caller", "alice")])
    assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_unauthenticated_procedures_need_no_credentials(secured: tuple[Deployment, dict[str, str]]) -> None:
    """Public procedures keep working without credentials."""
    bridge, _ = secured
    assert xmlrpc_fault_code(bridge.url + "/rpc", "echo", "open") == "open"


@pytest.mark.parametrize("form", ["params", "header"])
def test_documented_nodejs_client_signs_both_forms(
    secured: tuple[Deployment, dict[str, str]], form: str
) -> None:
    """examples/signed_call.js, the docs' non-Python client, authenticates with either form."""
    bridge, keys = secured
    script = Path(__file__).resolve().parents[2] / "examples" / "signed_call.js"
    completed = subprocess.run(
        ["node", str(script), bridge.url + "/rpc", "alice", keys["alice"], form],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert json.loads(completed.stdout) == {"jsonrpc": "2.0", "result": "alice", "id": 1}
