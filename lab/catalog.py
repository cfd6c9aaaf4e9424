"""The tool catalog: OpenAI tool schemas generated from typed functions; validation; safe calls.

A catalog is a list of plain typed Python functions plus the Database class they act on.
Each function's signature (``Annotated`` pydantic types, defaults) and Google docstring
(first paragraph = tool description, ``Args:`` = parameter descriptions) generate its
schema; nothing is written by hand. A parameter named ``db`` is the injected database and
is not part of the schema. Arguments are validated as the JSON the model sent, strictly
(no "2" for 2), after each type's own canonicalisation (an id type may accept "x12" for "X-12").

Tools report business-rule failures by raising ``ToolError``; ``Catalog.call`` turns that,
bad arguments and any unexpected exception into a structured error result and never
raises. ``Catalog`` is the function-backed implementation of ``lab.toolcatalog.ToolCatalog``;
types may mark string arguments as copied or free text (``json_schema_extra={"x-lab": ...}``,
see lab/toolcatalog.py). This module knows no domain: a domain (``lab.domain``) gives its
catalog; the shop's is in ``tools/shop/``.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError, create_model
from pydantic_core import to_jsonable_python

from lab.toolcatalog import Database, ToolCatalog
from lab.types import Arguments

__all__ = ["Catalog", "Database", "ToolError", "error_code", "tool_content", "tool_error"]

DB_PARAMETER = "db"
_ERROR_RANK = {"unknown_argument": 0, "missing_argument": 1, "invalid_argument": 2}
_SCHEMA_MAPS = ("properties", "$defs")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "not", "additionalProperties")


class ToolError(Exception):
    """A business-rule failure a tool reports; the catalog returns it as an error result.

    Args:
        code: a short error code such as ``not_found`` or ``not_allowed``.
        message: what went wrong, in words the agent can act on.
        argument: the argument at fault, if one is.
    """

    def __init__(self, code: str, message: str, argument: str | None = None):
        super().__init__(message)
        self.code, self.message, self.argument = code, message, argument


def tool_error(code: str, message: str, argument: str | None = None) -> dict[str, JsonValue]:
    """A structured error result: ``{"error": {"code", "message", "argument"}}``."""
    return {"error": {"code": code, "message": message, "argument": argument}}


def tool_content(result: Any) -> str:
    """A tool result as the content of the ``tool`` message the agent sends (export rows copy it)."""
    return json.dumps(result, default=str)


def error_code(result: JsonValue) -> str | None:
    """The code of a structured error result, else None."""
    error = result.get("error") if isinstance(result, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


# --------------------------------------------------------------------------- schema generation


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google docstring into (first paragraph, {parameter: description from ``Args:``})."""
    lines = inspect.cleandoc(doc or "").splitlines()
    blank = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    first = " ".join(line.strip() for line in lines[:blank])
    header = next((i for i, line in enumerate(lines) if line.strip() in ("Args:", "Arguments:")), None)
    if header is None:
        return first, {}
    body = lines[header + 1 :]
    entry_indent = next((_indent(line) for line in body if line.strip()), 0)
    params: dict[str, str] = {}
    current = None
    for line in body:
        if line.strip() and _indent(line) <= _indent(lines[header]):
            break
        entry = re.match(r"\s*(\w+)\s*(?:\(.*?\))?\s*:\s*(.*)$", line)
        if entry and _indent(line) == entry_indent:
            current = entry.group(1)
            params[current] = entry.group(2).strip()
        elif current and line.strip():
            params[current] = f"{params[current]} {line.strip()}".strip()
    return first, params


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def arguments_model(function: Callable[..., Any]) -> type[BaseModel]:
    """A pydantic model of a function's parameters (``db`` excluded), unknown arguments forbidden."""
    _, docs = parse_docstring(function.__doc__)
    hints = typing.get_type_hints(function, include_extras=True)
    fields: dict[str, Any] = {}
    for param in inspect.signature(function).parameters.values():
        if param.name == DB_PARAMETER:
            continue
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY) or param.name not in hints:
            raise TypeError(f"{function.__name__}: parameter {param.name!r} needs a plain typed form")
        if param.name not in docs:
            raise ValueError(f"{function.__name__}: parameter {param.name!r} is not described under Args:")
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints[param.name], Field(default, description=docs[param.name]))
    title = "".join(part.title() for part in function.__name__.split("_")) + "Arguments"
    return create_model(title, __config__=ConfigDict(extra="forbid"), **fields)


def tool_schema(function: Callable[..., Any], model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAI tool schema of a function: refs inlined, titles dropped, optional nulls folded."""
    description, _ = parse_docstring(function.__doc__)
    raw = model.model_json_schema()
    cleaned = _clean(raw, raw.get("$defs", {}))
    parameters = {
        "type": "object",
        "properties": {n: _readable(_fold_optional(p)) for n, p in cleaned.get("properties", {}).items()},
        "required": cleaned.get("required", []),
        "additionalProperties": False,
    }
    function_schema = {"name": function.__name__, "description": description, "parameters": parameters}
    return {"type": "function", "function": function_schema}


def _clean(node: Any, defs: dict[str, Any]) -> Any:
    """Inline ``$ref``s and drop ``title``s, walking only schema-valued keywords."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        return _clean({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "$defs"):
            continue
        if key in _SCHEMA_MAPS:
            out[key] = {name: _clean(sub, defs) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS:
            out[key] = [_clean(sub, defs) for sub in value]
        elif key in _SCHEMA_VALUES:
            out[key] = _clean(value, defs)
        else:
            out[key] = value
    return out


def _fold_optional(prop: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null], default: null`` -> X: omitting the argument is how to say 'none'."""
    branches = prop.get("anyOf", [])
    others = [b for b in branches if b != {"type": "null"}]
    if prop.get("default", 0) is not None or len(others) != 1 or len(branches) != 2:
        return prop
    rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
    return {**others[0], **rest}


def _readable(prop: dict[str, Any]) -> dict[str, Any]:
    """Put ``type`` and ``description`` first: rendered prompts read better."""
    head = {k: prop[k] for k in ("type", "description") if k in prop}
    return {**head, **{k: v for k, v in prop.items() if k not in head}}


# --------------------------------------------------------------------------- the catalog


class Catalog(ToolCatalog):
    """A named set of tools over one Database class, generated from typed functions.

    Args:
        name: the catalog's name, e.g. "shop".
        functions: the tool functions, in the order the agent sees them.
        database: the Database class; it needs ``from_fixture(dict)``, ``state_hash()`` and ``copy()``.
        read_only: names of the tools that never change the database.
    """

    def __init__(
        self, name: str, functions: Iterable[Callable[..., Any]], database: Any, read_only: Iterable[str]
    ):
        functions = list(functions)
        self.name = name
        self._functions = {f.__name__: f for f in functions}
        self.names = list(self._functions)
        self._database = database
        self._read_only = frozenset(read_only)
        if len(self.names) != len(functions):
            raise ValueError(f"catalog {name}: duplicate tool names")
        if unknown := self._read_only - set(self.names):
            raise ValueError(f"catalog {name}: read_only names unknown tools {sorted(unknown)}")
        self._models = {n: arguments_model(f) for n, f in self._functions.items()}
        self._schemas = {n: tool_schema(f, self._models[n]) for n, f in self._functions.items()}
        self._adapters: dict[tuple[str, str], TypeAdapter] = {}
        self._takes_db = {
            n: DB_PARAMETER in inspect.signature(f).parameters for n, f in self._functions.items()
        }

    def canonical(self, name: str, argument: str, value: str) -> JsonValue | None:
        """``value`` as ``argument``'s canonical JSON value (its type's one form), or None if invalid."""
        key = (name, argument)
        if key not in self._adapters:
            self._adapters[key] = TypeAdapter(self._models[name].model_fields[argument].rebuild_annotation())
        try:
            return to_jsonable_python(self._adapters[key].validate_json(json.dumps(value), strict=True))
        except ValidationError:
            return None

    def validate(self, name: str, arguments: Any) -> tuple[Arguments | None, Arguments | None]:
        """(canonical arguments with defaults filled in, None), or (None, an error result).

        Canonical means after each type's canonicalisation, as JSON values: ids in their one form,
        dates as ISO strings, enum values as their strings, numbers as numbers.
        """
        parsed, error = self._parse(name, arguments)
        return (parsed.model_dump(mode="json"), None) if parsed is not None else (None, error)

    def call(self, db: Database, name: str, arguments: Any) -> JsonValue:
        """Run a tool on ``db`` and return its JSON result or a structured error; never raises."""
        parsed, error = self._parse(name, arguments)
        if parsed is None:
            return error
        kwargs = {field: getattr(parsed, field) for field in type(parsed).model_fields}
        if self._takes_db[name]:
            kwargs[DB_PARAMETER] = db
        try:
            result = to_jsonable_python(self._functions[name](**kwargs))
        except ToolError as exc:
            return tool_error(exc.code, exc.message, exc.argument)
        except Exception as exc:  # noqa: BLE001 - a tool never raises to the agent
            return tool_error("internal_error", f"{name} failed: {type(exc).__name__}: {exc}")
        return result if isinstance(result, dict) else {"result": result}

    def new_db(self, fixture: dict[str, Any]) -> Database:
        """A fresh database built from a fixture."""
        return self._database.from_fixture(fixture)

    def _parse(self, name: str, arguments: Any) -> tuple[BaseModel | None, dict[str, JsonValue] | None]:
        if name not in self._models:
            known = ", ".join(self.names)
            return None, tool_error("unknown_tool", f"there is no tool named {name!r}; tools: {known}")
        if not isinstance(arguments, dict):
            return None, tool_error("invalid_argument", "arguments must be a JSON object")
        try:
            text = json.dumps(arguments, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return None, tool_error("invalid_argument", f"arguments are not plain JSON: {exc}")
        model = self._models[name]
        try:
            return model.model_validate_json(text, strict=True), None
        except ValidationError as exc:
            return None, _validation_error(exc, list(model.model_fields))


def _validation_error(exc: ValidationError, accepted: list[str]) -> dict[str, JsonValue]:
    """The most telling problem's code and argument, with every problem in the message."""
    problems = []
    for err in exc.errors(include_url=False):
        argument = str(err["loc"][0]) if err["loc"] else None
        if err["type"] == "extra_forbidden":
            problems.append(("unknown_argument", argument, f"unknown argument {argument!r}"
                             f" (accepted: {', '.join(accepted) or 'none'})"))
        elif err["type"] == "missing":
            problems.append(("missing_argument", argument, f"missing required argument {argument!r}"))
        else:
            problems.append(("invalid_argument", argument, f"argument {argument!r}: {err['msg']}"))
    problems.sort(key=lambda p: _ERROR_RANK[p[0]])
    code, argument, _ = problems[0]
    return tool_error(code, "; ".join(p[2] for p in problems), argument)

