"""`system.webhooks.*` on real processes: API users manage only their own listeners, refusals are faults."""

from __future__ import annotations

import asyncio
import json
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.auth.signing import auth_params, authorization_header
from bridge.faults import (
    FORBIDDEN,
    INVALID_LISTENER,
    INVALID_PARAMS,
    UNAUTHENTICATED,
    UNKNOWN_DELIVERY,
    UNKNOWN_LISTENER,
)
from bridge.settings import Settings, load_settings
from bridge.store.factory import open_stores
from bridge.store.records import REDACTED, CallFilter, CallRecord
from bridge.testing import Deployment, deployment, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, json_rpc, post
from tests.integration.test_authentication import rpcbridge

URL = "https://hooks.example.com/people"


@pytest.fixture(scope="module")
def api_bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, dict[str, str]]]:
    """The example worker behind a bridge with users alice, bob, and carol and dave with scopes."""
    scratch = tmp_path_factory.mktemp("webhook-api")
    # Arguments and results in the call log, to show that no auth param or secret is kept there.
    with deployment([EXAMPLE_WORKER], env={"RPCBRIDGE_LOG_ARGUMENTS": "true"}, scratch=scratch) as running:
        keys = {name: rpcbridge(scratch / "data", "users", "add", name) for name in ("alice", "bob")}
        keys["carol"] = rpcbridge(scratch / "data", "users", "add", "carol", "--scope", "people.*")
        keys["dave"] = rpcbridge(scratch / "data", "users", "add", "dave", "--scope", "system.webhooks.*")
        yield running, keys


def call(bridge: Deployment, keys: dict[str, str], user: str | None, method: str, *params: Any) -> Any:
    """One JSON-RPC call as `user` (the four auth params first), or anonymous; the reply object."""
    auth = auth_params(user, keys[user]) if user is not None else []
    payload = {"jsonrpc": "2.0", "method": method, "params": [*auth, *params], "id": 1}
    _, answer = json_rpc(bridge.url + "/rpc", payload)
    assert isinstance(answer, dict)
    return answer


def error_code(answer: dict[str, Any]) -> int:
    assert "error" in answer, answer
    return int(answer["error"]["code"])


def test_owner_adds_lists_and_removes_and_others_see_nothing(
    api_bridge: tuple[Deployment, dict[str, str]],
) -> None:
    """add answers {id, secret} once; list shows it to its owner only; another user gets -32011."""
    bridge, keys = api_bridge
    match = {"name": {"startswith": "Jo"}}
    added = call(bridge, keys, "alice", "system.webhooks.add", URL, ["person.saved"], match)["result"]
    assert set(added) == {"id", "secret"}
    assert added["id"].startswith("lst_") and added["secret"].startswith("whsec_")
    (listed,) = call(bridge, keys, "alice", "system.webhooks.list")["result"]
    assert listed["id"] == added["id"] and listed["url"] == URL
    assert listed["events"] == ["person.saved"] and listed["match"] == match and listed["enabled"] is True
    assert "secret" not in listed and added["secret"] not in repr(listed)
    assert call(bridge, keys, "bob", "system.webhooks.list")["result"] == []
    for method in ("system.webhooks.remove", "system.webhooks.deliveries"):
        assert error_code(call(bridge, keys, "bob", method, added["id"])) == UNKNOWN_LISTENER
        assert error_code(call(bridge, keys, "bob", method, "lst_missing")) == UNKNOWN_LISTENER
    assert call(bridge, keys, "alice", "system.webhooks.remove", added["id"])["result"] is True
    assert call(bridge, keys, "alice", "system.webhooks.list")["result"] == []


def test_deliveries_show_the_log_and_redeliver_is_owner_only(
    api_bridge: tuple[Deployment, dict[str, str]],
) -> None:
    """A matching event makes a delivery the owner sees and may redeliver; another user gets -32012."""
    bridge, keys = api_bridge
    added = call(bridge, keys, "alice", "system.webhooks.add", URL, ["person.saved"], {})["result"]
    saved = call(bridge, keys, None, "people.save", "Jo", {"city": "Berlin"}, "s3cret")
    assert "result" in saved, saved
    (delivery,) = call(bridge, keys, "alice", "system.webhooks.deliveries", added["id"])["result"]
    assert delivery["type"] == "person.saved" and delivery["event"].startswith("evt_")
    assert delivery["state"] in ("pending", "delivered", "failed")
    assert isinstance(delivery["attempts"], list)
    assert (
        error_code(call(bridge, keys, "bob", "system.webhooks.redeliver", delivery["id"])) == UNKNOWN_DELIVERY
    )
    assert call(bridge, keys, "alice", "system.webhooks.redeliver", delivery["id"])["result"] is True
    assert (
        error_code(call(bridge, keys, "alice", "system.webhooks.redeliver", "dlv_missing"))
        == UNKNOWN_DELIVERY
    )
    call(bridge, keys, "alice", "system.webhooks.remove", added["id"])


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (["https://127.0.0.1/hook", ["*"], {}], "loopback"),
        (["http://hooks.example.com/", ["*"], {}], "webhook_allow_http"),
        (["https://[::ffff:169.254.169.254]/", ["*"], {}], "link-local"),
        ([URL, ["not a type!"], {}], "not an event type"),
        ([URL, ["*", "person.saved"], {}], "'*' already takes every event type"),
        ([URL, ["*"], {"name": {"startwith": "Jo"}}], "startwith"),
        ([URL, ["*"], {"name": {"like": "(" * 300}}], "like"),
        ([URL, ["*"], ["not", "a", "struct"]], "filter"),
        ([URL, "person.saved", {}], "array of event type names"),
        ([42, ["*"], {}], "the url is a string"),
        (["mailto:ops@example.com", ["job.failed"], {}], "webhook_allow_mailto"),
    ],
)
def test_malformed_listener_is_refused_with_invalid_listener(
    api_bridge: tuple[Deployment, dict[str, str]], params: list[Any], reason: str
) -> None:
    """Every refused add is fault -32010 whose data names the problem; nothing is stored."""
    bridge, keys = api_bridge
    answer = call(bridge, keys, "alice", "system.webhooks.add", *params)
    assert error_code(answer) == INVALID_LISTENER
    assert reason in answer["error"]["data"]
    assert call(bridge, keys, "alice", "system.webhooks.list")["result"] == []


def test_authentication_and_arity_are_checked(api_bridge: tuple[Deployment, dict[str, str]]) -> None:
    """Without credentials -32001; with a wrong argument count -32602; never -32601 or -32603."""
    bridge, keys = api_bridge
    assert error_code(call(bridge, keys, None, "system.webhooks.list")) == UNAUTHENTICATED
    assert error_code(call(bridge, keys, None, "system.webhooks.add", URL, ["*"], {})) == UNAUTHENTICATED
    assert error_code(call(bridge, keys, "alice", "system.webhooks.remove")) == INVALID_PARAMS
    assert error_code(call(bridge, keys, "alice", "system.webhooks.list", "extra")) == INVALID_PARAMS


def test_scopes_apply_to_the_webhook_procedures(api_bridge: tuple[Deployment, dict[str, str]]) -> None:
    """A user whose scopes do not allow system.webhooks.* gets -32002; one whose scopes do may use them."""
    bridge, keys = api_bridge
    assert error_code(call(bridge, keys, "carol", "system.webhooks.list")) == FORBIDDEN
    assert call(bridge, keys, "dave", "system.webhooks.list")["result"] == []


def test_listed_described_and_usable_over_xml_rpc(api_bridge: tuple[Deployment, dict[str, str]]) -> None:
    """system.listMethods names the five; an XML-RPC client gets the same faults and answers."""
    bridge, keys = api_bridge
    with xmlrpc.client.ServerProxy(bridge.url + "/rpc", allow_none=True) as proxy:
        names = proxy.system.listMethods()
        for name in ("add", "list", "remove", "deliveries", "redeliver"):
            assert f"system.webhooks.{name}" in names
        assert "-32010" in proxy.system.methodHelp("system.webhooks.add")
        added = proxy.system.webhooks.add(*auth_params("bob", keys["bob"]), URL, ["*"], {})
        assert added["id"].startswith("lst_")
        with pytest.raises(xmlrpc.client.Fault) as refused:
            proxy.system.webhooks.remove(*auth_params("alice", keys["alice"]), added["id"])
        assert refused.value.faultCode == UNKNOWN_LISTENER
        assert proxy.system.webhooks.remove(*auth_params("bob", keys["bob"]), added["id"]) is True


def test_header_authentication_and_named_params(api_bridge: tuple[Deployment, dict[str, str]]) -> None:
    """With the Authorization header, JSON-RPC may name the params; match may be left out."""
    bridge, keys = api_bridge
    named = {"url": URL, "events": []}
    payload = {"jsonrpc": "2.0", "method": "system.webhooks.add", "params": named, "id": 7}
    body = json.dumps(payload).encode()
    header = authorization_header("bob", keys["bob"], "POST", "/rpc", body)
    status, _, raw = post(bridge.url + "/rpc", body, "application/json", {"Authorization": header})
    added = json.loads(raw)["result"]
    assert status == 200 and added["id"].startswith("lst_")
    (listed,) = call(bridge, keys, "bob", "system.webhooks.list")["result"]
    assert listed["events"] == ["*"] and listed["match"] == {}
    assert call(bridge, keys, "bob", "system.webhooks.remove", added["id"])["result"] is True


def test_call_log_keeps_neither_auth_params_nor_the_secret(
    api_bridge: tuple[Deployment, dict[str, str]],
) -> None:
    """With log_arguments on, add is logged with its caller and own arguments; the secret is redacted."""
    bridge, keys = api_bridge
    auth = auth_params("alice", keys["alice"])
    added = call_with(bridge, "system.webhooks.add", [*auth, URL, ["person.saved"], {}])["result"]
    call(bridge, keys, "alice", "system.webhooks.remove", added["id"])
    settings = load_settings(flags={"data_dir": bridge.scratch / "data"}, environ={})

    def logged() -> list[CallRecord]:
        return list(asyncio.run(_calls(settings, "system.webhooks.add")))

    def this_add() -> CallRecord | None:
        # The call log is written every half second: wait for a successful add of alice's, not
        # for any of her refused adds in the tests before, which may be all the log holds yet.
        return next((r for r in logged() if r.user == "alice" and r.outcome == "ok"), None)

    wait_until(lambda: this_add() is not None)
    record = this_add()
    assert record is not None and record.arguments is not None and URL in record.arguments
    assert auth[0] not in record.arguments and auth[3] not in record.arguments  # nonce, signature
    assert record.result == REDACTED and added["secret"] not in repr(record)


def call_with(bridge: Deployment, method: str, params: list[Any]) -> Any:
    _, answer = json_rpc(bridge.url + "/rpc", {"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
    return answer


async def _calls(settings: Settings, procedure: str) -> tuple[CallRecord, ...]:
    stores = await open_stores(settings)
    try:
        return (await stores.call_log.query(CallFilter(procedure=procedure))).records
    finally:
        await stores.close()
