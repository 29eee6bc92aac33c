"""Request signing, rpcenable-compatible: the messages, their HMACs, and lifting credentials from requests.

Pure: no I/O, no awaits; the client helpers read the clock and `secrets` only when not given a
timestamp or nonce. Imports `bridge.calls`, `bridge.auth.failures`. Two forms (DESIGN.md, Security):

- params: the first four params are nonce, timestamp, username, signature, where the signature
  is hex HMAC-SHA256, keyed with the API key, over "%s;%s;%s" % (nonce, timestamp, username).
- header: `Authorization: RPCBRIDGE-HMAC-SHA256 Credential=<user>, Nonce=<nonce>,
  Timestamp=<unix>, Signature=<hex>`, the HMAC taken over the seven lines RPCBRIDGE-HMAC-SHA256,
  method, path, timestamp, nonce, username and the lowercase hex SHA-256 of the body, joined by "\\n".

Every malformed input raises `AuthFailure` with reason "malformed" (code UNAUTHENTICATED).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Sequence
from typing import Any, Final

from bridge.auth.failures import AuthFailure, Reason
from bridge.calls import Credentials

SCHEME: Final = "RPCBRIDGE-HMAC-SHA256"
PARAMS: Final = "params"
HEADER: Final = "header"
MIN_NONCE_LENGTH: Final = 16
MAX_FIELD_LENGTH: Final = 256
MAX_HEADER_LENGTH: Final = 2048

_HEX_SHA256: Final = re.compile(r"[0-9a-fA-F]{64}")
_TIMESTAMP: Final = re.compile(r"[0-9]{1,15}")
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 section 5.6.2, an HTTP method
_HEADER_FIELDS: Final = {
    "credential": "username",
    "nonce": "nonce",
    "timestamp": "timestamp",
    "signature": "signature",
}


def sign(key: str | bytes, message: str) -> str:
    """Lowercase hex HMAC-SHA256 of `message` (UTF-8) keyed with `key` (UTF-8 when a str)."""
    secret = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def params_message(nonce: str, timestamp: int | str, username: str) -> str:
    """The text the params form signs: "nonce;timestamp;username"."""
    return f"{nonce};{timestamp};{username}"


def params_signature(key: str | bytes, nonce: str, timestamp: int | str, username: str) -> str:
    """The params-form signature."""
    return sign(key, params_message(nonce, timestamp, username))


def body_digest(body: bytes) -> str:
    """Lowercase hex SHA-256 of a request body, as the header form signs it."""
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str, path: str, timestamp: int | str, nonce: str, username: str, body_sha256: str
) -> str:
    """The seven lines the header form signs, joined by "\\n"."""
    return "\n".join((SCHEME, method, path, str(timestamp), nonce, username, body_sha256))


def header_signature(
    key: str | bytes, method: str, path: str, timestamp: int | str, nonce: str, username: str, body: bytes
) -> str:
    """The header-form signature over method, path, timestamp, nonce, username and body."""
    return sign(key, canonical_request(method, path, timestamp, nonce, username, body_digest(body)))


def new_nonce() -> str:
    """A random nonce: 32 urlsafe characters (192 bits) from `secrets`."""
    return secrets.token_urlsafe(24)


def _malformed(detail: str) -> AuthFailure:
    return AuthFailure(Reason.MALFORMED, detail)


def _has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


def check_shape(creds: Credentials) -> None:
    """Refuse credentials whose fields cannot be valid, before any lookup or HMAC is done.

    Fields must hold no ";" (the params separator) or control character (the header form's
    lines are joined by "\\n"); the nonce has at least 16 characters; the timestamp is an
    integer; the signature (and for the header form the body digest) is 64 hex digits.
    """
    if creds.form not in (PARAMS, HEADER):
        raise _malformed(f"unknown credentials form {creds.form!r}")
    for name in ("nonce", "timestamp", "username", "signature"):
        value = getattr(creds, name)
        if not isinstance(value, str) or not value or len(value) > MAX_FIELD_LENGTH:
            raise _malformed(f"{name} must be a string of 1..{MAX_FIELD_LENGTH} characters")
        if ";" in value or _has_control(value):
            raise _malformed(f"{name} contains ';' or a control character")
    if len(creds.nonce) < MIN_NONCE_LENGTH:
        raise _malformed(f"nonce shorter than {MIN_NONCE_LENGTH} characters")
    if not _TIMESTAMP.fullmatch(creds.timestamp):
        raise _malformed("timestamp is not an integer")
    if not _HEX_SHA256.fullmatch(creds.signature):
        raise _malformed("signature is not 64 hex digits")
    if creds.form == HEADER:
        if not _TOKEN.fullmatch(creds.method):
            raise _malformed("method missing or not an HTTP token")
        if not creds.path or len(creds.path) > MAX_HEADER_LENGTH or _has_control(creds.path):
            raise _malformed("path missing, too long or containing a control character")
        if not _HEX_SHA256.fullmatch(creds.body_sha256):
            raise _malformed("body digest missing or not 64 hex digits")


def parse_authorization(
    header: str, *, method: str = "", path: str = "", body: bytes | None = None
) -> Credentials:
    """Credentials from an `Authorization: RPCBRIDGE-HMAC-SHA256 ...` header value.

    The scheme and parameter names match case-insensitively (RFC 9110 section 11.1); each of
    the four parameters must appear exactly once. `method`, `path` and `body` are those of the
    request the header came with; the body is kept as its digest.
    """
    if not isinstance(header, str) or len(header) > MAX_HEADER_LENGTH:
        raise _malformed("Authorization header missing or too long")
    scheme, _, rest = header.strip().partition(" ")
    if scheme.upper() != SCHEME:
        raise _malformed("Authorization scheme is not " + SCHEME)
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        field = _HEADER_FIELDS.get(name.strip().lower())
        if not equals or field is None or field in fields:
            raise _malformed(
                "Authorization parameters must be Credential, Nonce, Timestamp, Signature once each"
            )
        fields[field] = value.strip()
    if len(fields) != len(_HEADER_FIELDS):
        raise _malformed("Authorization header lacks one of Credential, Nonce, Timestamp, Signature")
    return Credentials(
        form=HEADER,
        method=method,
        path=path,
        body_sha256="" if body is None else body_digest(body),
        **fields,
    )


def credentials_from_params(params: Sequence[Any]) -> tuple[Credentials, tuple[Any, ...]]:
    """Split the first four params (nonce, timestamp, username, signature) from the call's own.

    The timestamp may be an integer or a string of digits; the others must be strings.
    """
    if len(params) < 4:
        raise _malformed("expected nonce, timestamp, username and signature as the first four params")
    nonce, timestamp, username, signature = params[:4]
    if isinstance(timestamp, int) and not isinstance(timestamp, bool):
        timestamp = str(timestamp)
    if not all(isinstance(value, str) for value in (nonce, timestamp, username, signature)):
        raise _malformed("nonce, username and signature must be strings, the timestamp an integer")
    creds = Credentials(form=PARAMS, username=username, nonce=nonce, timestamp=timestamp, signature=signature)
    return creds, tuple(params[4:])


def auth_params(username: str, key: str, nonce: str | None = None, timestamp: int | None = None) -> list[Any]:
    """The four params a client puts first: [nonce, timestamp (int), username, signature]."""
    nonce = new_nonce() if nonce is None else nonce
    timestamp = int(time.time()) if timestamp is None else timestamp
    return [nonce, timestamp, username, params_signature(key, nonce, timestamp, username)]


def authorization_header(
    username: str,
    key: str,
    method: str,
    path: str,
    body: bytes,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> str:
    """The `Authorization` header value a client sends with `method path` and this body."""
    nonce = new_nonce() if nonce is None else nonce
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = header_signature(key, method, path, timestamp, nonce, username, body)
    return f"{SCHEME} Credential={username}, Nonce={nonce}, Timestamp={timestamp}, Signature={signature}"
