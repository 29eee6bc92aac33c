"""Filters: every operator, dotted keys, missing and odd fields, hostile patterns, invalid specs."""

from __future__ import annotations

import datetime
import decimal
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import BridgeError
from bridge.events.filters import (
    MAX_FIELDS,
    MAX_KEY_LENGTH,
    MAX_OPERAND_LENGTH,
    MAX_PATTERN_LENGTH,
    InvalidFilter,
    compile_filter,
)
from tests.unit.events.neutral import event_data

PERSON = {
    "name": "Johanna",
    "age": 42,
    "score": 1.5,
    "active": True,
    "nickname": None,
    "photo": b"Jo",
    "born": datetime.datetime(1984, 5, 6),
    "address": {"city": "Berlin", "zip": "10115", "geo": {"lat": 52.5}},
    "tags": ["a", "b"],
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, True),
        ({"name": "Johanna"}, True),
        ({"name": "Jo"}, False),
        ({"name": {"is": "Johanna"}}, True),
        ({"name": {"startswith": "Jo"}}, True),
        ({"name": {"startswith": "jo"}}, False),
        ({"name": {"endswith": "anna"}}, True),
        ({"name": {"endswith": "Jo"}}, False),
        ({"name": {"contains": "han"}}, True),
        ({"name": {"contains": "xyz"}}, False),
        ({"name": {"like": "^Jo.*a$"}}, True),
        ({"name": {"like": "han"}}, True),  # a search, not anchored
        ({"name": {"like": "(?i)^JOHANNA$"}}, True),
        ({"name": {"like": "^Han"}}, False),
        ({"name": {"any": True}}, True),
        ({"nickname": {"any": True}}, True),  # present with a null value is present
        ({"missing": {"any": True}}, False),
        ({"name": {"startswith": "Jo", "endswith": "na"}}, True),
        ({"name": {"startswith": "Jo", "endswith": "Jo"}}, False),
        ({"name": "Johanna", "address.city": "Berlin"}, True),
        ({"name": "Johanna", "address.city": "Bonn"}, False),
    ],
)
def test_operators(spec: dict[str, Any], expected: bool) -> None:
    """Each operator matches as documented, several in one field object AND, fields AND."""
    assert compile_filter(spec).matches(PERSON) is expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"age": 42}, True),
        ({"age": 42.0}, True),  # JSON numbers carry no int/float distinction
        ({"age": 41}, False),
        ({"age": "42"}, False),  # a string compares with strings only
        ({"score": 1.5}, True),
        ({"active": True}, True),
        ({"active": 1}, False),  # a boolean is not the number 1
        ({"age": True}, False),
        ({"nickname": None}, True),
        ({"missing": None}, False),  # null means "present and null", never "absent"
        ({"name": None}, False),
    ],
)
def test_bare_values_compare_as_json_scalars(spec: dict[str, Any], expected: bool) -> None:
    """A bare non-string value is JSON scalar equality: numbers by value, booleans and null apart."""
    assert compile_filter(spec).matches(PERSON) is expected


def test_numbers_compare_with_decimals_and_big_ints() -> None:
    """A number matches an equal Decimal or big int in the data, and a signalling NaN quietly fails."""
    assert compile_filter({"n": 10**30}).matches({"n": 10**30})
    assert compile_filter({"n": 2.5}).matches({"n": decimal.Decimal("2.5")})
    assert not compile_filter({"n": 1}).matches({"n": decimal.Decimal("sNaN")})
    assert not compile_filter({"n": 1}).matches({"n": float("nan")})


@pytest.mark.parametrize(
    "operator", [{"startswith": ""}, {"endswith": ""}, {"contains": ""}, {"like": ""}, "Jo"]
)
@pytest.mark.parametrize(
    "field", ["missing", "age", "active", "nickname", "photo", "born", "tags", "address"]
)
def test_string_operators_never_match_missing_or_non_string_fields(operator: Any, field: str) -> None:
    """A missing field, or one holding a non-string value, does not match and raises nothing."""
    assert not compile_filter({field: operator}).matches(PERSON)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("address.city", True),
        ("address.geo.lat", True),
        ("address.country", False),
        ("address.city.name", False),  # a string has no fields
        ("name.first", False),
        ("tags.0", False),  # dotted keys reach into structs, not lists
        ("missing.city", False),
    ],
)
def test_dotted_keys_reach_into_structs(key: str, expected: bool) -> None:
    """A dotted key walks nested structs; anything else on the way means a missing field."""
    assert compile_filter({key: {"any": True}}).matches(PERSON) is expected


def test_evaluated_only_over_the_data_given() -> None:
    """A filter sees only the (whitelisted) data passed in: a field dropped from it never matches."""
    flt = compile_filter({"secret": {"any": True}})
    assert flt.matches({"secret": "x"})
    assert not flt.matches({"name": "Jo"})


def test_catastrophic_pattern_is_evaluated_in_linear_time() -> None:
    """`(a+)+$`, which backtracking engines take exponential time over, runs on RE2 and answers."""
    flt = compile_filter({"s": {"like": "(a+)+$"}})
    assert not flt.matches({"s": "a" * 100_000 + "!"})
    assert flt.matches({"s": "!" + "a" * 100_000})


def test_like_handles_non_ascii_and_lone_surrogates() -> None:
    """Patterns work on any Unicode text, and text no UTF-8 can hold is searched, not raised on."""
    assert compile_filter({"s": {"like": "^caf.$"}}).matches({"s": "café"})
    assert compile_filter({"s": {"like": "x"}}).matches({"s": "\ud800x"})


def test_spec_is_canonical_json() -> None:
    """The stored spec is JSON, keeps short forms, and orders a field's operators one way."""
    flt = compile_filter({"a": {"is": "x"}, "b": 3, "c": {"like": "z", "startswith": "y", "any": True}})
    assert flt.spec == {"a": "x", "b": 3, "c": {"any": True, "startswith": "y", "like": "z"}}
    assert compile_filter(json.loads(json.dumps(flt.spec))).spec == flt.spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([], "a filter is a JSON object of fields, not an array"),
        ("name", "not a string"),
        (None, "not null"),
        ({"name": {"startwith": "Jo"}}, "field 'name': unknown operator 'startwith'"),
        ({"name": {}}, "field 'name': an operator object names at least one operator"),
        ({"name": {"startswith": 3}}, "field 'name', operator 'startswith': takes a string, not a number"),
        ({"name": {"contains": None}}, "operator 'contains': takes a string, not null"),
        ({"name": {"like": ["a"]}}, "operator 'like': takes a string, not an array"),
        ({"name": {"any": False}}, "operator 'any': takes true .*, not false"),
        ({"name": {"any": "yes"}}, "operator 'any': takes true .*, not a string"),
        ({"name": ["Jo"]}, "field 'name', operator 'is': compares with a string, number, boolean or null"),
        ({"name": {"is": {"x": 1}}}, "operator 'is': compares with .*, not an object"),
        ({"n": float("nan")}, "nan is not a JSON number"),
        ({"name": {"like": "(unclosed"}}, "'\\(unclosed' is not an RE2 pattern: missing \\)"),
        ({"name": {"like": "(a)\\1"}}, "is not an RE2 pattern"),  # backreferences need backtracking
        ({"name": {"like": "a" * (MAX_PATTERN_LENGTH + 1)}}, f"at most {MAX_PATTERN_LENGTH} characters"),
        ({"name": {"like": "((a{100}){100}){100}"}}, "is not an RE2 pattern"),
        ({"name": {"contains": "a" * (MAX_OPERAND_LENGTH + 1)}}, f"at most {MAX_OPERAND_LENGTH}"),
        ({"a" * (MAX_KEY_LENGTH + 1): 1}, f"a field name has at most {MAX_KEY_LENGTH} characters"),
        ({"address..city": 1}, "field 'address..city': a dotted field name has no empty parts"),
        ({".city": 1}, "no empty parts"),
        ({f"f{i}": 1 for i in range(MAX_FIELDS + 1)}, f"at most {MAX_FIELDS} fields"),
    ],
)
def test_invalid_specs_are_refused_with_a_clear_message(spec: Any, message: str) -> None:
    """Each invalid spec raises InvalidFilter (a BridgeError) whose message names field and problem."""
    with pytest.raises(InvalidFilter, match=message) as refused:
        compile_filter(spec)
    assert isinstance(refused.value, BridgeError)


def test_pattern_at_the_length_cap_is_accepted() -> None:
    """A pattern of exactly the documented cap compiles."""
    assert compile_filter({"s": {"like": "a" * MAX_PATTERN_LENGTH}}).matches({"s": "a" * MAX_PATTERN_LENGTH})


SPECS = st.dictionaries(
    st.sampled_from(["a", "b", "a.b", "a.b.c", "x"]),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=5),
        st.fixed_dictionaries({}, optional={"startswith": st.text(max_size=3), "like": st.just("b+")}),
        st.just({"any": True}),
    ).filter(lambda condition: condition != {}),
    max_size=3,
)
DATA = st.one_of(
    event_data,
    st.fixed_dictionaries({}, optional={"a": event_data | st.text(), "b": event_data, "x": st.decimals()}),
)


@settings(database=None, deadline=None)
@given(spec=SPECS, data=DATA)
def test_matches_never_raises(spec: dict[str, Any], data: dict[str, Any]) -> None:
    """For any valid filter and any neutral data, matches() answers True or False and never raises."""
    assert compile_filter(spec).matches(data) in (True, False)
