"""The ``bfcl_multi_turn`` domain: BFCL's own Python API classes as a stateful domain.

A scenario's fixture (``db``) is ``{"involved_classes": [...], "initial_config": {...}}``, as a
BFCL multi-turn entry names them. Its state (``ApiState``) is one instance of each involved
class, built as BFCL's ``execute_multi_turn_func_call`` builds it: ``Class()``, then, unless the
class is stateless, ``_load_scenario(deepcopy(initial_config[Class]), long_context=False)``. Its
tools are those classes' methods, described by BFCL's function docs
(``bfcl_eval/data/multi_turn_func_doc``, rendered as JSON Schema by ``lab.bfcl.schema``); a
scenario runs on the tools of its involved classes only (``ApiCatalog.for_scenario``).

A call of a known tool runs the method with the arguments as the model sent them, without a schema
check first: BFCL evaluates the call string the same way, so its classes are the only validation
(the scorer still reads arguments by the schema when it compares them with the gold). The result
is the method's return value as JSON; BFCL's ``{"error": "..."}`` results and any exception
become a structured error (``tool_error``). ``state_hash`` digests what BFCL's state check
compares: every instance's public attributes (``vars`` without ``_`` names), with BFCL's own
``File`` and ``Directory`` compared as their ``__eq__`` does (name and content, name and
contents), sets unordered and an integral float equal to its int (Python's ``1 == 1.0``). The
state is compared after every turn (``per_turn_state``), as BFCL's checker does, and a model step
with an unreadable call runs none of its calls (``whole_steps``), as BFCL drops a step it cannot
decode. This module
imports ``bfcl_eval`` only when a state is built; it knows nothing of scoring.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue

from lab.catalog import tool_error
from lab.domain import Domain
from lab.schema_catalog import SchemaCatalog

if TYPE_CHECKING:
    from lab.types import Scenario

NAME = "bfcl_multi_turn"
MODULES: dict[str, str] = {
    "GorillaFileSystem": "gorilla_file_system", "MathAPI": "math_api", "MessageAPI": "message_api",
    "TwitterAPI": "posting_api", "TicketAPI": "ticket_api", "TradingBot": "trading_bot",
    "TravelAPI": "travel_booking", "VehicleControlAPI": "vehicle_control",
}  # fmt: skip  # BFCL's CLASS_FILE_PATH_MAPPING and MULTI_TURN_FUNC_DOC_FILE_MAPPING, multi-turn classes
STATELESS = frozenset({"MathAPI"})  # BFCL's STATELESS_CLASSES
PACKAGE = "bfcl_eval.eval_checker.multi_turn_eval.func_source_code"
_EQ_FIELDS = {"File": ("name", "content"), "Directory": ("name", "contents")}  # BFCL's __eq__


@cache
def class_docs(class_name: str) -> tuple[dict[str, Any], ...]:
    """BFCL's function docs of one API class, as BFCL ships them."""
    folder = resources.files("bfcl_eval") / "data" / "multi_turn_func_doc"
    text = (folder / f"{MODULES[class_name]}.json").read_text("utf-8")
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def class_tools(classes: list[str]) -> list[dict[str, Any]]:
    """The OpenAI tool schemas of the involved classes' methods, in BFCL's order."""
    from lab.bfcl.schema import tool_schema

    return [tool_schema(doc) for name in classes for doc in class_docs(name)]


def plain(value: Any) -> Any:
    """A value as JSON that is equal exactly when BFCL's ``==`` says so (see the module docstring)."""
    if isinstance(value, bool | str | None):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict):
        return {json.dumps(plain(k), sort_keys=True): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(json.dumps(plain(v), sort_keys=True) for v in value)
    fields = _EQ_FIELDS.get(type(value).__name__)
    if fields is None:
        raise TypeError(f"no state comparison for a {type(value).__name__}")
    return {"__class__": type(value).__name__, **{f: plain(getattr(value, f)) for f in fields}}


class ApiState:
    """One instance of each involved BFCL class (see the module docstring)."""

    def __init__(self, instances: dict[str, Any]):
        self.instances = instances

    @classmethod
    def from_fixture(cls, fixture: dict[str, Any]) -> ApiState:
        """Build the instances from ``involved_classes`` and ``initial_config``; ValueError if invalid."""
        classes, config = fixture.get("involved_classes"), fixture.get("initial_config", {})
        if not isinstance(classes, list) or not classes or not isinstance(config, dict):
            raise ValueError("the fixture needs involved_classes (a list) and initial_config (an object)")
        unknown = [c for c in classes if c not in MODULES]
        if unknown:
            raise ValueError(f"unknown BFCL classes {unknown}; known: {', '.join(MODULES)}")
        instances = {}
        for name in classes:
            instance = getattr(importlib.import_module(f"{PACKAGE}.{MODULES[name]}"), name)()
            if name not in STATELESS:
                instance._load_scenario(copy.deepcopy(config.get(name, {})), long_context=False)
            instances[name] = instance
        return cls(instances)

    def state_hash(self) -> str:
        """sha256 of every instance's public attributes (see the module docstring)."""
        state = {
            name: {k: plain(v) for k, v in vars(instance).items() if not k.startswith("_")}
            for name, instance in self.instances.items()
        }
        text = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def copy(self) -> ApiState:
        return ApiState(copy.deepcopy(self.instances))

    def method(self, name: str) -> Any:
        """The bound method a tool name calls (BFCL: the last involved class that has it)."""
        owners = [i for i in self.instances.values() if callable(getattr(i, name, None))]
        return getattr(owners[-1], name)


class ApiCatalog(SchemaCatalog):
    """The involved classes' methods as tools, run on an ``ApiState``."""

    per_turn_state = True
    whole_steps = True

    def for_scenario(self, scenario: Scenario) -> ApiCatalog:
        """The tools of the scenario's involved classes (its fixture names them)."""
        classes = scenario.db.get("involved_classes")
        if not isinstance(classes, list) or not all(c in MODULES for c in classes):
            raise ValueError(f"db.involved_classes must list classes among {', '.join(MODULES)}")
        return ApiCatalog(self.name, class_tools([str(c) for c in classes]))

    def call(self, db: Any, name: str, arguments: Any) -> JsonValue:
        """Run the method on the state with the arguments as sent (see the module docstring); never raises."""
        if not self.has(name):
            return tool_error("unknown_tool", f"there is no tool named {name!r}")
        if not isinstance(arguments, dict):
            return tool_error("invalid_argument", "arguments must be a JSON object")
        try:
            value = db.method(name)(**copy.deepcopy(arguments))
        except Exception as exc:  # noqa: BLE001 - a tool never raises to the agent
            return tool_error("tool_error", f"{name} failed: {type(exc).__name__}: {exc}")
        result = json.loads(json.dumps(value, default=str))
        if isinstance(result, dict) and isinstance(result.get("error"), str):
            return tool_error("tool_error", result["error"])
        return result if isinstance(result, dict) else {"result": result}

    def new_db(self, fixture: dict[str, Any]) -> ApiState:  # type: ignore[override]
        return ApiState.from_fixture(fixture)


ZERO_SHOT_PROMPT = "You are an assistant with access to functions. Use them to do what the user asks."
INSTRUCTED_PROMPT = (
    f"{ZERO_SHOT_PROMPT} Make the calls each request needs, in the order they must run, with the"
    " argument values the user gave or earlier results returned; then answer in plain text."
)

DOMAIN = Domain(
    catalog=ApiCatalog(NAME, []),  # type: ignore[arg-type]
    zero_shot_prompt=ZERO_SHOT_PROMPT,
    instructed_prompt=INSTRUCTED_PROMPT,
)
