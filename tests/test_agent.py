"""The agent graph end to end: scripted models as real litellm providers, the real shop catalog and db."""

from __future__ import annotations

import json
from collections import Counter

import litellm
import pytest
from agent_scenarios import SCENARIOS

from lab.agent import AgentSettings, run_scenario
from lab.generate import generate
from lab.models import scripted
from lab.models.gateway import RetryPolicy
from lab.models.oracle import Answer
from lab.strategies import Strategy, make_strategy
from lab.types import CATEGORIES, Scenario, Trace
from tools.shop import CATALOG, DOMAIN

FAST = AgentSettings(max_steps=6, timeout_s=5, retry=RetryPolicy(max_retries=3, base_delay_s=0.0))


def gold_hash(s: Scenario) -> str:
    db, _ = CATALOG.replay(s.db, [c for turn in s.turns for c in turn.expect.calls])
    return db.state_hash()


def key(name: str, arguments) -> str:
    return json.dumps([name, arguments], sort_keys=True)


def run(s: Scenario, model: str, strategy: str | Strategy = "instructed", **settings) -> Trace:
    chosen = strategy if isinstance(strategy, Strategy) else make_strategy(strategy, DOMAIN)
    options = {**FAST.__dict__, **settings}
    return run_scenario(s, model=model, strategy=chosen, catalog=CATALOG, settings=AgentSettings(**options))


def generated(per_category: int = 2) -> list[Scenario]:
    """The first few dev scenarios of each category from the generator (seed 7)."""
    dev = generate(7)["dev"]
    return [s for c in CATEGORIES for s in [s for s in dev if s.category == c][:per_category]]


GENERATED = generated()


def assert_gold_behaviour(s: Scenario, trace: Trace) -> None:
    """The trace made exactly the expected calls (with the expected errors) and reached the gold state."""
    assert trace.error is None
    assert trace.final_state_hash == gold_hash(s)
    assert len(trace.turns) == len(s.turns)
    for turn, done in zip(s.turns, trace.turns, strict=True):
        made = [c for c in done.calls if not c.blocked]
        expected = turn.expect.calls
        assert Counter(key(c.name, c.arguments) for c in made) == Counter(
            key(c.name, c.arguments) for c in expected
        )
        if turn.expect.ordered:
            assert [c.name for c in made] == [c.name for c in expected]
        assert {key(c.name, c.arguments): c.error for c in made} == {
            key(c.name, c.arguments): c.error for c in expected
        }
        assert done.malformed == 0 and not done.step_limit_hit
        if turn.expect.kind == "clarify":
            assert any(k in done.reply.lower() for k in turn.expect.clarify.keywords) and done.reply.endswith(
                "?"
            )
        assert done.reply  # every turn ends with the agent's words
    assert trace.prompt_tokens > 0 and len(trace.messages) > len(s.turns)
    assert Trace.model_validate_json(trace.model_dump_json()) == trace


def test_scenarios_cover_every_category():
    assert {s.category for s in SCENARIOS} == {s.category for s in GENERATED} == set(CATEGORIES)


@pytest.mark.parametrize("strategy", ["zero_shot", "instructed", "workflow", "decide"])
@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.category)
def test_oracle_reaches_the_gold_state_on_hand_built_scenarios(s: Scenario, strategy: str):
    assert_gold_behaviour(s, run(s, "scripted/oracle", strategy))


@pytest.mark.parametrize("strategy", ["instructed", "workflow", "decide"])
@pytest.mark.parametrize("s", GENERATED, ids=lambda s: f"{s.category}-{s.id}")
def test_oracle_reaches_the_gold_state_on_generated_scenarios(s: Scenario, strategy: str):
    assert_gold_behaviour(s, run(s, "scripted/oracle", strategy))


@pytest.fixture
def queue(request: pytest.FixtureRequest):
    """A fresh scripted queue for one test: ``(model, enqueue)``."""
    name = request.node.name.replace("[", "_").replace("]", "")[:40]
    scripted.clear_queue(name)
    yield f"scripted/queue-{name}", lambda *answers: scripted.enqueue(name, *answers)
    scripted.clear_queue(name)


SINGLE = SCENARIOS[0]
GET = ("get_order", json.dumps({"order_id": "A-1003"}))


def test_workflow_turns_an_invalid_call_into_a_retry_and_then_a_valid_call(queue):
    model, enqueue = queue
    enqueue(
        Answer(calls=[("get_order", '{"order_id": 1003}')]),
        Answer(calls=[GET]),
        Answer(content="It's shipped."),
    )
    trace = run(SINGLE, model, "workflow")
    turn = trace.turns[0]
    assert [(c.name, c.blocked, c.error) for c in turn.calls] == [
        ("get_order", True, "invalid_argument"),
        ("get_order", False, None),
    ]
    assert turn.calls[1].result["order_id"] == "A-1003"
    assert len(turn.model_calls) == 3 and turn.reply == "It's shipped." and turn.malformed == 0
    rejected = next(m for m in trace.messages if m.get("role") == "tool")
    assert json.loads(rejected["content"])["error"]["code"] == "invalid_argument"


def test_without_workflow_the_invalid_call_reaches_the_api(queue):
    model, enqueue = queue
    enqueue(Answer(calls=[("get_order", '{"order_id": 1003}')]), Answer(content="Sorry."))
    turn = run(SINGLE, model, "zero_shot").turns[0]
    assert [(c.blocked, c.error) for c in turn.calls] == [(False, "invalid_argument")]


def test_workflow_asks_for_a_missing_required_argument_instead_of_calling(queue):
    model, enqueue = queue
    enqueue(Answer(calls=[("cancel_order", "{}")]))
    trace = run(SINGLE, model, "workflow")
    turn = trace.turns[0]
    assert "order number" in turn.reply and turn.reply.endswith("?")
    assert [(c.blocked, c.error) for c in turn.calls] == [(True, "missing_argument")]
    assert len(turn.model_calls) == 1
    assert trace.final_state_hash == CATALOG.new_db(SINGLE.db).state_hash()


def test_workflow_asks_for_a_lookup_key_when_a_call_gives_none(queue):
    # track_shipment requires nothing but takes only ids (an order id or a tracking number)
    model, enqueue = queue
    enqueue(Answer(calls=[("track_shipment", "{}")]))
    turn = run(SINGLE, model, "workflow").turns[0]
    assert "order number" in turn.reply and turn.workflow_reply == "clarify"
    held = [(c.name, c.blocked, c.error) for c in turn.calls]
    assert held == [("track_shipment", True, "missing_argument")]
    assert CATALOG.lookup_key("track_shipment") == "order_id" and CATALOG.lookup_key("get_order") is None
    assert CATALOG.problem("track_shipment", {"tracking_number": "1Z999"}) is None
    enqueue(Answer(calls=[("track_shipment", "{}")]), Answer(content="Sorry."))
    unchecked = run(SINGLE, model, "zero_shot").turns[0]  # prompting runs it: the tool itself says no
    assert [(c.blocked, c.error) for c in unchecked.calls] == [(False, "missing_argument")]


def test_workflow_gives_up_after_its_retries(queue):
    model, enqueue = queue
    enqueue(*[Answer(calls=[("lookup_everything", "{}")])] * 2)
    strategy = make_strategy("workflow", DOMAIN, max_retries=1)
    turn = run(SINGLE, model, strategy).turns[0]
    assert [(c.blocked, c.error) for c in turn.calls] == [(True, "unknown_tool")] * 2
    assert "sorry" in turn.reply.lower() and len(turn.model_calls) == 2


def test_malformed_arguments_are_counted_and_never_executed(queue):
    model, enqueue = queue
    enqueue(Answer(calls=[("cancel_order", '{"order_id": "A-10')]), Answer(content="Let me know."))
    trace = run(SINGLE, model, "instructed")
    turn = trace.turns[0]
    assert turn.malformed == 1
    assert [(c.arguments, c.error, c.raw_arguments) for c in turn.calls] == [
        (None, "malformed_arguments", '{"order_id": "A-10')
    ]
    assert trace.final_state_hash == CATALOG.new_db(SINGLE.db).state_hash()


def test_text_that_looks_like_a_call_is_malformed(queue):
    model, enqueue = queue
    enqueue(Answer(content='<tool_call>{"name": "get_order", "arguments": {'))
    turn = run(SINGLE, model, "zero_shot").turns[0]
    assert turn.malformed == 1 and turn.calls == [] and turn.model_calls[0].malformed


def test_workflow_sends_a_text_call_back_for_another_try(queue):
    model, enqueue = queue
    enqueue(
        Answer(content='<tool_call>{"name": "get_order"'), Answer(calls=[GET]), Answer(content="Shipped.")
    )
    trace = run(SINGLE, model, "workflow")
    turn = trace.turns[0]
    assert turn.malformed == 0 and [c.error for c in turn.calls] == [None] and turn.reply == "Shipped."
    assert any(m["role"] == "system" and "could not be parsed" in m["content"] for m in trace.messages[1:])


def test_step_limit_ends_a_looping_turn(queue):
    model, enqueue = queue
    orders = ["A-1003", "A-1004", "A-1005"]
    enqueue(*[Answer(calls=[("get_order", json.dumps({"order_id": order}))]) for order in orders])
    turn = run(SINGLE, model, "instructed", max_steps=2).turns[0]
    assert turn.step_limit_hit and len(turn.model_calls) == 2 and len(turn.calls) == 2


@pytest.mark.parametrize("strategy", ["instructed", "workflow", "decide"])
def test_a_repeated_call_ends_the_turn(queue, strategy):
    model, enqueue = queue
    bad = ("get_order", json.dumps({"order_id": "C-1003"}))  # fails the same way every time
    enqueue(Answer(calls=[bad]), Answer(calls=[GET]), Answer(calls=[bad]), Answer(content="Done."))
    turn = run(SINGLE, model, strategy, max_steps=8).turns[0]
    assert [call.raw_arguments for call in turn.calls] == [bad[1], GET[1], bad[1]]
    assert len(turn.model_calls) == 3 and not turn.step_limit_hit


def test_transient_model_errors_are_retried_inside_a_turn(queue):
    model, enqueue = queue
    enqueue(litellm.RateLimitError("slow", llm_provider="scripted", model=model), Answer(content="Hello!"))
    trace = run(SCENARIOS[4], model)
    assert trace.error is None and trace.turns[0].reply == "Hello!"


def test_a_failing_model_ends_the_trial_with_the_trace_so_far(queue):
    model, enqueue = queue
    enqueue(Answer(content="Could you tell me the order number?"))
    enqueue(litellm.BadRequestError("model gone", model=model, llm_provider="scripted"))
    clarify = SCENARIOS[3]
    trace = run(clarify, model)
    assert trace.error is not None and trace.error.startswith("model_error") and "model gone" in trace.error
    assert len(trace.turns) == 2 and trace.turns[0].reply.startswith("Could you")
    assert trace.turns[1].model_calls[-1].error is not None
    assert trace.final_state_hash == CATALOG.new_db(clarify.db).state_hash()


@pytest.mark.parametrize("strategy", ["instructed", "workflow", "decide"])
def test_chaos_never_crashes_and_is_deterministic(strategy: str):
    for seed in (1, 2):
        for s in SCENARIOS[:4]:
            first = run(s, f"scripted/chaos-{seed}", strategy)
            again = run(s, f"scripted/chaos-{seed}", strategy)
            assert first.messages == again.messages and first.error == again.error
            assert first.final_state_hash == again.final_state_hash
            assert Trace.model_validate_json(first.model_dump_json()).turns == first.turns
