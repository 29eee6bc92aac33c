"""Type-strict comparison of neutral values, for tests of every tier.

`==` alone would let a value change type on its way through the bridge and still pass:
True == 1, 3.0 == 3, and a naive datetime equals nothing aware only by accident of offsets.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from bridge.calls import Call, Success
from bridge.errors import Fault


def same(a: Any, b: Any) -> bool:
    """True when a and b are equal with the same types all the way down (NaN equals NaN, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, datetime.datetime):
        return bool(a.replace(tzinfo=None) == b.replace(tzinfo=None) and a.utcoffset() == b.utcoffset())
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Call):
        return a.procedure == b.procedure and same(a.params, b.params) and a.named == b.named
    if isinstance(a, Success):
        return same(a.value, b.value)
    if isinstance(a, Fault):
        return (a.code, a.message) == (b.code, b.message) and same(a.data, b.data)
    return bool(a == b)
