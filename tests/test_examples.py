"""Examples from scored turns: gold history with real results, then the gold or the agent's behaviour."""

from __future__ import annotations

import json

import pytest

from lab.examples import DONE_REPLY, LOOKED_UP_REPLY, build_example, error_types, gold_results
from lab.ftformats import hf_problems, openai_problems, to_hf, to_openai
from lab.score import score_scenario
from lab.strategies import ask_for
from lab.types import MadeCall, ModelCall, Scenario, Trace, TurnTrace
from tools.shop import CATALOG

SYSTEM = [
    {"role": "system", "content": "PROMPT"},
    {"role": "system", "content": "Today is Monday 2026-03-02."},
]
ADDRESS = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
FIXTURE = {
    "now": "2026-03-02T12:00:00+00:00",
    "customers": [
        {
            "id": "C-1001",
            "name": "Ann Lee",
            "email": "ann@example.com",
            "phone": "+15551234567",
            "address": ADDRESS,
        }
    ],
    "products": [{"sku": "MUG-101", "name": "Mug", "price": 12.0}],
    "orders": [
        {
            "id": "A-1001",
            "customer_id": "C-1001",
            "status": "pending",
            "placed_on": "2026-03-01",
            "items": [{"sku": "MUG-101", "name": "Mug", "quantity": 1, "unit_price": 12.0}],
            "shipping_address": ADDRESS,
        }
    ],
    "payments": [{"order_id": "A-1001", "method": "card", "card_last4": "4242", "amount": 12.0}],
}
SCENARIO = Scenario.model_validate(
    {
        "id": "s1",
        "split": "train",
        "family": "fam-a",
        "category": "multi_turn",
        "intent": "cancel_order",
        "db": FIXTURE,
        "turns": [
            {
                "user": "Where is my order A-1001?",
                "expect": {
                    "kind": "calls",
                    "calls": [{"name": "get_order", "arguments": {"order_id": "A-1001"}}],
                },
            },
            {
                "user": "Please cancel it.",
                "expect": {"kind": "clarify", "clarify": {"field": "reason", "keywords": ["reason"]}},
            },
            {
                "user": "I changed my mind.",
                "expect": {
                    "kind": "calls",
                    "ordered": True,
                    "calls": [
                        {"name": "get_payment", "arguments": {"order_id": "A-1001"}},
                        {
                            "name": "cancel_order",
                            "arguments": {"order_id": "A-1001", "reason": "changed_mind"},
                        },
                    ],
                },
            },
            {"user": "Thanks, bye!", "expect": {"kind": "no_call"}},
        ],
    }
)


def made(name: str, arguments: dict, blocked: bool = False) -> MadeCall:
    return MadeCall(
        id=f"x-{name}", name=name, arguments=arguments, raw_arguments=json.dumps(arguments), blocked=blocked
    )


def agent_trace() -> Trace:
    """Turn 0 right (with a blocked retry), turn 1 asks, turn 2 calls the wrong tool, turn 3 calls a tool."""
    turns = [
        TurnTrace(
            user=SCENARIO.turns[0].user,
            reply="Your order A-1001 is pending.",
            model_calls=[
                ModelCall(started_s=0, latency_s=0.1, tool_calls=1),
                ModelCall(started_s=0.2, latency_s=0.1, tool_calls=1, content="Checking."),
                ModelCall(started_s=0.4, latency_s=0.1),
            ],
            calls=[
                made("get_order", {"order_id": "1001"}, blocked=True),
                made("get_order", {"order_id": "A-1001"}),
            ],
        ),
        TurnTrace(user=SCENARIO.turns[1].user, reply="Could you tell me the reason for cancelling?"),
        TurnTrace(
            user=SCENARIO.turns[2].user, reply="Done.", calls=[made("get_order", {"order_id": "A-1001"})]
        ),
        TurnTrace(
            user=SCENARIO.turns[3].user, reply="Bye.", calls=[made("get_customer", {"customer_id": "C-1001"})]
        ),
    ]
    return Trace(
        scenario_id="s1",
        model="scripted/queue",
        strategy="instructed",
        messages=[],
        turns=turns,
        latency_s=1.0,
    )


@pytest.fixture(scope="module")
def scored():
    trace = agent_trace()
    return score_scenario(SCENARIO, trace, CATALOG), trace


def test_scored_as_expected(scored) -> None:
    score, _ = scored
    assert [t.correct for t in score.turns] == [True, True, False, False]
    assert error_types(score.turns[2]) == ("wrong_tool", "missing_call")
    assert error_types(score.turns[3]) == ("extra_call", "should_not_call")


def test_failing_turn_gets_gold_history_and_gold_calls(scored) -> None:
    score, trace = scored
    results = gold_results(CATALOG, SCENARIO)
    replies = {0: trace.turns[0].reply, 1: trace.turns[1].reply}
    example = build_example(CATALOG, SCENARIO, score.turns[2], trace, SYSTEM, results, replies)
    roles = [m["role"] for m in example.messages]
    assert roles == [
        "system",
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    history_call = example.messages[3]
    assert history_call["weight"] == 0 and history_call["tool_calls"][0]["name"] == "get_order"
    assert json.loads(example.messages[4]["content"]) == results[0][0]
    assert example.messages[5]["content"] == "Your order A-1001 is pending."
    assert example.messages[7] == {
        "role": "assistant",
        "content": ask_for(SCENARIO.turns[1].expect.clarify),
        "weight": 0,
    }
    # ordered gold calls: one per message, each followed by its real result, then a closing reply
    trained = [m for m in example.messages if m.get("weight") == 1]
    assert [m["tool_calls"][0]["name"] for m in trained[:2]] == ["get_payment", "cancel_order"]
    assert json.loads(example.messages[10]["content"]) == results[2][0]
    assert json.loads(example.messages[12]["content"]) == results[2][1]
    assert trained[-1] == {"role": "assistant", "content": DONE_REPLY, "weight": 1}  # it learns to stop
    assert example.tools == ["get_payment", "cancel_order"]
    assert example.source == "failure" and example.errors == ("wrong_tool", "missing_call")
    assert openai_problems(to_openai(example.messages, CATALOG.schemas())) == []
    assert hf_problems(to_hf(example.messages, CATALOG.schemas())) == []


def test_failing_no_call_turn_teaches_a_plain_reply(scored) -> None:
    score, trace = scored
    results = gold_results(CATALOG, SCENARIO)
    example = build_example(CATALOG, SCENARIO, score.turns[3], trace, SYSTEM, results, {})
    last = example.messages[-1]
    assert last["role"] == "assistant" and "tool_calls" not in last and last["weight"] == 1
    contents = [m.get("content") for m in example.messages]
    assert LOOKED_UP_REPLY in contents and DONE_REPLY in contents  # no trusted replies: neutral ones
    assert example.tools == []


def test_correct_turn_teaches_what_the_agent_did_without_blocked_calls(scored) -> None:
    score, trace = scored
    results = gold_results(CATALOG, SCENARIO)
    example = build_example(CATALOG, SCENARIO, score.turns[0], trace, SYSTEM, results, {})
    assert example.source == "passing" and example.errors == ()
    trained = [m for m in example.messages if m.get("weight") == 1]
    assert trained[0]["content"] == "Checking." and trained[0]["tool_calls"][0]["arguments"] == {
        "order_id": "A-1001"
    }
    assert trained[-1]["content"] == "Your order A-1001 is pending."
    assert openai_problems(to_openai(example.messages, CATALOG.schemas())) == []
