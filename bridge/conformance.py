"""`rpcbridge conformance HOST:PORT`: checks a worker, in any language, against the contract of proto/.

Owns the checks and their verdicts (docs/conformance.md); the gRPC calls are in
`bridge.rpc.conformance_client`. Imports no grpc, no aiohttp.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault, Status
from bridge.faults import INVALID_PARAMS, METHOD_NOT_FOUND
from bridge.procedures import ProcedureInfo
from bridge.rpc.conformance_client import Refusal, WorkerProbe
from bridge.settings import TlsFiles


class Result(enum.StrEnum):
    """A check's verdict; SKIP when the worker offers nothing the check could use."""

    PASS = "PASS"  # noqa: S105 -- a verdict, not a password
    FAIL = "FAIL"
    SKIP = "SKIP"


PASS, FAIL, SKIP = Result.PASS, Result.FAIL, Result.SKIP
# The refusals a worker may give a call without the sidecar's proof.
REFUSED: Final = (Status.UNAUTHENTICATED, Status.PERMISSION_DENIED)
# XML-RPC type names a Parameter or a result may declare (proto/rpcbridge/v1/worker.proto).
TYPE_NAMES: Final = frozenset(
    {"", "string", "int", "i8", "boolean", "double", "base64", "dateTime.iso8601", "struct", "array", "nil"}
)

_MINUS_0530: Final = datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))
# One value of every Value kind (proto/rpcbridge/v1/value.proto), sent to the echo procedure.
VALUE_KINDS: Final[Sequence[tuple[str, Any]]] = (
    ("null", None),
    ("bool", True),
    ("int (64-bit extremes)", [-(1 << 63), (1 << 63) - 1, 0]),
    ("big int", -(1 << 70)),
    ("double", 0.1),
    ("double NaN and infinities", [math.nan, math.inf, -math.inf, -0.0]),
    ("string", "ünïcødé ✓ <&> \x00 \U0001f600"),
    ("bytes", bytes(range(256))),
    ("datetime, naive", datetime.datetime(2026, 11, 22, 9, 30, 15, 123456)),
    (
        "datetime, with offset",
        datetime.datetime(
            1969, 7, 20, 20, 17, 40, tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))
        ),
    ),
    ("decimal", [decimal.Decimal("-1.2340E+5"), decimal.Decimal("NaN")]),
    ("list", [1, "two", [3.0, [None]], []]),
    ("struct (order kept)", {"z": 1, "a": {"nested": {}, "1": [b"x"]}, "m": None}),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of one check: PASS, FAIL or SKIP, and why."""

    check: str
    result: Result
    reason: str

    def line(self) -> str:
        """The verdict as one printed line."""
        return f"{self.result} {self.check} -- {self.reason}"


def same_value(sent: Any, received: Any) -> bool:
    """True when `received` equals `sent` with the same type at every level (NaN equals NaN)."""
    if type(sent) is not type(received):
        return False
    if isinstance(sent, float) and math.isnan(sent):
        return math.isnan(received)
    if isinstance(sent, float):
        return sent == received and math.copysign(1, sent) == math.copysign(1, received)
    if isinstance(sent, decimal.Decimal):
        return str(sent) == str(received)
    if isinstance(sent, datetime.datetime):
        return bool(sent == received and sent.utcoffset() == received.utcoffset())
    if isinstance(sent, list):
        return len(sent) == len(received) and all(map(same_value, sent, received))
    if isinstance(sent, dict):
        return list(sent) == list(received) and all(same_value(sent[k], received[k]) for k in sent)
    return bool(sent == received)


def _describe(answer: Outcome | Refusal) -> str:
    if isinstance(answer, Success):
        return f"result {answer.value!r}"
    if isinstance(answer, Fault):
        return f"fault {answer.code} {answer.message!r}"
    return f"status {answer[0].name} {answer[1]!r}"


def catalogue_problems(procedures: Sequence[ProcedureInfo]) -> list[str]:
    """What is wrong with a ListProcedures answer (empty when it is well-formed)."""
    problems: list[str] = []
    names = [p.name for p in procedures]
    if not names:
        problems.append("no procedures")
    if len(set(names)) != len(names):
        problems.append("a procedure name appears twice")
    for info in procedures:
        if not info.name or info.name.startswith(("system.", "rpc.")):
            problems.append(f"name {info.name!r} is empty or reserved (system., rpc.)")
        params = [p.name for p in info.params]
        if "" in params or len(set(params)) != len(params):
            problems.append(f"{info.name}: parameter names must be non-empty and unique")
        unknown = {p.type for p in info.params} | {info.returns}
        if unknown - TYPE_NAMES:
            problems.append(f"{info.name}: unknown type names {sorted(unknown - TYPE_NAMES)}")
        if not set(info.sensitive_params) <= set(params):
            problems.append(f"{info.name}: sensitive_params names a parameter it does not have")
    return problems


class ConformanceRun:
    """The checks of one worker; each returns its verdicts, in the order they are printed."""

    def __init__(self, probe: WorkerProbe, secret: str, echo: str, sleep: str) -> None:
        self._probe = probe
        self._secret = secret
        self._echo = echo
        self._sleep = sleep
        self._catalogue: dict[str, ProcedureInfo] = {}

    async def run(self) -> list[Verdict]:
        """Every check, in order; later checks use the catalogue the first one read."""
        verdicts: list[Verdict] = []
        checks: list[Callable[[], Awaitable[list[Verdict]]]] = [
            self.check_catalogue,
            self.check_proof,
            self.check_health,
            self.check_unknown_procedure,
            self.check_values,
            self.check_arity,
            self.check_deadline,
            self.check_invoke_stream,
        ]
        for check in checks:
            verdicts += await check()
        return verdicts

    async def check_catalogue(self) -> list[Verdict]:
        """ListProcedures answers with a well-formed catalogue."""
        answer = await self._probe.list_procedures()
        if isinstance(answer, tuple):
            return [Verdict("catalogue", FAIL, f"ListProcedures failed: {_describe(answer)}")]
        self._catalogue = {info.name: info for info in answer}
        problems = catalogue_problems(answer)
        if problems:
            return [Verdict("catalogue", FAIL, "; ".join(problems))]
        return [Verdict("catalogue", PASS, f"{len(answer)} procedures, well-formed")]

    async def check_proof(self) -> list[Verdict]:
        """Calls without the sidecar's proof, or with a wrong one, are refused and run nothing."""
        if not self._secret:
            return [Verdict("proof", SKIP, "no worker secret given (--secret or worker_secret)")]
        verdicts = []
        wrong = secrets.token_hex(16)
        for label, proof in (("without the proof", ""), ("with a wrong proof", wrong)):
            listed = await self._probe.list_procedures(proof=proof)
            invoked = await self._probe.invoke(Call(self._echo, ("x",)), proof=proof)
            for method, answer in (("ListProcedures", listed), ("Invoke", invoked)):
                refused = isinstance(answer, tuple) and answer[0] in REFUSED
                reason = _describe(answer) if not isinstance(answer, list) else "answered with the catalogue"
                verdicts.append(Verdict(f"proof: {method} {label}", PASS if refused else FAIL, reason))
        return verdicts

    async def check_health(self) -> list[Verdict]:
        """grpc.health.v1 says SERVING for the server and, if it names it, for rpcbridge.v1.Worker."""
        verdicts = []
        for service in ("", "rpcbridge.v1.Worker"):
            answer = await self._probe.health(service)
            label = f"health {service or '(server)'}"
            if answer == "SERVING":
                verdicts.append(Verdict(label, PASS, "SERVING"))
            elif service and isinstance(answer, tuple) and answer[0] is Status.NOT_FOUND:
                verdicts.append(Verdict(label, SKIP, "the health service does not name rpcbridge.v1.Worker"))
            else:
                shown = answer if isinstance(answer, str) else _describe(answer)
                verdicts.append(Verdict(label, FAIL, f"expected SERVING, got {shown}"))
        return verdicts

    async def check_unknown_procedure(self) -> list[Verdict]:
        """An unknown procedure is a -32601 fault (or status NOT_FOUND / UNIMPLEMENTED), not a crash."""
        answer = await self._probe.invoke(Call(f"conformance.no_such_procedure_{secrets.token_hex(4)}"))
        ok = (isinstance(answer, Fault) and answer.code == METHOD_NOT_FOUND) or (
            isinstance(answer, tuple) and answer[0] in (Status.NOT_FOUND, Status.UNIMPLEMENTED)
        )
        return [Verdict("unknown procedure", PASS if ok else FAIL, _describe(answer))]

    async def check_values(self) -> list[Verdict]:
        """Every Value kind goes to the echo procedure and comes back with its type and value."""
        if self._echo not in self._catalogue:
            return [Verdict("values", SKIP, f"no procedure named {self._echo!r} to echo values")]
        verdicts = []
        for kind, value in VALUE_KINDS:
            answer = await self._probe.invoke(Call(self._echo, (value,)))
            ok = isinstance(answer, Success) and same_value(value, answer.value)
            reason = "came back unchanged" if ok else f"sent {value!r}, got {_describe(answer)}"
            verdicts.append(Verdict(f"value {kind}", PASS if ok else FAIL, reason))
        return verdicts

    async def check_arity(self) -> list[Verdict]:
        """Too many (and, where a parameter is required, too few) arguments: a -32602 fault."""
        info = self._catalogue.get(self._echo)
        if info is None or info.variadic:
            return [Verdict("arity", SKIP, f"no fixed-arity procedure named {self._echo!r}")]
        cases = [("too many arguments", Call(self._echo, (None,) * (len(info.params) + 1)))]
        if any(not p.optional for p in info.params):
            cases.append(("too few arguments", Call(self._echo, ())))
        verdicts = []
        for label, call in cases:
            answer = await self._probe.invoke(call)
            ok = isinstance(answer, Fault) and answer.code == INVALID_PARAMS
            verdicts.append(Verdict(f"arity: {label}", PASS if ok else FAIL, _describe(answer)))
        return verdicts

    async def check_deadline(self) -> list[Verdict]:
        """A call past its deadline ends DEADLINE_EXCEEDED, and the worker serves the next call."""
        if self._sleep not in self._catalogue:
            return [Verdict("deadline", SKIP, f"no procedure named {self._sleep!r} to outlive a deadline")]
        late = await self._probe.invoke(Call(self._sleep, (30.0,)), deadline=0.5)
        verdicts = [
            Verdict(
                "deadline",
                PASS if isinstance(late, tuple) and late[0] is Status.DEADLINE_EXCEEDED else FAIL,
                f"{self._sleep}(30) with a 0.5 s deadline: {_describe(late)}",
            )
        ]
        after = await self._probe.invoke(Call(self._sleep, (0.0,)))
        ok = isinstance(after, Success)
        verdicts.append(Verdict("deadline: next call", PASS if ok else FAIL, _describe(after)))
        return verdicts

    async def check_invoke_stream(self) -> list[Verdict]:
        """InvokeStream, if offered, answers a call as Invoke does; UNIMPLEMENTED means unary only."""
        opened = await self._probe.empty_stream()
        if opened is Status.UNIMPLEMENTED:
            return [Verdict("InvokeStream", SKIP, "UNIMPLEMENTED: the worker is called with unary Invoke")]
        if opened is not Status.OK:
            return [Verdict("InvokeStream", FAIL, f"a stream with no call ended {opened.name}, not OK")]
        procedure = self._echo if self._echo in self._catalogue else "conformance.no_such_procedure"
        answer = await self._probe.invoke_streamed(Call(procedure, ("streamed",)))
        if procedure == self._echo:
            ok = isinstance(answer, Success) and answer.value == "streamed"
        else:
            ok = isinstance(answer, Fault) and answer.code == METHOD_NOT_FOUND
        verdicts = [Verdict("InvokeStream", PASS if ok else FAIL, _describe(answer))]
        if self._secret:
            refused = await self._probe.empty_stream(proof="")
            result = PASS if refused in REFUSED else FAIL
            verdicts.append(Verdict("InvokeStream without the proof", result, f"status {refused.name}"))
        return verdicts


async def run_conformance(
    target: str,
    secret: str = "",
    tls: TlsFiles | None = None,
    echo: str = "echo",
    sleep: str = "slow.sleep",
    show: Callable[[str], None] = print,
) -> int:
    """Check the worker at `target`, show one line per check; 0 when none failed, else 1."""
    probe = WorkerProbe(target, secret, tls)
    try:
        verdicts = await ConformanceRun(probe, secret, echo, sleep).run()
    finally:
        await probe.aclose()
    for verdict in verdicts:
        show(verdict.line())
    failed = sum(v.result == FAIL for v in verdicts)
    passed = sum(v.result == PASS for v in verdicts)
    show(f"{passed} passed, {failed} failed, {len(verdicts) - passed - failed} skipped")
    return 1 if failed else 0
