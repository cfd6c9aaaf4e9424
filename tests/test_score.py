"""The scorer against the real shop catalog: gold answers, perturbations and arbitrary output."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict
from schema_strategies import from_schema
from shop_fixture import sample_fixture

from lab.agent import AgentSettings, run_scenario
from lab.catalog import Catalog
from lab.metrics import METRIC_NAMES, metrics
from lab.models import scripted
from lab.models.gateway import RetryPolicy
from lab.models.oracle import Answer
from lab.scenarios import load_scenarios
from lab.score import (
    asks_for,
    assign_ordered,
    assign_unordered,
    gold_replay,
    mentions,
    same_value,
    score_scenario,
    words,
)
from lab.strategies import ask_for, clarifying_question, make_strategy
from lab.types import Clarify, MadeCall, Scenario, ScoredScenario, Trace, TurnTrace
from tools.shop import CATALOG, DOMAIN

FIXTURE = sample_fixture()
PROPERTIES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def call(name: str, **arguments) -> dict:
    return {"name": name, "arguments": arguments}


def scenario(sid: str, category: str, *turns: dict) -> Scenario:
    return Scenario.model_validate(
        {
            "id": sid,
            "split": "dev",
            "family": "f",
            "category": category,
            "intent": sid,
            "db": FIXTURE,
            "turns": [{"user": f"user says {i}", "expect": t} for i, t in enumerate(turns)],
        }
    )


SCENARIOS = [
    scenario("single", "single_call", {"kind": "calls", "calls": [call("get_order", order_id="A-1001")]}),
    scenario(
        "parallel",
        "multi_call",
        {
            "kind": "calls",
            "calls": [
                call("track_shipment", order_id="A-1003"),
                call("get_payment", order_id="A-1004"),
                call("get_subscription", customer_id="C-1001"),
            ],
        },
    ),
    scenario(
        "ordered",
        "multi_turn",
        {
            "kind": "calls",
            "ordered": True,
            "calls": [
                call("find_customer", email="ada@example.com"),
                call("list_orders", customer_id="C-1001"),
            ],
        },
        {"kind": "calls", "calls": [call("cancel_order", order_id="A-1002", reason="changed_mind")]},
    ),
    scenario(
        "clarify",
        "clarify",
        {"kind": "clarify", "clarify": {"field": "order_id", "keywords": ["order number", "order id"]}},
        {"kind": "calls", "calls": [call("change_order_item", order_id="A-1001", sku="MUG-101", quantity=1)]},
    ),
    scenario("chat", "no_tool", {"kind": "no_call"}),
    scenario(
        "policy", "knowledge", {"kind": "calls", "calls": [call("search_policies", query="return window")]}
    ),
    scenario(
        "recover",
        "error_recovery",
        {"kind": "calls", "calls": [{**call("cancel_order", order_id="A-1003"), "error": "not_allowed"}]},
        {
            "kind": "calls",
            "calls": [
                call("create_ticket", customer_id="C-1001", subject="Cancel shipped order", priority="high"),
                call("issue_store_credit", customer_id="C-1001", amount=5, reason="sorry for the trouble"),
            ],
        },
    ),
]
WITH_CALLS = [
    (s, ti, ci) for s in SCENARIOS for ti, t in enumerate(s.turns) for ci in range(len(t.expect.calls))
]


def gold_turns(s: Scenario) -> list[TurnTrace]:
    """What a perfect agent does: the gold calls with their real results, questions where asked."""
    db, turns = CATALOG.new_db(s.db), []
    for i, turn in enumerate(s.turns):
        calls = [
            MadeCall(
                id=f"c{i}-{j}",
                name=c.name,
                arguments=dict(c.arguments),
                raw_arguments=json.dumps(c.arguments),
                result=CATALOG.call(db, c.name, dict(c.arguments)),
            )
            for j, c in enumerate(turn.expect.calls)
        ]
        ask = turn.expect.clarify
        reply = f"Could you give me your {ask.keywords[0]}?" if ask else "All done."
        turns.append(TurnTrace(user=turn.user, calls=calls, reply=reply))
    return turns


def trace_of(s: Scenario, turns: list[TurnTrace], trial: int = 0, error: str | None = None) -> Trace:
    """A trace whose final state is what its (non-blocked, well-formed) calls do to the fixture."""
    db = CATALOG.new_db(s.db)
    for turn in turns:
        for made in turn.calls:
            if not made.blocked and made.arguments is not None:
                CATALOG.call(db, made.name, made.arguments)
    return Trace(
        scenario_id=s.id,
        trial=trial,
        model="test",
        strategy="test",
        messages=[],
        turns=turns,
        latency_s=1.0,
        final_state_hash=db.state_hash(),
        error=error,
    )


def score(s: Scenario, turns: list[TurnTrace]) -> dict:
    return metrics([score_scenario(s, trace_of(s, turns), CATALOG)])


def with_call(turns: list[TurnTrace], ti: int, ci: int, arguments: dict | None, name: str | None = None):
    turns = [t.model_copy(deep=True) for t in turns]
    old = turns[ti].calls[ci]
    turns[ti].calls[ci] = old.model_copy(update={"arguments": arguments, "name": name or old.name})
    return turns


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.id)
def test_gold_answer_scores_perfectly(s: Scenario) -> None:
    scored = score_scenario(s, trace_of(s, gold_turns(s)), CATALOG)
    result = metrics([scored])
    assert scored.success and scored.state_match and all(t.correct for t in scored.turns)
    assert set(result) == set(METRIC_NAMES)
    assert result["call_accuracy"] == result["turn_accuracy"] == result["scenario_success"] == 1.0
    assert result["malformed_rate"] == result["extra_call_rate"] == result["hallucinated_tool_rate"] == 0.0


@PROPERTIES
@given(st.data())
def test_changing_an_argument_value_lowers_call_accuracy(data) -> None:
    s, ti, ci = data.draw(st.sampled_from(WITH_CALLS))
    expected = s.turns[ti].expect.calls[ci]
    canonical, _ = CATALOG.validate(expected.name, dict(expected.arguments))
    canonical = canonical or dict(expected.arguments)
    props = CATALOG.schema(expected.name)["function"]["parameters"]["properties"]
    name = data.draw(st.sampled_from(sorted(canonical)))
    loose = name in CATALOG.free_text(expected.name)
    assume(not (loose and CATALOG.is_read_only(expected.name)))  # same retrieval may count as right
    value = data.draw(from_schema(props[name]))
    changed = {**canonical, name: value}
    new_canonical, _ = CATALOG.validate(expected.name, changed)
    assume(new_canonical is None or not same_value(new_canonical[name], canonical[name], loose))
    turns = with_call(gold_turns(s), ti, ci, changed)
    assert score(s, turns)["call_accuracy"] < 1.0


@PROPERTIES
@given(st.data())
def test_permuting_an_unordered_turn_changes_nothing(data) -> None:
    s = data.draw(st.sampled_from([s for s in SCENARIOS if any(len(t.expect.calls) > 1 for t in s.turns)]))
    turns = gold_turns(s)
    if data.draw(st.booleans()):  # also from an imperfect answer
        ti, ci = data.draw(st.sampled_from([(ti, ci) for (x, ti, ci) in WITH_CALLS if x is s]))
        turns = with_call(turns, ti, ci, {"order_id": "A-1005"})
    permuted = [t.model_copy(deep=True) for t in turns]
    for turn, expect in zip(permuted, s.turns, strict=True):
        if not expect.expect.ordered:
            turn.calls = data.draw(st.permutations(turn.calls))
    assert score(s, permuted) == score(s, turns)


def arbitrary_call(index: int):
    known = st.sampled_from(CATALOG.names).flatmap(
        lambda n: from_schema(CATALOG.schema(n)["function"]["parameters"]).map(lambda a, n=n: (n, a))
    )
    unknown = st.tuples(st.text(min_size=1, max_size=12), st.dictionaries(st.text(max_size=5), st.integers()))
    return st.one_of(known, unknown).map(
        lambda na: MadeCall(id=f"x{index}", name=na[0], arguments=na[1], raw_arguments=json.dumps(na[1]))
    )


@PROPERTIES
@given(st.data())
def test_an_extra_call_never_raises_the_score(data) -> None:
    s = data.draw(st.sampled_from(SCENARIOS))
    turns = gold_turns(s)
    if data.draw(st.booleans()) and WITH_CALLS:
        x, ti, ci = data.draw(st.sampled_from([w for w in WITH_CALLS if w[0] is s] or [(s, None, None)]))
        turns = turns if ti is None else with_call(turns, ti, ci, {})
    before = score(s, turns)
    ti = data.draw(st.integers(0, len(turns) - 1))
    extra = [t.model_copy(deep=True) for t in turns]
    extra[ti].calls.insert(data.draw(st.integers(0, len(extra[ti].calls))), data.draw(arbitrary_call(99)))
    after = score(s, extra)
    for name in ("call_accuracy", "turn_accuracy", "scenario_success"):
        assert after[name] <= before[name]


@PROPERTIES
@given(st.data())
def test_renaming_an_argument_to_a_wrong_name_never_raises_the_score(data) -> None:
    s, ti, ci = data.draw(st.sampled_from(WITH_CALLS))
    turns = gold_turns(s)
    made = turns[ti].calls[ci]
    assume(made.arguments)
    old = data.draw(st.sampled_from(sorted(made.arguments)))
    props = CATALOG.schema(made.name)["function"]["parameters"]["properties"]
    new = data.draw(st.text(min_size=1, max_size=10).filter(lambda n: n not in props))
    renamed = {(new if k == old else k): v for k, v in made.arguments.items()}
    assert score(s, with_call(turns, ti, ci, renamed))["call_accuracy"] <= score(s, turns)["call_accuracy"]
    assert score(s, with_call(turns, ti, ci, renamed))["call_accuracy"] < 1.0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
    max_leaves=8,
)
WILD_CALL = st.builds(
    MadeCall,
    id=st.text(max_size=4),
    name=st.one_of(st.sampled_from(CATALOG.names), st.text(max_size=10)),
    arguments=st.one_of(st.none(), st.dictionaries(st.text(max_size=10), JSON, max_size=4)),
    raw_arguments=st.text(max_size=20),
    result=JSON,
    blocked=st.booleans(),
)
WILD_TURN = st.builds(
    TurnTrace,
    user=st.text(max_size=10),
    calls=st.lists(WILD_CALL, max_size=4),
    reply=st.text(max_size=40),
    malformed=st.integers(0, 3),
    step_limit_hit=st.booleans(),
    sent_back=st.integers(0, 2),
    workflow_reply=st.sampled_from([None, "clarify", "give_up"]),
)
COUNTS = ("workflow_clarifications", "turns_saved_by_block")


@PROPERTIES
@given(
    s=st.sampled_from(SCENARIOS), turns=st.lists(WILD_TURN, max_size=3), error=st.none() | st.text(max_size=5)
)
def test_arbitrary_model_output_never_raises(s: Scenario, turns: list[TurnTrace], error: str | None) -> None:
    trace = Trace(
        scenario_id=s.id,
        model="m",
        strategy="x",
        messages=[],
        turns=turns,
        latency_s=0.5,
        final_state_hash="nope",
        error=error,
    )
    result = metrics([score_scenario(s, trace, CATALOG)])
    assert all(
        v is None or 0.0 <= v <= 1.0
        for k, v in result.items()
        if not k.startswith(("latency", "tokens")) and k not in COUNTS
    )
    assert all(0 <= result[k] <= len(s.turns) for k in COUNTS)


# --------------------------------------------------------------------------- examples


def test_assignment_is_optimal_not_greedy() -> None:
    # Greedy would pair row 0 with column 0 (its best) and leave row 1 with nothing good.
    weights = [[1000, 1000], [1000, 1]]
    assert sorted(assign_unordered(weights)) == [0, 1] and assign_unordered(weights)[1] == 0
    best = max(itertools.permutations(range(2)), key=lambda p: sum(weights[i][j] for i, j in enumerate(p)))
    assert assign_unordered(weights) == list(best)
    assert assign_ordered([[1, 1000], [1000, 1]]) in ([1, None], [None, 0])


def test_ordered_turn_in_the_wrong_order_is_wrong() -> None:
    s = SCENARIOS[2]
    turns = gold_turns(s)
    turns[0].calls.reverse()
    scored = score_scenario(s, trace_of(s, turns), CATALOG)
    verdicts = sorted(o.verdict for o in scored.turns[0].outcomes)
    assert verdicts == ["extra", "matched", "missing"] and not scored.turns[0].correct


def test_canonical_ids_defaults_numbers_and_free_text_compare_equal() -> None:
    s = SCENARIOS[6]
    turns = with_call(gold_turns(s), 0, 0, {"order_id": "a1003", "reason": "other"})
    turns = with_call(
        turns, 1, 0, {"customer_id": "c1001", "subject": "  cancel SHIPPED-order.", "priority": "high"}
    )
    turns = with_call(
        turns, 1, 1, {"customer_id": "C-1001", "amount": 5.0, "reason": "Sorry for the trouble."}
    )
    assert score(s, turns)["call_accuracy"] == 1.0


def test_an_unexpected_argument_fails_the_call() -> None:
    s = SCENARIOS[0]
    scored = score_scenario(
        s, trace_of(s, with_call(gold_turns(s), 0, 0, {"order_id": "A-1001", "x": 1})), CATALOG
    )
    outcome = scored.turns[0].outcomes[0]
    assert outcome.verdict == "wrong_arguments" and outcome.wrong_arguments == ["x"]


def test_read_only_free_text_counts_when_the_retrieval_is_the_same() -> None:
    s = SCENARIOS[5]
    assert score(s, with_call(gold_turns(s), 0, 0, {"query": "the return window"}))["call_accuracy"] == 1.0
    assert score(s, with_call(gold_turns(s), 0, 0, {"query": "shipping cost"}))["call_accuracy"] < 1.0


def test_clarify_and_no_call_turns() -> None:
    s = SCENARIOS[3]
    good = gold_turns(s)
    assert score(s, good)["clarification_accuracy"] == 1.0
    no_keyword = [good[0].model_copy(update={"reply": "Could you tell me more?"}), good[1]]
    assert score(s, no_keyword)["clarification_accuracy"] == 0.0
    not_a_question = [good[0].model_copy(update={"reply": "Your order number is needed."}), good[1]]
    assert score(s, not_a_question)["clarification_accuracy"] == 0.0
    chat = SCENARIOS[4]
    called = [
        TurnTrace(user="hi", calls=[MadeCall(id="1", name="get_order", arguments={"order_id": "A-1001"})])
    ]
    result = score(chat, called)
    assert (
        result["abstention_accuracy"] == 0.0
        and result["extra_call_rate"] == 1.0
        and result["call_accuracy"] == 0.0
    )


def test_faults_land_in_their_metrics_once() -> None:
    s = SCENARIOS[0]
    turns = gold_turns(s)
    turns[0].calls += [
        MadeCall(id="m", name="get_order", arguments=None, raw_arguments="{oops"),
        MadeCall(id="h", name="teleport_parcel", arguments={}),
        MadeCall(id="b", name="get_order", arguments={"order_id": "A-1"}, blocked=True),
    ]
    turns[0].malformed = 2  # the call above plus one text output that looked like a call
    result = score(s, turns)
    assert result["malformed_rate"] == 2 / 4 and result["hallucinated_tool_rate"] == 1 / 4
    assert result["call_accuracy"] == 1 / 4 and result["turn_accuracy"] == 0.0


def test_a_failed_trial_scores_its_unreached_turns_as_missing() -> None:
    s = SCENARIOS[3]
    scored = score_scenario(s, trace_of(s, gold_turns(s)[:1], error="model_error: boom"), CATALOG)
    assert not scored.success and scored.error == "model_error: boom"
    assert [o.verdict for o in scored.turns[1].outcomes] == ["missing"]


# --------------------------------------------------------------------------- clarify keywords are whole words

PACKS = Path(__file__).resolve().parent.parent / "scenarios"
PACK_CLARIFIES = [
    turn.expect.clarify
    for pack in sorted(PACKS.glob("*.jsonl"))
    for s in load_scenarios(pack)
    for turn in s.turns
    if turn.expect.clarify is not None
]
TEMPLATE = "Could you tell me the {} please?"
KEYWORD = st.sampled_from(sorted({k for c in PACK_CLARIFIES for k in c.keywords})) | st.from_regex(
    r"[a-z]{2,8}", fullmatch=True
)


@pytest.mark.parametrize(
    ("reply", "keywords"),
    [
        ("I'd be happy to help. What would you like to do?", ["order", "number", "id"]),
        ("Could you provide a little more detail?", ["id"]),
        ("What did you have in mind?", ["id"]),
        ("Would you like me to update anything?", ["date"]),
    ],
)
def test_a_keyword_inside_another_word_is_not_asked_for(reply: str, keywords: list[str]) -> None:
    assert not asks_for(reply, Clarify(field="x", keywords=keywords))


@pytest.mark.parametrize(
    ("reply", "field"),
    [
        ("Could you share your order ID?", "order_id"),
        ("What's the email on the account?", "customer_id"),
        ("What's the e-mail address on the account?", "email"),
        ("Which subscription is it: the subscription number?", "subscription_id"),
        ("Why would you like to return it?", "reason"),
        ("Where should we ship it: which street address?", "street"),
    ],
)
def test_real_questions_ask_for_the_committed_packs_fields(reply: str, field: str) -> None:
    clarifies = [c for c in PACK_CLARIFIES if c.field == field]
    assert clarifies and all(asks_for(reply, c) for c in clarifies)


def test_the_workflow_and_the_oracle_questions_ask_for_every_committed_clarify() -> None:
    assert PACK_CLARIFIES
    for clarify in PACK_CLARIFIES:
        assert asks_for(clarifying_question(clarify.field), clarify), clarify
        assert asks_for(ask_for(clarify), clarify), clarify


def test_hyphens_and_multiword_keywords_match_whole_words() -> None:
    assert mentions("Which e-mail is it?", "email") and mentions("Which email is it?", "e-mail")
    assert mentions("Your order-id, please?", "order id") and mentions("The ORDER  ID?", "order id")
    assert not mentions("An order of the id?", "order id") and not mentions("anything?", "")


@PROPERTIES
@given(keyword=KEYWORD, before=st.from_regex(r"[a-z0-9]{0,4}", fullmatch=True),
       after=st.from_regex(r"[a-z0-9]{0,4}", fullmatch=True))  # fmt: skip
def test_a_keyword_glued_into_another_word_never_counts(keyword: str, before: str, after: str) -> None:
    word = f"{before}{keyword}{after}"
    assume(word not in {keyword, f"{keyword}s", f"{keyword}es"})
    assume(not set(words(keyword)) & set(words(TEMPLATE)))
    assert not asks_for(TEMPLATE.format(word), Clarify(field="x", keywords=[keyword]))
    for glue in (" ", "-", ", ", " (", "'"):
        alone = f"{before}{glue}{keyword}{glue}{after}" if before or after else keyword
        assert asks_for(TEMPLATE.format(alone), Clarify(field="x", keywords=[keyword]))


# --------------------------------------------------------------------------- what a workflow's checks stopped

HEADLINE = [name for name in METRIC_NAMES if not name.startswith("blocked_") and name not in COUNTS]


@PROPERTIES
@given(
    s=st.sampled_from(SCENARIOS),
    gold=st.booleans(),
    wild=st.lists(WILD_TURN, min_size=1, max_size=3),
    stopped=st.lists(st.tuples(st.integers(0, 2), WILD_CALL), max_size=4),
    sent_back=st.lists(st.integers(0, 2), max_size=3),
)
def test_what_a_workflow_stopped_never_changes_the_headline(s, gold, wild, stopped, sent_back) -> None:
    turns = gold_turns(s) if gold else wild
    before = score_scenario(s, trace_of(s, turns), CATALOG)
    blocked = [t.model_copy(deep=True, update={"sent_back": 0}) for t in turns]
    for index, call in stopped:
        blocked[index % len(blocked)].calls.append(call.model_copy(update={"blocked": True}))
    for index, count in enumerate(sent_back[: len(blocked)]):
        blocked[index].sent_back = count
    after = score_scenario(s, trace_of(s, blocked), CATALOG)
    fields = {"correct", "outcomes", "malformed", "clarify_ok", "no_call_ok"}
    assert [t.model_dump(include=fields) for t in after.turns] == [
        t.model_dump(include=fields) for t in before.turns
    ]
    assert after.success == before.success and after.state_match == before.state_match
    m_before, m_after = metrics([before]), metrics([after])
    assert {k: m_after[k] for k in HEADLINE} == {k: m_before[k] for k in HEADLINE}
    for turn, trace in zip(after.turns, blocked, strict=False):
        assert sum(turn.blocked.values()) == sum(c.blocked for c in trace.calls) + trace.sent_back
        assert turn.saved_by_block == (turn.correct and bool(turn.blocked))
    if gold:  # every right turn that something was stopped in is one the block saved
        saved = sum(bool(t.blocked) for t in after.turns if t.correct)
        assert m_after["turns_saved_by_block"] == saved


def workflow_and_instructed(s: Scenario, *answers: Answer) -> dict[str, ScoredScenario]:
    """The same model replies under `instructed` and under `workflow`, scored (a scripted queue)."""
    result = {}
    for name in ("instructed", "workflow"):
        queue = f"score_{s.id}_{name}"
        scripted.clear_queue(queue)
        scripted.enqueue(queue, *answers)
        trace = run_scenario(
            s, model=f"scripted/queue-{queue}", strategy=make_strategy(name, DOMAIN), catalog=CATALOG,
            settings=AgentSettings(max_steps=4, timeout_s=5, retry=RetryPolicy(max_retries=0)),
        )  # fmt: skip
        scripted.clear_queue(queue)
        result[name] = score_scenario(s, trace, CATALOG)
    return result


def test_a_blocked_call_on_a_greeting_is_a_saved_turn_and_a_workflow_question() -> None:
    chat = next(s for s in SCENARIOS if s.id == "chat")
    runs = workflow_and_instructed(chat, Answer(calls=[("get_order", "{}")]), Answer(content="Hello!"))
    assert not runs["instructed"].turns[0].correct
    turn = runs["workflow"].turns[0]
    assert turn.correct and turn.saved_by_block and turn.workflow_clarified and turn.blocked == {"invalid": 1}
    m = metrics([runs["workflow"]])
    assert (
        m["turns_saved_by_block"] == m["workflow_clarifications"] == 1.0 and m["blocked_invalid_rate"] == 1.0
    )
    m = metrics([runs["instructed"]])
    assert m["turns_saved_by_block"] == m["workflow_clarifications"] == 0.0
    assert all(m[f"blocked_{kind}_rate"] == 0.0 for kind in ("malformed", "hallucinated", "invalid", "valid"))


def test_a_blocked_call_on_a_clarify_turn_gets_the_workflow_question() -> None:
    ask = next(s for s in SCENARIOS if s.id == "clarify")
    runs = workflow_and_instructed(ask, Answer(calls=[("cancel_order", "{}")]), Answer(content="Which one?"))
    assert not runs["instructed"].turns[0].correct
    turn = runs["workflow"].turns[0]
    assert turn.clarify_ok and turn.saved_by_block and turn.workflow_clarified


def test_a_text_call_sent_back_counts_as_a_blocked_malformed_output() -> None:
    chat = next(s for s in SCENARIOS if s.id == "chat")
    text_call = Answer(content='<tool_call>{"name": "get_order"')
    runs = workflow_and_instructed(chat, text_call, Answer(content="Hello! How can I help?"))
    assert runs["instructed"].turns[0].malformed == 1 and not runs["instructed"].turns[0].correct
    turn = runs["workflow"].turns[0]
    assert turn.correct and turn.blocked == {"malformed": 1} and turn.saved_by_block
    assert not turn.workflow_clarified
    m = metrics([runs["workflow"]])
    assert m["malformed_rate"] == 0.0 and m["blocked_malformed_rate"] == 1.0


# --------------------------------------------------------------------------- gold replay cost


class TallyDb(BaseModel):
    """A real, tiny database for a one-tool catalog: a counter the tool adds to."""

    model_config = ConfigDict(extra="forbid")
    total: int = 0

    @classmethod
    def from_fixture(cls, fixture: dict) -> TallyDb:
        return cls.model_validate(fixture)

    def copy(self) -> TallyDb:  # type: ignore[override]
        return self.model_copy(deep=True)

    def state_hash(self) -> str:
        return str(self.total)


def tally_catalog(runs: list[int]) -> Catalog:
    """A catalog of one tool, ``add_one``, that notes in ``runs`` every time it runs."""

    def add_one(db: TallyDb) -> dict:
        """Add one to the total."""
        db.total += 1
        runs.append(db.total)
        return {"total": db.total}

    def peek(db: TallyDb) -> dict:
        """The total so far."""
        return {"total": db.total}

    # A read-only tool makes the replay keep the state before each turn (which reads compare on).
    return Catalog("tally", [add_one, peek], TallyDb, read_only=["peek"])


def test_gold_replay_runs_each_gold_call_once() -> None:
    runs: list[int] = []
    turns = 50
    s = Scenario.model_validate({
        "id": "tally", "split": "dev", "family": "f", "category": "multi_turn", "intent": "add_one", "db": {},
        "turns": [{"user": "add", "expect": {"kind": "calls", "calls": [call("add_one")]}}] * turns,
    })  # fmt: skip
    gold = gold_replay(s, tally_catalog(runs))
    assert len(runs) == turns  # not one replay of every earlier call per turn
    assert [db.total for db in gold.turn_dbs] == list(range(turns)) and gold.state_hash == str(turns)


def test_gold_replay_keeps_the_database_before_each_turn() -> None:
    for s in SCENARIOS:
        gold, done = gold_replay(s, CATALOG), 0
        calls = [c for turn in s.turns for c in turn.expect.calls]
        for turn, db in zip(s.turns, gold.turn_dbs, strict=True):
            assert db.state_hash() == CATALOG.replay(s.db, calls[:done])[0].state_hash()
            done += len(turn.expect.calls)
        assert gold.state_hash == CATALOG.replay(s.db, calls)[0].state_hash()
