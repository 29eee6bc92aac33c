"""JSON-RPC 2.0 over HTTP: every example of the specification's section 7, byte for byte in meaning."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.app.conftest import FakeInvoker
from tests.app.wire import json_post
from tests.jsonrpc_spec_examples import SPEC_EXAMPLES


def _canonical(reply: Any) -> Any:
    """A batch reply in a fixed order: section 6 lets the server answer a batch in any order."""
    if isinstance(reply, list):
        return sorted(reply, key=lambda member: json.dumps(member, sort_keys=True))
    return reply


@pytest.mark.parametrize(("body", "expected"), SPEC_EXAMPLES.values(), ids=SPEC_EXAMPLES.keys())
async def test_spec_section_7_example(client: TestClient[Any, Any], body: str, expected: str | None) -> None:
    """Each section 7 example gets exactly the reply the spec shows, and 204 where it shows nothing."""
    reply = await json_post(client, body)
    assert _canonical(reply) == _canonical(None if expected is None else json.loads(expected))


async def test_notifications_are_invoked_though_unanswered(
    client: TestClient[Any, Any], invoker: FakeInvoker
) -> None:
    """A notification still runs its procedure (section 4.1 forbids the reply, not the call)."""
    assert await json_post(client, {"jsonrpc": "2.0", "method": "update", "params": [1, 2]}) is None
    assert invoker.procedures_called() == ["update"]


async def test_batch_members_share_one_context(client: TestClient[Any, Any], invoker: FakeInvoker) -> None:
    """Every member of a batch, notifications included, travels with the same CallContext."""
    batch = [
        {"jsonrpc": "2.0", "method": "get_data", "id": 1},
        {"jsonrpc": "2.0", "method": "update", "params": [1]},
        {"jsonrpc": "2.0", "method": "echo", "params": [3], "id": 2},
    ]
    await json_post(client, batch)
    contexts = [context for _, context in invoker.calls]
    assert len(contexts) == 3
    assert all(context is contexts[0] for context in contexts)


async def test_batch_members_run_concurrently(client: TestClient[Any, Any]) -> None:
    """Batch members run at the same time: each "meet" call returns only once all three are running."""
    batch = [{"jsonrpc": "2.0", "method": "meet", "params": [3], "id": n} for n in range(3)]
    replies = await json_post(client, batch)
    assert [reply.get("result") for reply in replies] == [3, 3, 3]


async def test_batch_replies_keep_request_order(client: TestClient[Any, Any]) -> None:
    """Replies to a batch come back in request order, though members run concurrently."""
    batch = [
        {"jsonrpc": "2.0", "method": "slow", "params": [0.05], "id": "late"},
        {"jsonrpc": "2.0", "method": "echo", "params": ["x"], "id": "early"},
    ]
    assert [member["id"] for member in await json_post(client, batch)] == ["late", "early"]


async def test_batch_over_the_limit_is_refused_whole(
    client: TestClient[Any, Any], invoker: FakeInvoker
) -> None:
    """A batch longer than max_batch gets one error (id null) and runs nothing."""
    batch = [{"jsonrpc": "2.0", "method": "get_data", "id": n} for n in range(11)]
    reply = await json_post(client, batch)
    assert reply["id"] is None
    assert reply["error"]["code"] == -32006
    assert invoker.calls == []


async def test_application_fault_keeps_its_code(client: TestClient[Any, Any]) -> None:
    """A Fault raised by a procedure reaches the client with its own code and message."""
    reply = await json_post(client, {"jsonrpc": "2.0", "method": "fail", "id": 7})
    assert reply == {"jsonrpc": "2.0", "error": {"code": 4, "message": "no such user"}, "id": 7}


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json-rpc", "application/jsonrequest"]
)
async def test_every_json_media_type_speaks_jsonrpc(client: TestClient[Any, Any], content_type: str) -> None:
    """Each JSON media type the design lists is answered as JSON-RPC."""
    reply = await json_post(
        client,
        {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": 1},
        headers={"Content-Type": f"{content_type}; charset=utf-8"},
    )
    assert reply == {"jsonrpc": "2.0", "result": 2, "id": 1}
