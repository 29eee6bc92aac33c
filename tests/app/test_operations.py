"""What operators see: health and readiness, Prometheus metrics, the log line, and `serve`."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bridge.frontend import serve
from bridge.observability import JsonFormatter, TextFormatter
from tests.app.conftest import TEST_SETTINGS, FakeInvoker
from tests.app.wire import json_post, json_result, request, xml_call


async def test_healthz(client: TestClient[Any, Any]) -> None:
    """GET /healthz answers 200 "ok"."""
    response = await client.get("/healthz")
    assert (response.status, await response.text()) == (200, "ok")


async def test_readyz_when_ready(client: TestClient[Any, Any]) -> None:
    """GET /readyz answers 200 when the invoker is ready."""
    assert (await client.get("/readyz")).status == 200


@pytest.mark.parametrize("state", [False, ConnectionError("sidecar gone")], ids=["not-ready", "raises"])
async def test_readyz_when_not_ready(client: TestClient[Any, Any], invoker: FakeInvoker, state: Any) -> None:
    """GET /readyz answers 503 when the invoker says no or fails to say."""
    invoker.is_ready = state
    response = await client.get("/readyz")
    assert response.status == 503
    assert "sidecar gone" not in await response.text()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text as {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_requests_by_protocol_and_outcome(client: TestClient[Any, Any]) -> None:
    """/metrics counts HTTP RPC requests by protocol and outcome, calls by outcome, and latency."""
    await json_result(client, "echo", [1])
    await json_post(
        client, [request("echo", [1], id=1), request("fail", id=2), request("update", [1], id=None)]
    )
    await xml_call(client, "get_data")
    await json_post(client, b"{not json")

    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    samples = _samples(await response.text())

    def requests(protocol: str, outcome: str) -> float:
        key = ("rpcbridge_frontend_rpc_requests_total", (("outcome", outcome), ("protocol", protocol)))
        return samples.get(key, 0.0)

    def calls(protocol: str, outcome: str) -> float:
        key = ("rpcbridge_frontend_rpc_calls_total", (("outcome", outcome), ("protocol", protocol)))
        return samples.get(key, 0.0)

    assert (requests("jsonrpc", "ok"), requests("jsonrpc", "fault")) == (1, 2)
    assert (requests("xmlrpc", "ok"), requests("xmlrpc", "fault")) == (1, 0)
    assert (calls("jsonrpc", "ok"), calls("jsonrpc", "fault")) == (3, 1)
    histogram_count = ("rpcbridge_frontend_rpc_request_duration_seconds_count", (("protocol", "jsonrpc"),))
    assert samples[histogram_count] == 3


async def test_metrics_are_per_app(client: TestClient[Any, Any], make_client: Any) -> None:
    """Each app counts in its own registry, so a second app starts from zero."""
    await json_result(client, "echo", [1])
    other = await make_client()
    samples = _samples(await (await other.get("/metrics")).text())
    assert not any(name == "rpcbridge_frontend_rpc_requests_total" for name, _ in samples)


async def test_one_log_line_per_request(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A batch is one INFO line naming request id, protocol, procedures, outcome and duration."""
    caplog.set_level(logging.INFO, logger="rpcbridge.frontend")
    await json_post(
        client,
        [request("echo", [1], id=1), request("fail", id=2)],
        headers={"X-Request-Id": "line-1"},
    )
    lines = [record for record in caplog.records if record.name == "rpcbridge.frontend"]
    assert len(lines) == 1
    line = lines[0]
    assert line.levelno == logging.INFO
    message = line.getMessage()
    for part in (
        "request_id=line-1",
        "protocol=jsonrpc",
        "procedures=echo,fail",
        "outcome=fault",
        "duration_ms=",
    ):
        assert part in message
    assert line.__dict__["http_status"] == 200


async def test_log_line_for_a_request_without_rpc(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A 415 is logged with its status and no protocol."""
    caplog.set_level(logging.INFO, logger="rpcbridge.frontend")
    await client.post("/rpc", data=b"x", headers={"Content-Type": "text/plain"})
    (line,) = [record for record in caplog.records if record.name == "rpcbridge.frontend"]
    assert "http_status=415" in line.getMessage()
    assert "protocol=-" in line.getMessage()


async def test_log_line_keeps_client_text_on_one_line(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A procedure name with a newline cannot forge a second log line."""
    caplog.set_level(logging.INFO, logger="rpcbridge.frontend")
    await json_post(client, request("evil\nGET /admin 200 request_id=forged"))
    (line,) = [record for record in caplog.records if record.name == "rpcbridge.frontend"]
    assert "\n" not in line.getMessage()


@pytest.mark.parametrize("formatter", [TextFormatter("frontend"), JsonFormatter("frontend")])
async def test_a_method_with_a_newline_writes_exactly_one_line(
    client: TestClient[Any, Any], formatter: logging.Formatter
) -> None:
    """As written to the log, in either format, a JSON-RPC method holding "\n" is one line."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    logger = logging.getLogger("rpcbridge.frontend")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        await json_post(client, request("evil\nGET /admin 200 request_id=forged"))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    assert len(buffer.getvalue().splitlines()) == 1


async def test_serve_reports_its_url_and_stops_when_cancelled(invoker: FakeInvoker) -> None:
    """serve() on port 0 reports the bound URL, answers there, and closes the port when cancelled."""
    bound: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(TEST_SETTINGS, invoker, ready=bound.set_result))
    url = await bound
    assert url.startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/rpc", json=request("subtract", [3, 1])) as response:
            assert (await response.json())["result"] == 2
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{url}/healthz")
