"""Golden files: hand-written requests decode to known calls; outcomes encode to known bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault
from bridge.protocols.xmlrpc import (
    decode_call,
    decode_outcome,
    encode_call,
    encode_outcome,
    expand_multicall,
    multicall_result,
)
from bridge.settings import Limits
from tests.neutral_values import same
from tests.unit.xmlrpc.golden_cases import CALLS, REQUESTS, RESPONSES

GOLDEN = Path(__file__).parent / "golden"


def _names(folder: str) -> set[str]:
    return {path.stem for path in (GOLDEN / folder).glob("*.xml")}


def test_every_golden_file_has_a_case_and_every_case_a_file() -> None:
    """No golden file is left unchecked, and no expected value lacks its file."""
    assert _names("requests") == set(REQUESTS)
    assert _names("responses") == set(RESPONSES)
    assert _names("calls") == set(CALLS)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_request_decodes_to_expected_call(name: str) -> None:
    """Each golden methodCall decodes to exactly the expected procedure and typed params."""
    call = decode_call((GOLDEN / "requests" / f"{name}.xml").read_bytes(), Limits())
    assert same(call, REQUESTS[name]), call


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_outcome_encodes_to_golden_bytes(name: str) -> None:
    """encode_outcome writes each golden methodResponse byte for byte."""
    assert encode_outcome(RESPONSES[name].outcome) == (GOLDEN / "responses" / f"{name}.xml").read_bytes()


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_golden_response_decodes_back(name: str) -> None:
    """Each golden methodResponse decodes (client side) to the outcome it was made from."""
    case = RESPONSES[name]
    expected = case.decoded if case.decoded is not None else case.outcome
    outcome = decode_outcome((GOLDEN / "responses" / f"{name}.xml").read_bytes(), Limits())
    assert same(outcome, expected), outcome


@pytest.mark.parametrize("name", sorted(CALLS))
def test_call_encodes_to_golden_bytes_and_back(name: str) -> None:
    """encode_call writes each golden methodCall byte for byte, and decode_call reads it back."""
    call = CALLS[name]
    body = (GOLDEN / "calls" / f"{name}.xml").read_bytes()
    assert encode_call(call.procedure, call.params) == body
    assert same(decode_call(body, Limits()), call)


def _run(slot: Call | Fault) -> Outcome:
    """A stand-in worker: math.add sums, echo returns its argument."""
    if isinstance(slot, Fault):
        return slot
    return Success(sum(slot.params) if slot.procedure == "math.add" else slot.params[0])


def test_multicall_golden_request_round_trip() -> None:
    """The golden multicall request expands, runs, and encodes to the golden multicall response."""
    call = decode_call((GOLDEN / "requests" / "multicall.xml").read_bytes(), Limits())
    outcomes = [_run(slot) for slot in expand_multicall(call, Limits())]
    body = encode_outcome(Success(multicall_result(outcomes)))
    assert body == (GOLDEN / "responses" / "multicall.xml").read_bytes()
