"""The interceptor chain: order, the terminal, frozen calls, and the answered call travelling back out."""

from __future__ import annotations

import dataclasses

import pytest

from bridge.errors import Status
from bridge.sidecar.interception import Proceed, ProxiedCall, ProxyReply, chain
from tests.unit.sidecar.fakes import Terminal, a_call


class Tag:
    """An interceptor that notes its name on the way in and out, and passes a copy with it as caller."""

    def __init__(self, name: str, trace: list[str]) -> None:
        self.name = name
        self.trace = trace

    async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
        self.trace.append(f"in:{self.name}")
        reply = await proceed(dataclasses.replace(call, caller=self.name))
        self.trace.append(f"out:{self.name}")
        return reply


async def test_the_first_interceptor_is_outermost_and_the_terminal_runs_last() -> None:
    trace: list[str] = []
    terminal = Terminal()
    handle = chain([Tag("a", trace), Tag("b", trace)], terminal)

    reply = await handle(a_call())

    assert trace == ["in:a", "in:b", "out:b", "out:a"]
    assert reply.response == b"worker answer"
    assert [c.caller for c in terminal.calls] == ["b"]


async def test_an_empty_chain_is_the_terminal_itself() -> None:
    terminal = Terminal()
    assert chain([], terminal) is terminal


async def test_a_call_is_frozen() -> None:
    call = a_call()
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.caller = "mallory"  # type: ignore[misc]


async def test_a_copy_passed_on_leaves_the_original_untouched() -> None:
    original = a_call()
    await chain([Tag("a", [])], Terminal())(original)
    assert original.caller is None


async def test_the_reply_names_the_call_as_the_terminal_received_it() -> None:
    """The outermost interceptor (the observer) learns the caller an inner one proved."""
    seen: list[ProxyReply] = []

    class Look:
        async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
            reply = await proceed(call)
            seen.append(reply)
            return reply

    await chain([Look(), Tag("inner", [])], Terminal())(a_call())

    assert seen[0].answered is not None
    assert seen[0].answered.caller == "inner"


async def test_an_interceptor_that_answers_itself_stops_the_chain() -> None:
    terminal = Terminal()

    class Refuse:
        async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
            return ProxyReply.failure(Status.PERMISSION_DENIED, "no")

    reply = await chain([Refuse()], terminal)(a_call())

    assert (reply.status, reply.details) == (Status.PERMISSION_DENIED, "no")
    assert terminal.calls == []
