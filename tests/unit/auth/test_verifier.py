"""The verifier's checks, their order, and what each failure looks like to a client."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bridge.auth.failures import UNAVAILABLE_MESSAGE, AuthFailure, Reason
from bridge.auth.signing import (
    auth_params,
    authorization_header,
    credentials_from_params,
    parse_authorization,
)
from bridge.auth.verifier import DEFAULT_CACHE_SECONDS, Verifier
from bridge.calls import Credentials
from bridge.errors import Status
from bridge.faults import FORBIDDEN, UNAUTHENTICATED
from bridge.store.nonce_stores import MemoryNonceStore
from bridge.store.records import User
from tests.unit.auth.fakes import NOW, FakeUserStore, FixedClock, RecordingNonceStore

SKEW = 300
NONCE = "nonce-0123456789abcdef"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def users() -> FakeUserStore:
    return FakeUserStore()


@pytest.fixture
def nonces() -> RecordingNonceStore:
    return RecordingNonceStore()


@pytest.fixture
def verifier(users: FakeUserStore, nonces: RecordingNonceStore, clock: FixedClock) -> Verifier:
    return Verifier(users, nonces, skew_seconds=SKEW, clock=clock, monotonic=clock)


def signed(username: str, key: str, nonce: str = NONCE, timestamp: int = NOW) -> Credentials:
    """Params-form credentials as a client would send them."""
    creds, _ = credentials_from_params(auth_params(username, key, nonce=nonce, timestamp=timestamp))
    return creds


async def refusal(verifier: Verifier, creds: Credentials, procedure: str = "echo") -> AuthFailure:
    with pytest.raises(AuthFailure) as caught:
        await verifier.verify(creds, procedure)
    return caught.value


async def test_valid_params_credentials_return_the_user(verifier: Verifier, users: FakeUserStore) -> None:
    """Correctly signed params credentials yield the user, whose str() is the username."""
    key = await users.add_user("alice")
    user = await verifier.verify(signed("alice", key), "echo")
    assert (str(user), user.username) == ("alice", "alice")


async def test_valid_header_credentials_return_the_user(verifier: Verifier, users: FakeUserStore) -> None:
    """A correctly signed Authorization header, with the body the frontend received, yields the user."""
    key = await users.add_user("alice")
    body = b'{"jsonrpc": "2.0", "method": "echo", "id": 1}'
    header = authorization_header("alice", key, "POST", "/rpc", body, nonce=NONCE, timestamp=NOW)
    creds = parse_authorization(header, method="POST", path="/rpc", body=body)
    assert (await verifier.verify(creds, "echo")).username == "alice"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/rpc", b"tampered"), ("POST", "/rpc/v2", b"{}"), ("PUT", "/rpc", b"{}")],
    ids=["body", "path", "method"],
)
async def test_header_form_protects_method_path_and_body(
    verifier: Verifier, users: FakeUserStore, method: str, path: str, body: bytes
) -> None:
    """Changing the body, path or method after signing makes the signature fail."""
    key = await users.add_user("alice")
    header = authorization_header("alice", key, "POST", "/rpc", b"{}", nonce=NONCE, timestamp=NOW)
    creds = parse_authorization(header, method=method, path=path, body=body)
    assert (await refusal(verifier, creds)).reason is Reason.BAD_SIGNATURE


async def test_uppercase_hex_signature_is_accepted(verifier: Verifier, users: FakeUserStore) -> None:
    """Hex digits of the signature may be uppercase."""
    key = await users.add_user("alice")
    creds = signed("alice", key)
    upper = dataclasses.replace(creds, signature=creds.signature.upper())
    assert (await verifier.verify(upper, "echo")).username == "alice"


async def test_malformed_is_refused_before_any_lookup(verifier: Verifier, users: FakeUserStore) -> None:
    """A short nonce is refused as malformed without touching the user store."""
    key = await users.add_user("alice")
    failure = await refusal(verifier, signed("alice", key, nonce="too-short"))
    assert (failure.reason, users.lookups) == (Reason.MALFORMED, 0)


@pytest.mark.parametrize("offset", [-(SKEW + 1), SKEW + 1], ids=["past", "future"])
async def test_timestamp_outside_the_window_is_refused(
    verifier: Verifier, users: FakeUserStore, nonces: RecordingNonceStore, offset: int
) -> None:
    """A timestamp more than the skew away, either way, is refused before lookup and nonce claim."""
    key = await users.add_user("alice")
    failure = await refusal(verifier, signed("alice", key, timestamp=NOW + offset))
    assert (failure.reason, users.lookups, nonces.claims) == (Reason.SKEW, 0, [])


@pytest.mark.parametrize("offset", [-SKEW, SKEW], ids=["past-edge", "future-edge"])
async def test_timestamp_at_the_window_edge_is_accepted(
    verifier: Verifier, users: FakeUserStore, offset: int
) -> None:
    """A timestamp exactly the skew away, either way, is still inside the window."""
    key = await users.add_user("alice")
    assert (await verifier.verify(signed("alice", key, timestamp=NOW + offset), "echo")).username == "alice"


async def test_unknown_user_is_refused(verifier: Verifier, nonces: RecordingNonceStore) -> None:
    """A user the store does not know is refused, and no nonce is claimed."""
    failure = await refusal(verifier, signed("mallory", "any-key-at-all"))
    assert (failure.reason, nonces.claims) == (Reason.UNKNOWN_USER, [])


async def test_disabled_user_is_unauthenticated(verifier: Verifier, users: FakeUserStore) -> None:
    """A disabled user with a correct signature is UNAUTHENTICATED (not FORBIDDEN), reason "disabled"."""
    key = await users.add_user("alice")
    await users.set_enabled("alice", False)
    failure = await refusal(verifier, signed("alice", key))
    assert (failure.code, failure.reason) == (UNAUTHENTICATED, Reason.DISABLED)


async def test_bad_signature_does_not_burn_the_nonce(
    verifier: Verifier, users: FakeUserStore, nonces: RecordingNonceStore
) -> None:
    """A wrong MAC is refused without claiming its nonce, so the real request with that nonce succeeds."""
    key = await users.add_user("alice")
    forged = await refusal(verifier, signed("alice", "not-alice-key-000", nonce=NONCE))
    assert (forged.reason, nonces.claims) == (Reason.BAD_SIGNATURE, [])
    assert (await verifier.verify(signed("alice", key, nonce=NONCE), "echo")).username == "alice"


async def test_replay_is_refused(verifier: Verifier, users: FakeUserStore) -> None:
    """The same signed request sent twice succeeds once, then fails as a replay."""
    key = await users.add_user("alice")
    creds = signed("alice", key)
    await verifier.verify(creds, "echo")
    assert (await refusal(verifier, creds)).reason is Reason.REPLAY


async def test_nonces_are_per_user(verifier: Verifier, users: FakeUserStore) -> None:
    """Two users may use the same nonce."""
    alice, bob = await users.add_user("alice"), await users.add_user("bob")
    await verifier.verify(signed("alice", alice), "echo")
    assert (await verifier.verify(signed("bob", bob), "echo")).username == "bob"


@pytest.mark.parametrize("offset", [-SKEW, 0, SKEW])
async def test_nonce_is_held_until_the_timestamp_leaves_the_window(
    verifier: Verifier, users: FakeUserStore, nonces: RecordingNonceStore, offset: int
) -> None:
    """The nonce TTL reaches past the last moment the timestamp is still accepted."""
    key = await users.add_user("alice")
    await verifier.verify(signed("alice", key, timestamp=NOW + offset), "echo")
    [(_, _, ttl)] = nonces.claims
    assert NOW + ttl > NOW + offset + SKEW


async def test_replay_fails_for_the_whole_window_with_a_memory_store(
    users: FakeUserStore, clock: FixedClock
) -> None:
    """With the memory nonce store, a replay is refused until the timestamp itself has expired."""
    key = await users.add_user("alice")
    memory = MemoryNonceStore(clock=clock)
    verifier = Verifier(users, memory, skew_seconds=SKEW, clock=clock)
    creds = signed("alice", key, timestamp=NOW + SKEW)
    await verifier.verify(creds, "echo")
    clock.now = NOW + 2 * SKEW
    assert (await refusal(verifier, creds)).reason is Reason.REPLAY
    clock.now = NOW + 2 * SKEW + 2
    assert (await refusal(verifier, creds)).reason is Reason.SKEW


async def test_rotated_keys_both_work_until_revoked(
    verifier: Verifier, users: FakeUserStore, clock: FixedClock
) -> None:
    """After rotation the old and the new key both verify; after revocation only the new one does."""
    old = await users.add_user("alice")
    new = await users.rotate_key("alice")
    await verifier.verify(signed("alice", old, nonce="nonce-old-0123456789"), "echo")
    await verifier.verify(signed("alice", new, nonce="nonce-new-0123456789"), "echo")
    await users.revoke_keys("alice", keep_newest=1)
    clock.now += DEFAULT_CACHE_SECONDS  # what the verifier read stays trusted this long
    failure = await refusal(verifier, signed("alice", old, nonce="nonce-old-9876543210"))
    assert failure.reason is Reason.BAD_SIGNATURE
    assert (
        await verifier.verify(signed("alice", new, nonce="nonce-new-9876543210"), "echo")
    ).username == "alice"


async def test_procedure_outside_scopes_is_forbidden(verifier: Verifier, users: FakeUserStore) -> None:
    """A user limited to "math.*" may call math.add, and gets FORBIDDEN for anything else."""
    key = await users.add_user("alice", scopes=["math.*"])
    await verifier.verify(signed("alice", key, nonce="nonce-math-0123456789"), "math.add")
    failure = await refusal(verifier, signed("alice", key), "admin.reset")
    assert (failure.code, failure.message, failure.reason) == (FORBIDDEN, "Forbidden", Reason.SCOPE)
    assert failure.status is Status.PERMISSION_DENIED


async def test_refusals_look_alike_to_the_client(verifier: Verifier, users: FakeUserStore) -> None:
    """Bad MAC, unknown user, disabled user, stale timestamp and replay give the same code and message."""
    key = await users.add_user("alice")
    await users.add_user("carol")
    await users.set_enabled("carol", False)
    accepted = signed("alice", key, nonce="nonce-replayed-012345")
    await verifier.verify(accepted, "echo")
    failures = [
        await refusal(verifier, signed("alice", "wrong-key-0123456789")),
        await refusal(verifier, signed("nobody", key)),
        await refusal(verifier, signed("carol", "key-of-carol-0123456789")),
        await refusal(verifier, signed("alice", key, timestamp=NOW - 10 * SKEW)),
        await refusal(verifier, accepted),
    ]
    assert {f.reason for f in failures} == {
        Reason.BAD_SIGNATURE,
        Reason.UNKNOWN_USER,
        Reason.DISABLED,
        Reason.SKEW,
        Reason.REPLAY,
    }
    assert {(f.code, f.message, f.data) for f in failures} == {(UNAUTHENTICATED, "Unauthenticated", None)}


async def test_nonce_store_unavailable_fails_closed(
    verifier: Verifier, users: FakeUserStore, nonces: RecordingNonceStore
) -> None:
    """When nonces cannot be claimed, a correctly signed call is refused as temporarily unavailable."""
    key = await users.add_user("alice")
    nonces.unavailable = True
    failure = await refusal(verifier, signed("alice", key))
    assert (failure.code, failure.reason) == (UNAUTHENTICATED, Reason.NONCE_STORE_UNAVAILABLE)
    assert failure.message == UNAVAILABLE_MESSAGE
    assert "temporarily unavailable" in failure.message


async def test_user_store_unavailable_fails_closed(verifier: Verifier, users: FakeUserStore) -> None:
    """When the user store fails, the call is refused as temporarily unavailable, not let through."""
    key = await users.add_user("alice")
    users.fail = True
    failure = await refusal(verifier, signed("alice", key))
    assert (failure.code, failure.reason) == (UNAUTHENTICATED, Reason.USER_STORE_UNAVAILABLE)


async def test_failure_detail_never_holds_the_key(verifier: Verifier, users: FakeUserStore) -> None:
    """The logged detail and repr of a refusal name the reason but never the key or signature."""
    key = await users.add_user("alice", key="very-secret-key-material")
    creds = signed("alice", "wrong-key-0123456789")
    failure = await refusal(verifier, creds)
    for text in (failure.detail, repr(failure), str(failure)):
        assert key not in text
        assert creds.signature not in text


async def test_users_are_read_at_most_once_per_cache_period(
    verifier: Verifier, users: FakeUserStore, clock: FixedClock
) -> None:
    """Calls within a second reuse what was read; a user disabled meanwhile is refused once it lapses."""
    key = await users.add_user("alice")
    await verifier.verify(signed("alice", key, nonce="nonce-cache-00000001"), "echo")
    reads = users.lookups
    await verifier.verify(signed("alice", key, nonce="nonce-cache-00000002"), "echo")
    assert users.lookups == reads
    await users.set_enabled("alice", False)
    clock.now += DEFAULT_CACHE_SECONDS
    failure = await refusal(verifier, signed("alice", key, nonce="nonce-cache-00000003"))
    assert failure.reason is Reason.DISABLED


async def test_calls_missing_the_cache_together_share_one_read(
    nonces: RecordingNonceStore, clock: FixedClock
) -> None:
    """Many concurrent calls for one user read the store once, not once each."""

    class SlowUserStore(FakeUserStore):
        async def get(self, username: str) -> User | None:
            await asyncio.sleep(0.01)  # a real store answers later: the other calls arrive meanwhile
            return await super().get(username)

    users = SlowUserStore()
    verifier = Verifier(users, nonces, skew_seconds=SKEW, clock=clock, monotonic=clock)
    key = await users.add_user("alice")
    calls = [verifier.verify(signed("alice", key, nonce=f"nonce-herd-{i:08d}"), "echo") for i in range(20)]
    assert all(user.username == "alice" for user in await asyncio.gather(*calls))
    assert users.lookups == 1
