"""The catalog interface: what the lab needs of a domain's tools, whatever implements them.

``ToolCatalog`` is the base of every catalog: ``lab.catalog.Catalog`` (typed Python functions over
a Database, schemas generated), ``lab.schema_catalog.SchemaCatalog`` (OpenAI tool schemas only,
calls answered from the gold calls' canned results) and ``lab.mcp_domain.McpCatalog`` (an MCP
server per scenario). The shared part works on the tools' JSON schemas: names, the schemas the
agent sees, and which string arguments are copied from the dialogue or free text.

Schema markers: a string property may say what kind of value it takes with the JSON Schema
extension keyword ``"x-lab"``: ``"copied"`` (ids, skus, emails, phones: copied verbatim from what
the customer wrote or a tool returned, never made up) or ``"free_text"`` (compared loosely by the
scorer). An unmarked string falls back to its shape: a ``pattern`` means copied; no enum,
pattern, format or const means free text. Markers are kept in the catalog and removed from the
schemas the agent is given. This module runs no tool and validates nothing itself.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import JsonValue

from lab.types import Arguments, ExpectedCall

if TYPE_CHECKING:
    from lab.types import Scenario

MARKER = "x-lab"
COPIED, FREE_TEXT = "copied", "free_text"
_SHAPED = frozenset({"enum", "pattern", "format", "const"})


class Database(Protocol):
    """What the lab needs of a catalog's state: a hash (None: the domain has no state) and a copy."""

    def state_hash(self) -> str | None: ...

    def copy(self) -> Database: ...


def is_string(prop: dict[str, Any]) -> bool:
    """Whether a property schema takes strings: ``"string"``, or ``["string", "null"]`` (nullable)."""
    kind = prop.get("type")
    return kind == "string" or (isinstance(kind, list) and set(kind) == {"string", "null"})


def string_kind(prop: dict[str, Any]) -> str | None:
    """``copied``, ``free_text`` or None for a property schema (see the module docstring)."""
    if not is_string(prop):
        return None
    if MARKER in prop:
        return prop[MARKER] if prop[MARKER] in (COPIED, FREE_TEXT) else None
    if "pattern" in prop:
        return COPIED
    return None if _SHAPED & set(prop) else FREE_TEXT


def strip_markers(node: Any) -> Any:
    """A copy of a schema without ``x-lab`` keywords (property names are kept, whatever they are)."""
    if isinstance(node, list):
        return [strip_markers(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == MARKER:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: strip_markers(sub) for name, sub in value.items()}
        else:
            out[key] = strip_markers(value)
    return out


class ToolCatalog(ABC):
    """A named set of tools described by OpenAI tool schemas (markers included).

    Subclasses set ``name``, ``names`` (catalog order), ``_schemas`` (name -> tool schema) and
    ``_read_only``, and implement validation, calls and the state a scenario starts from.
    """

    name: str
    names: list[str]
    _schemas: dict[str, dict[str, Any]]
    _read_only: frozenset[str] = frozenset()
    per_turn_state: bool = False  # True: the state is compared after every turn, not only at the end
    whole_steps: bool = False  # True: a model step with an unreadable call runs none of its calls

    # ----------------------------------------------------------------------- what the agent sees

    def schemas(self) -> list[dict[str, Any]]:
        """Every tool's OpenAI schema as the agent sees it, in catalog order (fresh copies)."""
        return [self.schema(n) for n in self.names]

    def schema(self, name: str) -> dict[str, Any]:
        """One tool's OpenAI schema without markers; KeyError for an unknown tool."""
        return strip_markers(json.loads(json.dumps(self._schemas[name])))

    def has(self, name: str) -> bool:
        """Whether the catalog has a tool of this name."""
        return name in self._schemas

    def is_read_only(self, name: str) -> bool:
        """Whether the tool never changes the state."""
        return name in self._read_only

    # ----------------------------------------------------------------------- argument kinds

    def free_text(self, name: str) -> set[str]:
        """String arguments marked (or shaped as) free text: the scorer compares them loosely."""
        return set(self._strings(name, lambda prop: string_kind(prop) == FREE_TEXT))

    def copied(self, name: str) -> list[str]:
        """String arguments marked (or shaped as) copied: values to copy, never to make up."""
        return self._strings(name, lambda prop: string_kind(prop) == COPIED)

    def lookup_key(self, name: str) -> str | None:
        """The first argument of a tool that requires none and takes only copied ones (a lookup by
        one of several keys, as an order is tracked by its id or by a tracking number). None for any
        other tool."""
        parameters = self._schemas[name]["function"].get("parameters", {})
        properties = list(parameters.get("properties") or {})
        if parameters.get("required") or not properties or self.copied(name) != properties:
            return None
        return properties[0]

    def problem(self, name: str, arguments: Any) -> dict[str, Any] | None:
        """What a workflow check holds against a call: ``validate``'s error, or for a lookup by one
        of several keys given none of them (``lookup_key``), a ``missing_argument`` naming the first:
        it has nothing to look up. ``validate`` and the scorer do not judge the latter."""
        from lab.catalog import tool_error  # lab.catalog builds on this module

        _, error = self.validate(name, arguments)
        if error is not None or (key := self.lookup_key(name)) is None:
            return error
        keys = self.copied(name)
        if any(arguments.get(a) for a in keys):
            return None
        return tool_error("missing_argument", f"give one of: {', '.join(keys)}", key)

    def dated(self, name: str) -> list[str]:
        """String arguments with ``format: date``: dates the customer names, never ones to pick."""
        return self._strings(name, lambda prop: prop.get("format") == "date")

    def _strings(self, name: str, test: Callable[[dict[str, Any]], bool]) -> list[str]:
        props = self._schemas[name]["function"].get("parameters", {}).get("properties", {})
        return [arg for arg, prop in props.items() if is_string(prop) and test(prop)]

    # ----------------------------------------------------------------------- per scenario

    def for_scenario(self, scenario: Scenario) -> ToolCatalog:
        """The catalog a scenario runs on: a schema-only one of its inline ``tools``, else this one."""
        if scenario.tools is None:
            return self
        from lab.schema_catalog import SchemaCatalog

        return SchemaCatalog(self.name, scenario.tools).for_scenario(scenario)

    def replay(
        self, fixture: dict[str, Any], calls: Iterable[ExpectedCall]
    ) -> tuple[Database, list[JsonValue]]:
        """Replay calls in order on a fresh state; returns (state, results)."""
        db = self.new_db(fixture)
        return db, [self.call(db, call.name, call.arguments) for call in calls]

    # ----------------------------------------------------------------------- implementations

    @abstractmethod
    def validate(self, name: str, arguments: Any) -> tuple[Arguments | None, Arguments | None]:
        """(canonical arguments, None), or (None, a structured error result)."""

    @abstractmethod
    def canonical(self, name: str, argument: str, value: str) -> JsonValue | None:
        """``value`` as ``argument``'s canonical JSON value, or None if it is not valid for it."""

    @abstractmethod
    def call(self, db: Database, name: str, arguments: Any) -> JsonValue:
        """Run a tool on ``db`` and return its JSON result or a structured error; never raises."""

    @abstractmethod
    def new_db(self, fixture: dict[str, Any]) -> Database:
        """A fresh state built from a scenario's fixture."""
