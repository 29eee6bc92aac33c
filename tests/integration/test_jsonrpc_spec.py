"""Every example of the JSON-RPC 2.0 specification (section 7), over HTTP through the real bridge."""

from __future__ import annotations

import json

import pytest

from bridge.testing import Deployment
from tests.integration.conftest import json_rpc
from tests.jsonrpc_spec_examples import SPEC_EXAMPLES


@pytest.mark.parametrize(("request_body", "expected"), SPEC_EXAMPLES.values(), ids=SPEC_EXAMPLES.keys())
def test_specification_example_gets_exactly_the_specified_response(
    bridge: Deployment, request_body: str, expected: str | None
) -> None:
    """The bridge answers each spec example exactly as the spec shows (204 and no body for 'nothing')."""
    status, answer = json_rpc(bridge.url + "/rpc", request_body)
    assert answer == (None if expected is None else json.loads(expected))
    assert status == (204 if expected is None else 200)


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
