"""The catalog: schemas generated from signatures and docstrings, validation, never-raising calls.

A toy catalog checks the mechanics exactly; the shop catalog checks that every generated
schema is a valid JSON Schema that agrees with validation in both directions.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Literal

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, BeforeValidator, Field
from schema_strategies import from_schema
from typer.testing import CliRunner

from lab.catalog import Catalog, ToolError, error_code, parse_docstring
from lab.cli import app
from lab.types import ExpectedCall
from tools.shop import CATALOG

Code = Annotated[
    str, Field(pattern=r"^K-[0-9]{2}$"), BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)
]


class Box(BaseModel):
    """A toy database: item counts by code."""

    items: dict[str, int] = {}

    @classmethod
    def from_fixture(cls, fixture: dict) -> Box:
        return cls.model_validate(fixture)

    def copy(self) -> Box:  # type: ignore[override]
        return self.model_copy(deep=True)

    def state_hash(self) -> str:
        return json.dumps(self.items, sort_keys=True)


def put(db: Box, code: Code, count: Annotated[int, Field(ge=1, le=5)] = 1,
        colour: Literal["red", "green"] | None = None, when: date | None = None) -> dict:
    """Put items in the box.

    More detail that is not part of the description.

    Args:
        code: the item code,
            like K-01.
        count (int): how many.
        colour: a colour.
        when: the day.
    """
    if db.items.get(code, 0) + count > 5:
        raise ToolError("limit_exceeded", "the box holds 5 of a kind", "count")
    db.items[code] = db.items.get(code, 0) + count
    return {"code": code, "count": db.items[code], "when": when}


def look(db: Box, code: Code, note: str = "") -> dict:
    """Look in the box.

    Args:
        code: the item code.
        note: anything.
    """
    return {"count": db.items.get(code, 0)}


def explode(db: Box) -> dict:
    """Always fails with an unexpected exception."""
    raise RuntimeError("boom")


TOY = Catalog(name="toy", functions=[put, look, explode], database=Box, read_only={"look"})


def test_docstring_description_is_first_paragraph_and_args_are_parsed():
    description, params = parse_docstring(put.__doc__)
    assert description == "Put items in the box."
    assert params == {"code": "the item code, like K-01.", "count": "how many.", "colour": "a colour.",
                      "when": "the day."}


def test_schema_is_generated_exactly():
    assert TOY.schema("put") == {"type": "function", "function": {
        "name": "put",
        "description": "Put items in the box.",
        "parameters": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "the item code, like K-01.",
                         "pattern": "^K-[0-9]{2}$"},
                "count": {"type": "integer", "description": "how many.", "default": 1,
                          "maximum": 5, "minimum": 1},
                "colour": {"type": "string", "description": "a colour.", "enum": ["red", "green"]},
                "when": {"type": "string", "description": "the day.", "format": "date"},
            },
            "required": ["code"],
            "additionalProperties": False,
        },
    }}
    assert TOY.names == ["put", "look", "explode"]
    assert TOY.schema("explode")["function"]["parameters"]["properties"] == {}


def test_catalog_rejects_undocumented_parameters_and_unknown_read_only():
    def bad(db: Box, code: Code) -> dict:
        """No Args section."""
        return {}

    with pytest.raises(ValueError, match="code"):
        Catalog(name="bad", functions=[bad], database=Box, read_only=[])
    with pytest.raises(ValueError, match="nope"):
        Catalog(name="bad", functions=[look], database=Box, read_only=["nope"])


def test_validate_canonicalises_and_fills_defaults():
    assert TOY.validate("put", {"code": "k-01", "when": "2026-01-02"}) == (
        {"code": "K-01", "count": 1, "colour": None, "when": "2026-01-02"}, None)


@pytest.mark.parametrize(("arguments", "code", "argument"), [
    ({"code": "K-01", "count": "2"}, "invalid_argument", "count"),
    ({"code": "K-01", "count": 2.0}, "invalid_argument", "count"),
    ({"code": "K-01", "count": True}, "invalid_argument", "count"),
    ({"code": "K-01", "count": 9}, "invalid_argument", "count"),
    ({"code": "K-1"}, "invalid_argument", "code"),
    ({"code": "K-01", "colour": "blue"}, "invalid_argument", "colour"),
    ({"code": "K-01", "when": "next tuesday"}, "invalid_argument", "when"),
    ({}, "missing_argument", "code"),
    ({"code": "K-01", "size": 3}, "unknown_argument", "size"),
    ({"kode": "K-01"}, "unknown_argument", "kode"),
    ({"code": "K-01", "count": float("nan")}, "invalid_argument", None),
])
def test_validate_names_the_argument_at_fault(arguments, code, argument):
    canonical, error = TOY.validate("put", arguments)
    assert canonical is None
    assert error_code(error) == code and error["error"]["argument"] == argument
    assert TOY.call(Box(), "put", arguments) == error


@pytest.mark.parametrize("arguments", [None, [], "code=K-01", 3, {"code": {1, 2}}])
def test_arguments_that_are_not_a_json_object_are_an_error(arguments):
    assert error_code(TOY.call(Box(), "put", arguments)) == "invalid_argument"


def test_call_returns_results_and_structured_errors_and_never_raises():
    box = Box()
    assert TOY.call(box, "put", {"code": "k-02", "count": 4, "when": "2026-01-02"}) == {
        "code": "K-02", "count": 4, "when": "2026-01-02"}
    assert TOY.call(box, "put", {"code": "K-02", "count": 2}) == {"error": {
        "code": "limit_exceeded", "message": "the box holds 5 of a kind", "argument": "count"}}
    assert box.items == {"K-02": 4}
    assert error_code(TOY.call(box, "explode", {})) == "internal_error"
    assert "boom" in TOY.call(box, "explode", {})["error"]["message"]
    assert error_code(TOY.call(box, "teleport", {})) == "unknown_tool"
    assert TOY.validate("teleport", {})[1] == TOY.call(box, "teleport", {})


def test_replay_runs_calls_in_order_on_a_fresh_database():
    calls = [ExpectedCall(name="put", arguments={"code": "K-01", "count": 2}),
             ExpectedCall(name="look", arguments={"code": "k-01"})]
    db, results = TOY.replay({"items": {"K-01": 1}}, calls)
    assert db.items == {"K-01": 3} and results[1] == {"count": 3}
    assert TOY.new_db({}).items == {}


def test_catalog_queries():
    assert TOY.has("look") and not TOY.has("teleport")
    assert TOY.is_read_only("look") and not TOY.is_read_only("put")
    assert TOY.free_text("look") == {"note"} and TOY.free_text("put") == set()
    TOY.schema("put")["function"]["name"] = "changed"
    assert TOY.schema("put")["function"]["name"] == "put"


@pytest.mark.parametrize(("result", "code"), [
    ({"error": {"code": "not_found", "message": "", "argument": None}}, "not_found"),
    ({"ok": True}, None), ({"error": "text"}, None), ([], None), (None, None), ("error", None),
])
def test_error_code(result, code):
    assert error_code(result) == code


# --------------------------------------------------------------------------- the shop's schemas


@pytest.mark.parametrize("name", CATALOG.names)
def test_every_shop_schema_is_valid_json_schema(name):
    function = CATALOG.schema(name)["function"]
    jsonschema.Draft202012Validator.check_schema(function["parameters"])
    assert function["name"] == name and function["description"]
    props = function["parameters"]["properties"]
    assert set(function["parameters"]["required"]) <= set(props)
    assert all(p.get("description") for p in props.values())
    assert "$ref" not in json.dumps(function)


def _checker(name: str) -> jsonschema.Draft202012Validator:
    schema = CATALOG.schema(name)["function"]["parameters"]
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", CATALOG.names)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_arguments_valid_per_schema_are_accepted_and_stay_valid(name, data):
    arguments = data.draw(from_schema(CATALOG.schema(name)["function"]["parameters"]))
    canonical, error = CATALOG.validate(name, arguments)
    assert error is None, (arguments, error)
    _checker(name).validate({k: v for k, v in canonical.items() if v is not None})
    assert CATALOG.validate(name, canonical) == (canonical, None)


BAD_VALUES = {"string": [["x"], 5, None], "integer": ["3", 2.5, True], "number": ["3", True, [1]]}


@pytest.mark.parametrize("name", CATALOG.names)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_kind_of_invalid_argument_names_that_argument(name, data):
    schema = CATALOG.schema(name)["function"]["parameters"]
    arguments = data.draw(from_schema(schema))
    assert error_code(CATALOG.validate(name, {**arguments, "bogus": 1})[1]) == "unknown_argument"
    assert CATALOG.validate(name, {**arguments, "bogus": 1})[1]["error"]["argument"] == "bogus"
    for arg in schema["required"]:
        rest = {k: v for k, v in arguments.items() if k != arg}
        error = CATALOG.validate(name, rest)[1]["error"]
        assert (error["code"], error["argument"]) == ("missing_argument", arg)
    for arg, prop in schema["properties"].items():
        bad = [v for v in BAD_VALUES[prop["type"]] if v is not None or arg in schema["required"]]
        if "pattern" in prop or "enum" in prop:
            bad.append("#not valid#")
        for value in bad:
            error = CATALOG.validate(name, {**arguments, arg: value})[1]
            assert error is not None and error["error"]["argument"] == arg, (arg, value, error)
            assert error["error"]["code"] == "invalid_argument"
            assert not _checker(name).is_valid({**arguments, arg: value})


# --------------------------------------------------------------------------- the CLI


def test_cli_tools_list():
    runner = CliRunner()
    result = runner.invoke(app, ["tools", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"tools": CATALOG.schemas()}
    table = runner.invoke(app, ["tools", "list"])
    assert table.exit_code == 0 and "refund_payment" in table.stdout
