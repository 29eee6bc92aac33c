"""Signing messages, golden signatures, and lifting credentials from headers and params."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from bridge.auth.failures import AuthFailure, Reason
from bridge.auth.signing import (
    SCHEME,
    auth_params,
    authorization_header,
    body_digest,
    canonical_request,
    check_shape,
    credentials_from_params,
    header_signature,
    params_signature,
    parse_authorization,
)
from bridge.calls import Credentials
from bridge.faults import UNAUTHENTICATED

KEY = "s3cret-key"
NONCE = "abcdefghijklmnop"
TS = 1_700_000_000
BODY = b"<methodCall/>"


def test_params_signature_golden() -> None:
    """The params form signs "nonce;timestamp;username" with HMAC-SHA256, as rpcenable does."""
    assert params_signature(KEY, NONCE, TS, "alice") == (
        "c90319fcc7338634fefceea5869cd11eafebdc80c6725821cb8531fe51ff2021"
    )


def test_header_signature_golden() -> None:
    """The header form signs the seven documented lines joined by newlines."""
    assert header_signature(KEY, "POST", "/rpc", TS, NONCE, "alice", BODY) == (
        "f5bff13fb4ee6824e0907a794ccda9368b62260d816749da8490d9b8448c9903"
    )


def test_canonical_request_lines() -> None:
    """The canonical request is scheme, method, path, timestamp, nonce, username, body hex digest."""
    lines = canonical_request("POST", "/rpc", TS, NONCE, "alice", body_digest(BODY)).split("\n")
    assert lines == [SCHEME, "POST", "/rpc", str(TS), NONCE, "alice", hashlib.sha256(BODY).hexdigest()]


def test_authorization_header_round_trips_through_parse() -> None:
    """A header made by the client helper parses back into the same fields, with the body digest."""
    header = authorization_header("alice", KEY, "POST", "/rpc", BODY, nonce=NONCE, timestamp=TS)
    creds = parse_authorization(header, method="POST", path="/rpc", body=BODY)
    signature = header_signature(KEY, "POST", "/rpc", TS, NONCE, "alice", BODY)
    assert header == f"{SCHEME} Credential=alice, Nonce={NONCE}, Timestamp={TS}, Signature={signature}"
    assert creds == Credentials(
        form="header",
        username="alice",
        nonce=NONCE,
        timestamp=str(TS),
        signature=signature,
        method="POST",
        path="/rpc",
        body_sha256=body_digest(BODY),
    )


def test_parse_authorization_is_case_insensitive_in_names() -> None:
    """The scheme and parameter names match regardless of case and spacing (RFC 9110 section 11.1)."""
    creds = parse_authorization(
        f"rpcbridge-hmac-sha256   credential=bob,nonce={NONCE} ,  TIMESTAMP={TS}, Signature={'a' * 64}"
    )
    assert (creds.username, creds.nonce, creds.timestamp, creds.body_sha256) == ("bob", NONCE, str(TS), "")


@pytest.mark.parametrize(
    "header",
    [
        "",
        f"Bearer Credential=a, Nonce={NONCE}, Timestamp={TS}, Signature={'a' * 64}",
        f"{SCHEME} Credential=a, Nonce={NONCE}, Timestamp={TS}",
        f"{SCHEME} Credential=a, Credential=b, Nonce={NONCE}, Timestamp={TS}, Signature={'a' * 64}",
        f"{SCHEME} Credential=a, Nonce={NONCE}, Timestamp={TS}, Signature={'a' * 64}, Extra=1",
        f"{SCHEME} Credential a, Nonce={NONCE}, Timestamp={TS}, Signature={'a' * 64}",
        f"{SCHEME} Credential=a, Nonce={'n' * 3000}, Timestamp={TS}, Signature={'a' * 64}",
    ],
    ids=["empty", "other-scheme", "missing", "duplicate", "unknown", "no-equals", "too-long"],
)
def test_parse_authorization_refuses_malformed(header: str) -> None:
    """A malformed Authorization header is an UNAUTHENTICATED fault with reason "malformed"."""
    with pytest.raises(AuthFailure) as caught:
        parse_authorization(header)
    assert (caught.value.code, caught.value.reason) == (UNAUTHENTICATED, Reason.MALFORMED)


def test_credentials_from_params_splits_the_first_four() -> None:
    """The first four params become credentials (an int timestamp as text); the rest are the call's."""
    creds, rest = credentials_from_params([NONCE, TS, "alice", "f" * 64, 1, "two"])
    assert rest == (1, "two")
    assert creds == Credentials(
        form="params", username="alice", nonce=NONCE, timestamp=str(TS), signature="f" * 64
    )


@pytest.mark.parametrize(
    "params",
    [
        [NONCE, TS, "alice"],
        [NONCE, True, "alice", "f" * 64],
        [NONCE, 1.5, "alice", "f" * 64],
        [NONCE, TS, 7, "f" * 64],
        [b"bytes-nonce-123456", TS, "alice", "f" * 64],
    ],
    ids=["too-few", "bool-timestamp", "float-timestamp", "int-username", "bytes-nonce"],
)
def test_credentials_from_params_refuses_malformed(params: list[Any]) -> None:
    """Params that cannot hold credentials give an UNAUTHENTICATED fault with reason "malformed"."""
    with pytest.raises(AuthFailure) as caught:
        credentials_from_params(params)
    assert (caught.value.code, caught.value.reason) == (UNAUTHENTICATED, Reason.MALFORMED)


def test_auth_params_signs_with_a_fresh_random_nonce() -> None:
    """The client helper makes a new nonce of at least 16 characters each time and signs it."""
    first = auth_params("alice", KEY, timestamp=TS)
    second = auth_params("alice", KEY, timestamp=TS)
    nonce, timestamp, username, signature = first
    assert len(nonce) >= 16
    assert nonce != second[0]
    assert (timestamp, username) == (TS, "alice")
    assert signature == params_signature(KEY, nonce, TS, "alice")


def _params(**changes: str) -> Credentials:
    fields = {"username": "alice", "nonce": NONCE, "timestamp": str(TS), "signature": "a" * 64}
    fields.update(changes)
    return Credentials(form="params", **fields)


@pytest.mark.parametrize(
    "creds",
    [
        _params(nonce="short"),
        _params(nonce="abcdefgh;ijklmnop"),
        _params(nonce="abcdefgh\nijklmnop"),
        _params(username="al;ice"),
        _params(username=""),
        _params(timestamp="1700000000.5"),
        _params(timestamp="-5"),
        _params(signature="z" * 64),
        _params(signature="a" * 63),
        Credentials(form="cookie", username="alice", nonce=NONCE, timestamp=str(TS), signature="a" * 64),
        Credentials(form="header", username="alice", nonce=NONCE, timestamp=str(TS), signature="a" * 64),
    ],
    ids=[
        "short-nonce",
        "semicolon-nonce",
        "newline-nonce",
        "semicolon-user",
        "empty-user",
        "float-timestamp",
        "negative-timestamp",
        "non-hex-signature",
        "short-signature",
        "unknown-form",
        "header-without-request",
    ],
)
def test_check_shape_refuses(creds: Credentials) -> None:
    """Credentials whose fields cannot be valid are refused as malformed before any lookup."""
    with pytest.raises(AuthFailure) as caught:
        check_shape(creds)
    assert caught.value.reason is Reason.MALFORMED
