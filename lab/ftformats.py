"""Fine-tuning file formats: render neutral example messages, and check each format's rules.

Two formats, one JSON object per line:

- OpenAI chat fine-tuning: ``messages``, ``tools``, ``parallel_tool_calls``; assistant tool
  calls carry ``{"id", "type": "function", "function": {"name", "arguments": "<JSON string>"}}``,
  tool results answer them by ``tool_call_id``, and ``weight: 0`` marks context-only assistant
  messages.
- Hugging Face / TRL: ``messages`` + ``tools``, with ``arguments`` as JSON objects (chat
  templates double-encode strings). Assistant messages keep ``weight`` so a trainer can mask
  context-only messages from the loss; chat templates ignore the extra key.

``openai_problems`` / ``hf_problems`` return every rule an example breaks (empty: valid).
This module does not choose examples or write files.
"""

from __future__ import annotations

import json
from typing import Any

Row = dict[str, Any]
_ROLES = {"system", "user", "assistant", "tool"}
_OPENAI_KEYS = {
    "system": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "tool_calls", "weight", "name"},
    "tool": {"role", "tool_call_id", "content"},
}


def to_openai(messages: list[dict], tools: list[dict]) -> Row:
    """One OpenAI chat fine-tuning row from neutral messages."""
    out = []
    for m in messages:
        if m["role"] == "assistant":
            row: dict[str, Any] = {"role": "assistant", "content": m.get("content")}
            if m.get("tool_calls"):
                row["tool_calls"] = [_openai_call(c) for c in m["tool_calls"]]
            row["weight"] = m.get("weight", 1)
            out.append(row)
        elif m["role"] == "tool":
            out.append({"role": "tool", "tool_call_id": m["tool_call_id"], "content": m["content"]})
        else:
            out.append({"role": m["role"], "content": m["content"]})
    return {"messages": out, "tools": tools, "parallel_tool_calls": True}


def _openai_call(call: dict) -> dict:
    arguments = json.dumps(call["arguments"], ensure_ascii=False)
    return {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": arguments}}


def to_hf(messages: list[dict], tools: list[dict]) -> Row:
    """One Hugging Face / TRL row from neutral messages (arguments stay objects)."""
    out = []
    for m in messages:
        if m["role"] == "assistant":
            row: dict[str, Any] = {"role": "assistant", "content": m.get("content") or ""}
            if m.get("tool_calls"):
                row["tool_calls"] = [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": dict(c["arguments"])},
                    }
                    for c in m["tool_calls"]
                ]
            row["weight"] = m.get("weight", 1)
            out.append(row)
        elif m["role"] == "tool":
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": m["tool_call_id"],
                    "name": m["name"],
                    "content": m["content"],
                }
            )
        else:
            out.append({"role": m["role"], "content": m["content"]})
    return {"messages": out, "tools": tools}


def tool_problems(tools: Any) -> list[str]:
    """Rules for the ``tools`` list shared by both formats."""
    if not isinstance(tools, list) or not tools:
        return ["tools must be a non-empty list"]
    problems, names = [], []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict):
            problems.append(f"tools[{i}] must be {{'type': 'function', 'function': {{...}}}}")
            continue
        if not isinstance(fn.get("name"), str) or not fn["name"]:
            problems.append(f"tools[{i}] has no name")
        if not isinstance(fn.get("parameters"), dict):
            problems.append(f"tools[{i}] parameters must be a JSON schema object")
        names.append(fn.get("name"))
    if len(set(names)) != len(names):
        problems.append("tool names must be unique")
    return problems


def _tool_names(tools: Any) -> set[str]:
    if not isinstance(tools, list):
        return set()
    return {
        t["function"]["name"]
        for t in tools
        if isinstance(t, dict)
        and isinstance(t.get("function"), dict)
        and isinstance(t["function"].get("name"), str)
    }


def _arguments_problem(arguments: Any, as_string: bool) -> str | None:
    if as_string:
        if not isinstance(arguments, str):
            return "arguments must be a JSON string"
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return "arguments are not valid JSON"
    return None if isinstance(arguments, dict) else "arguments must encode a JSON object"


def _call_problems(where: str, call: Any, names: set[str], as_string: bool, need_id: bool) -> list[str]:
    fn = call.get("function") if isinstance(call, dict) else None
    if not isinstance(call, dict) or call.get("type") != "function" or not isinstance(fn, dict):
        return [f"{where}: a tool call must be {{'type': 'function', 'function': {{...}}}}"]
    problems = []
    if need_id and (not isinstance(call.get("id"), str) or not call["id"]):
        problems.append(f"{where}: a tool call needs an id")
    if fn.get("name") not in names:
        problems.append(f"{where}: tool {fn.get('name')!r} is not in tools")
    if (reason := _arguments_problem(fn.get("arguments"), as_string)) is not None:
        problems.append(f"{where}: {reason}")
    return problems


def _message_problems(i: int, m: Any, names: set[str], as_string: bool, pending: dict[str, str]) -> list[str]:
    """Rules of one message; ``pending`` holds tool call ids not yet answered (updated in place)."""
    where = f"messages[{i}]"
    if not isinstance(m, dict) or m.get("role") not in _ROLES:
        return [f"{where}: role must be one of {sorted(_ROLES)}"]
    role, problems = m["role"], []
    if role == "tool":
        if m.get("tool_call_id") not in pending:
            problems.append(f"{where}: tool_call_id does not answer an open tool call")
        pending.pop(m.get("tool_call_id"), None)
        if not isinstance(m.get("content"), str):
            problems.append(f"{where}: tool content must be a string")
        return problems
    if pending:
        problems.append(f"{where}: tool calls {sorted(pending)} were not answered")
        pending.clear()
    if role in ("system", "user"):
        if not isinstance(m.get("content"), str) or not m["content"].strip():
            problems.append(f"{where}: {role} content must be a non-empty string")
        return problems
    return problems + _assistant_problems(where, m, names, as_string, pending)


def _assistant_problems(
    where: str, m: dict, names: set[str], as_string: bool, pending: dict[str, str]
) -> list[str]:
    problems = []
    calls, content = m.get("tool_calls"), m.get("content")
    if content is not None and not isinstance(content, str):
        problems.append(f"{where}: assistant content must be a string or null")
    if not calls and not (isinstance(content, str) and content.strip()):
        problems.append(f"{where}: an assistant message needs content or tool calls")
    if m.get("weight", 1) not in (0, 1):
        problems.append(f"{where}: weight must be 0 or 1")
    for j, call in enumerate(calls or []):
        problems += _call_problems(f"{where}.tool_calls[{j}]", call, names, as_string, need_id=as_string)
        call_id = call.get("id") if isinstance(call, dict) else None
        if isinstance(call_id, str):
            if call_id in pending:
                problems.append(f"{where}: duplicate tool call id {call_id!r}")
            pending[call_id] = where
    return problems


def _row_problems(row: Any, allowed: set[str], as_string: bool) -> list[str]:
    if not isinstance(row, dict):
        return ["a row must be a JSON object"]
    problems = [f"unexpected key {key!r}" for key in sorted(set(row) - allowed)]
    problems += tool_problems(row.get("tools"))
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        return [*problems, "messages must be a non-empty list"]
    names, pending = _tool_names(row.get("tools")), {}
    for i, m in enumerate(messages):
        problems += _message_problems(i, m, names, as_string, pending)
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    leading = next((i for i, role in enumerate(roles) if role != "system"), len(roles))
    if "system" in roles[leading:]:
        problems.append("system messages must all come before the conversation")
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "assistant" or last.get("weight", 1) != 1:
        problems.append("the last message must be an assistant message to train on (weight 1)")
    return problems


def openai_problems(row: Any) -> list[str]:
    """Every OpenAI chat fine-tuning rule the row breaks; empty when it is valid."""
    problems = _row_problems(row, {"messages", "tools", "parallel_tool_calls"}, as_string=True)
    if isinstance(row, dict):
        parallel = row.get("parallel_tool_calls", True)
        if not isinstance(parallel, bool):
            problems.append("parallel_tool_calls must be a boolean")
        elif not parallel and any(
            len(m.get("tool_calls") or []) > 1 for m in row.get("messages") or [] if isinstance(m, dict)
        ):
            problems.append("parallel_tool_calls is false but a message makes several calls")
        problems += [
            f"messages[{i}]: unexpected keys {sorted(set(m) - _OPENAI_KEYS[m['role']])}"
            for i, m in enumerate(row.get("messages") or [])
            if isinstance(m, dict) and m.get("role") in _OPENAI_KEYS and set(m) - _OPENAI_KEYS[m["role"]]
        ]
    return problems


def hf_problems(row: Any) -> list[str]:
    """Every Hugging Face / TRL rule the row breaks (arguments must be objects); empty when valid."""
    return _row_problems(row, {"messages", "tools"}, as_string=False)
