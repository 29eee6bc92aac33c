"""`AuthFailure`: the fault every authentication or authorisation refusal raises, with its reason.

Imports only `bridge.errors` and `bridge.faults`. Clients see one message for every way to fail
authentication ("Unauthenticated": bad signature, unknown or disabled user, stale timestamp,
replay, malformed fields), so a refusal tells an attacker nothing. The real reason travels in
`.reason` (a metrics label) and `.detail` (for the log line; never a key or a signature).

    Fault
     └── AuthFailure
           code UNAUTHENTICATED (-32001)   every reason except "scope"
           code FORBIDDEN (-32002)         reason "scope": authenticated, not allowed this procedure

When the nonce or user store cannot be reached, the code stays UNAUTHENTICATED (the call is not
let through: auth fails closed) but the message says "authentication temporarily unavailable",
so a client retries instead of suspecting its key; it reveals nothing an attacker could use.
"""

from __future__ import annotations

import enum
from typing import Final

from bridge.errors import Fault, Status
from bridge.faults import FORBIDDEN, STANDARD_MESSAGES, UNAUTHENTICATED


class Reason(enum.StrEnum):
    """Why a call was refused; the values are stable metric labels."""

    MALFORMED = "malformed"
    SKEW = "skew"
    UNKNOWN_USER = "unknown_user"
    DISABLED = "disabled"
    BAD_SIGNATURE = "bad_signature"
    REPLAY = "replay"
    SCOPE = "scope"
    NONCE_STORE_UNAVAILABLE = "nonce_store_unavailable"
    USER_STORE_UNAVAILABLE = "user_store_unavailable"


UNAVAILABLE_REASONS: Final = frozenset({Reason.NONCE_STORE_UNAVAILABLE, Reason.USER_STORE_UNAVAILABLE})
UNAVAILABLE_MESSAGE: Final = "Unauthenticated: authentication temporarily unavailable"


class AuthFailure(Fault):
    """A refused call: UNAUTHENTICATED, or FORBIDDEN for a procedure outside the user's scopes."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        if reason is Reason.SCOPE:
            code, message = FORBIDDEN, STANDARD_MESSAGES[FORBIDDEN]
        elif reason in UNAVAILABLE_REASONS:
            code, message = UNAUTHENTICATED, UNAVAILABLE_MESSAGE
        else:
            code, message = UNAUTHENTICATED, STANDARD_MESSAGES[UNAUTHENTICATED]
        super().__init__(code, message)
        self.reason = reason
        self.detail = detail

    def __repr__(self) -> str:
        return f"AuthFailure({self.reason.value!r}, {self.detail!r})"

    @property
    def status(self) -> Status:
        """The gRPC status for this refusal (PERMISSION_DENIED for scope, else UNAUTHENTICATED)."""
        return Status.PERMISSION_DENIED if self.reason is Reason.SCOPE else Status.UNAUTHENTICATED
