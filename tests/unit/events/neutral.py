"""Hypothesis strategies for the neutral values an event's data may hold."""

from __future__ import annotations

import datetime

from hypothesis import strategies as st

offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),
    st.text(),
    st.binary(),
    st.datetimes(),
    st.datetimes(timezones=offsets),
    st.decimals(),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)
"""Every kind of neutral value, nested (Decimal NaNs, signalling ones included)."""

event_data = st.dictionaries(st.text(max_size=8), values, max_size=6)
