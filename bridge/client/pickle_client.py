"""`PickleClient`: calls the bridge's pickle-over-HTTP endpoint, `POST {url}/pickle/{procedure}`.

Every request is signed with the header form (`Authorization: RPCBRIDGE-HMAC-SHA256 ...`, which
covers method, path and body); the endpoint requires an authenticated caller. Replies are read
with the endpoint's own restricted loader (`bridge.protocols.pickle_http.load_plain`), which
builds plain data only and refuses anything else before calling it. Imports no HTTP library itself.
"""

from __future__ import annotations

import pickle
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Final

from bridge.auth.signing import authorization_header
from bridge.calls import Outcome, Success
from bridge.client.failures import HTTPStatusError, InvalidReply
from bridge.client.recording import RecordSink
from bridge.client.rpc_point import RPCPoint
from bridge.client.transport import DEFAULT_MAX_REPLY_BYTES, Reply
from bridge.errors import Fault
from bridge.protocols.pickle_http import MEDIA_TYPE, load_plain

# Protocol 4 (Python 3.4+) pickles every neutral value without helper globals such as
# `_codecs.encode`, which protocol 2 needs for bytes; the endpoint answers in it too.
PICKLE_PROTOCOL: Final = 4


def request_body(args: Sequence[Any], kwargs: Mapping[str, Any]) -> bytes:
    """The request body: `pickle.dumps(kwargs)`, or `(args, {})` for positional arguments.

    The endpoint takes arguments by position or by name, never both (as a `Call` carries them).
    """
    if args and kwargs:
        raise TypeError("pickle calls take arguments by position or by name, not both")
    document: Any = (list(args), {}) if args else dict(kwargs)
    return pickle.dumps(document, protocol=PICKLE_PROTOCOL)


class PickleClient(RPCPoint):
    """Calls procedures through a bridge's pickle endpoint: `client.math.add(1, 2)`, `client.f(a=1)`.

    Args:
        url: the bridge frontend's base URL, e.g. "http://127.0.0.1:8080" (no query, no user info).
        username, api_key: an API user of the bridge; each request is signed with them.
        timeout, sidecar, log_arguments: as for `XMLRPCPoint`.
    """

    protocol = "pickle"

    def __init__(
        self,
        url: str,
        username: str,
        api_key: str,
        timeout: float = 30.0,
        sidecar: str | RecordSink | None = None,
        log_arguments: bool = False,
        *,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        super().__init__(
            url,
            param_hook=None,
            timeout=timeout,
            sidecar=sidecar,
            log_arguments=log_arguments,
            max_reply_bytes=max_reply_bytes,
        )
        endpoint = self._transport.endpoint
        if endpoint.basic_auth is not None or "?" in endpoint.path:
            raise ValueError("the pickle endpoint's URL takes no user info and no query")
        self._base_path = endpoint.path.rstrip("/")
        self._username = username
        self._api_key = api_key

    def path_for(self, procedure: str) -> str:
        """The request path for `procedure`, exactly as it is sent and signed."""
        return f"{self._base_path}/pickle/{urllib.parse.quote(procedure, safe='')}"

    def call(self, procedure: str, *args: Any, **kwargs: Any) -> Any:
        """Call `procedure`; return its result or raise its `Fault` (or `TransportError`)."""
        path = self.path_for(procedure)
        body = request_body(args, kwargs)
        header = authorization_header(self._username, self._api_key, "POST", path, body)
        note = self._note(procedure, list(args) if args else dict(kwargs))
        note.user, note.request_bytes = self._username, len(body)
        headers = {"Authorization": header}
        outcome = self._exchange_recorded(
            note, lambda: self._post_to(path, body, MEDIA_TYPE, note.request_id, headers), self._outcome
        )
        if isinstance(outcome, Fault):
            raise outcome
        return outcome.value

    def _outcome(self, reply: Reply) -> Outcome:
        """200 carries the pickled result; an error status, a pickled {"error": {...}} or plain text."""
        if reply.status == 200:
            try:
                return Success(load_plain(reply.body, self._limits))
            except Fault as exc:
                raise InvalidReply(self.url, f"the result is not a plain-data pickle ({exc})") from exc
        if reply.content_type.lower().startswith("text/") or not reply.body:
            raise HTTPStatusError(self.url, reply.status, reply.text())
        try:
            document = load_plain(reply.body, self._limits)
        except Fault as exc:
            raise HTTPStatusError(self.url, reply.status, reply.text()) from exc
        error = document.get("error") if isinstance(document, dict) else None
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
            if type(code) is int and isinstance(message, str):
                return Fault(code, message, error.get("data"))
        raise HTTPStatusError(self.url, reply.status, reply.text())
