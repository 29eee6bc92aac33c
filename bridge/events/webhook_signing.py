"""Standard Webhooks v1 signatures and delivery headers (https://www.standardwebhooks.com/).

Pure: the standard library only. Secrets are `whsec_` + base64 of random bytes, as Svix and the
reference libraries expect; every secret valid during a rotation signs, space-separated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from secrets import token_bytes
from typing import Final

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 -- the prefix of every secret, not a secret
SECRET_BYTES: Final = 32  # the specification asks for 24 to 64 random bytes
USER_AGENT: Final = "rpcbridge-webhooks/1"


def new_secret() -> str:
    """A fresh signing secret, `whsec_` + base64 of 32 random bytes; shown to its owner once."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret; raises ValueError for one that is not base64."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret."""
    if not secrets:
        raise ValueError("signing needs at least one secret")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode()
        for secret in secrets
    )


def delivery_headers(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes, *, user_agent: str = USER_AGENT
) -> dict[str, str]:
    """The headers of one delivery attempt; `timestamp` is the attempt's unix time, `msg_id` stays.

    Standard Webhooks: `webhook-id` is the same on every attempt of one message (receivers dedupe on
    it), while `webhook-timestamp` is when this attempt was signed (receivers refuse stale ones).
    """
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": user_agent,
    }
