"""The one call every scenario serves, `echo(TOKEN)`, as XML-RPC and JSON-RPC bodies, and its checks.

A fast wrong server must not win: wrk's Lua hook checks every answer for the token, and
`verify` checks one answer exactly before any load is sent.
"""

from __future__ import annotations

import json
import xmlrpc.client
from dataclasses import dataclass
from typing import Literal

TOKEN = "rpcbridge-bench-echo-7f3a"  # noqa: S105 -- the echoed text, not a credential

ProtocolName = Literal["XML-RPC", "JSON-RPC"]


@dataclass(frozen=True, slots=True)
class Payload:
    """One request body and what a correct answer to it looks like."""

    protocol: ProtocolName
    content_type: str
    body: bytes
    # Every answer must contain `expect` and must not contain `forbid` (wrk checks each one).
    expect: str
    forbid: str

    def verify(self, status: int, answer: bytes) -> str | None:
        """None when `answer` is exactly the echo of TOKEN, else what is wrong with it."""
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
        if result != TOKEN:
            return f"expected {TOKEN!r}, got {result!r}"
        return None


XMLRPC_ECHO = Payload(
    protocol="XML-RPC",
    content_type="text/xml",
    body=xmlrpc.client.dumps((TOKEN,), "echo").encode(),
    expect=TOKEN,
    forbid="<fault>",
)

JSONRPC_ECHO = Payload(
    protocol="JSON-RPC",
    content_type="application/json",
    body=json.dumps({"jsonrpc": "2.0", "method": "echo", "params": [TOKEN], "id": 1}).encode(),
    expect=TOKEN,
    forbid='"error"',
)

# What the ceiling server sends whatever it is asked: a correct XML-RPC answer to XMLRPC_ECHO.
XMLRPC_ECHO_ANSWER = xmlrpc.client.dumps((TOKEN,), methodresponse=True).encode()
