"""W3C Trace Context parsing: valid headers are continued, anything else starts a new trace."""

from __future__ import annotations

import pytest

from bridge.tracing import IdTracer, continue_or_start, new_trace, parse_traceparent

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_spec_example_is_parsed_with_its_tracestate() -> None:
    """The example of W3C Trace Context 3.2.2 is read field by field; tracestate rides along."""
    parent = parse_traceparent(VALID, "congo=t61rcWkgMzE")
    assert parent is not None
    assert (parent.trace_id, parent.span_id, parent.flags) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        "01",
    )
    assert parent.tracestate == "congo=t61rcWkgMzE"
    assert parent.header == VALID


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version other than 00
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero parent id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # uppercase hex
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # 31 hex digits
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  # one-digit flags
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # version 00 has four fields
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
    ],
)
def test_an_invalid_traceparent_is_ignored(header: str) -> None:
    """Each malformed header is refused, and a new trace is started in its place."""
    assert parse_traceparent(header) is None
    started = continue_or_start(header)
    assert started.trace_id != "4bf92f3577b34da6a3ce929d0e0e4736" and len(started.trace_id) == 32


def test_a_tracestate_without_a_valid_traceparent_or_with_control_characters_is_dropped() -> None:
    """tracestate travels only with a valid traceparent (3.3), and never with a newline in it."""
    assert continue_or_start("bad", "congo=t61rcWkgMzE").tracestate == ""
    parent = parse_traceparent(VALID, "congo=1\nfake=2")
    assert parent is not None and parent.tracestate == ""


def test_new_traces_are_random_and_the_id_tracer_makes_a_child_span() -> None:
    """Two new traces differ; a span keeps its parent's trace id under a new span id."""
    first, second = new_trace(), new_trace()
    assert first.trace_id != second.trace_id
    with IdTracer().span("x", "server", first, {"rpc.system": "grpc"}) as span:
        assert span.context.trace_id == first.trace_id
        assert span.context.span_id != first.span_id
        assert span.attributes == {"rpc.system": "grpc"}
