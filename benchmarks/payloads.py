"""The calls the scenarios serve, as XML-RPC and JSON-RPC bodies, and the checks on their answers.

Every scenario serves `echo(TOKEN)`; the authenticated scenario calls `account.whoami`, whose
bodies carry fresh rpcenable auth params each (a nonce is good once). A fast wrong server must
not win: wrk's Lua hook checks every answer, and `verify` checks one answer exactly before any
load is sent. Imports `bridge.auth.signing` only, for the signatures.
"""

from __future__ import annotations

import json
import time
import xmlrpc.client
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bridge.auth.signing import auth_params

TOKEN = "rpcbridge-bench-echo-7f3a"  # noqa: S105 -- the echoed text, not a credential
BENCH_USER = "benchuser"

ProtocolName = Literal["XML-RPC", "JSON-RPC"]


@dataclass(frozen=True, slots=True)
class ApiUser:
    """An API user the run created in a deployment's store, and its key."""

    name: str
    key: str


@dataclass(frozen=True, slots=True)
class Payload:
    """One call in one protocol, and what a correct answer to it looks like."""

    protocol: ProtocolName
    method: str
    params: tuple[Any, ...]
    # The result a correct answer carries; wrk checks that every answer contains it as text.
    expect: str
    # Each request needs its own rpcenable auth params (nonce, timestamp, user, signature) first.
    signed: bool = False

    @property
    def content_type(self) -> str:
        """The request's Content-Type."""
        return "text/xml" if self.protocol == "XML-RPC" else "application/json"

    @property
    def forbid(self) -> str:
        """Text no correct answer contains: an XML-RPC fault or a JSON-RPC error member."""
        return "<fault>" if self.protocol == "XML-RPC" else '"error"'

    def body(self, auth: Sequence[Any] = ()) -> bytes:
        """The request body, with `auth` params (if any) before the call's own."""
        params = (*auth, *self.params)
        if self.protocol == "XML-RPC":
            return xmlrpc.client.dumps(params, self.method).encode()
        return json.dumps({"jsonrpc": "2.0", "method": self.method, "params": params, "id": 1}).encode()

    def verify(self, status: int, answer: bytes) -> str | None:
        """None when `answer` is exactly a success carrying `expect`, else what is wrong with it."""
        if status != 200:
            return f"HTTP status {status}"
        try:
            if self.protocol == "XML-RPC":
                result = xmlrpc.client.loads(answer, use_builtin_types=True)[0][0]
            else:
                reply = json.loads(answer)
                if reply.get("jsonrpc") != "2.0" or reply.get("id") != 1 or "error" in reply:
                    return f"not a JSON-RPC 2.0 success for id 1: {reply!r}"
                result = reply["result"]
        except (xmlrpc.client.Fault, xmlrpc.client.ResponseError, ValueError, KeyError, IndexError) as exc:
            return f"cannot read the answer ({exc!r}): {answer[:200]!r}"
        if result != self.expect:
            return f"expected {self.expect!r}, got {result!r}"
        return None


def signed_bodies(payload: Payload, user: ApiUser, count: int, timestamp: int | None = None) -> list[bytes]:
    """`count` bodies of `payload`, each signed by `user` with a nonce of its own."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return [payload.body(auth_params(user.name, user.key, timestamp=stamp)) for _ in range(count)]


XMLRPC_ECHO = Payload("XML-RPC", "echo", (TOKEN,), expect=TOKEN)
JSONRPC_ECHO = Payload("JSON-RPC", "echo", (TOKEN,), expect=TOKEN)
# account.whoami (auth=True in examples/example_worker.py) answers with the caller's username.
XMLRPC_WHOAMI = Payload("XML-RPC", "account.whoami", (), expect=BENCH_USER, signed=True)
JSONRPC_WHOAMI = Payload("JSON-RPC", "account.whoami", (), expect=BENCH_USER, signed=True)

# What the ceiling server sends whatever it is asked: a correct XML-RPC answer to XMLRPC_ECHO.
XMLRPC_ECHO_ANSWER = xmlrpc.client.dumps((TOKEN,), methodresponse=True).encode()
