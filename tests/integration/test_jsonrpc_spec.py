"""Every example of the JSON-RPC 2.0 specification (section 7), over HTTP through the real bridge."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.testing import Deployment
from tests.integration.conftest import json_rpc

NOTHING = None

# (request, expected response) verbatim from https://www.jsonrpc.org/specification#examples
SPEC_EXAMPLES: list[tuple[Any, Any]] = [
    (
        {"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1},
        {"jsonrpc": "2.0", "result": 19, "id": 1},
    ),
    (
        {"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2},
        {"jsonrpc": "2.0", "result": -19, "id": 2},
    ),
    (
        {"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3},
        {"jsonrpc": "2.0", "result": 19, "id": 3},
    ),
    (
        {"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4},
        {"jsonrpc": "2.0", "result": 19, "id": 4},
    ),
    ({"jsonrpc": "2.0", "method": "update", "params": [1, 2, 3, 4, 5]}, NOTHING),
    ({"jsonrpc": "2.0", "method": "foobar"}, NOTHING),
    (
        {"jsonrpc": "2.0", "method": "foobar", "id": "1"},
        {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"},
    ),
    (
        '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
        {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None},
    ),
    (
        {"jsonrpc": "2.0", "method": 1, "params": "bar"},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
    ),
    (
        '[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]',
        {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None},
    ),
    ([], {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}),
    ([1], [{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}]),
    (
        [1, 2, 3],
        [{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}] * 3,
    ),
    (
        [
            {"jsonrpc": "2.0", "method": "sum", "params": [1, 2, 4], "id": "1"},
            {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
            {"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": "2"},
            {"foo": "boo"},
            {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
            {"jsonrpc": "2.0", "method": "get_data", "id": "9"},
        ],
        [
            {"jsonrpc": "2.0", "result": 7, "id": "1"},
            {"jsonrpc": "2.0", "result": 19, "id": "2"},
            {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
            {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
            {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"},
        ],
    ),
    (
        [
            {"jsonrpc": "2.0", "method": "notify_sum", "params": [1, 2, 4]},
            {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        ],
        NOTHING,
    ),
]


@pytest.mark.parametrize(("request_body", "expected"), SPEC_EXAMPLES)
def test_specification_example_gets_exactly_the_specified_response(
    bridge: Deployment, request_body: Any, expected: Any
) -> None:
    """The bridge answers each spec example exactly as the spec shows (204 and no body for 'nothing')."""
    status, answer = json_rpc(bridge.url + "/rpc", request_body)
    assert answer == expected
    assert status == (204 if expected is NOTHING else 200)


def test_arity_error_is_invalid_params_before_the_procedure_runs(bridge: Deployment) -> None:
    """Too few arguments give -32602 with a readable reason in data."""
    _, answer = json_rpc(
        bridge.url + "/rpc", {"jsonrpc": "2.0", "method": "subtract", "params": [1], "id": 7}
    )
    assert answer["error"]["code"] == -32602
    assert answer["id"] == 7


def test_bytes_result_is_not_representable_in_json(bridge: Deployment) -> None:
    """A result JSON cannot express (bytes, datetime) is a clear -32007 error, not a silent change."""
    _, answer = json_rpc(bridge.url + "/rpc", {"jsonrpc": "2.0", "method": "types.all", "id": 1})
    assert answer["error"]["code"] == -32007


def test_big_integers_and_decimals_travel_exactly_in_json(bridge: Deployment) -> None:
    """Integers beyond 64 bits and decimals keep every digit."""
    _, answer = json_rpc(bridge.url + "/rpc", {"jsonrpc": "2.0", "method": "types.big", "id": 1})
    assert answer["result"]["big"] == 2**70
