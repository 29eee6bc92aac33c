"""XML-RPC through the real bridge with Python's xmlrpc.client: values, faults, introspection, multicall."""

from __future__ import annotations

import datetime
import runpy
import xmlrpc.client

import pytest

from bridge.testing import Deployment
from tests.integration.conftest import EXAMPLE_WORKER, ProxyFactory, post
from tests.neutral_values import same


def test_echo_round_trips_a_string(xmlrpc_proxy: ProxyFactory) -> None:
    """A plain XML-RPC call reaches the worker and its result comes back."""
    assert xmlrpc_proxy().echo("  hello <world> &\n\t ") == "  hello <world> &\n\t "


def test_every_value_type_keeps_its_type(xmlrpc_proxy: ProxyFactory) -> None:
    """base64 stays bytes, dateTime stays datetime, i8 stays int, nil stays None, structs nest."""
    sent = runpy.run_path(EXAMPLE_WORKER)["all_types"]()
    assert same(xmlrpc_proxy().types.all(), sent)


@pytest.mark.parametrize(
    "value",
    [
        0,
        -(2**31),
        2**31 - 1,
        1.5,
        float("inf"),
        "",
        "ünïcødé ✓",
        b"",
        b"\xff\x00",
        datetime.datetime(1999, 12, 31, 23, 59, 59),
        True,
        False,
        None,
        [],
        {},
        [[{"a": [1]}]],
    ],
)
def test_values_round_trip_through_the_bridge(xmlrpc_proxy: ProxyFactory, value: object) -> None:
    """Each XML-RPC value sent to echo.any comes back with the same type and value."""
    assert same(xmlrpc_proxy().echo.any(value), value)


def test_a_value_xmlrpc_cannot_carry_is_a_clear_fault(xmlrpc_proxy: ProxyFactory) -> None:
    """A big int / Decimal result is refused with -32007, never silently changed."""
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_proxy().types.big()
    assert raised.value.faultCode == -32007


def test_application_fault_reaches_the_client(xmlrpc_proxy: ProxyFactory) -> None:
    """bridge.Fault(code, message) raised by a procedure arrives as that XML-RPC fault."""
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_proxy().math.divide(1, 0)
    assert (raised.value.faultCode, raised.value.faultString) == (1, "division by zero")


def test_crash_is_an_internal_error_without_the_traceback(xmlrpc_proxy: ProxyFactory) -> None:
    """Any other exception becomes -32603 and its text never reaches the client."""
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_proxy().fail.crash()
    assert raised.value.faultCode == -32603
    assert "secret" not in raised.value.faultString
    assert "Traceback" not in raised.value.faultString


def test_unknown_method_and_wrong_arity_use_interop_codes(xmlrpc_proxy: ProxyFactory) -> None:
    """-32601 for an unknown procedure, -32602 for the wrong number of arguments."""
    with pytest.raises(xmlrpc.client.Fault) as unknown:
        xmlrpc_proxy().no.such.method()
    assert unknown.value.faultCode == -32601
    with pytest.raises(xmlrpc.client.Fault) as arity:
        xmlrpc_proxy().math.add(1)
    assert arity.value.faultCode == -32602


def test_introspection_lists_helps_and_signs(xmlrpc_proxy: ProxyFactory) -> None:
    """system.listMethods / methodHelp / methodSignature answer from the workers' catalogue."""
    server = xmlrpc_proxy()
    methods = server.system.listMethods()
    assert {"echo", "math.add", "system.multicall", "system.listMethods"} <= set(methods)
    assert server.system.methodHelp("math.add") == "Add two integers."
    assert server.system.methodSignature("math.add") == [["int", "int", "int"]]
    assert server.system.methodSignature("echo") == [["string"], ["string", "string"]]
    assert "faults_interop" in server.system.getCapabilities()


def test_multicall_runs_each_entry_and_keeps_faults_in_place(xmlrpc_proxy: ProxyFactory) -> None:
    """system.multicall returns [result] per success and a fault struct per failure, in order."""
    multi = xmlrpc.client.MultiCall(xmlrpc_proxy())
    multi.echo("a")
    multi.math.divide(1, 0)
    multi.math.add(2, 3)
    results = multi()
    assert results[0] == "a"
    with pytest.raises(xmlrpc.client.Fault):
        results[1]
    assert results[2] == 5


def test_rpc2_alias_and_versioned_endpoints(xmlrpc_proxy: ProxyFactory) -> None:
    """/RPC2 is /rpc; /rpc/v1 reaches only version-1 procedures (and unversioned ones)."""
    assert xmlrpc_proxy("/RPC2").echo("x") == "x"
    assert xmlrpc_proxy("/rpc/v1").v1.hello("Ann") == "Hello, Ann"
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_proxy("/rpc/v1").v2.hello("Ann")
    assert raised.value.faultCode == -32601
    assert xmlrpc_proxy("/rpc/v2").v2.hello("Ann", "Hi") == "Hi, Ann!"
    assert "v2.hello" not in xmlrpc_proxy("/rpc/v1").system.listMethods()


@pytest.mark.parametrize("number", [2**31, -(2**63), 2**63 - 1])
def test_i8_values_round_trip(bridge: Deployment, number: int) -> None:
    """<i8> (which xmlrpc.client cannot send) comes back as <i8> with the same value."""
    body = xmlrpc.client.dumps((0,), "echo.any").replace("<int>0</int>", f"<i8>{number}</i8>").encode()
    status, _, raw = post(bridge.url + "/rpc", body, "text/xml")
    assert status == 200
    assert f"<i8>{number}</i8>".encode() in raw
    assert xmlrpc.client.loads(raw)[0] == (number,)
