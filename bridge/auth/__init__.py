"""Authentication: rpcenable-compatible request signing, its verification, admin passwords.

`bridge.auth.signing` is pure (clients and frontends use it); `bridge.auth.verifier` needs the
store seams (the sidecar uses it). Must not import grpc, aiohttp or the frontend.
"""

from __future__ import annotations

from bridge.auth.failures import AuthFailure, Reason
from bridge.auth.passwords import hash_password, verify_password
from bridge.auth.signing import (
    auth_params,
    authorization_header,
    credentials_from_params,
    header_signature,
    params_signature,
    parse_authorization,
)
from bridge.auth.verifier import Verifier

__all__ = [
    "AuthFailure",
    "Reason",
    "Verifier",
    "auth_params",
    "authorization_header",
    "credentials_from_params",
    "hash_password",
    "header_signature",
    "params_signature",
    "parse_authorization",
    "verify_password",
]
