"""A bounded load of real calls, each checked: the right answer, a documented fault, or a defect.

Clients are threads alternating XML-RPC and JSON-RPC over fresh HTTP connections, spread over the
frontends. Every call carries its own X-Request-Id, which the call log keeps, so the call log can
be checked call by call. Outcomes: `ok` (right answer), `clear` (a documented bridge fault: the
worker was unavailable, the deadline passed, overloaded), `wrong` (an answer that is not the
right one) and `unclear` (any other failure: HTTP 500, a reset, a timeout, an unexpected fault).
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.parse
import uuid
import xmlrpc.client
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bridge.auth.signing import auth_params
from bridge.faults import DEADLINE_EXCEEDED, OVERLOADED, WORKER_UNAVAILABLE

CLEAR_FAULTS = frozenset({DEADLINE_EXCEEDED, WORKER_UNAVAILABLE, OVERLOADED})
CLIENT_TIMEOUT = 20.0


@dataclass(frozen=True)
class Answered:
    """One call and how it ended."""

    kind: str  # ok | clear | wrong | unclear
    frontend: int
    request_id: str
    procedure: str
    ended: float  # time.monotonic() when the answer (or failure) arrived
    detail: str = ""


def post(url: str, body: bytes, content_type: str, request_id: str) -> tuple[int, bytes]:
    """One POST on a new connection; (status, body)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=CLIENT_TIMEOUT)
    try:
        headers = {"Content-Type": content_type, "X-Request-Id": request_id}
        connection.request("POST", parts.path, body, headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def call(url: str, protocol: str, method: str, params: list[Any], request_id: str) -> tuple[str, Any]:
    """("result", value) or ("fault", code); raises on anything that is neither."""
    if protocol == "xmlrpc":
        status, raw = post(url, xmlrpc.client.dumps(tuple(params), method).encode(), "text/xml", request_id)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {raw[:200]!r}")
        try:
            (value,), _ = xmlrpc.client.loads(raw, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            return "fault", fault.faultCode
        return "result", value
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).encode()
    status, raw = post(url, body, "application/json", request_id)
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {raw[:200]!r}")
    answer = json.loads(raw)
    if "error" in answer:
        return "fault", answer["error"]["code"]
    return "result", answer["result"]


@dataclass
class Load:
    """`clients` threads calling through `urls` until stopped; outcomes and accepted jobs recorded."""

    urls: list[str]
    user: str = ""
    key: str = ""
    clients: int = 4
    answered: list[Answered] = field(default_factory=list)
    jobs: dict[str, int] = field(default_factory=dict)  # job id -> expected result
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for number in range(self.clients):
            thread = threading.Thread(target=self._client, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(CLIENT_TIMEOUT + 5)

    def _client(self, number: int) -> None:
        rng = random.Random(number)
        count = 0
        while not self._stop.is_set():
            count += 1
            self._one(rng, number % len(self.urls), "xmlrpc" if count % 2 else "jsonrpc", count)

    def _one(self, rng: random.Random, frontend: int, protocol: str, count: int) -> None:
        a, b = rng.randrange(1 << 20), rng.randrange(1 << 20)
        if count % 40 == 0:  # jobs run slower (0.5 s each) than calls arrive: keep the queue short
            method, params, expected = "jobs.slow_add", [a, b], None
        elif count % 3 == 0 and self.user:
            method, params, expected = "account.whoami", auth_params(self.user, self.key), self.user
        else:
            method, params, expected = "math.add", [a, b], a + b
        request_id = uuid.uuid4().hex
        try:
            kind, value = call(self.urls[frontend], protocol, method, params, request_id)
        except Exception as exc:  # every failure is recorded, and judged unclear
            self._record("unclear", frontend, request_id, method, f"{protocol}: {type(exc).__name__}: {exc}")
            return
        if kind == "fault":
            verdict = "clear" if value in CLEAR_FAULTS else "unclear"
            self._record(verdict, frontend, request_id, method, f"{protocol}: fault {value}")
        elif expected is None:
            ok = isinstance(value, str) and len(value) == 32
            if ok:
                with self._lock:
                    self.jobs[value] = a + b
            self._record("ok" if ok else "wrong", frontend, request_id, method, repr(value))
        else:
            verdict = "ok" if value == expected else "wrong"
            self._record(verdict, frontend, request_id, method, f"{protocol}: {value!r} != {expected!r}")

    def _record(self, kind: str, frontend: int, request_id: str, procedure: str, detail: str) -> None:
        with self._lock:
            self.answered.append(Answered(kind, frontend, request_id, procedure, time.monotonic(), detail))

    def counts(self) -> Counter[str]:
        """How many calls ended each way."""
        with self._lock:
            return Counter(answer.kind for answer in self.answered)

    def failures(self) -> list[Answered]:
        """The calls that ended wrong or unclear (the first 20, enough to read)."""
        with self._lock:
            return [a for a in self.answered if a.kind in ("wrong", "unclear")][:20]
