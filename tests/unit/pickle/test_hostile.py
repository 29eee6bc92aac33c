"""Hostile pickles: every body of the corpus is refused with its reason, and nothing ever runs."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import Fault
from bridge.faults import PARSE_ERROR, REQUEST_TOO_LARGE
from bridge.protocols import pickle_audit, pickle_http
from bridge.protocols.pickle_http import decode_call
from bridge.settings import Limits
from tests.unit.pickle import corpus

LIMITS = Limits()
NAMES = [case.name for case in corpus.cases(Path("marker"))]


@pytest.fixture(autouse=True)
def quiet_canary() -> Iterator[None]:
    """Each test starts with a silent canary and fails if anything called it."""
    corpus.FIRED.clear()
    yield
    assert corpus.FIRED == []


def refusal(body: bytes, limits: Limits = LIMITS) -> Fault:
    with pytest.raises(Fault) as caught:
        decode_call("echo.any", body, limits)
    return caught.value


@pytest.mark.parametrize("name", NAMES)
def test_hostile_pickle_is_refused_with_its_reason(name: str, tmp_path: Path) -> None:
    """Each corpus body earns its fault code and reason; no command, code or canary runs."""
    marker = tmp_path / "marker"
    case = {case.name: case for case in corpus.cases(marker)}[name]
    failure = refusal(case.body)
    assert (failure.code, case.reason in str(failure.data)) == (case.code, True), failure.data
    assert not marker.exists()


def test_the_canary_fires_when_unpickled_without_the_allow_list(tmp_path: Path) -> None:
    """The corpus is live ammunition: plain pickle.loads runs it (so the refusals above mean something)."""
    pickle.loads(pickle.dumps(corpus.Exploit(corpus.fire, "proof")))
    assert corpus.FIRED == [("proof",)]
    corpus.FIRED.clear()


def test_a_pickle_inside_bytes_stays_bytes() -> None:
    """Bytes holding a malicious pickle arrive as those bytes, never loaded."""
    inner = pickle.dumps(corpus.Exploit(corpus.fire, "nested"))
    call = decode_call("echo.any", pickle.dumps({"value": inner}), LIMITS)
    assert call.named == {"value": inner}


def test_the_audit_reads_every_opcode_before_anything_is_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    """An allowed global followed by a forbidden opcode: find_class is never reached."""
    resolved: list[tuple[str, str]] = []

    def spy(self: Any, module: str, name: str) -> Any:
        resolved.append((module, name))
        return pickle_http.ALLOWED_GLOBALS[(module, name)]

    monkeypatch.setattr(pickle_http.PlainUnpickler, "find_class", spy)
    decimal_one = corpus.call(corpus.global_("decimal", "Decimal"), corpus.text("1"))
    assert refusal(corpus.kwargs(decimal_one + corpus.text("x") + pickle.BINPERSID + pickle.POP)).data
    assert resolved == []
    assert decode_call("m", corpus.kwargs(decimal_one), LIMITS).named is not None
    assert resolved == [("decimal", "Decimal")]


def test_shared_references_are_measured_not_unfolded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Billion laughs is refused by measuring each distinct list once; the copy is never started."""

    def must_not_run(value: Any) -> Any:
        raise AssertionError("the value was unfolded")

    monkeypatch.setattr(pickle_http, "_converted", must_not_run)
    failure = refusal(corpus.laughs(40, 10))
    assert failure.code == REQUEST_TOO_LARGE
    assert "unfold" in failure.data


def test_shared_text_counts_once_per_reference() -> None:
    """A thousand references to one 1 KiB string weigh 1 MiB: refused under a 64 KiB limit."""
    shared = "x" * 1024
    body = pickle.dumps({"value": [shared] * 1000}, 4)
    assert len(body) < 4096
    assert "unfold" in refusal(body, Limits(max_body_bytes=64 * 1024)).data
    assert decode_call("m", body, Limits(max_body_bytes=1 << 20)).named == {"value": [shared] * 1000}


def test_oversized_body_is_refused_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A body over max_body_bytes never reaches pickletools."""

    def must_not_run(body: bytes) -> Any:
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(pickle_audit.pickletools, "genops", must_not_run)
    failure = refusal(pickle.dumps({"value": "x" * 200}), Limits(max_body_bytes=100))
    assert (failure.code, failure.data) == (
        REQUEST_TOO_LARGE,
        "pickle refused: body is over the limit of 100 bytes",
    )


def test_every_truncation_of_a_valid_pickle_is_refused() -> None:
    """Cut anywhere, a pickle of every allowed kind of value is a parse error, never a partial value."""
    body = pickle.dumps({"text": "é", "list": [1, 2.5, None], "blob": b"\x00", "n": 2**70}, 4)
    for end in range(len(body)):
        assert refusal(body[:end]).code == PARSE_ERROR, end


def test_depth_limit_is_exact() -> None:
    """Nesting exactly max_depth levels (the kwargs dict counts as one) decodes; one more is refused."""
    limits = Limits(max_depth=5)
    assert decode_call("m", pickle.dumps({"v": [[[[1]]]]}), limits).named == {"v": [[[[1]]]]}
    assert refusal(pickle.dumps({"v": [[[[[1]]]]]}), limits).code == REQUEST_TOO_LARGE


def test_a_shared_list_met_deeper_still_counts_its_height() -> None:
    """Met shallow first and deep later, a shared list's own height counts at the deeper place."""
    inner = [[[1]]]
    value = {"a": inner, "b": [[[[[inner]]]]]}  # nine levels where the second reference sits
    assert pickle_http.to_neutral(value, Limits(max_depth=9)) == {"a": inner, "b": [[[[[inner]]]]]}
    with pytest.raises(Fault, match="Request too large"):
        pickle_http.to_neutral(value, Limits(max_depth=8))


def test_a_uuid_built_by_hand_cannot_be_given_arbitrary_state() -> None:
    """PlainUUID.__setstate__ refuses state uuid.UUID would accept, such as a str int."""
    made = pickle_http.PlainUUID(int=5)
    with pytest.raises(Fault, match="Invalid Request"):
        made.__setstate__({"int": "5"})
    with pytest.raises(Fault, match="Invalid Request"):
        made.__setstate__({"int": 5, "is_safe": 7})
