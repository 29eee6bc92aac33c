"""XMLRPCPoint against a stub server: values, faults, param hooks, URLs and what it refuses to send."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.auth.signing import credentials_from_params, params_signature
from bridge.client import Fault, HTTPStatusError, InvalidReply, XMLRPCPoint, auth_params
from bridge.faults import VALUE_NOT_REPRESENTABLE
from bridge.protocols.xmlrpc import decode_call, encode_outcome
from tests.unit.client.stub_server import LIMITS, Answer, StubServer, xmlrpc_responder


def divide(a: float, b: float) -> float:
    if b == 0:
        raise Fault(1, "division by zero")
    return a / b


FUNCTIONS: dict[str, Any] = {
    "echo": lambda *values: list(values),
    "math.divide": divide,
}


@pytest.fixture
def point(stub: StubServer) -> Iterator[XMLRPCPoint]:
    stub.respond = xmlrpc_responder(FUNCTIONS)
    with XMLRPCPoint(stub.url + "/rpc") as point:
        yield point


def test_values_round_trip_with_their_types(point: XMLRPCPoint) -> None:
    """i8, nil, naive and aware datetimes, base64 bytes and nested containers come back unchanged."""
    values = [
        2**40,
        None,
        True,
        1.5,
        "  <&> text\r\n",
        b"\x00\xff",
        datetime.datetime(2026, 11, 22, 9, 30, 15),
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
        {"nested": [{"empty": {}}, []]},
    ]
    result = point.echo(*values)
    assert result == values
    assert [type(value) for value in result] == [type(value) for value in values]


def test_dotted_attributes_name_the_procedure(point: XMLRPCPoint, stub: StubServer) -> None:
    """`point.math.divide(6, 3)` calls "math.divide", like ServerProxy."""
    assert point.math.divide(6, 3) == 2.0
    assert decode_call(stub.requests[-1].body, LIMITS).procedure == "math.divide"


def test_fault_is_raised_with_code_and_message(point: XMLRPCPoint) -> None:
    """A methodResponse fault becomes bridge.errors.Fault with the server's code and message."""
    with pytest.raises(Fault) as raised:
        point.math.divide(1, 0)
    assert (raised.value.code, raised.value.message) == (1, "division by zero")


def test_call_reaches_names_the_point_shadows(point: XMLRPCPoint, stub: StubServer) -> None:
    """`point.call(name, ...)` calls procedures whose names are methods of the point, such as close."""
    stub.respond = xmlrpc_responder({"close": lambda: "closed by the server"})
    assert point.call("close") == "closed by the server"


def test_param_hook_prepends_rpcenable_auth_params(stub: StubServer) -> None:
    """With param_hook adding auth_params, the server gets four valid auth params, then the call's own."""
    received: list[tuple[Any, ...]] = []

    def whoami(*params: Any) -> str:
        received.append(params)
        credentials, rest = credentials_from_params(params)
        expected = params_signature("k3y", credentials.nonce, credentials.timestamp, credentials.username)
        assert credentials.signature == expected
        return f"{credentials.username} {list(rest)}"

    stub.respond = xmlrpc_responder({"whoami": whoami})
    with XMLRPCPoint(stub.url, param_hook=lambda p: auth_params("alice", "k3y") + p) as point:
        assert point.whoami("x") == "alice ['x']"
        assert point.whoami("y") == "alice ['y']"
    assert received[0][0] != received[1][0]  # a fresh nonce for every call


def test_unrepresentable_argument_faults_before_sending(point: XMLRPCPoint, stub: StubServer) -> None:
    """An int beyond 64 bits raises Fault(-32007) naming the param, and nothing is sent."""
    with pytest.raises(Fault) as raised:
        point.echo("fine", 2**70)
    assert raised.value.code == VALUE_NOT_REPRESENTABLE
    assert "params[1]" in str(raised.value.data)
    assert stub.requests == []


def test_keyword_arguments_are_refused(point: XMLRPCPoint) -> None:
    """XML-RPC has positional params only; keywords are a TypeError, not silently dropped."""
    with pytest.raises(TypeError):
        point.echo(value=1)


def test_url_without_path_posts_to_rpc2(stub: StubServer) -> None:
    """Like ServerProxy, a URL without a path means /RPC2."""
    stub.respond = xmlrpc_responder(FUNCTIONS)
    with XMLRPCPoint(stub.url) as point:
        point.echo()
    assert stub.requests[-1].path == "/RPC2"


def test_user_info_is_basic_auth_and_never_shown(stub: StubServer) -> None:
    """user:password in the URL goes out as HTTP Basic auth; the point's URL and repr omit it."""
    stub.respond = xmlrpc_responder(FUNCTIONS)
    port = stub.url.rsplit(":", 1)[1]
    with XMLRPCPoint(f"http://bob:s%40cret@127.0.0.1:{port}/rpc?token=abc") as point:
        point.echo()
    assert stub.requests[-1].headers["Authorization"] == "Basic " + base64.b64encode(b"bob:s@cret").decode()
    assert stub.requests[-1].path == "/rpc?token=abc"
    assert point.url == f"http://127.0.0.1:{port}/rpc"
    assert "cret" not in repr(point) and "token" not in repr(point)


def test_http_error_without_fault_is_an_http_status_error(stub: StubServer) -> None:
    """A 500 with an HTML page is a transport-side HTTPStatusError with the status and text."""
    stub.respond = lambda _: Answer(500, "text/html", b"<h1>Internal Server Error</h1>")
    with XMLRPCPoint(stub.url) as point, pytest.raises(HTTPStatusError) as raised:
        point.echo()
    assert raised.value.status == 500 and "Internal Server Error" in raised.value.text


def test_fault_sent_with_an_error_status_is_still_a_fault(stub: StubServer) -> None:
    """Servers that send their fault with HTTP 500 still produce the Fault, not a transport error."""
    stub.respond = lambda _: Answer(500, "text/xml", encode_outcome(Fault(7, "seven")))
    with XMLRPCPoint(stub.url) as point, pytest.raises(Fault) as raised:
        point.echo()
    assert raised.value.code == 7


def test_garbage_reply_is_an_invalid_reply(stub: StubServer) -> None:
    """HTTP 200 with a body that is no methodResponse raises InvalidReply, caused by the codec's fault."""
    stub.respond = lambda _: Answer(200, "text/xml", b"<html>hello</html>")
    with XMLRPCPoint(stub.url) as point, pytest.raises(InvalidReply) as raised:
        point.echo()
    assert isinstance(raised.value.__cause__, Fault)


def test_request_headers_carry_request_id_and_timeout(point: XMLRPCPoint, stub: StubServer) -> None:
    """Each request has its own X-Request-Id and tells the server the point's timeout."""
    point.echo()
    point.echo()
    first, second = (request.headers for request in stub.requests)
    assert first["X-Request-Id"] != second["X-Request-Id"]
    assert first["X-RPC-Timeout"] == "30.000"
    assert first["Content-Type"] == "text/xml"


def test_unsupported_scheme_is_refused() -> None:
    """Only http:// and https:// URLs make points."""
    with pytest.raises(ValueError, match="scheme"):
        XMLRPCPoint("ftp://127.0.0.1/rpc")
