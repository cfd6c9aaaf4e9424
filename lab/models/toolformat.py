"""The text format of a local model's tools: render catalog and dialogue into a prompt, parse calls back.

One module for inference (``lab.models.local``) and training (``lab.tune``), so both see the same bytes.

* ``render_catalog(tools)``: OpenAI tool schemas as one compact line per tool (prompt length dominates
  the cost of a small model on CPU). A parameter shows the schema's own ``examples``, never a value
  from its prose description ("the record id, like X-0012"): a tuned 135M model copied that id into
  its calls, and the tools canonicalise the shapes people write anyway.
  ``render_system(system, tools, form)`` carries the catalog in a prompt form of
  ``lab.models.promptform`` (``full``, ``names``, ``none``): tuned models learn the tools and can
  run on a short prompt.
* ``render_calls(calls)`` / ``parse(text)``: a call is
  ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, one per line, several per message.
  Parsing also accepts code fences, a bare JSON call object (or a list of them) and a missing closing
  tag; it never raises. What cannot be read as a call stays in ``content``, and ``malformed`` is set
  when that leftover still looks like an attempted call.
* ``render_prompt(messages, tools)`` / ``render_target(message)``: SmolLM2's ChatML
  (``<|im_start|>role\\n...<|im_end|>\\n``), split into the cacheable shared prefix (system prompt,
  catalog, few-shot examples) and the per-dialogue suffix. A JSON tool result is rendered without
  the spaces after separators (14% fewer tokens in tool results, in prompts and training rows alike).

It does not tokenize, run a model, or check arguments against a schema (catalog and scorer do that).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lab.models import promptform

CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
DEFAULT_SYSTEM = "You are a helpful customer-service assistant."
CALL_INSTRUCTIONS = (
    "To call tools, reply only with one line per call, exactly like:\n"
    f'{CALL_OPEN}{{"name": "tool_name", "arguments": {{"argument": "value"}}}}{CALL_CLOSE}\n'
    "Tool results come back in a tool message. If no tool is needed, reply in plain text."
)

_CALL_START = re.compile(r'[{\[]\s*\{?\s*"(?:name|function)"\s*:')
_FENCE = re.compile(r"```[a-zA-Z]*")
_CLOSING = re.compile(r"[\s`}\]]*" + re.escape(CALL_CLOSE))
_JSON = json.JSONDecoder()
_TYPE_NAMES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "object": "obj"}


@dataclass(frozen=True)
class Parsed:
    """A model reply split into text and tool calls.

    Attributes:
        content: the text that is not a call (stripped); unparseable call attempts stay here.
        calls: ``(name, arguments_json)`` pairs; ``arguments_json`` is a JSON object as a string.
        malformed: the reply attempted a call that could not be parsed.
    """

    content: str
    calls: list[tuple[str, str]] = field(default_factory=list)
    malformed: bool = False


# --------------------------------------------------------------------------- catalog


def _type_name(schema: Mapping[str, Any]) -> str:
    """A short type for one JSON-schema node: ``str``, ``a|b|c`` for enums, ``list[int]`` (null dropped)."""
    if "enum" in schema:
        return "|".join(str(v) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            names = [_type_name(s) for s in schema[key] if s.get("type") != "null"]
            return "|".join(names) or "null"
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return "|".join(_TYPE_NAMES.get(k, k) for k in kind if k != "null")
    if kind == "array":
        return f"list[{_type_name(schema.get('items', {}))}]"
    if kind == "string" and schema.get("format") in ("date", "date-time", "email"):
        return schema["format"]
    return _TYPE_NAMES.get(kind, kind)


def _example(schema: Mapping[str, Any]) -> Any:
    """The schema's first example (``examples``), if it has one."""
    examples = schema.get("examples")
    return examples[0] if isinstance(examples, list) and examples else None


def _render_param(name: str, schema: Mapping[str, Any], required: bool) -> str:
    """``name: type`` plus an example, a range and a default when the schema gives them."""
    text = f"{name}{'' if required else '?'}: {_type_name(schema)}"
    example = _example(schema)
    if example is not None:
        text += f" {json.dumps(example, ensure_ascii=False)}"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None or high is not None:
        text += f" {'' if low is None else low}..{'' if high is None else high}"
    elif schema.get("exclusiveMinimum") is not None:
        text += f" >{schema['exclusiveMinimum']}"
    if not required and schema.get("default") is not None:
        text += f"={json.dumps(schema['default'], ensure_ascii=False)}"
    return text


def render_tool(tool: Mapping[str, Any]) -> str:
    """One OpenAI tool schema as ``name(arg: type, opt?: a|b=a) - First sentence of the description.``"""
    function = tool.get("function", tool)
    params = function.get("parameters") or {}
    required = set(params.get("required", []))
    args = ", ".join(
        _render_param(name, schema, name in required) for name, schema in params.get("properties", {}).items()
    )
    description = (function.get("description") or "").strip().split("\n")[0].strip()
    return f"{function['name']}({args})" + (f" - {description}" if description else "")


def render_catalog(tools: Sequence[Mapping[str, Any]]) -> str:
    """The whole catalog, one line per tool, in the given order."""
    return "\n".join(render_tool(tool) for tool in tools)


def render_system(
    system: str, tools: Sequence[Mapping[str, Any]], form: str = promptform.DEFAULT_FORM
) -> str:
    """The system prompt, then the tool catalog in prompt ``form`` (``lab.models.promptform``): ``full``
    adds the whole catalog and the call format, ``names`` tool and argument names only, ``none``
    nothing. Nothing is added without tools."""
    if not tools or form == "none":
        return system
    if form == "names":
        return f"{system}\n\nTools:\n{promptform.render_names(tools)}"
    return f"{system}\n\nTools:\n{render_catalog(tools)}\n\n{CALL_INSTRUCTIONS}"


# --------------------------------------------------------------------------- calls


def _arguments_json(arguments: Any) -> str:
    """Arguments as a JSON string; a string that is not valid JSON is kept as a JSON string value."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            pass
    return json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)


def render_calls(calls: Sequence[tuple[str, Any]]) -> str:
    """Calls as the model must write them, one ``<tool_call>`` line each.

    Args:
        calls: ``(name, arguments)`` pairs; arguments a dict or a JSON string.
    """
    return "\n".join(
        f'{CALL_OPEN}{{"name": {json.dumps(name, ensure_ascii=False)}, '
        f'"arguments": {_arguments_json(arguments)}}}{CALL_CLOSE}'
        for name, arguments in calls
    )


def looks_like_call(text: str) -> bool:
    """Whether text attempts a tool call (a call tag, or a JSON object opening with a ``"name"`` key)."""
    return CALL_OPEN in text or CALL_CLOSE in text or _CALL_START.search(text) is not None


def _as_call(value: Any) -> tuple[str, str] | None:
    """``(name, arguments_json)`` from a decoded call object, or None if it is not one."""
    if isinstance(value, Mapping) and isinstance(value.get("function"), Mapping):
        value = value["function"]
    if not isinstance(value, Mapping) or not isinstance(value.get("name"), str) or not value["name"]:
        return None
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    if not isinstance(arguments, Mapping):
        return None
    return value["name"], json.dumps(arguments, ensure_ascii=False)


Block = tuple[list[tuple[str, str]], int]


def _decode_json(text: str, start: int) -> Block | None:
    """JSON at ``start`` read as one call or a list of calls: the calls and where the JSON ends."""
    try:
        value, end = _JSON.raw_decode(text, start)
    except ValueError:
        return None
    calls = [_as_call(item) for item in (value if isinstance(value, list) else [value])]
    if not calls or any(call is None for call in calls):
        return None
    return calls, end  # type: ignore[return-value]


def _skip_space_and_fences(text: str, pos: int) -> int:
    """Advance past whitespace and code-fence markers."""
    while True:
        pos = len(text) - len(text[pos:].lstrip())
        fence = _FENCE.match(text, pos)
        if fence is None:
            return pos
        pos = fence.end()


def _decode_tagged(text: str, tag_at: int) -> Block | None:
    """The calls after an opening tag at ``tag_at``; the block ends after the closing tag, if there is one."""
    block = _decode_json(text, _skip_space_and_fences(text, tag_at + len(CALL_OPEN)))
    if block is None:
        return None
    closing = _CLOSING.match(text, block[1])  # tolerates surplus brackets before the closing tag
    return (block[0], closing.end()) if closing else block


def _next_tag(text: str, pos: int) -> int:
    return text.find(CALL_OPEN, pos)


def _next_bare(text: str, pos: int) -> int:
    match = _CALL_START.search(text, pos)
    return -1 if match is None else match.start()


def _scan(
    text: str, find: Callable[[str, int], int], decode: Callable[[str, int], Block | None], skip: int
) -> tuple[list[tuple[str, str]], str]:
    """The calls ``decode`` reads wherever ``find`` points, and the leftover text.

    Where decoding fails, ``skip`` characters stay in the leftover and the search goes on after them.
    """
    calls: list[tuple[str, str]] = []
    parts: list[str] = []
    pos = 0
    while (match := find(text, pos)) >= 0:
        parts.append(text[pos:match])
        block = decode(text, match)
        if block is None:
            parts.append(text[match : match + skip])
            pos = match + skip
            continue
        calls.extend(block[0])
        pos = block[1]
    parts.append(text[pos:])
    return calls, "".join(parts)


def _clean_content(text: str) -> str:
    """Leftover text without fence markers, stray closing tags and the brackets of a bare call list."""
    text = _FENCE.sub("", text.replace(CALL_CLOSE, "")).strip()
    return "" if re.fullmatch(r"[\[\],\s]*", text) else text


def parse(text: str) -> Parsed:
    """Split a model reply into text and calls. Never raises.

    Tagged calls are read first, then bare JSON call objects (fenced or not) in what is left. When the
    leftover still looks like a call, the reply is malformed and ``content`` keeps the leftover verbatim.
    """
    if not isinstance(text, str):
        return Parsed(content=str(text), malformed=True)
    tagged, rest = _scan(text, _next_tag, _decode_tagged, len(CALL_OPEN))
    bare, rest = _scan(rest, _next_bare, _decode_json, 1)
    without_stray_close = rest.replace(CALL_CLOSE, "") if CALL_OPEN not in rest else rest
    malformed = looks_like_call(without_stray_close)
    content = rest.strip() if malformed else _clean_content(rest)
    return Parsed(content=content, calls=tagged + bare, malformed=malformed)


# --------------------------------------------------------------------------- ChatML


def _get(message: Any, key: str) -> Any:
    """A field of a message given as a dict or as an object (litellm / pydantic message)."""
    return message.get(key) if isinstance(message, Mapping) else getattr(message, key, None)


def _text(content: Any) -> str:
    """Message content as text; a list of content parts is joined by its text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(str(_get(part, "text") or "") for part in content)
    return str(content)


def said_texts(messages: Sequence[Any]) -> list[str]:
    """The texts of the customer's messages and of the tool results, in order."""
    return [_text(_get(m, "content")) for m in messages if _get(m, "role") in ("user", "tool")]


def _call_pairs(message: Any) -> list[tuple[str, Any]]:
    """``(name, arguments)`` of an assistant message's OpenAI ``tool_calls``."""
    pairs = []
    for call in _get(message, "tool_calls") or []:
        function = _get(call, "function")
        pairs.append((_get(function, "name") or "", _get(function, "arguments")))
    return pairs


def render_target(message: Any) -> str:
    """What the model writes for an assistant message: after ``<|im_start|>assistant\\n``, to ``<|im_end|>``.

    Text first, then one ``<tool_call>`` line per call. This is the training target of that message.
    """
    parts = [_text(_get(message, "content")).strip(), render_calls(_call_pairs(message))]
    return "\n".join(part for part in parts if part) + IM_END


def _block(role: str, body: str) -> str:
    return f"{IM_START}{role}\n{body}{IM_END}\n"


def compact_json(text: str) -> str:
    """JSON text re-written without spaces after ``,`` and ``:``; other text unchanged."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render_message(message: Any, call_names: Mapping[str, str] | None = None) -> str:
    """One message after the shared system block, as a ChatML block.

    A tool result is rendered in role ``tool`` as ``name: content``, with the name looked up by
    ``tool_call_id`` in ``call_names`` (plain ``content`` when unknown).
    """
    role = _get(message, "role") or "user"
    if role == "assistant":
        return f"{IM_START}assistant\n{render_target(message)}\n"
    if role == "tool":
        name = (call_names or {}).get(_get(message, "tool_call_id") or "")
        body = compact_json(_text(_get(message, "content")))
        return _block("tool", f"{name}: {body}" if name else body)
    return _block(role, _text(_get(message, "content")))


def render_prompt(
    messages: Sequence[Any], tools: Sequence[Mapping[str, Any]], form: str = promptform.DEFAULT_FORM
) -> tuple[str, str]:
    """A dialogue as ChatML, ending with the open assistant turn: ``(prefix, suffix)``.

    ``prefix`` is the shared part: one system block, the first message's text when it is a system
    message (else a default), followed by the catalog in prompt ``form``. It is the same for every
    dialogue of a strategy, so a caller can encode it once and cache it. Any later system message (the agent's
    per-scenario clock, a workflow note) is its own system block in ``suffix``, so it never breaks
    that sharing. ``suffix`` ends with ``<|im_start|>assistant\\n``; ``prefix + suffix`` is the
    whole prompt.
    """
    shared = bool(messages) and _get(messages[0], "role") == "system"
    system = _text(_get(messages[0], "content")) if shared else DEFAULT_SYSTEM
    call_names: dict[str, str] = {}
    suffix = []
    for message in messages[1:] if shared else messages:
        for call in _get(message, "tool_calls") or []:
            call_names[_get(call, "id") or ""] = _get(_get(call, "function"), "name") or ""
        suffix.append(render_message(message, call_names))
    return _block("system", render_system(system, tools, form)), "".join(suffix) + f"{IM_START}assistant\n"
