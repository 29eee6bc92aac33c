"""Every example of section 7 of the JSON-RPC 2.0 specification, run through the codec."""

from __future__ import annotations

import json

import pytest

from tests.jsonrpc_spec_examples import SPEC_EXAMPLES
from tests.unit.jsonrpc.example_server import canonical, serve


@pytest.mark.parametrize(("request_text", "expected_text"), SPEC_EXAMPLES.values(), ids=SPEC_EXAMPLES.keys())
def test_section_7_example(request_text: str, expected_text: str | None) -> None:
    """Each section 7 request gets exactly the spec's response, values and types alike, or nothing."""
    reply = serve(request_text)
    if expected_text is None:
        assert reply is None
    else:
        assert reply is not None
        assert canonical(json.loads(reply)) == canonical(json.loads(expected_text))


def test_batch_replies_keep_member_order() -> None:
    """The mixed batch's replies come in member order, notifications left out (section 6 allows any)."""
    reply = serve(SPEC_EXAMPLES["batch"][0])
    assert reply is not None
    assert [item["id"] for item in json.loads(reply)] == ["1", "2", None, "5", "9"]
