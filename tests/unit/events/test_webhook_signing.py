"""Standard Webhooks v1 signing, checked by the reference verifier from PyPI (standardwebhooks)."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bridge.events.webhook_signing import USER_AGENT, delivery_headers, new_secret, secret_key, sign

BODY = b'{"id":"evt_1","type":"person.saved","timestamp":"2026-12-01T15:12:08Z","data":{"name":"Jo"}}'


def test_new_secrets_are_whsec_base64_of_enough_random_bytes() -> None:
    """A secret is whsec_ + base64 of at least 24 bytes, and no two are alike."""
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 24


def test_reference_verifier_accepts_the_signature() -> None:
    """standardwebhooks' Webhook(secret).verify accepts our headers and returns the body's JSON."""
    secret = new_secret()
    headers = delivery_headers([secret], "evt_1", int(time.time()), BODY)
    assert Webhook(secret).verify(BODY, headers)["data"] == {"name": "Jo"}


def test_every_secret_of_a_rotation_signs() -> None:
    """With two valid secrets, the header holds two signatures and either secret verifies it."""
    old, new = new_secret(), new_secret()
    headers = delivery_headers([old, new], "evt_1", int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body.replace(b"Jo", b"Jx"), headers),
        lambda body, headers: (body, {**headers, "webhook-id": "evt_2"}),
        lambda body, headers: (
            body,
            {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)},
        ),
    ],
    ids=["body", "id", "timestamp"],
)
def test_reference_verifier_rejects_tampering(tamper: object) -> None:
    """A changed body, id or timestamp no longer verifies."""
    secret = new_secret()
    body, headers = tamper(BODY, delivery_headers([secret], "evt_1", int(time.time()), BODY))  # type: ignore[operator]
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_signature_matches_the_specification_example() -> None:
    """The worked example of the Standard Webhooks specification gives its published signature."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert sign([secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_headers_of_a_delivery() -> None:
    """A delivery carries the three webhook-* headers, a JSON content type and our user agent."""
    headers = delivery_headers([new_secret()], "evt_1", 1700000000, BODY)
    assert set(headers) == {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "user-agent",
    }
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == USER_AGENT


@pytest.mark.parametrize("bad", ["whsec_", "whsec_not base64!", "whsec_@@@@"])
def test_malformed_secrets_are_refused(bad: str) -> None:
    """A secret that is not base64, or is empty, cannot sign."""
    with pytest.raises(ValueError, match="webhook secret"):
        secret_key(bad)


def test_signing_needs_a_secret() -> None:
    """Signing with no secret at all is refused rather than sending an unsigned delivery."""
    with pytest.raises(ValueError, match="at least one secret"):
        sign([], "evt_1", 1, BODY)
