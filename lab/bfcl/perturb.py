"""Outputs to compare the two checkers on: hypothesis strategies of perturbed gold answers.

``perturbations(case)`` draws ``(kind, output)`` for one imported BFCL case: first a right
answer (each argument set to one of its acceptable values, or left out where it may be), then
at most one change of a kind in ``KINDS``: a value of another JSON type, an integral number as
int or float the other way round, a string's case or punctuation changed (at the top level or
inside a list or object), an optional argument left out, an argument added, parallel calls
reordered, one call dropped, a value changed. Irrelevance cases (no gold call) get a call of one
of the offered functions or a plain answer. ``examples`` draws a fixed number of them with a
seed, for the bench. Nothing here scores anything.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from lab.bfcl.agreement import Case, Output

KINDS = (
    "right", "wrong_type", "int_for_float", "string_case_punct", "nested_string", "missing_optional",
    "extra_argument", "reordered", "dropped_call", "wrong_value",
)  # fmt: skip
PUNCTUATION = (" ", ",", ".", "-", "_", "/", "*", "^", "!", "?", "'", ":", ";", "(")


def _props(case: Case, name: str) -> tuple[dict[str, Any], set[str]]:
    tool = next(t for t in case.scenario.tools or [] if t["function"]["name"] == name)
    parameters = tool["function"]["parameters"]
    return parameters.get("properties", {}), set(parameters.get("required", []))


def sample_value(prop: dict[str, Any]) -> Any:
    """A plain value of a property's type (its first enum value or its default where it has one)."""
    if prop.get("enum"):
        return prop["enum"][0]
    if prop.get("default") is not None:
        return prop["default"]
    kind = prop.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    return {"integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}.get(kind, "sample")


@st.composite
def right_answer(draw: st.DrawFn, case: Case) -> list[dict[str, dict[str, Any]]]:
    """One of the answers the gold calls accept."""
    calls = []
    for call in case.scenario.turns[0].expect.calls:
        arguments = {}
        for argument in {*call.arguments, *call.any_of, *call.may_omit}:
            options = ([call.arguments[argument]] if argument in call.arguments else [])
            options += call.any_of.get(argument, [])
            options += [None] if argument in call.may_omit else []  # None here: leave it out
            choice = draw(st.sampled_from(range(len(options))))
            if not (argument in call.may_omit and choice == len(options) - 1):
                arguments[argument] = copy.deepcopy(options[choice])
        calls.append({call.name: arguments})
    return calls


def _other_type(draw: st.DrawFn, value: Any) -> Any:
    if isinstance(value, bool):
        return draw(st.sampled_from(["true", 1]))
    if isinstance(value, int | float):
        return draw(st.sampled_from([str(value), [value], True]))
    if isinstance(value, str):
        return draw(st.sampled_from([123, [value], {"value": value}]))
    if isinstance(value, list):
        return value[0] if value else "none"
    if isinstance(value, dict):
        return str(value)
    return "none"


def _restring(draw: st.DrawFn, text: str) -> str:
    how = draw(st.sampled_from(["upper", "lower", "title", "insert", "strip"]))
    if how == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(PUNCTUATION)) + text[at:]
    if how == "strip":
        return "".join(ch for ch in text if ch.isalnum() or ch.isspace())
    return getattr(text, how)()


def _nested(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with one string inside a list or object restrung (unchanged if it holds none)."""
    if isinstance(value, str):
        return _restring(draw, value)
    if isinstance(value, list) and value:
        i = draw(st.integers(0, len(value) - 1))
        return [_nested(draw, v) if j == i else v for j, v in enumerate(value)]
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        return {k: _nested(draw, v) if k == key else v for k, v in value.items()}
    return value


def _changed(draw: st.DrawFn, value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + draw(st.sampled_from([1, -1, 10]))
    if isinstance(value, str):
        return value + draw(st.sampled_from(["x", " 2", "abc"]))
    if isinstance(value, list):
        return value[:-1] if value else ["x"]
    return {**value, "extra": 1} if isinstance(value, dict) else "x"


@st.composite
def perturbations(draw: st.DrawFn, case: Case) -> tuple[str, Output]:
    """``(kind, output)``: a right answer with at most one change (see the module docstring)."""
    calls = draw(right_answer(case))
    if not calls:
        return draw(_irrelevant(case))
    kind = draw(st.sampled_from(KINDS))
    if kind == "reordered":
        return kind, draw(st.permutations(calls))
    if kind == "dropped_call":
        return kind, [c for i, c in enumerate(calls) if i != draw(st.integers(0, len(calls) - 1))]
    index = draw(st.integers(0, len(calls) - 1))
    (name, arguments), = calls[index].items()
    props, required = _props(case, name)
    changed = _change(draw, kind, arguments, props, required)
    if changed is None:
        return "right", calls
    return kind, [{name: changed} if i == index else c for i, c in enumerate(calls)]


def _change(
    draw: st.DrawFn, kind: str, arguments: dict[str, Any], props: dict[str, Any], required: set[str]
) -> dict[str, Any] | None:
    """The arguments with one change of ``kind``, or None when this call has nothing to change."""
    if kind == "extra_argument":
        unused = sorted(set(props) - set(arguments))
        extra = draw(st.sampled_from([*unused, "unexpected_argument"]))
        return {**arguments, extra: sample_value(props.get(extra, {"type": "boolean"}))}
    if kind == "missing_optional":
        optional = sorted(set(arguments) - required)
        if not optional:
            return None
        dropped = draw(st.sampled_from(optional))
        return {k: v for k, v in arguments.items() if k != dropped}
    fits = {
        "wrong_type": lambda v: True,
        "wrong_value": lambda v: True,
        "int_for_float": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v == int(v),
        "string_case_punct": lambda v: isinstance(v, str) and v != "",
        "nested_string": lambda v: isinstance(v, list | dict) and "'" in repr(v) or '"' in repr(v),
        "right": lambda v: False,
    }[kind]
    candidates = sorted(a for a, v in arguments.items() if fits(v))
    if not candidates:
        return None
    argument = draw(st.sampled_from(candidates))
    value = arguments[argument]
    new = {
        "wrong_type": lambda: _other_type(draw, value),
        "wrong_value": lambda: _changed(draw, value),
        "int_for_float": lambda: float(value) if isinstance(value, int) else int(value),
        "string_case_punct": lambda: _restring(draw, value),
        "nested_string": lambda: _nested(draw, value),
    }[kind]()
    return {**arguments, argument: new}


@st.composite
def _irrelevant(draw: st.DrawFn, case: Case) -> tuple[str, Output]:
    """For a case that expects no call: a call of an offered function, or a plain answer."""
    tools = case.scenario.tools or []
    if not tools or draw(st.booleans()):
        return "right", []
    tool = draw(st.sampled_from(tools))["function"]
    props, required = tool["parameters"].get("properties", {}), tool["parameters"].get("required", [])
    return "called", [{tool["name"]: {name: sample_value(props[name]) for name in required if name in props}}]


def examples(case: Case, count: int, seed_value: int) -> list[tuple[str, Output]]:
    """``count`` draws of ``perturbations(case)`` (fewer when they repeat), the same for one seed."""
    found: list[tuple[str, Output]] = []

    @seed(seed_value)
    @settings(
        max_examples=count, database=None, deadline=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(perturbations(case))
    def collect(drawn: tuple[str, Output]) -> None:
        found.append(drawn)

    collect()
    return found
