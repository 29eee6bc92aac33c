"""The log formats: client text cannot forge a line or a field, and json carries the same fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter

from bridge.errors import ConfigError, Status
from bridge.observability import JsonFormatter, LabelledChildren, LogLine, TextFormatter
from bridge.settings import Settings
from bridge.sidecar.interception import ProxiedCall, ProxyReply
from bridge.sidecar.observation import summarize, write_access_line

FORGED = "echo\n2026-01-01 INFO sidecar rpcbridge.sidecar.access call procedure=admin outcome=ok"


@pytest.fixture(params=["text", "json"])
def written(request: pytest.FixtureRequest) -> Iterator[tuple[str, io.StringIO]]:
    """The sidecar's access log writing to a buffer in the given format."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(TextFormatter("sidecar") if request.param == "text" else JsonFormatter("sidecar"))
    logger = logging.getLogger("rpcbridge.sidecar.access")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield request.param, buffer
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _call(procedure: str, caller: str | None = None) -> ProxiedCall:
    return ProxiedCall(procedure, 0, "jsonrpc", b"req", {}, "ipv4:127.0.0.1:1", "rid-1", 5.0, caller)


def test_a_procedure_name_with_a_newline_is_one_line(written: tuple[str, io.StringIO]) -> None:
    """A client's procedure name holding a newline and a fake line stays inside one line."""
    log_format, buffer = written
    write_access_line(summarize(_call(FORGED, caller="a b=c"), ProxyReply(b""), 0.0, 0.001))
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1
    if log_format == "json":
        line = json.loads(lines[0])
        assert line["procedure"] == FORGED
        assert line["caller"] == "a b=c"
        assert line["message"] == "call"
    else:
        assert ' procedure="echo\\n2026-01-01 INFO' in lines[0]
        assert ' caller="a b=c" ' in lines[0]


def test_text_and_json_carry_the_same_fields(written: tuple[str, io.StringIO]) -> None:
    """Every field of the call line appears in both formats, `-` for none in text, null in json."""
    log_format, buffer = written
    write_access_line(summarize(_call("math.add"), ProxyReply(status=Status.UNAVAILABLE), 0.0, 0.002))
    line = buffer.getvalue().splitlines()[0]
    fields = ("request_id", "protocol", "procedure", "caller", "peer", "outcome", "code", "status")
    if log_format == "json":
        parsed = json.loads(line)
        assert {name: parsed[name] for name in fields} == {
            "request_id": "rid-1",
            "protocol": "jsonrpc",
            "procedure": "math.add",
            "caller": None,
            "peer": "ipv4:127.0.0.1:1",
            "outcome": "error",
            "code": None,
            "status": "UNAVAILABLE",
        }
        assert parsed["duration_ms"] == 2.0
    else:
        assert (
            "call request_id=rid-1 protocol=jsonrpc procedure=math.add caller=- peer=ipv4:127.0.0.1:1 "
            "outcome=error code=- status=UNAVAILABLE duration_ms=2.0 request_bytes=3 response_bytes=0"
        ) in line


def test_plain_messages_stay_on_one_line_in_text() -> None:
    """A %-style message with client text in its arguments is escaped onto one line too."""
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "procedure %s failed", (FORGED,), None)
    assert "\n" not in TextFormatter("worker").format(record)
    assert LogLine("e", {"v": "tab\there"}).__str__() == 'e v="tab\\there"'


def test_log_format_is_text_or_json() -> None:
    """Any other log_format is refused when the settings are built, before anything starts."""
    assert Settings(log_format="json").log_format == "json"
    with pytest.raises(ConfigError, match="log_format"):
        Settings(log_format="xml")


@pytest.mark.parametrize("formatter", [TextFormatter("sidecar"), JsonFormatter("sidecar")])
def test_time_text_is_logging_s_own_also_across_seconds(formatter: logging.Formatter) -> None:
    """The per-second cache writes what logging's default formatTime writes, for every second."""
    plain = logging.Formatter()
    for created in (1_790_000_000.001, 1_790_000_000.999, 1_790_000_001.5, 1_790_000_000.25):
        record = logging.LogRecord("x", logging.INFO, "", 0, "m", None, None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert formatter.formatTime(record) == plain.formatTime(record)


def test_labelled_children_count_into_the_metric() -> None:
    """Each label tuple's child is looked up once and counts where labels() would."""
    registry = CollectorRegistry()
    calls = Counter("calls", "calls", ["procedure"], registry=registry)
    children = LabelledChildren(calls)
    assert children("echo") is children("echo")
    children("echo").inc()
    children("add").inc(2)
    calls.labels("echo").inc()
    assert registry.get_sample_value("calls_total", {"procedure": "echo"}) == 2
    assert registry.get_sample_value("calls_total", {"procedure": "add"}) == 2
