"""Hypothesis strategies that draw JSON values valid against a (small) JSON schema.

Covers what generated tool schemas use: objects with required and optional properties,
strings with enum / pattern (via ``st.from_regex``) / ``date`` format / length bounds,
integers and numbers with (exclusive) bounds, booleans and arrays. Anything else raises,
so a tool with a new kind of parameter makes the tests fail loudly instead of passing.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy


def from_schema(schema: dict[str, Any], overrides: dict[str, SearchStrategy] | None = None) -> SearchStrategy:
    """Values valid against ``schema``; ``overrides`` replaces the strategy of named object properties."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema, overrides or {})
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(from_schema(schema["items"]), min_size=schema.get("minItems", 0), max_size=3)
    raise NotImplementedError(f"no strategy for schema {schema}")


def _object(schema: dict[str, Any], overrides: dict[str, SearchStrategy]) -> SearchStrategy:
    required = set(schema.get("required", []))
    values = {name: overrides.get(name, from_schema(prop)) for name, prop in schema["properties"].items()}
    return st.fixed_dictionaries(
        {n: s for n, s in values.items() if n in required},
        optional={n: s for n, s in values.items() if n not in required},
    )


def _string(schema: dict[str, Any]) -> SearchStrategy:
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    if schema.get("format") == "date":
        return st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)).map(date.isoformat)
    if "format" in schema:
        raise NotImplementedError(f"no strategy for string format {schema['format']}")
    return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 40))


def _number(schema: dict[str, Any], integer: bool) -> SearchStrategy:
    low, high = schema.get("minimum"), schema.get("maximum")
    if integer:
        low = schema["exclusiveMinimum"] + 1 if "exclusiveMinimum" in schema else low
        high = schema["exclusiveMaximum"] - 1 if "exclusiveMaximum" in schema else high
        return st.integers(min_value=low, max_value=high)
    int_low = math.floor(schema["exclusiveMinimum"]) + 1 if "exclusiveMinimum" in schema else low
    int_high = math.ceil(schema["exclusiveMaximum"]) - 1 if "exclusiveMaximum" in schema else high
    floats = st.floats(
        min_value=schema.get("exclusiveMinimum", low),
        max_value=schema.get("exclusiveMaximum", high),
        exclude_min="exclusiveMinimum" in schema,
        exclude_max="exclusiveMaximum" in schema,
        allow_nan=False,
        allow_infinity=False,
    )
    return floats | st.integers(
        min_value=None if int_low is None else math.ceil(int_low),
        max_value=None if int_high is None else math.floor(int_high),
    )
