"""Constrained tool calls (``lab.models.guide``) on a fake model: a ranking of tokens, no network weights.

The fake model "means" a list of texts in order of preference: a token that continues the first text
(longest first) ranks highest, then the second text's, then a fixed fallback order. The guide must keep
the first choice whenever it is valid and otherwise produce a call that obeys the grammar.
"""

import json
import math
import string

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.models.guide import CALL_AFTER_RESULT, Grammar, Guide
from lab.models.toolformat import CALL_CLOSE, CALL_OPEN, parse

TOOLS = [
    {"type": "function", "function": {"name": "get_order", "parameters": {"required": ["order_id"],
        "properties": {"order_id": {"type": "string", "pattern": "^A-[0-9]{4}$"}}}}},
    {"type": "function", "function": {"name": "list_orders", "parameters": {"required": ["customer_id"],
        "properties": {
        "customer_id": {"type": "string", "pattern": "^C-[0-9]{4}$"},
        "status": {"type": "string", "enum": ["pending", "shipped"]},
        "limit": {"type": "integer"}}}}},
]  # fmt: skip
STOP = ""  # a special token's text
PIECES = [CALL_CLOSE, CALL_OPEN, '{"name": "', '", "arguments": {', '"}}', "}}", '": "', "get_order",
          "list_orders", "order_id", "customer_id", "status", "A-", "C-", "1234", "7068", "123456789",
          "shipped", "}", ' "']  # fmt: skip
VOCAB = [STOP, *PIECES, *string.printable]


def call_text(name: str, arguments: dict) -> str:
    return f"{CALL_OPEN}{json.dumps({'name': name, 'arguments': arguments})}{CALL_CLOSE}"


def generate(meant: list[str], guide: Guide | None, steps: int = 120, text: str = "") -> str:
    """Greedy decoding of the fake model after ``text``, through ``guide`` when given; stops at the
    stop token."""
    for _ in range(steps):
        logits = torch.tensor([_score(text, token, meant) for token in VOCAB])
        token = guide.pick(logits) if guide else int(logits.argmax())
        if VOCAB[token] == STOP:
            break
        text += VOCAB[token]
    return text


def _score(text: str, token: str, meant: list[str]) -> float:
    for rank, wanted in enumerate(meant):
        if token == STOP and text == wanted:
            return 1000.0 - 100 * rank
        if token and wanted.startswith(text + token):
            return 1000.0 - 100 * rank + len(token)
    if token == STOP:  # a call's end is where the fake model likes to stop
        return 50.0 if text.endswith(CALL_CLOSE) else -1000.0
    return -float(VOCAB.index(token))


def guided(allowed: dict) -> Guide:
    return Guide(Grammar.from_tools(TOOLS, allowed), VOCAB)


def test_a_made_up_id_becomes_the_next_choice_that_the_dialogue_holds():
    wrong = call_text("get_order", {"order_id": "A-123456789"})
    right = call_text("get_order", {"order_id": "A-1234"})
    assert generate([wrong, right], None) == wrong
    assert generate([wrong, right], guided({"get_order": {"order_id": ["A-1234"]}})) == right


def test_an_argument_nothing_in_the_dialogue_fits_is_left_out():
    wrong = call_text("get_order", {"order_id": "C-7068"})
    text = generate([wrong], guided({"get_order": {"order_id": []}}))
    assert parse(text).calls == [("get_order", "{}")]


def test_once_the_dialogue_holds_ids_a_call_names_a_tool_they_fit():
    wrong = call_text("get_order", {"order_id": "C-7068"})
    right = call_text("list_orders", {"customer_id": "C-7068"})
    allowed = {"get_order": {"order_id": []}, "list_orders": {"customer_id": ["C-7068"]}}
    assert generate([wrong, right], guided(allowed)) == right


def test_a_string_enum_takes_only_its_values():
    wrong = call_text("list_orders", {"customer_id": "C-7068", "status": "7068"})
    right = call_text("list_orders", {"customer_id": "C-7068", "status": "shipped"})
    assert generate([wrong, right], guided({"list_orders": {"customer_id": ["C-7068"]}})) == right


def test_text_outside_calls_is_untouched():
    meant = f"Hello! {{not a call}} {CALL_CLOSE}"
    assert generate([meant], guided({})) == meant


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["get_order", "list_orders", "get_orders", "x"]),
    arguments=st.dictionaries(
        st.sampled_from(["order_id", "customer_id", "status", "limit", "sku"]),
        st.one_of(
            st.sampled_from(["A-1234", "A-7068", "C-7068", "shipped", "pending", "A-"]), st.integers(0, 99)
        ),
        max_size=3,
    ),
    order_ids=st.lists(st.sampled_from(["A-1234", "A-7068"]), unique=True),
    customer_ids=st.lists(st.sampled_from(["C-7068", "C-1234"]), unique=True),
    fresh=st.lists(st.sampled_from(["A-1234", "C-7068", "S-1111"]), unique=True),
)
def test_a_finished_guided_call_always_obeys_the_grammar(name, arguments, order_ids, customer_ids, fresh):
    allowed = {"get_order": {"order_id": order_ids}, "list_orders": {"customer_id": customer_ids}}
    grammar = Grammar.from_tools(TOOLS, allowed, fresh)
    meant = call_text(name, arguments)
    text = generate([meant], Guide(grammar, VOCAB), steps=200)
    valid = name in grammar.callable() and set(grammar.filled[name]) <= set(arguments) and all(
        key in grammar.tools[name] and (grammar.tools[name][key] is None or value in grammar.tools[name][key])
        for key, value in arguments.items()
    )
    if valid:
        assert text == meant  # the model's own valid choice is never changed
    for called, raw in parse(text).calls:
        assert called in grammar.callable()
        assert set(grammar.filled[called]) <= set(json.loads(raw))
        for key, value in json.loads(raw).items():
            options = grammar.tools[called][key]
            assert options is None or value in options


def test_a_call_closes_when_no_argument_is_left_to_write():
    arguments = '{"order_id": "A-1234", "order_id": "A-7068"}'  # the same key twice
    twice = f'{CALL_OPEN}{{"name": "get_order", "arguments": {arguments}}}{CALL_CLOSE}'
    text = generate([twice], guided({"get_order": {"order_id": ["A-1234", "A-7068"]}}))
    assert parse(text).calls == [("get_order", '{"order_id": "A-1234"}')]


def test_arguments_are_an_object_laid_out_as_trained():
    as_text = f'{CALL_OPEN}{{"name": "get_order", "arguments": "A-1234"}}{CALL_CLOSE}'
    assert parse(generate([as_text], guided({}))).calls[0][0] == "get_order"
    spaced = f'{CALL_OPEN}{{"name" :  "get_order", "arguments": {{}}}}{CALL_CLOSE}'
    assert generate([spaced], guided({})).startswith(f'{CALL_OPEN}{{"name":')


def test_the_first_call_names_a_tool_that_takes_what_the_customer_just_gave():
    allowed = {"get_order": {"order_id": ["A-1234"]}, "list_orders": {"customer_id": ["C-7068"]}}
    grammar = Grammar.from_tools(TOOLS, allowed, fresh=["C-7068"])
    assert grammar.callable() == ("list_orders",)
    assert grammar.callable(first=False) == ("get_order", "list_orders")
    old = call_text("get_order", {"order_id": "A-1234"})
    new = call_text("list_orders", {"customer_id": "C-7068"})
    assert generate([old, new], Guide(grammar, VOCAB)) == new
    assert generate([new + old], Guide(grammar, VOCAB)) == new + old  # later calls: any callable tool
    assert Grammar.from_tools(TOOLS, allowed, fresh=["S-1111"]).callable() == ("get_order", "list_orders")


def test_a_required_argument_the_dialogue_can_fill_is_written():
    empty = call_text("get_order", {})
    assert generate([empty], guided({"get_order": {"order_id": []}})) == empty  # nothing to fill it with
    assert generate([empty], guided({"get_order": {"order_id": ["A-1234"]}})) == call_text(
        "get_order", {"order_id": "A-1234"}
    )
    optional = call_text("list_orders", {"customer_id": "C-7068"})  # "status" is an enum, not required
    assert generate([optional], guided({"list_orders": {"customer_id": ["C-7068"]}})) == optional


def test_after_tool_results_a_likely_enough_call_is_made_and_repeats_no_tool():
    allowed = {"get_order": {"order_id": ["A-1234"]}, "list_orders": {"customer_id": ["C-7068"]}}
    after = Grammar.from_tools(TOOLS, allowed, after=["get_order"])
    opening = [VOCAB.index(CALL_OPEN)]

    def first(p_call: float) -> torch.Tensor:  # the model would rather write "Done" than call
        logits = torch.full((len(VOCAB),), -50.0)
        logits[VOCAB.index("D")], logits[opening[0]] = math.log(1 - p_call), math.log(p_call)
        return logits

    for grammar, p_call, calls in (
        (after, CALL_AFTER_RESULT + 0.01, True),
        (after, CALL_AFTER_RESULT - 0.01, False),
        (Grammar.from_tools(TOOLS, allowed), 0.45, False),  # after a customer's message: greedy
    ):
        assert (VOCAB[Guide(grammar, VOCAB, opening).pick(first(p_call))] == CALL_OPEN) is calls
    nudged = Guide(after, VOCAB, opening)
    nudged.pick(first(0.3))
    repeat = call_text("get_order", {"order_id": "A-1234"})
    assert generate([repeat], nudged, text=CALL_OPEN) == call_text("list_orders", {"customer_id": "C-7068"})
    assert generate([repeat], Guide(after, VOCAB, opening)) == repeat  # its own choice may repeat


ADDRESS = [{"type": "function", "function": {"name": "update_address", "parameters": {
    "required": ["customer_id", "street"], "properties": {
    "customer_id": {"type": "string"}, "street": {"type": "string"}}}}}]  # fmt: skip


def test_free_text_keeps_copying_what_the_customer_said():
    made_up = call_text("update_address", {"customer_id": "C-7068", "street": "12 Oak Road"})
    said = call_text("update_address", {"customer_id": "C-7068", "street": "170 Bridge Street"})
    allowed = {"update_address": {"customer_id": ["C-7068"]}}
    message = "I'm C-7068, my new address is 170 Bridge Street, Leeds"
    assert generate([made_up, said], Guide(Grammar.from_tools(ADDRESS, allowed), VOCAB)) == made_up
    copying = Guide(Grammar.from_tools(ADDRESS, allowed, sources=[message]), VOCAB)
    assert generate([made_up, said], copying) == said
    # a value whose first characters the dialogue does not hold is the model's own
    other = call_text("update_address", {"customer_id": "C-7068", "street": "Elm Road"})
    copying = Guide(Grammar.from_tools(ADDRESS, allowed, sources=[message]), VOCAB)
    assert generate([other, said], copying) == other
    # where no top token copies on, the model's word stands: a token that ends the value is no copy
    begun = said[: said.index("170")] + "170"
    logits = torch.full((len(VOCAB),), -100.0)
    logits[VOCAB.index("M")], logits[VOCAB.index(' "')] = 10.0, 9.0
    copying = Guide(Grammar.from_tools(ADDRESS, allowed, sources=[message]), VOCAB, written=begun)
    assert VOCAB[copying.pick(logits)] == "M"


def test_a_free_text_value_caught_in_a_loop_is_closed():
    loop = call_text("update_address", {"customer_id": "C-7068", "street": "1234567890" * 8})
    allowed = {"update_address": {"customer_id": ["C-7068"]}}
    text = generate([loop], Guide(Grammar.from_tools(ADDRESS, allowed), VOCAB), steps=200)
    (name, raw), = parse(text).calls
    street = json.loads(raw)["street"]
    assert name == "update_address" and "1234567890" * 2 in street and len(street) <= 40


@given(st.text(alphabet="0123456789 abcdef-", max_size=40), st.text(min_size=1, max_size=16))
def test_only_a_run_written_three_times_over_is_a_loop(text, run):
    from lab.models.guide import _looping

    assert _looping(text + run * max(3, -(-12 // len(run))))
    assert not _looping("".join(dict.fromkeys(text)))  # no character twice: nothing repeats
    assert not _looping("170 Bridge Street") and not _looping("+16415606738")


def test_a_guide_goes_on_from_a_call_the_caller_began():
    said = call_text("update_address", {"customer_id": "C-7068", "street": "170 Bridge Street"})
    made_up = call_text("update_address", {"customer_id": "C-7068", "street": "12 Oak Road"})
    begun = said[: said.index("170")]
    grammar = Grammar.from_tools(ADDRESS, {}, sources=["my new address is 170 Bridge Street, Leeds"])
    assert generate([made_up, said], Guide(grammar, VOCAB, written=begun), text=begun) == said
    unread = Guide(grammar, VOCAB, written=f'{CALL_OPEN}{{"name": "no_such_tool", "arguments": {{"')
    assert unread.json is None  # not a call the grammar reads: unguided from there
