"""BFCL function docs as OpenAI tool schemas (JSON Schema), the way BFCL renders them for OpenAI.

BFCL writes its function docs in its own dialect: ``"type": "dict"`` for an object, ``float``,
``tuple``, ``any``, or no type at all. ``tool_schema`` follows BFCL's own conversion for
OpenAI-style models (``bfcl_eval.model_handler.utils.convert_to_tool`` with
``GORILLA_TO_OPENAPI``): a ``.`` in the name becomes ``_``; ``dict`` -> ``object``, ``float`` ->
``number`` (with ``format: float`` and " This is a float type value." added to its description),
``tuple`` -> ``array``, ``any`` and unknown or missing types -> ``string``; nested properties
and items are converted the same way, at any depth (BFCL's stops at two levels, which covers
all of its data). BFCL's non-standard keys (``optional``, a ``required`` flag on a property)
are dropped; everything else (descriptions, enums, defaults) is kept as written. A property
whose default is ``null`` (Python's ``x: str = None``) also takes null: its type becomes
``[type, "null"]``, which is the one place the lab's schema differs from BFCL's rendering
(BFCL's possible answers list null for such arguments). It reads no files and validates nothing.
"""

from __future__ import annotations

import copy
import re
from typing import Any

# BFCL's GORILLA_TO_OPENAPI (bfcl_eval/constants/type_mappings.py), copied so that the lab's
# schemas do not depend on the package being installed; tests/test_bfcl.py checks they agree.
GORILLA_TO_OPENAPI: dict[str, str] = {
    "integer": "integer", "number": "number", "float": "number", "string": "string",
    "boolean": "boolean", "bool": "boolean", "array": "array", "list": "array", "dict": "object",
    "object": "object", "tuple": "array", "any": "string", "byte": "integer", "short": "integer",
    "long": "integer", "double": "number", "char": "string", "ArrayList": "array", "Array": "array",
    "HashMap": "object", "Hashtable": "object", "Queue": "array", "Stack": "array", "Any": "string",
    "String": "string", "Bigint": "integer",
}  # fmt: skip
FLOAT_NOTE = " This is a float type value."
_DROPPED = ("optional",)


def tool_name(name: str) -> str:
    """A BFCL function name as an OpenAI tool name: ``.`` becomes ``_`` (BFCL does the same)."""
    return re.sub(r"\.", "_", name)


def property_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """One BFCL property (or items) schema as JSON Schema."""
    out = {k: copy.deepcopy(v) for k, v in prop.items() if k not in _DROPPED and not _flag(k, v)}
    bfcl_type = prop.get("type")
    if bfcl_type == "float":
        out["format"] = "float"
        out["description"] = f"{prop.get('description', '')}{FLOAT_NOTE}"
    out["type"] = GORILLA_TO_OPENAPI.get(bfcl_type, "string") if isinstance(bfcl_type, str) else "string"
    if out["type"] in ("object", "array") and isinstance(prop.get("properties"), dict):
        out["properties"] = {n: property_schema(p) for n, p in prop["properties"].items()}
    if isinstance(prop.get("items"), dict):
        out["items"] = property_schema(prop["items"])
    if "default" in prop and prop["default"] is None and out["type"] != "null":
        out["type"] = [out["type"], "null"]
    return out


def _flag(key: str, value: Any) -> bool:
    """A property-level ``required: true/false`` flag (not JSON Schema, which wants a list)."""
    return key == "required" and not isinstance(value, list)


def tool_schema(function: dict[str, Any]) -> dict[str, Any]:
    """A BFCL function doc as ``{"type": "function", "function": {name, description, parameters}}``."""
    params = function.get("parameters") or {}
    properties = {n: property_schema(p) for n, p in (params.get("properties") or {}).items()}
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if params.get("required"):
        parameters["required"] = list(params["required"])
    described = {"name": tool_name(function["name"]), "description": function.get("description", "")}
    return {"type": "function", "function": {**described, "parameters": parameters}}
