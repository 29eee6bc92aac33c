"""Pickle-over-HTTP end to end: signed pickled calls work; unsigned, tampered and hostile ones are refused."""

from __future__ import annotations

import datetime
import decimal
import json
import pickle
import subprocess
import sys
import uuid
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.auth.signing import authorization_header
from bridge.testing import Deployment, deployment
from tests.integration.conftest import EXAMPLE_WORKER, post
from tests.unit.pickle import corpus

PICKLE = "application/python-pickle"
UNAUTHENTICATED = -32001
FORBIDDEN = -32002


def rpcbridge(data_dir: Path, *args: str) -> str:
    """Run the rpcbridge command on the deployment's store; its stdout."""
    command = [sys.executable, "-m", "bridge", *args, "--data-dir", str(data_dir)]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout.strip()


@pytest.fixture(scope="module")
def enabled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, dict[str, str]]]:
    """A deployment with pickle enabled; alice may call anything, bob only account.whoami."""
    scratch = tmp_path_factory.mktemp("pickle")
    env = {"RPCBRIDGE_PICKLE_ENABLED": "true"}
    with deployment([EXAMPLE_WORKER], scratch=scratch, env=env) as running:
        data = scratch / "data"
        keys = {
            "alice": rpcbridge(data, "users", "add", "alice"),
            "bob": rpcbridge(data, "users", "add", "bob", "--scope", "account.whoami"),
        }
        yield running, keys


def call(
    bridge: Deployment,
    procedure: str,
    body: bytes,
    key: str | None,
    user: str = "alice",
    sent: bytes | None = None,
    header: str | None = None,
) -> tuple[int, str, bytes]:
    """POST a pickle, signed by `user` with `key` unless key is None; status, Content-Type, body.

    Args:
        sent: the body actually sent, when it differs from the one signed (tampering).
        header: an Authorization header to send as it is.
    """
    path = f"/pickle/{procedure}"
    headers = {}
    if header is not None:
        headers["Authorization"] = header
    elif key is not None:
        headers["Authorization"] = authorization_header(user, key, "POST", path, body)
    status, answer_headers, raw = post(bridge.url + path, body if sent is None else sent, PICKLE, headers)
    return status, answer_headers.get("Content-Type", ""), raw


def error_of(raw: bytes) -> dict[str, Any]:
    """The error dict of a pickled fault reply."""
    answer = pickle.loads(raw)
    return dict(answer["error"])


def test_kwargs_call_returns_the_pickled_result(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """POST /pickle/math.add with a pickled {"a": 1, "b": 2}: 200 and a pickled 3."""
    bridge, keys = enabled
    status, content_type, raw = call(bridge, "math.add", pickle.dumps({"a": 1, "b": 2}), keys["alice"])
    assert (status, content_type) == (200, PICKLE)
    assert pickle.loads(raw) == 3


@pytest.mark.parametrize("payload", [((1, 2), {}), ([1, 2], {}), ((), {"a": 1, "b": 2})])
def test_args_kwargs_pair_calls(enabled: tuple[Deployment, dict[str, str]], payload: Any) -> None:
    """The (args, kwargs) form calls by position, or by name when args is empty."""
    bridge, keys = enabled
    status, _, raw = call(bridge, "math.add", pickle.dumps(payload, 2), keys["alice"])
    assert (status, pickle.loads(raw)) == (200, 3)


def test_values_keep_their_types(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """datetime (naive and aware), Decimal, bytes and a big int go to the worker and back unchanged."""
    bridge, keys = enabled
    value = {
        "naive": datetime.datetime(2026, 1, 2, 3, 4, 5, 6),
        "aware": datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
        "decimal": decimal.Decimal("12.340"),
        "bytes": b"\x00\xff",
        "big": 2**80,
    }
    status, _, raw = call(bridge, "echo.any", pickle.dumps({"value": value}), keys["alice"])
    assert status == 200
    echoed = pickle.loads(raw)
    assert (echoed, [type(v) for v in echoed.values()]) == (value, [type(v) for v in value.values()])


PLUS_2 = datetime.timezone(datetime.timedelta(hours=2))
# What types.python returns: one of each of Python's own types.
PYTHON_VALUES: dict[str, Any] = {
    "tuple": (1, "two"),
    "set": {3},
    "frozenset": frozenset({"four"}),
    "date": datetime.date(2026, 11, 22),
    "time": datetime.time(9, 30, 15, 5, tzinfo=PLUS_2),
    "timedelta": datetime.timedelta(days=1, seconds=1, microseconds=500_000),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "complex": 1.5 - 2j,
}


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_python_types_reach_the_worker_as_themselves(
    enabled: tuple[Deployment, dict[str, str]], protocol: int
) -> None:
    """The worker's types.names sees a real tuple, set, date, UUID...; nothing arrives as a list or text."""
    bridge, keys = enabled
    sent = {**PYTHON_VALUES, "nested": [(PYTHON_VALUES["date"], {PYTHON_VALUES["uuid"]})]}
    status, _, raw = call(bridge, "types.names", pickle.dumps({"value": sent}, protocol), keys["alice"])
    assert (status, pickle.loads(raw)) == (
        200,
        {
            "tuple": ["tuple", ["int", "str"]],
            "set": ["set", ["int"]],
            "frozenset": ["frozenset", ["str"]],
            "date": "date",
            "time": "time",
            "timedelta": "timedelta",
            "uuid": "UUID",
            "complex": "complex",
            "nested": ["list", [["tuple", ["date", ["set", ["UUID"]]]]]],
        },
    )


def test_python_types_echo_back_to_a_pickle_client_unchanged(
    enabled: tuple[Deployment, dict[str, str]],
) -> None:
    """Sent to echo.any and returned: every value comes back equal and of the very same type."""
    bridge, keys = enabled
    status, _, raw = call(bridge, "echo.any", pickle.dumps({"value": PYTHON_VALUES}), keys["alice"])
    echoed = pickle.loads(raw)
    assert (status, echoed) == (200, PYTHON_VALUES)
    assert {name: type(value) for name, value in echoed.items()} == {
        name: type(value) for name, value in PYTHON_VALUES.items()
    }


def test_python_types_returned_by_a_worker_reach_a_pickle_client(
    enabled: tuple[Deployment, dict[str, str]],
) -> None:
    """types.python's result, built in the worker, unpickles to the same Python values."""
    bridge, keys = enabled
    status, _, raw = call(bridge, "types.python", pickle.dumps({}), keys["alice"])
    result = pickle.loads(raw)
    assert (status, result, type(result["tuple"]), type(result["uuid"])) == (
        200,
        PYTHON_VALUES,
        tuple,
        uuid.UUID,
    )


# types.python as XML-RPC and JSON-RPC clients read it; only a date differs between the two.
NEAREST: dict[str, Any] = {
    "tuple": [1, "two"],
    "set": [3],
    "frozenset": ["four"],
    "time": "09:30:15.000005+02:00",
    "timedelta": 86401.5,
    "uuid": "12345678-1234-5678-1234-567812345678",
    "complex": [1.5, -2.0],
}


def test_xmlrpc_clients_get_the_nearest_xmlrpc_types(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """Python's xmlrpc.client reads types.python as arrays, a dateTime, strings and a double."""
    bridge, _ = enabled
    with xmlrpc.client.ServerProxy(bridge.url + "/rpc", use_builtin_types=True) as proxy:
        result = proxy.types.python()
    assert result == {**NEAREST, "date": datetime.datetime(2026, 11, 22)}


def test_jsonrpc_clients_get_the_nearest_json_types(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """A JSON-RPC client reads types.python as arrays, ISO 8601 strings and a number of seconds."""
    bridge, _ = enabled
    request = json.dumps({"jsonrpc": "2.0", "method": "types.python", "id": 1}).encode()
    status, _, raw = post(bridge.url + "/rpc", request, "application/json")
    assert (status, json.loads(raw)["result"]) == (200, {**NEAREST, "date": "2026-11-22"})


def test_application_fault_is_a_pickled_error_dict(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """math.divide by zero: HTTP 422 and {"error": {"code": 1, "message": ..., "data": None}}."""
    bridge, keys = enabled
    status, content_type, raw = call(bridge, "math.divide", pickle.dumps({"a": 1, "b": 0}), keys["alice"])
    assert (status, content_type) == (422, PICKLE)
    assert error_of(raw) == {"code": 1, "message": "division by zero", "data": None}


@pytest.mark.parametrize(
    ("procedure", "payload", "status", "code"),
    [("no.such", {}, 404, -32601), ("math.add", {"a": 1}, 400, -32602)],
    ids=["unknown procedure", "missing argument"],
)
def test_bridge_faults_carry_their_http_status(
    enabled: tuple[Deployment, dict[str, str]], procedure: str, payload: Any, status: int, code: int
) -> None:
    """Method not found is 404 and invalid params 400, each with its pickled error dict."""
    bridge, keys = enabled
    got, content_type, raw = call(bridge, procedure, pickle.dumps(payload), keys["alice"])
    assert (got, content_type, error_of(raw)["code"]) == (status, PICKLE, code)


def test_unsigned_request_is_401_text(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """No Authorization header: 401 text/plain naming the scheme, before the body is unpickled."""
    bridge, _ = enabled
    status, content_type, raw = call(bridge, "math.add", pickle.dumps({"a": 1, "b": 2}), key=None)
    assert (status, content_type) == (401, "text/plain; charset=utf-8")
    assert b"RPCBRIDGE-HMAC-SHA256" in raw


def test_malformed_authorization_is_401_text(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """An Authorization header of another scheme is refused as plain text."""
    bridge, _ = enabled
    status, content_type, raw = call(bridge, "math.add", pickle.dumps({}), None, header="Basic YWxpY2U6eA==")
    assert (status, content_type) == (401, "text/plain; charset=utf-8")
    assert raw.startswith(b"Unauthenticated: Authorization scheme is not RPCBRIDGE-HMAC-SHA256")


@pytest.mark.parametrize(
    ("description", "tamper"),
    [
        (
            "body changed after signing",
            lambda body, keys: call_args(body, keys, sent=pickle.dumps({"a": 1, "b": 9})),
        ),
        ("wrong key", lambda body, keys: call_args(body, keys, key=keys["bob"])),
        ("unknown user", lambda body, keys: call_args(body, keys, user="mallory")),
    ],
)
def test_bad_signatures_are_401(
    enabled: tuple[Deployment, dict[str, str]], description: str, tamper: Any
) -> None:
    """The sidecar checks the signature over the body even though math.add is not auth=True."""
    bridge, keys = enabled
    status, content_type, raw = call(bridge, "math.add", **tamper(pickle.dumps({"a": 1, "b": 2}), keys))
    assert (status, content_type, error_of(raw)["code"]) == (401, PICKLE, UNAUTHENTICATED)


def call_args(body: bytes, keys: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return {"body": body, "key": keys["alice"], **overrides}


def test_replayed_request_is_refused(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """The same signed request sent twice: the second is 401 (the nonce was used)."""
    bridge, keys = enabled
    body = pickle.dumps({"a": 1, "b": 2})
    header = authorization_header("alice", keys["alice"], "POST", "/pickle/math.add", body)
    assert call(bridge, "math.add", body, None, header=header)[0] == 200
    status, _, raw = call(bridge, "math.add", body, None, header=header)
    assert (status, error_of(raw)["code"]) == (401, UNAUTHENTICATED)


def test_scopes_apply_to_pickle_callers(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """bob, scoped to account.whoami, may not call math.add over pickle (403), but may call whoami."""
    bridge, keys = enabled
    status, _, raw = call(bridge, "math.add", pickle.dumps({"a": 1, "b": 2}), keys["bob"], user="bob")
    assert (status, error_of(raw)["code"]) == (403, FORBIDDEN)
    status, _, raw = call(bridge, "account.whoami", pickle.dumps({}), keys["bob"], user="bob")
    assert (status, pickle.loads(raw)) == (200, "bob")


def test_oversized_body_is_400_text(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """A body over max_body_bytes (1 MiB) is refused with 400 and a plain-text reason."""
    bridge, keys = enabled
    body = pickle.dumps({"value": b"x" * (1 << 20)})
    status, content_type, raw = call(bridge, "echo.any", body, keys["alice"])
    assert (status, content_type) == (400, "text/plain; charset=utf-8")
    assert raw.startswith(b"Request too large")


def test_hostile_pickles_are_400_text_and_the_bridge_keeps_serving(
    enabled: tuple[Deployment, dict[str, str]], tmp_path: Path
) -> None:
    """Every corpus body, signed by a real user: 400 text/plain, nothing runs, and calls still work."""
    bridge, keys = enabled
    marker = tmp_path / "marker"
    answers = {}
    for case in corpus.cases(marker):
        status, content_type, raw = call(bridge, "echo.any", case.body, keys["alice"])
        answers[case.name] = (status, content_type, case.reason in raw.decode())
    assert {name: a for name, a in answers.items() if a != (400, "text/plain; charset=utf-8", True)} == {}
    assert not marker.exists()
    assert call(bridge, "math.add", pickle.dumps({"a": 2, "b": 2}), keys["alice"])[0] == 200
    assert bridge.frontend.process.poll() is None
    assert "Traceback" not in bridge.frontend.log()


def test_hostile_pickle_with_a_forged_signature_is_still_refused_unloaded(
    enabled: tuple[Deployment, dict[str, str]], tmp_path: Path
) -> None:
    """The frontend holds no keys, so a forged header gets as far as the audit, which refuses the pickle."""
    bridge, _ = enabled
    marker = tmp_path / "marker"
    body = corpus.kwargs(corpus.call(corpus.global_("os", "system"), corpus.text(f"touch {marker}")))
    forged = authorization_header("alice", "not-the-key", "POST", "/pickle/echo.any", body)
    status, content_type, raw = call(bridge, "echo.any", body, None, header=forged)
    assert (status, content_type) == (400, "text/plain; charset=utf-8")
    assert b"os.system is not on the allow-list" in raw
    assert not marker.exists()


def test_introspection_is_not_served_over_pickle(enabled: tuple[Deployment, dict[str, str]]) -> None:
    """system.listMethods would bypass the sidecar's signature check: 404 text, even when signed."""
    bridge, keys = enabled
    status, content_type, raw = call(bridge, "system.listMethods", pickle.dumps({}), keys["alice"])
    assert (status, content_type) == (404, "text/plain; charset=utf-8")
    assert raw.startswith(b"system.* introspection is not served over pickle-over-HTTP")


def test_disabled_endpoint_is_404_text(bridge: Deployment) -> None:
    """A deployment without RPCBRIDGE_PICKLE_ENABLED answers 404 in plain text, whatever is sent."""
    status, content_type, raw = call(bridge, "math.add", pickle.dumps({"a": 1, "b": 2}), key=None)
    assert (status, content_type) == (404, "text/plain; charset=utf-8")
    assert raw == b"pickle-over-HTTP is disabled (pickle_enabled)\n"
