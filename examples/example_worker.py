"""The example worker `make run` serves: echo, arithmetic, every value type, and a fault.

It also has the procedures the JSON-RPC 2.0 specification's examples call (subtract, sum,
update, notify_hello, notify_sum, get_data), so those examples can be replayed against a
running bridge.
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import uuid
from typing import Any

from bridge import Caller, Fault, Worker, call_context

worker = Worker()

# Quick procedures that never block are declared blocking=False: they run on the event loop, with
# no thread hand-off per call. The rest keep the default and run in a thread (docs/concepts.md).


@worker.procedure(blocking=False)
def echo(var: str = "") -> str:
    """Return the argument unchanged."""
    return var


@worker.procedure(name="echo.any", blocking=False)
def echo_any(value: Any) -> Any:
    """Return any value unchanged, keeping its type."""
    return value


@worker.procedure(name="math.add", blocking=False)
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@worker.procedure(name="math.divide")
def divide(a: float, b: float) -> float:
    """Divide a by b; dividing by zero is an application fault (code 1)."""
    if b == 0:
        raise Fault(1, "division by zero")
    return a / b


@worker.procedure
def subtract(minuend: int, subtrahend: int) -> int:
    """Subtract subtrahend from minuend (the JSON-RPC 2.0 specification's example)."""
    return minuend - subtrahend


@worker.procedure(name="sum")
def total(*numbers: int) -> int:
    """Add any number of integers."""
    return sum(numbers)


@worker.procedure
def update(*values: Any) -> None:
    """Accept anything and return nothing (a notification target in the JSON-RPC examples)."""


@worker.procedure
def notify_hello(*values: Any) -> None:
    """Accept anything and return nothing (a notification target in the JSON-RPC examples)."""


@worker.procedure
def notify_sum(*values: int) -> None:
    """Accept numbers and return nothing (a notification target in the JSON-RPC examples)."""


@worker.procedure
def get_data() -> list:
    """Return ["hello", 5], as in the JSON-RPC 2.0 specification's batch example."""
    return ["hello", 5]


@worker.procedure(name="types.all")
def all_types() -> dict:
    """Return one value of every type rpcbridge carries (XML-RPC can express all but big and decimal)."""
    return {
        "nil": None,
        "boolean": True,
        "int": 42,
        "i8": 2**40,
        "double": 3.5,
        "string": "  spaced <&> text  ",
        "base64": b"\x00\x01binary",
        "dateTime": datetime.datetime(2026, 11, 22, 9, 30, 15),
        "array": [1, "two", 3.0],
        "struct": {"nested": {"empty_struct": {}, "empty_array": []}},
    }


@worker.procedure(name="types.big")
def big_types() -> dict:
    """Return a big integer and a decimal, which JSON carries and XML-RPC refuses with a clear fault."""
    return {"big": 2**70, "decimal": decimal.Decimal("12.340")}


@worker.procedure(name="types.python")
def python_types() -> dict:
    """Return one of each of Python's own types: pickle callers get them back, others the nearest type."""
    return {
        "tuple": (1, "two"),
        "set": {3},
        "frozenset": frozenset({"four"}),
        "date": datetime.date(2026, 11, 22),
        "time": datetime.time(9, 30, 15, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        "timedelta": datetime.timedelta(days=1, seconds=1, microseconds=500_000),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "complex": 1.5 - 2j,
    }


@worker.procedure(name="types.names")
def type_names(value: Any) -> Any:
    """Return the value with each leaf replaced by its type's name, to show what the worker received."""
    if isinstance(value, dict):
        return {key: type_names(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [type(value).__name__, [type_names(item) for item in value]]
    return type(value).__name__


@worker.procedure(name="fail.fault")
def fail_fault(code: int = 4, message: str = "too many parameters") -> None:
    """Raise an application fault with the given code and message."""
    raise Fault(code, message)


@worker.procedure(name="fail.crash")
def fail_crash() -> None:
    """Crash with an exception: the client sees an internal error, never the traceback."""
    raise RuntimeError("secret detail that must not reach the client")


@worker.procedure(name="slow.sleep")
async def sleep(seconds: float) -> float:
    """Sleep asynchronously, then return the number of seconds slept (for deadline tests)."""
    await asyncio.sleep(seconds)
    return seconds


@worker.procedure(name="v1.hello", version=1)
def hello_v1(name: str) -> str:
    """Greet, API version 1 only."""
    return f"Hello, {name}"


@worker.procedure(name="v2.hello", version=2)
def hello_v2(name: str, greeting: str = "Hello") -> str:
    """Greet with a chosen greeting, API version 2 only."""
    return f"{greeting}, {name}!"


@worker.procedure(name="account.whoami", auth=True, blocking=False)
def whoami(user: Caller) -> str:
    """Return the name of the authenticated caller (auth=True: the caller comes first)."""
    return str(user)


@worker.procedure(name="account.transfer", auth=True, sensitive=["pin"])
def transfer(user: Caller, amount: int, pin: str) -> dict:
    """Pretend to move money; `pin` is declared sensitive and never written to the call log."""
    return {"by": user.username, "amount": amount}


# Background jobs (docs/jobs.md): the caller gets a job id at once and asks for the outcome later
# with system.jobStatus(id) and system.jobResult(id).


@worker.procedure(name="jobs.slow_add", background=True)
async def slow_add(a: int, b: int) -> int:
    """Add two integers after half a second, as a background job."""
    await asyncio.sleep(0.5)
    return a + b


@worker.procedure(name="jobs.sleep", background=True)
async def job_sleep(seconds: float) -> float:
    """Sleep, as a background job, then return the number of seconds slept."""
    await asyncio.sleep(seconds)
    return seconds


@worker.procedure(name="jobs.fail", background=True)
def job_fail(code: int = 0, message: str = "the job failed") -> None:
    """Fail as a background job: with an application fault when `code` is given, else by crashing."""
    if code:
        raise Fault(code, message)
    raise RuntimeError(message)


@worker.procedure(name="jobs.job_id", background=True)
def job_id() -> str:
    """Return the id of the job this run belongs to: the key a procedure makes a second run harmless with."""
    return call_context().job_id


@worker.procedure(name="jobs.whoami", auth=True, background=True)
def job_whoami(user: Caller) -> str:
    """Return the caller's name, as a background job only that caller may follow."""
    return str(user)


# Events (docs/events.md): a hook declares an event type and the fields that may leave this
# process; emit() sends them back with the call's reply, and the bridge delivers them to webhook
# listeners. `secret` is emitted below but is not in `provides`: it never leaves the worker.
person_saved = worker.hook(
    "person.saved", provides=["name", "address"], help="A person was saved: their name and address."
)
person_removed = worker.hook("person.removed", provides=["name"], auth=True, help="A person was removed.")


@worker.procedure(name="people.save")
def save_person(name: str, address: dict, secret: str = "") -> str:
    """Save a person (pretend) and emit person.saved with their name and address."""
    person_saved.emit({"name": name, "address": address, "secret": secret})
    return name


@worker.procedure(name="people.remove")
async def remove_person(name: str) -> bool:
    """Remove a person (pretend) and emit person.removed, from an async procedure."""
    worker.emit("person.removed", {"name": name})
    return True


@worker.procedure(name="trace.id")
def trace_id() -> str:
    """Return the W3C trace id of this call (from the caller's `traceparent`, or the bridge's own)."""
    return call_context().trace_id
