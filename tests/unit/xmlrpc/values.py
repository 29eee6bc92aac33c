"""Test helpers for the XML-RPC codec: roomy limits, bodies and hypothesis strategies."""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import strategies as st

from bridge.settings import Limits

ROOMY = Limits(max_body_bytes=1 << 26, max_depth=100_000, max_multicall=100_000)
"""Limits that never get in the way of a test about values."""

# XML 1.0 section 2.2 leaves out C0 controls other than tab, LF and CR, surrogates, U+FFFE and U+FFFF.
NOT_XML_CHARS = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + ["\ufffe", "\uffff"]


def call_with(value_xml: str) -> bytes:
    """A methodCall with one param whose <value> holds `value_xml`."""
    return (
        f"<?xml version='1.0'?><methodCall><methodName>m</methodName><params><param><value>{value_xml}"
        "</value></param></params></methodCall>"
    ).encode()


xml_chars = st.characters(exclude_categories=["Cs"], exclude_characters=NOT_XML_CHARS)
xml_text = st.text(xml_chars)
fixed_offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
)
naive_datetimes = st.datetimes()
aware_datetimes = st.datetimes(timezones=fixed_offsets)
representable_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(1 << 63), (1 << 63) - 1),
    st.floats(),
    xml_text,
    st.binary(),
    naive_datetimes,
    aware_datetimes,
)
representable_values = st.recursive(
    representable_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(xml_text, children, max_size=5),
    max_leaves=25,
)
"""Every neutral value XML-RPC can express, nested."""


def _stdlib_values(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(1 << 31), (1 << 31) - 1),
        st.floats(),
        text,
        st.binary(),
        st.datetimes(min_value=datetime.datetime(1000, 1, 1)).map(lambda d: d.replace(microsecond=0)),
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=5) | st.dictionaries(text, children, max_size=5),
        max_leaves=25,
    )


stdlib_values = _stdlib_values(xml_text)
"""What Python's xmlrpc.client can write and read back with use_builtin_types=True."""

stdlib_values_without_cr = _stdlib_values(st.text(xml_chars.filter(lambda c: c != "\r")))
"""The same without \r, which xmlrpc.client writes unescaped, so XML parsing turns it into \n."""
