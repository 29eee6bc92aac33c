"""App-tier fixtures: the real aiohttp frontend with a fake `Invoker` made of plain functions.

The fake records every call with its context, so tests can check what the frontend sent on, and
returns its whole catalogue from `list_procedures` whatever the API version, so tests pin that
the frontend filters introspection itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bridge.calls import Call, CallContext, Outcome, Success
from bridge.errors import Fault
from bridge.faults import INVALID_PARAMS, METHOD_NOT_FOUND, fault
from bridge.frontend import create_app
from bridge.procedures import Parameter, ProcedureInfo
from bridge.settings import Limits, Settings

SECRET_DETAIL = "database password is hunter2"


def subtract(context: CallContext, minuend: int, subtrahend: int) -> int:
    """Subtract subtrahend from minuend."""
    return minuend - subtrahend


def sum_(context: CallContext, *numbers: int) -> int:
    """Add the numbers."""
    return sum(numbers)


def update(context: CallContext, *values: Any) -> None:
    """Accept anything (the spec's notification example)."""


def notify_hello(context: CallContext, *values: Any) -> None:
    """Accept anything (the spec's batch notification example)."""


def notify_sum(context: CallContext, *values: Any) -> None:
    """Accept anything (the spec's all-notifications batch example)."""


def get_data(context: CallContext) -> list[Any]:
    """Return the spec's example data."""
    return ["hello", 5]


def echo(context: CallContext, value: Any) -> Any:
    """Return the value unchanged."""
    return value


def fail(context: CallContext) -> None:
    """Raise an application fault."""
    raise Fault(4, "no such user")


def explode(context: CallContext) -> None:
    """Raise an unexpected exception, as a broken invoker would."""
    raise RuntimeError(SECRET_DETAIL)


def worker_bug(context: CallContext) -> None:
    """Fail as a worker reports its own unexpected exception: an internal-error fault."""
    raise Fault(-32603, "Internal error")


async def slow(context: CallContext, seconds: float) -> float:
    """Sleep, then report the timeout the frontend passed on."""
    await asyncio.sleep(seconds)
    return context.timeout


def context_of(context: CallContext) -> dict[str, Any]:
    """Report the call context the frontend built."""
    return {
        "request_id": context.request_id,
        "timeout": context.timeout,
        "api_version": context.api_version,
        "protocol": context.protocol,
        "peer": context.peer,
    }


def only_v1(context: CallContext) -> str:
    """Answer only through /rpc/v1."""
    return "v1"


def only_v2(context: CallContext) -> str:
    """Answer only through /rpc/v2."""
    return "v2"


INT = "int"
CATALOGUE: list[tuple[ProcedureInfo, Callable[..., Any]]] = [
    (
        ProcedureInfo(
            "subtract",
            help="Subtract subtrahend from minuend.",
            params=(Parameter("minuend", INT), Parameter("subtrahend", INT)),
            returns=INT,
        ),
        subtract,
    ),
    (ProcedureInfo("sum", help="Add the numbers.", returns=INT, variadic=True), sum_),
    (ProcedureInfo("update", variadic=True), update),
    (ProcedureInfo("notify_hello", variadic=True), notify_hello),
    (ProcedureInfo("notify_sum", variadic=True), notify_sum),
    (ProcedureInfo("get_data", returns="array"), get_data),
    (ProcedureInfo("echo", help="Return the value unchanged.", params=(Parameter("value"),)), echo),
    (ProcedureInfo("fail", returns="nil"), fail),
    (ProcedureInfo("explode"), explode),
    (ProcedureInfo("worker_bug"), worker_bug),
    (ProcedureInfo("slow", params=(Parameter("seconds", "double"),), returns="double"), slow),
    (ProcedureInfo("context"), context_of),
    (ProcedureInfo("v1.only", returns="string", versions=(1,)), only_v1),
    (ProcedureInfo("v2.only", returns="string", versions=(2,)), only_v2),
]
PROCEDURES = {info.name: (info, function) for info, function in CATALOGUE}


@dataclass
class FakeInvoker:
    """An `Invoker` over the plain functions above, recording what it was asked."""

    calls: list[tuple[Call, CallContext]] = field(default_factory=list)
    is_ready: bool | Exception = True
    catalogue_fault: Fault | None = None
    arrivals: int = 0
    everyone_here: asyncio.Event = field(default_factory=asyncio.Event)

    async def invoke(self, call: Call, context: CallContext) -> Outcome:
        """Run a procedure as the sidecar would: routing by version, faults as outcomes."""
        self.calls.append((call, context))
        if call.procedure == "meet":
            return Success(await self._meet(*call.params))
        entry = PROCEDURES.get(call.procedure)
        if entry is None or not entry[0].serves_version(context.api_version):
            return fault(METHOD_NOT_FOUND)
        function = entry[1]
        arguments = (context, *call.params)
        try:
            inspect.signature(function).bind(*arguments, **(call.named or {}))
        except TypeError:
            return fault(INVALID_PARAMS)
        try:
            result = function(*arguments, **(call.named or {}))
            if inspect.isawaitable(result):
                result = await result
        except Fault as failure:
            return failure
        return Success(result)

    async def list_procedures(self, context: CallContext) -> list[ProcedureInfo] | Fault:
        """The whole catalogue, unfiltered, or the configured fault."""
        if self.catalogue_fault is not None:
            return self.catalogue_fault
        return [info for info, _ in PROCEDURES.values()]

    async def ready(self) -> bool:
        """The configured readiness, or raise the configured exception."""
        if isinstance(self.is_ready, Exception):
            raise self.is_ready
        return self.is_ready

    async def _meet(self, expected: int) -> int:
        """Wait until `expected` calls to "meet" are running at once; only concurrent calls return."""
        self.arrivals += 1
        if self.arrivals >= expected:
            self.everyone_here.set()
        await self.everyone_here.wait()
        return self.arrivals

    def procedures_called(self) -> list[str]:
        """The names invoked so far, in order."""
        return [call.procedure for call, _ in self.calls]


TEST_SETTINGS = Settings(
    http_port=0, limits=Limits(max_batch=10, max_multicall=5), default_timeout=5.0, max_timeout=30.0
).frontend

MakeClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def invoker() -> FakeInvoker:
    """A fresh fake invoker."""
    return FakeInvoker()


@pytest.fixture
def make_client(aiohttp_client: AiohttpClient, invoker: FakeInvoker) -> MakeClient:
    """Start the frontend with the fake invoker; keyword arguments override test settings."""

    async def start(**overrides: Any) -> TestClient[Any, Any]:
        settings = dataclasses.replace(TEST_SETTINGS, **overrides)
        return await aiohttp_client(create_app(settings, invoker))

    return start


@pytest.fixture
async def client(make_client: MakeClient) -> TestClient[Any, Any]:
    """The frontend with test settings and the fake invoker."""
    return await make_client()
