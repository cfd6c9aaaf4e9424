"""The local model's tool-call text format: rendering, tolerant parsing, ChatML prompts."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from lab.models import toolformat as tf

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | st.integers() | FLOATS | st.text()
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
ARGUMENTS = st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=4)
CALLS = st.lists(st.tuples(NAMES, ARGUMENTS), min_size=1, max_size=3)

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "cancel_order",
            "description": "Cancel a pending order.\nOnly pending or processing orders.",
            "parameters": {
                "type": "object",
                "properties": {
                    "order_id": {"type": "string", "examples": ["A-1234"]},
                    "reason": {"type": "string", "enum": ["changed_mind", "other"], "default": "other"},
                },
                "required": ["order_id"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search_policies",
            "description": "Search the policy articles.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "what to look up, like 'refund window'."},
                    "top_k": {"type": "integer", "minimum": 1, "maximum": 5, "default": 3},
                },
                "required": ["query"],
            },
        },
    },
]


def _decoded(parsed: tf.Parsed) -> list[tuple[str, object]]:
    return [(name, json.loads(arguments)) for name, arguments in parsed.calls]


@settings(max_examples=150, deadline=None)
@given(CALLS)
def test_rendered_calls_parse_back_to_the_same_calls(calls):
    parsed = tf.parse(tf.render_calls(calls))
    assert _decoded(parsed) == calls
    assert parsed.content == "" and not parsed.malformed


@settings(max_examples=60, deadline=None)
@given(CALLS, st.sampled_from(["", "Sure.\n", "  \n"]), st.sampled_from(["", "\n", "\n\n  "]))
def test_surrounding_text_and_whitespace_are_tolerated(calls, before, after):
    parsed = tf.parse(before + tf.render_calls(calls).replace("\n", "\n \n") + after)
    assert _decoded(parsed) == calls
    assert parsed.content == before.strip()


FRAGMENTS = [
    "<tool_call>",
    "</tool_call>",
    "```",
    '{"name": ',
    '"a"',
    '"arguments": ',
    "{",
    "}",
    "[",
    "]",
    ",",
    "```json",
]
GARBAGE = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(GARBAGE | st.text())
def test_garbage_never_raises(text):
    parsed = tf.parse(text)
    assert isinstance(parsed.content, str)
    for _name, arguments in parsed.calls:
        assert isinstance(json.loads(arguments), dict)


def test_code_fences_inside_and_outside_tags():
    fenced = '```json\n{"name": "get_order", "arguments": {"order_id": "A-1234"}}\n```'
    tagged = f"<tool_call>\n{fenced}\n</tool_call>"
    for text in (fenced, tagged):
        parsed = tf.parse(text)
        assert _decoded(parsed) == [("get_order", {"order_id": "A-1234"})]
        assert parsed.content == "" and not parsed.malformed


def test_bare_object_list_and_string_arguments():
    text = '[{"name": "a", "arguments": {}}, {"name": "b", "arguments": "{\\"x\\": 1}"}]'
    assert _decoded(tf.parse(text)) == [("a", {}), ("b", {"x": 1})]


def test_missing_closing_tag_and_surplus_brace_are_accepted():
    text = '<tool_call>{"name": "a", "arguments": {}}}</tool_call>\n<tool_call>{"name": "b", "arguments": {}}'
    parsed = tf.parse(text)
    assert _decoded(parsed) == [("a", {}), ("b", {})]
    assert not parsed.malformed


def test_unparseable_call_is_content_and_malformed():
    for text in (
        '<tool_call>{"name": "a", "arguments": {order_id: A-1}}</tool_call>',
        '{"name": "cancel_order", "arguments": ',
        '<tool_call>{"name": 3, "arguments": {}}</tool_call>',
    ):
        parsed = tf.parse(text)
        assert parsed.calls == [] and parsed.malformed
        assert parsed.content == text.strip()


def test_plain_text_is_not_malformed():
    parsed = tf.parse("Could you give me your order number, please?")
    assert parsed == tf.Parsed(content="Could you give me your order number, please?")
    assert not tf.looks_like_call(parsed.content)
    assert tf.looks_like_call('{"name": "x"')


def test_catalog_is_one_compact_line_per_tool():
    lines = tf.render_catalog(TOOLS).splitlines()
    # a schema's ``examples`` are shown; a value in a prose description is not (a small model copies it)
    assert lines == [
        'cancel_order(order_id: str "A-1234", reason?: changed_mind|other="other") - Cancel a pending order.',
        "search_policies(query: str, top_k?: int 1..5=3) - Search the policy articles.",
    ]


def test_prompt_prefix_is_shared_and_suffix_renders_calls_and_results():
    system = {"role": "system", "content": "Be helpful."}
    function = {"name": "cancel_order", "arguments": '{"order_id": "A-1"}'}
    call = {"id": "c1", "type": "function", "function": function}
    dialogue = [
        system,
        {"role": "user", "content": "cancel A-1"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"status": "cancelled"}'},
    ]
    prefix, suffix = tf.render_prompt(dialogue, TOOLS)
    assert prefix == tf.render_prompt([system, {"role": "user", "content": "hi"}], TOOLS)[0]
    assert prefix.startswith("<|im_start|>system\nBe helpful.") and prefix.endswith("<|im_end|>\n")
    assert tf.render_catalog(TOOLS) in prefix
    assert suffix == (
        "<|im_start|>user\ncancel A-1<|im_end|>\n"
        '<|im_start|>assistant\n<tool_call>{"name": "cancel_order", "arguments": {"order_id": "A-1"}}'
        "</tool_call><|im_end|>\n"
        '<|im_start|>tool\ncancel_order: {"status":"cancelled"}<|im_end|>\n'
        "<|im_start|>assistant\n"
    )


def test_later_system_messages_stay_out_of_the_shared_prefix():
    system = {"role": "system", "content": "Be helpful."}
    user = {"role": "user", "content": "hi"}
    monday = tf.render_prompt([system, {"role": "system", "content": "Today is Monday."}, user], TOOLS)
    friday = tf.render_prompt([system, {"role": "system", "content": "Today is Friday."}, user], TOOLS)
    assert monday[0] == friday[0] == tf.render_prompt([system, user], TOOLS)[0]
    assert monday[1].startswith("<|im_start|>system\nToday is Monday.<|im_end|>\n<|im_start|>user\nhi")


def test_target_round_trips_through_parse():
    message = {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [{"id": "x", "type": "function", "function": {"name": "get_order", "arguments": "{}"}}],
    }
    target = tf.render_target(message)
    assert target.endswith("<|im_end|>")
    parsed = tf.parse(target.removesuffix("<|im_end|>"))
    assert parsed.content == "Checking." and parsed.calls == [("get_order", "{}")]
    assert tf.render_target({"role": "assistant", "content": "Hello!"}) == "Hello!<|im_end|>"
