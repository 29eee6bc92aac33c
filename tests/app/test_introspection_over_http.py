"""system.* introspection over both protocols, filtered by the API version of /rpc/v{N}."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bridge.faults import WORKER_UNAVAILABLE, fault
from tests.app.conftest import PROCEDURES, FakeInvoker
from tests.app.wire import json_error, json_result, xml_call

SYSTEM = [
    "system.getCapabilities",
    "system.jobResult",
    "system.jobStatus",
    "system.listEvents",
    "system.listMethods",
    "system.methodHelp",
    "system.methodSignature",
    "system.webhooks.add",
    "system.webhooks.deliveries",
    "system.webhooks.list",
    "system.webhooks.redeliver",
    "system.webhooks.remove",
]


async def test_list_methods_over_xmlrpc(client: TestClient[Any, Any], invoker: FakeInvoker) -> None:
    """listMethods on /rpc names every unversioned and versioned procedure plus system.*, sorted."""
    names = await xml_call(client, "system.listMethods")
    assert names == sorted([*PROCEDURES, *SYSTEM, "system.multicall"])
    assert invoker.calls == []


async def test_list_methods_over_jsonrpc_omits_multicall(client: TestClient[Any, Any]) -> None:
    """JSON-RPC has batches, not system.multicall, so its listMethods does not offer it."""
    names = await json_result(client, "system.listMethods")
    assert names == sorted([*PROCEDURES, *SYSTEM])


@pytest.mark.parametrize(
    ("version", "shown", "hidden"), [(1, "v1.only", "v2.only"), (2, "v2.only", "v1.only")]
)
async def test_versioned_path_filters_the_catalogue(
    client: TestClient[Any, Any], version: int, shown: str, hidden: str
) -> None:
    """/rpc/v{N} lists procedures for version N and unversioned ones, and hides the others."""
    names = await xml_call(client, "system.listMethods", path=f"/rpc/v{version}")
    assert shown in names
    assert hidden not in names
    assert "subtract" in names
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_call(client, "system.methodHelp", hidden, path=f"/rpc/v{version}")
    assert caught.value.faultCode == -32601


async def test_versioned_path_reaches_the_invoker(client: TestClient[Any, Any], invoker: FakeInvoker) -> None:
    """The version in the path travels in the context, and the invoker's routing applies."""
    assert await json_result(client, "v2.only", path="/rpc/v2") == "v2"
    assert invoker.calls[-1][1].api_version == 2
    assert (await json_error(client, "v2.only", path="/rpc/v1"))["code"] == -32601


@pytest.mark.parametrize("path", ["/rpc/v0", "/rpc/vx", "/rpc/v-1", "/rpc/v1234567890"])
async def test_bad_version_paths_are_not_found(client: TestClient[Any, Any], path: str) -> None:
    """Only /rpc/v{N} with N a positive integer (of at most nine digits) is an RPC route."""
    response = await client.post(path, data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status == 404


async def test_method_help(client: TestClient[Any, Any]) -> None:
    """methodHelp returns the procedure's help, "" when it has none, and help for system names."""
    assert await xml_call(client, "system.methodHelp", "subtract") == "Subtract subtrahend from minuend."
    assert await xml_call(client, "system.methodHelp", "get_data") == ""
    assert "names" in await xml_call(client, "system.methodHelp", "system.listMethods")
    assert "XML-RPC only" in await xml_call(client, "system.methodHelp", "system.multicall")


async def test_method_help_by_name_over_jsonrpc(client: TestClient[Any, Any]) -> None:
    """JSON-RPC clients may name the argument: {"name": "subtract"}."""
    help_text = await json_result(client, "system.methodHelp", {"name": "subtract"})
    assert help_text == "Subtract subtrahend from minuend."


async def test_method_signature(client: TestClient[Any, Any]) -> None:
    """methodSignature gives [return, params...] in XML-RPC type names, or "undef" when unknown."""
    assert await xml_call(client, "system.methodSignature", "subtract") == [["int", "int", "int"]]
    assert await xml_call(client, "system.methodSignature", "echo") == "undef"
    assert await xml_call(client, "system.methodSignature", "system.methodHelp") == [["string", "string"]]


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("system.methodHelp", ("no.such",), -32601),
        ("system.methodSignature", ("no.such",), -32601),
        ("system.methodHelp", (), -32602),
        ("system.methodHelp", ("a", "b"), -32602),
        ("system.methodSignature", (5,), -32602),
        ("system.listMethods", ("extra",), -32602),
        ("system.getCapabilities", (1,), -32602),
    ],
)
async def test_introspection_faults(
    client: TestClient[Any, Any], method: str, params: tuple[Any, ...], code: int
) -> None:
    """Unknown names are method-not-found; wrong arity or type is invalid-params."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_call(client, method, *params)
    assert caught.value.faultCode == code


async def test_get_capabilities(client: TestClient[Any, Any]) -> None:
    """getCapabilities advertises faults_interop, introspection, multicall, nil and json-rpc."""
    capabilities = await xml_call(client, "system.getCapabilities")
    assert capabilities["faults_interop"] == {
        "specUrl": "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php",
        "specVersion": 20010516,
    }
    assert capabilities["multicall"] == {
        "specUrl": "http://www.xmlrpc.com/discuss/msgReader$1208",
        "specVersion": 1,
    }
    assert capabilities["nil"] == {
        "specUrl": "http://ontosys.com/xml-rpc/extensions.php",
        "specVersion": 20010518,
    }
    assert capabilities["json-rpc"]["specVersion"] == "2.0"
    assert "introspection" in capabilities
    assert await json_result(client, "system.getCapabilities") == capabilities


async def test_unavailable_catalogue_is_a_fault(client: TestClient[Any, Any], invoker: FakeInvoker) -> None:
    """When the invoker cannot list procedures, introspection answers with its fault."""
    invoker.catalogue_fault = fault(WORKER_UNAVAILABLE, "Worker unavailable: sidecar down")
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_call(client, "system.listMethods")
    assert (caught.value.faultCode, caught.value.faultString) == (-32004, "Worker unavailable: sidecar down")
