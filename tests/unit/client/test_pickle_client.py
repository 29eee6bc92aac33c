"""PickleClient against a stub pickle endpoint: signed requests, plain-data replies, faults, text errors."""

from __future__ import annotations

import datetime
import decimal
import hmac
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.auth.signing import header_signature, parse_authorization
from bridge.client import Fault, HTTPStatusError, InvalidReply, PickleClient
from tests.unit.client.conftest import ListSink
from tests.unit.client.stub_server import Answer, Received, StubServer

KEY = "pickle-key"
PICKLED = "application/python-pickle"


def endpoint(request: Received) -> Answer:
    """A pickle endpoint: checks the signature, then answers /pickle/echo and /pickle/fail."""
    creds = parse_authorization(request.headers["Authorization"], method="POST", path=request.path)
    expected = header_signature(
        KEY, "POST", request.path, creds.timestamp, creds.nonce, creds.username, request.body
    )
    if not hmac.compare_digest(creds.signature, expected):
        return Answer(401, "text/plain; charset=utf-8", b"bad signature")
    arguments = pickle.loads(request.body)
    if request.path.endswith("/pickle/echo"):
        return Answer(200, PICKLED, pickle.dumps({"user": creds.username, "arguments": arguments}))
    if request.path.endswith("/pickle/fail"):
        error = {"error": {"code": 4, "message": "no such thing", "data": {"why": "test"}}}
        return Answer(422, PICKLED, pickle.dumps(error))
    return Answer(404, "text/plain; charset=utf-8", b"no such procedure")


@pytest.fixture
def client(stub: StubServer) -> Iterator[PickleClient]:
    stub.respond = endpoint
    with PickleClient(stub.url + "/", "alice", KEY) as client:
        yield client


def test_signed_call_returns_the_result(client: PickleClient, stub: StubServer) -> None:
    """The request is signed over method, path and body; keywords alone are sent as a dict."""
    assert client.echo(a=1) == {"user": "alice", "arguments": {"a": 1}}
    assert stub.requests[0].path == "/pickle/echo"


def test_positional_args_go_as_a_pair(client: PickleClient) -> None:
    """Positional arguments are sent as (args, {}); mixing them with keywords is refused locally."""
    assert client.echo(1, 2)["arguments"] == ([1, 2], {})
    with pytest.raises(TypeError):
        client.echo(1, b=2)


def test_dotted_names_are_one_path_segment(client: PickleClient, stub: StubServer) -> None:
    """`client.math.add()` posts to /pickle/math.add."""
    with pytest.raises(HTTPStatusError):
        client.math.add(1, 2)
    assert stub.requests[0].path == "/pickle/math.add"


def test_pickled_error_becomes_a_fault(client: PickleClient) -> None:
    """A pickled {"error": {code, message, data}} with an error status raises that Fault."""
    with pytest.raises(Fault) as raised:
        client.fail()
    assert (raised.value.code, raised.value.message, raised.value.data) == (
        4,
        "no such thing",
        {"why": "test"},
    )


def test_text_error_is_an_http_status_error(client: PickleClient) -> None:
    """A text/plain 404 raises HTTPStatusError with its status and text."""
    with pytest.raises(HTTPStatusError) as raised:
        client.missing()
    assert (raised.value.status, raised.value.text) == (404, "no such procedure")


def test_wrong_key_is_refused_by_the_server(stub: StubServer) -> None:
    """A client with another key gets the server's 401 as an HTTPStatusError."""
    stub.respond = endpoint
    with PickleClient(stub.url, "alice", "wrong") as client, pytest.raises(HTTPStatusError) as raised:
        client.echo()
    assert raised.value.status == 401


def test_plain_data_replies_load_with_their_types(stub: StubServer) -> None:
    """Datetimes with offsets, Decimals, bytes and containers in a reply load with their types."""
    value = {
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        "utc": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
        "amount": decimal.Decimal("12.340"),
        "raw": b"\x00",
        "list": [2.5, None, True],
    }
    stub.respond = lambda _: Answer(200, PICKLED, pickle.dumps(value, protocol=4))
    with PickleClient(stub.url, "alice", KEY) as client:
        assert client.anything() == value


class Exploit:
    """Unpickling this calls a function; a safe loader must refuse before calling anything."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (print, ("should never run",))


def test_reply_with_a_callable_is_refused(stub: StubServer, capsys: pytest.CaptureFixture[str]) -> None:
    """A 200 reply that pickles a call to a global is an InvalidReply, and nothing runs."""
    stub.respond = lambda _: Answer(200, PICKLED, pickle.dumps(Exploit()))
    with PickleClient(stub.url, "alice", KEY) as client, pytest.raises(InvalidReply):
        client.echo()
    assert "should never run" not in capsys.readouterr().out


def test_pickle_call_is_recorded_with_the_user(
    client: PickleClient, sink: ListSink, stub: StubServer
) -> None:
    """Outgoing records of pickle calls carry the protocol and the signing user."""
    with PickleClient(stub.url, "alice", KEY, sidecar=sink) as logged:
        logged.echo(x=1)
    [record] = sink.records
    assert (record.protocol, record.user, record.outcome) == ("pickle", "alice", "ok")


def test_url_with_query_or_user_info_is_refused() -> None:
    """The signed path must be exactly what is sent, so the base URL takes no query or user info."""
    with pytest.raises(ValueError, match="query"):
        PickleClient("http://127.0.0.1:1/?x=1", "alice", KEY)
