"""Expected values for the golden files: what each request decodes to, what each outcome encodes to."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault
from bridge.faults import INVALID_REQUEST, METHOD_NOT_FOUND

UTC = datetime.UTC
PLUS_0530 = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
MINUS_0800 = datetime.timezone(datetime.timedelta(hours=-8))
JULY_17 = datetime.datetime(1998, 7, 17, 14, 8, 55)

# golden/requests/NAME.xml decodes to REQUESTS[NAME].
REQUESTS: dict[str, Call] = {
    "scalars": Call(
        "examples.scalars",
        (
            42,
            -2147483648,
            2147483647,
            True,
            False,
            "Hello, world",
            -12.214,
            JULY_17,
            b"you can't read this!",
            None,
            9223372036854775807,
        ),
    ),
    "untyped_whitespace": Call(
        "examples.text",
        ("  untyped, with spaces  ", "\n  two lines,\ta tab\n", "", "", "   ", "", 7),
    ),
    "escapes": Call(
        "examples.escapes",
        ("a & b < c > d", "cr\rlf\r\nend", "<not a tag> & raw", "café \U0001f600 \"q\" 'a'"),
    ),
    "nested": Call(
        "examples.nested",
        (
            {
                "lowerBound": 18,
                "upperBound": 139,
                "matrix": [[1, 2], ["three", {"four": True}]],
                "  spaced name  ": 0.5,
            },
        ),
    ),
    "empty_containers": Call("examples.empty", ({}, {}, [], [], [[]], b"")),
    "extensions": Call("examples.extensions", (None, None, -(1 << 63), 1 << 32)),
    "base64": Call("examples.base64", (bytes(range(128)), b"\xff")),
    "datetimes": Call(
        "examples.datetimes",
        (
            JULY_17,
            JULY_17,
            JULY_17.replace(microsecond=250000),
            JULY_17.replace(microsecond=123456),
            JULY_17.replace(tzinfo=UTC),
            JULY_17.replace(tzinfo=PLUS_0530),
            JULY_17.replace(microsecond=1, tzinfo=MINUS_0800),
            datetime.datetime(1, 1, 1),
        ),
    ),
    "doubles": Call("examples.doubles", (3.25, -0.0, 1e100, float("inf"), float("-inf"), float("nan"), 42.0)),
    "no_params": Call("system.listMethods", ()),
    "empty_params": Call("system.listMethods", ()),
    "latin1": Call("examples.latin1", ("café £ ½",)),
    "duplicate_members": Call("examples.duplicates", ({"b": 3, "a": 2},)),
    "multicall": Call(
        "system.multicall",
        (
            [
                {"methodName": "math.add", "params": [2, 3]},
                {"methodName": "system.multicall", "params": []},
                {"methodName": "echo", "params": ["hi"]},
            ],
        ),
    ),
}


@dataclass(frozen=True)
class ResponseCase:
    """An outcome, and what decoding its golden response gives back (the outcome itself by default)."""

    outcome: Outcome
    decoded: Outcome | None = None


SCALARS: list[Any] = [
    42,
    True,
    False,
    "Hello, world",
    -12.214,
    JULY_17,
    b"you can't read this!",
    None,
]

# encode_outcome(RESPONSES[NAME].outcome) is golden/responses/NAME.xml, byte for byte.
RESPONSES: dict[str, ResponseCase] = {
    "scalars": ResponseCase(Success(SCALARS)),
    "string": ResponseCase(Success("  a & b <c> \r\n\ttabbed, café \U0001f600  ")),
    "empty_string": ResponseCase(Success("")),
    "ints": ResponseCase(Success([0, -(1 << 31), (1 << 31) - 1, 1 << 31, -(1 << 31) - 1, (1 << 63) - 1])),
    "doubles": ResponseCase(Success([0.1, -0.0, 1e100, float("inf"), float("-inf"), float("nan")])),
    "nil": ResponseCase(Success(None)),
    "base64": ResponseCase(Success(bytes(range(256)))),
    "datetimes": ResponseCase(
        Success(
            [
                JULY_17,
                JULY_17.replace(microsecond=5),
                JULY_17.replace(tzinfo=UTC),
                JULY_17.replace(tzinfo=PLUS_0530),
                JULY_17.replace(microsecond=123456, tzinfo=MINUS_0800),
                datetime.datetime(1, 1, 1),
            ]
        )
    ),
    "nested": ResponseCase(
        Success({"id": 7, "tags": ["a", "b"], "owner": {"name": "Ada", "roles": [{"admin": True}]}})
    ),
    "empty_containers": ResponseCase(Success([{}, [], [[]], {"empty": {}}])),
    "fault": ResponseCase(Fault(METHOD_NOT_FOUND, "Method not found")),
    "fault_with_data": ResponseCase(
        Fault(INVALID_REQUEST, "Invalid Request", "<int> value 4294967296 is out of range"),
        decoded=Fault(INVALID_REQUEST, "Invalid Request: <int> value 4294967296 is out of range"),
    ),
    "application_fault": ResponseCase(
        Fault(4, "Too many parameters.", {"structured": "data is not sent"}),
        decoded=Fault(4, "Too many parameters."),
    ),
    "not_representable": ResponseCase(
        Success({"total": [1, 2, 1 << 64]}),
        decoded=Fault(
            -32007,
            "Value not representable: int of 65 bits is beyond XML-RPC's 64-bit <i8> (at result['total'][2])",
        ),
    ),
    "multicall": ResponseCase(
        Success(
            [
                [5],
                {
                    "faultCode": INVALID_REQUEST,
                    "faultString": "Invalid Request: multicall entry 1: "
                    "system.multicall cannot be called inside system.multicall",
                },
                ["hi"],
            ]
        )
    ),
}

# encode_call(*CALLS[NAME]) is golden/calls/NAME.xml, and decodes back to the same call.
CALLS: dict[str, Call] = {
    "no_params": Call("system.listMethods", ()),
    "mixed": Call("sample.add", (1, "two", [3.5, None], {"when": JULY_17, "blob": b"\x00\x01"})),
}
