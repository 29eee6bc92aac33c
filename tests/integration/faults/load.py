"""A bounded load of real calls, each checked: the right answer, a documented fault, or a defect.

Clients are threads alternating XML-RPC and JSON-RPC over fresh HTTP connections, each homed on
one frontend and reaching it the way a load balancer would (see `Load`). Every call carries its
own X-Request-Id, which the call log keeps, so the call log can be checked call by call. Outcomes:
`ok` (right answer), `clear` (a documented bridge fault: the worker was unavailable, the deadline
passed, overloaded, authentication temporarily unavailable), `wrong` (an answer that is not the
right one), `disconnected` (the frontend's connection dropped mid-request: only a killed frontend
may cause it) and `unclear` (any other failure: HTTP 500, a refusal, a timeout, another fault).
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import random
import threading
import time
import urllib.parse
import urllib.request
import uuid
import xmlrpc.client
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bridge.auth.failures import UNAVAILABLE_MESSAGE
from bridge.auth.signing import auth_params
from bridge.faults import DEADLINE_EXCEEDED, OVERLOADED, UNAUTHENTICATED, WORKER_UNAVAILABLE

CLEAR_FAULTS = frozenset({DEADLINE_EXCEEDED, WORKER_UNAVAILABLE, OVERLOADED})
CLIENT_TIMEOUT = 20.0
# How often the balancer asks a frontend it took out whether it is ready again.
READMIT_INTERVAL = 0.1


@dataclass(frozen=True)
class Answered:
    """One call and how it ended."""

    kind: str  # ok | clear | wrong | disconnected | unclear; "refused" in Load.refusals
    client: int
    frontend: int  # the frontend the call was sent to
    request_id: str
    procedure: str
    ended: float  # time.monotonic() when the answer (or failure) arrived
    detail: str = ""


def is_clear(code: int, text: str) -> bool:
    """True for a documented fault that tells the client what happened and to try again.

    -32001 is clear only as "authentication temporarily unavailable" (docs/auth.md: a store could
    not be reached, so the call was refused, closed); any other -32001 means a refused key.
    """
    return code in CLEAR_FAULTS or (code == UNAUTHENTICATED and text == UNAVAILABLE_MESSAGE)


def http_ok(url: str) -> bool:
    """True when a GET of `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def readyz(url: str) -> str:
    """The /readyz URL of the frontend serving `url` (its /rpc)."""
    return url.replace("/rpc", "/readyz")


def post(url: str, body: bytes, content_type: str, request_id: str) -> tuple[int, bytes]:
    """One POST on a new connection; (status, body)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=CLIENT_TIMEOUT)
    try:
        headers = {"Content-Type": content_type, "X-Request-Id": request_id}
        connection.request("POST", parts.path, body, headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def call(url: str, protocol: str, method: str, params: list[Any], request_id: str) -> tuple[str, Any]:
    """("result", value) or ("fault", (code, text)); raises on anything that is neither.

    The text is XML-RPC's faultString, or JSON-RPC's message and ": " + data, which are the same.
    """
    if protocol == "xmlrpc":
        status, raw = post(url, xmlrpc.client.dumps(tuple(params), method).encode(), "text/xml", request_id)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {raw[:200]!r}")
        try:
            (value,), _ = xmlrpc.client.loads(raw, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            return "fault", (fault.faultCode, fault.faultString)
        return "result", value
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).encode()
    status, raw = post(url, body, "application/json", request_id)
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {raw[:200]!r}")
    answer = json.loads(raw)
    if "error" in answer:
        error = answer["error"]
        data = error.get("data")
        text = f"{error['message']}: {data}" if isinstance(data, str) else error["message"]
        return "fault", (error["code"], text)
    return "result", answer["result"]


@dataclass
class Load:
    """`clients` threads calling through `urls` until stopped; outcomes and accepted jobs recorded.

    Client n is homed on frontend n % len(urls) and reaches it as a load balancer would: a
    frontend that refuses the connection (nothing was sent) or drops it mid-request is taken out,
    the refused call goes to the next frontend, the dropped one is reported `disconnected` (it may
    have run, so it is never sent again), and the frontend comes back once its /readyz answers.
    """

    urls: list[str]
    user: str = ""
    key: str = ""
    clients: int = 4
    answered: list[Answered] = field(default_factory=list)
    refusals: list[Answered] = field(default_factory=list)  # connections refused, then sent elsewhere
    jobs: dict[str, int] = field(default_factory=dict)  # job id -> expected result
    down: set[int] = field(default_factory=set)  # frontends out of the balancer's rotation
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for number in range(self.clients):
            thread = threading.Thread(target=self._client, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)
        readmitter = threading.Thread(target=self._readmit, daemon=True)
        readmitter.start()
        self._threads.append(readmitter)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(CLIENT_TIMEOUT + 5)

    def home(self, client: int) -> int:
        """The frontend `client` calls while it is up."""
        return client % len(self.urls)

    def _client(self, number: int) -> None:
        rng = random.Random(number)
        count = 0
        while not self._stop.is_set():
            count += 1
            self._one(rng, number, "xmlrpc" if count % 2 else "jsonrpc", count)

    def _frontends(self, client: int) -> list[int]:
        """The frontends to try, in order: those up, from the client's home on."""
        home = self.home(client)
        turn = [(home + step) % len(self.urls) for step in range(len(self.urls))]
        with self._lock:
            up = [frontend for frontend in turn if frontend not in self.down]
        return up or turn[:1]

    def _readmit(self) -> None:
        """Put a frontend taken out back into rotation once its /readyz answers 200."""
        while not self._stop.wait(READMIT_INTERVAL):
            with self._lock:
                down = sorted(self.down)
            for frontend in down:
                if http_ok(readyz(self.urls[frontend])):
                    with self._lock:
                        self.down.discard(frontend)

    def _one(self, rng: random.Random, client: int, protocol: str, count: int) -> None:
        a, b = rng.randrange(1 << 20), rng.randrange(1 << 20)
        expected: object
        if count % 40 == 0:  # jobs run slower (0.5 s each) than calls arrive: keep the queue short
            method, params, expected = "jobs.slow_add", [a, b], None
        elif count % 3 == 0 and self.user:
            method, params, expected = "account.whoami", auth_params(self.user, self.key), self.user
        else:
            method, params, expected = "math.add", [a, b], a + b
        request_id = uuid.uuid4().hex
        for frontend in self._frontends(client):
            seen = Answered("", client, frontend, request_id, method, 0.0)
            try:
                kind, value = call(self.urls[frontend], protocol, method, params, request_id)
            except ConnectionRefusedError as exc:  # nothing was sent: the next frontend may take it
                self._take_out(frontend)
                self._record(seen, "refused", f"{protocol}: {exc}", into=self.refusals)
                continue
            except (ConnectionError, http.client.IncompleteRead) as exc:  # it may have run: no resend
                self._take_out(frontend)
                self._record(seen, "disconnected", f"{protocol}: {type(exc).__name__}: {exc}")
                return
            except Exception as exc:  # every other failure is recorded, and judged unclear
                self._record(seen, "unclear", f"{protocol}: {type(exc).__name__}: {exc}")
                return
            self._judge(seen, protocol, kind, value, expected, a + b)
            return
        self._record(seen, "unclear", f"{protocol}: every frontend refused the connection")

    def _judge(
        self, seen: Answered, protocol: str, kind: str, value: Any, expected: object, total: int
    ) -> None:
        if kind == "fault":
            code, text = value
            self._record(seen, "clear" if is_clear(code, text) else "unclear", f"{protocol}: fault {code}")
        elif expected is None:
            ok = isinstance(value, str) and len(value) == 32
            if ok:
                with self._lock:
                    self.jobs[value] = total
            self._record(seen, "ok" if ok else "wrong", repr(value))
        else:
            verdict = "ok" if value == expected else "wrong"
            self._record(seen, verdict, f"{protocol}: {value!r} != {expected!r}")

    def _take_out(self, frontend: int) -> None:
        with self._lock:
            self.down.add(frontend)

    def _record(self, seen: Answered, kind: str, detail: str, into: list[Answered] | None = None) -> None:
        ended = dataclasses.replace(seen, kind=kind, ended=time.monotonic(), detail=detail)
        with self._lock:
            (self.answered if into is None else into).append(ended)

    def counts(self) -> Counter[str]:
        """How many calls ended each way."""
        with self._lock:
            return Counter(answer.kind for answer in self.answered)

    def ended(self, kind: str) -> list[Answered]:
        """The calls that ended `kind` so far."""
        with self._lock:
            return [a for a in self.answered if a.kind == kind]

    def failures(self) -> list[Answered]:
        """The calls that ended wrong, disconnected or unclear (the first 20, enough to read)."""
        with self._lock:
            return [a for a in self.answered if a.kind in ("wrong", "disconnected", "unclear")][:20]
