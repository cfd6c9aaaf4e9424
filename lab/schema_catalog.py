"""A schema-only catalog: OpenAI tool schemas with no implementation, and the JSON-schema domain.

``SchemaCatalog`` validates a call's arguments against its tool's JSON Schema (``jsonschema``,
formats checked, an integer never ``5.0``), after reading dates and enum strings in their one
form (``lab.values``: ``2026/04/01`` is ``2026-04-01``, ``"Celsius"`` the enum's ``"celsius"``),
and answers a valid call from the scenario's gold calls: the first gold call of the same tool
whose arguments the call gets right (the scorer's rule, ``any_of`` and ``may_omit`` included)
returns its canned ``result``, or its ``error`` code as a structured error, or ``{"ok": true}``;
a call no gold call fits also gets ``{"ok": true}``. A schema-only catalog has no state:
``state_hash`` is None, so ``state_match`` is not applicable. The schema is read as closed: an
argument it does not name is an ``unknown_argument``.

``load_json_domain(path)`` makes a domain of a ``.json`` file holding a list of tool schemas, or
an object ``{"tools": [...], "name": ..., "instructions": ..., "field_words": {...}}`` (name
defaults to the file's stem). Nothing here runs a tool or a model.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from lab.catalog import tool_error
from lab.errors import BadInput
from lab.toolcatalog import Database, ToolCatalog
from lab.types import Arguments, ExpectedCall
from lab.values import fold_date, fold_enum

if TYPE_CHECKING:
    from lab.domain import Domain
    from lab.types import Scenario

OK_RESULT: dict[str, JsonValue] = {"ok": True}
ZERO_SHOT_PROMPT = "You are a customer-service agent. Use the tools to help the user."
INSTRUCTED_PROMPT = (
    f"{ZERO_SHOT_PROMPT} Call a tool only when the request needs one. If a required detail is missing,"
    " ask the user for it instead of guessing. Copy ids, emails and other values exactly as the user"
    " wrote them or a tool returned them; never invent one. When no tool applies, answer in plain text."
)
_ERROR_RANK = {"unknown_argument": 0, "missing_argument": 1, "invalid_argument": 2}
# An integer is an int, never 5.0 (as the function-backed catalog's strict validation, and BFCL).
Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


class NoState:
    """The state of a domain without one: nothing to hash, nothing to copy."""

    def state_hash(self) -> None:
        return None

    def copy(self) -> NoState:
        return self


def tool_form(tool: Any) -> dict[str, Any]:
    """A tool as ``{"type": "function", "function": {name, description, parameters}}``; a bare
    function object is wrapped. Raises ValueError when it is not a tool schema."""
    if not isinstance(tool, dict):
        raise ValueError(f"a tool must be a JSON object, not {type(tool).__name__}")
    function = tool.get("function", tool)
    if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
        raise ValueError("a tool needs function.name")
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
        raise ValueError(f"tool {function['name']}: parameters must be an object schema")
    try:
        Draft202012Validator.check_schema(parameters)
    except SchemaError as exc:
        raise ValueError(f"tool {function['name']}: not a JSON Schema: {exc.message}") from exc
    description = function.get("description", "")
    return {"type": "function", "function": {"name": function["name"], "description": description,
                                             "parameters": parameters}}  # fmt: skip


class SchemaCatalog(ToolCatalog):
    """Tools known only by their schemas (see the module docstring).

    Args:
        name: the catalog's (and its domain's) name.
        tools: OpenAI tool schemas (or bare function objects), in the order the agent sees them.
        read_only: names of the tools that change nothing (none by default).

    Raises:
        ValueError: a tool is not a valid schema, or two tools share a name.
    """

    def __init__(self, name: str, tools: Iterable[Any], read_only: Iterable[str] = ()):
        forms = [tool_form(tool) for tool in tools]
        self.name = name
        self.names = [form["function"]["name"] for form in forms]
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"catalog {name}: duplicate tool names")
        self._schemas = {form["function"]["name"]: form for form in forms}
        self._read_only = frozenset(read_only)
        self._validators = {
            n: Validator(s["function"]["parameters"], format_checker=FormatChecker())
            for n, s in self._schemas.items()
        }
        self._gold: list[ExpectedCall] = []

    def for_scenario(self, scenario: Scenario) -> SchemaCatalog:
        """This catalog (or one of the scenario's inline tools) answering from its gold calls."""
        base = SchemaCatalog(self.name, scenario.tools) if scenario.tools is not None else self
        bound = copy.copy(base)
        bound._gold = [call for turn in scenario.turns for call in turn.expect.calls]
        return bound

    def _properties(self, name: str) -> dict[str, Any]:
        return self._schemas[name]["function"]["parameters"].get("properties", {})

    def validate(self, name: str, arguments: Any) -> tuple[Arguments | None, Arguments | None]:
        """(the arguments with schema defaults filled in, None), or (None, an error result)."""
        if name not in self._schemas:
            known = ", ".join(self.names)
            return None, tool_error("unknown_tool", f"there is no tool named {name!r}; tools: {known}")
        if not isinstance(arguments, dict):
            return None, tool_error("invalid_argument", "arguments must be a JSON object")
        properties = self._properties(name)
        arguments = {k: fold_value(properties.get(k), v) for k, v in arguments.items()}
        accepted = ", ".join(properties) or "none"
        problems = [
            ("unknown_argument", arg, f"unknown argument {arg!r} (accepted: {accepted})")
            for arg in arguments if arg not in properties
        ]  # fmt: skip
        for error in self._validators[name].iter_errors(arguments):
            if error.validator == "additionalProperties":
                continue
            if error.validator == "required" and not error.path:
                missing = [r for r in error.validator_value if r not in arguments]
                problems += [("missing_argument", m, f"missing required argument {m!r}") for m in missing]
            else:
                where = str(error.path[0]) if error.path else None
                problems.append(("invalid_argument", where, f"argument {where!r}: {error.message}"))
        if problems:
            problems.sort(key=lambda p: _ERROR_RANK[p[0]])
            code, argument, _ = problems[0]
            return None, tool_error(code, "; ".join(p[2] for p in problems), argument)
        defaults = {k: p["default"] for k, p in properties.items() if isinstance(p, dict) and "default" in p}
        return {**defaults, **json.loads(json.dumps(arguments))}, None

    def canonical(self, name: str, argument: str, value: str) -> JsonValue | None:
        """``value`` itself when it is valid for ``argument``'s schema, else None."""
        prop = self._properties(name).get(argument)
        if not isinstance(prop, dict):
            return None
        valid = Validator(prop, format_checker=FormatChecker()).is_valid(value)
        return value if valid else None

    def call(self, db: Database, name: str, arguments: Any) -> JsonValue:
        """The canned answer to a valid call (see the module docstring), or a structured error."""
        from lab.score import wrong_arguments

        canon, error = self.validate(name, arguments)
        if canon is None:
            return error
        for gold in self._gold:
            if gold.name == name and not wrong_arguments(
                self, name, dict(gold.arguments), dict(arguments), any_of=gold.any_of, may_omit=gold.may_omit
            ):
                return canned(gold)
        return dict(OK_RESULT)

    def new_db(self, fixture: dict[str, Any]) -> NoState:
        """No state: the fixture is not used."""
        return NoState()


def fold_value(prop: Any, value: Any) -> Any:
    """An argument value with its dates and enum strings in their one form (``lab.values``);
    list items and object properties are folded by their own schemas."""
    if not isinstance(prop, dict):
        return value
    if isinstance(value, list) and isinstance(prop.get("items"), dict):
        return [fold_value(prop["items"], item) for item in value]
    if isinstance(value, dict) and isinstance(prop.get("properties"), dict):
        return {k: fold_value(prop["properties"].get(k), v) for k, v in value.items()}
    if isinstance(prop.get("enum"), list):
        return fold_enum(prop["enum"], value)
    return fold_date(value) if prop.get("format") == "date" else value


def canned(gold: ExpectedCall) -> JsonValue:
    """What a gold call returns in a schema-only domain: its result, its error, or ``{"ok": true}``."""
    if gold.result is not None:
        return gold.result if isinstance(gold.result, dict) else {"result": gold.result}
    if gold.error is not None:
        return tool_error(gold.error, f"{gold.name} failed: {gold.error}")
    return dict(OK_RESULT)


class JsonDomainFile(BaseModel):
    """The object form of a ``--domain FILE.json``."""

    model_config = ConfigDict(extra="forbid")
    tools: list[dict[str, JsonValue]] = Field(min_length=1)
    name: str | None = Field(default=None, min_length=1)
    instructions: str | None = None
    field_words: dict[str, str] = Field(default_factory=dict)


def load_json_domain(path: Path) -> Domain:
    """The schema-only domain a ``.json`` file of tool schemas describes.

    Raises:
        BadInput: at the file, when it is unreadable, not JSON, or not a list of tool schemas.
    """
    from lab.domain import Domain

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(str(path), f"cannot read a tools file: {exc}") from exc
    try:
        spec = JsonDomainFile.model_validate({"tools": data} if isinstance(data, list) else data)
        catalog = SchemaCatalog(spec.name or path.stem, spec.tools)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise BadInput(str(path), f"{'.'.join(map(str, err['loc'])) or 'file'}: {err['msg']}") from exc
    except ValueError as exc:
        raise BadInput(str(path), str(exc)) from exc
    instructed = f"{ZERO_SHOT_PROMPT} {spec.instructions}" if spec.instructions else INSTRUCTED_PROMPT
    return Domain(
        catalog=catalog,  # type: ignore[arg-type]
        zero_shot_prompt=ZERO_SHOT_PROMPT,
        instructed_prompt=instructed,
        field_words=spec.field_words,
    )
