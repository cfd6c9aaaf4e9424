"""The fine-tuning formats: rendering keeps the rules, and each broken rule is caught."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.ftformats import hf_problems, openai_problems, to_hf, to_openai

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_order",
            "description": "Get an order.",
            "parameters": {"type": "object", "properties": {}, "required": []},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "cancel_order",
            "description": "Cancel an order.",
            "parameters": {"type": "object", "properties": {}, "required": []},
        },
    },
]
NEUTRAL = [
    {"role": "system", "content": "You are a shop assistant."},
    {"role": "user", "content": "Where is order A-1001?"},
    {
        "role": "assistant",
        "content": None,
        "weight": 0,
        "tool_calls": [{"id": "call_0_0_0", "name": "get_order", "arguments": {"order_id": "A-1001"}}],
    },
    {"role": "tool", "tool_call_id": "call_0_0_0", "name": "get_order", "content": '{"status": "pending"}'},
    {"role": "assistant", "content": "It is pending.", "weight": 0},
    {"role": "user", "content": "Cancel it."},
    {
        "role": "assistant",
        "content": None,
        "weight": 1,
        "tool_calls": [{"id": "call_1_0_0", "name": "cancel_order", "arguments": {"order_id": "A-1001"}}],
    },
]


def test_rendered_rows_are_valid() -> None:
    openai_row, hf_row = to_openai(NEUTRAL, TOOLS), to_hf(NEUTRAL, TOOLS)
    assert openai_problems(openai_row) == []
    assert hf_problems(hf_row) == []
    call = openai_row["messages"][2]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"order_id": "A-1001"}
    assert hf_row["messages"][2]["tool_calls"][0]["function"]["arguments"] == {"order_id": "A-1001"}
    assert openai_row["messages"][2]["weight"] == 0 and openai_row["messages"][-1]["weight"] == 1


def _set(path: tuple, value: object):
    def edit(row: dict) -> None:
        target = row
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


OPENAI_BREAKS = {
    "arguments as object": _set(("messages", 2, "tool_calls", 0, "function", "arguments"), {"order_id": "x"}),
    "arguments not json": _set(("messages", 2, "tool_calls", 0, "function", "arguments"), "{oops"),
    "unknown tool": _set(("messages", 6, "tool_calls", 0, "function", "name"), "drop_tables"),
    "tool id mismatch": _set(("messages", 3, "tool_call_id"), "call_9"),
    "bad weight": _set(("messages", 4, "weight"), 2),
    "last not trained": _set(("messages", 6, "weight"), 0),
    "missing call id": _set(("messages", 2, "tool_calls", 0, "id"), ""),
    "extra row key": _set(("extra",), 1),
    "empty user": _set(("messages", 1, "content"), "  "),
    "bad role": _set(("messages", 1, "role"), "human"),
    "tool extra key": _set(("messages", 3, "name"), "get_order"),
    "parallel not bool": _set(("parallel_tool_calls",), "yes"),
    "no tools": _set(("tools",), []),
}


@pytest.mark.parametrize("name", sorted(OPENAI_BREAKS))
def test_each_broken_openai_rule_is_caught(name: str) -> None:
    row = to_openai(NEUTRAL, TOOLS)
    OPENAI_BREAKS[name](row)
    assert openai_problems(row), name


def test_system_messages_only_lead() -> None:
    messages = copy.deepcopy(NEUTRAL)
    messages.insert(1, {"role": "system", "content": "Today is Monday 2026-03-02."})
    assert openai_problems(to_openai(messages, TOOLS)) == []
    messages.insert(3, {"role": "system", "content": "late"})
    assert openai_problems(to_openai(messages, TOOLS))


def test_unanswered_call_before_next_user_is_caught() -> None:
    row = to_openai(NEUTRAL, TOOLS)
    del row["messages"][3]
    assert any("not answered" in p for p in openai_problems(row))


def test_parallel_calls_need_parallel_flag() -> None:
    messages = copy.deepcopy(NEUTRAL)
    messages[6]["tool_calls"].append({"id": "call_1_0_1", "name": "get_order", "arguments": {}})
    row = to_openai(messages, TOOLS)
    assert openai_problems(row) == []
    row["parallel_tool_calls"] = False
    assert openai_problems(row)


def test_hf_rejects_string_arguments() -> None:
    row = to_hf(NEUTRAL, TOOLS)
    row["messages"][2]["tool_calls"][0]["function"]["arguments"] = '{"order_id": "A-1001"}'
    assert hf_problems(row)
    assert hf_problems(to_openai(NEUTRAL, TOOLS))  # the OpenAI row is not an HF row


@settings(max_examples=40, deadline=None)
@given(
    arguments=st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(st.integers(), st.text(max_size=10), st.booleans(), st.none()),
        max_size=4,
    )
)
def test_any_json_arguments_round_trip(arguments: dict) -> None:
    messages = copy.deepcopy(NEUTRAL)
    messages[6]["tool_calls"][0]["arguments"] = arguments
    openai_row, hf_row = to_openai(messages, TOOLS), to_hf(messages, TOOLS)
    assert openai_problems(openai_row) == [] and hf_problems(hf_row) == []
    assert json.loads(openai_row["messages"][6]["tool_calls"][0]["function"]["arguments"]) == arguments
