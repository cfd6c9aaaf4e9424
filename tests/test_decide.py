"""The ``decide`` workflow's nodes with fake likelihoods (``lab.models.likelihood.serve``) on the shop."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.agent import AgentSettings, run_scenario
from lab.decide import ACT_PMI, NEUTRAL_CONTEXT
from lab.models.gateway import RetryPolicy
from lab.models.likelihood import serve, unserve
from lab.spans import plan_trace
from lab.strategies import CALIBRATION_MESSAGES, Decide, calibration_messages, make_strategy
from lab.types import Scenario, Trace, TurnTrace
from tools.shop import CATALOG, DOMAIN

FAST = AgentSettings(max_steps=6, timeout_s=5, retry=RetryPolicy(max_retries=0, base_delay_s=0.0))
DECIDE = make_strategy("decide", DOMAIN)
CALIBRATED = replace(DECIDE, calibration=("hello there", "a question"))
DB = {
    "now": "2026-08-28T17:30:00+00:00",
    "customers": [{"id": "C-7068", "name": "Harper Ward", "email": "harperw64@inbox.example.org",
                   "phone": "+16415606738", "address": {"street": "223 Bridge Street", "city": "Utrecht",
                                                       "postal_code": "6289 AB", "country": "NL"}}],
    "orders": [{"id": "A-6511", "customer_id": "C-7068", "status": "processing", "placed_on": "2026-08-08",
                "items": [{"sku": "BLK-644", "name": "blanket", "quantity": 1, "unit_price": 35.0}],
                "shipping_address": {"street": "223 Bridge Street", "city": "Utrecht",
                                     "postal_code": "6289 AB", "country": "NL"}, "shipping_fee": 4.99}],
}  # fmt: skip


def scenario(user: str) -> Scenario:
    turn = {"user": user, "expect": {"kind": "no_call"}}
    return Scenario(
        id="t-1", split="dev", family="f", category="single_call", intent="i", db=DB, turns=[turn]
    )


class FakeModel:
    """Likelihoods that favour the continuations naming ``favourite`` after a real customer message."""

    def __init__(self, favourite: dict[str, float], reply: str = "Happy to help."):
        self.favourite, self.reply, self.continued = favourite, reply, []

    def score(self, messages, tools, continuations) -> list[float]:
        neutral = messages[-1]["content"] == "N/A"
        return [
            -10.0 + (0.0 if neutral else max((v for k, v in self.favourite.items() if k in c), default=0.0))
            for c in continuations
        ]

    def cont(self, messages, tools, forced, max_new) -> str:
        self.continued.append(forced)
        return self.reply if not forced else 'a short subject"}}'


@pytest.fixture
def fake(request):
    model = f"scripted/queue-decide_{request.node.name[:30]}"
    yield model, lambda f: serve(model, f.score, f.cont)
    unserve(model)


def run(s: Scenario, model: str, strategy: Decide = DECIDE) -> Trace:
    return run_scenario(s, model=model, strategy=strategy, catalog=CATALOG, settings=FAST)


def nodes(turn: TurnTrace) -> list[tuple[str, str, str]]:
    return [(d.node, d.method, d.choice) for d in turn.decisions]


def test_a_value_just_given_acts_with_the_best_scored_tool_that_takes_it(fake):
    model, use = fake
    use(FakeModel({'"cancel_order"': 3.0, '"get_order"': 2.0}))
    trace = run(scenario("please do it for A-6511"), model)
    turn = trace.turns[0]
    assert [(c.name, c.arguments, c.blocked) for c in turn.calls] == [
        ("cancel_order", {"order_id": "A-6511"}, False)
    ]
    assert [n[:2] for n in nodes(turn)] == [
        ("route", "likelihood"),
        ("tool", "likelihood"),
        ("arguments", "likelihood"),
        ("route", "grounding"),
    ]
    assert turn.decisions[1].scores["cancel_order"] == 3.0 and "list_orders" not in turn.decisions[1].scores
    assert turn.reply == "Happy to help." and Trace.model_validate_json(trace.model_dump_json()) == trace
    names = [child.name for child in plan_trace(trace).children[0].children]
    assert {"decide route", "decide tool", "decide arguments", "model", "cancel_order"} <= set(names)


def test_a_channel_scores_tools_by_how_well_their_descriptions_explain_the_message(fake):
    """With ``message_logprobs`` served, the tool decision is the noisy channel: the description whose
    words explain the customer's message best wins, against the content-free context."""
    model, use = fake
    seen: list[tuple[list[str], str]] = []

    def channel(contexts, text):
        seen.append((list(contexts), text))
        return [-20.0 + 5.0 * ("Track a parcel" in c and "parcel" in text) for c in contexts]

    plain = FakeModel({})
    serve(model, plain.score, plain.cont, channel)
    turn = run(scenario("where is my parcel for A-6511?"), model, CALIBRATED).turns[0]
    assert [c.name for c in turn.calls] == ["track_shipment"]
    contexts, text = seen[0]  # then the calibration messages
    assert text == "where is my parcel for A-6511?" and contexts[-1] == NEUTRAL_CONTEXT
    assert turn.decisions[1].scores["track_shipment"] == 5.0
    credit = next(c for c in contexts if "issue store credit" in c)
    assert "refund" not in credit  # the description's second sentence names refund_payment


def test_calibration_removes_what_a_tool_adds_to_every_message(fake):
    """A context that makes any message likelier (here pause_subscription's) wins on raw PMI; less its
    mean over the calibration messages, the tool whose description explains this message wins."""
    model, _ = fake

    def channel(contexts, text):
        return [
            -20.0 + 3.0 * ("Pause a" in c) + 2.0 * ("Track a parcel" in c and "parcel" in text)
            for c in contexts
        ]

    plain = FakeModel({})
    serve(model, plain.score, plain.cont, channel)
    turn = run(scenario("where is my parcel for A-6511?"), model, CALIBRATED).turns[0]
    assert [c.name for c in turn.calls] == ["track_shipment"]
    assert turn.decisions[0].scores["pause_subscription"] == 0.0


def test_a_clarified_request_is_scored_with_the_message_it_answers(fake):
    """After a clarifying question, the channel reads the customer's messages since the last tool
    result together: the request and the id given in reply."""
    model, _ = fake
    seen: list[str] = []

    def channel(contexts, text):
        seen.append(text)
        return [-20.0 + 5.0 * ("Cancel an order" in c and "gone" in text) for c in contexts]

    plain = FakeModel({})
    serve(model, plain.score, plain.cont, channel)
    turns = [{"user": u, "expect": {"kind": "no_call"}} for u in ("I want my order gone", "A-6511")]
    two = Scenario(id="t-2", split="dev", family="f", category="clarify", intent="i", db=DB, turns=turns)
    trace = run(two, model, CALIBRATED)
    assert trace.turns[0].workflow_reply == "clarify"
    assert [(c.name, c.arguments) for c in trace.turns[1].calls] == [("cancel_order", {"order_id": "A-6511"})]
    assert seen[-1] == "I want my order gone\nA-6511"


def test_calibration_messages_are_first_customer_messages_of_the_domains_train_pack(tmp_path):
    rows = [{"split": "train", "turns": [{"user": f"train {i}"}, {"user": "later"}]} for i in range(6)] + [
        {"split": "dev", "turns": [{"user": "dev"}]},
        {"split": "train", "domain": "telecom", "turns": [{"user": "t"}]},
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert calibration_messages(path, "shop", count=3) == ("train 0", "train 2", "train 4")
    assert calibration_messages(path, "telecom") == ("t",)
    assert calibration_messages(tmp_path / "missing.jsonl", "shop") == ()
    assert len(DECIDE.calibration) == CALIBRATION_MESSAGES
    assert all(isinstance(m, str) and m for m in DECIDE.calibration)


def test_the_run_params_say_which_calibration_decide_had(tmp_path):
    source = f"{CALIBRATION_MESSAGES} first customer messages of scenarios/train.jsonl"
    assert DECIDE.run_params() == {"calibration": source}
    bare = make_strategy("decide", DOMAIN, train_file=tmp_path / "missing.jsonl")
    assert bare.calibration == () and "content-free" in bare.run_params()["calibration"]
    assert make_strategy("workflow", DOMAIN).run_params() == {}


def test_a_likely_tool_without_its_id_asks_for_it(fake):
    model, use = fake
    use(FakeModel({'"cancel_order"': ACT_PMI + 1}))
    turn = run(scenario("I want my order gone"), model).turns[0]
    assert turn.calls == [] and "order number" in turn.reply and turn.workflow_reply == "clarify"
    assert nodes(turn)[0] == ("route", "likelihood", "ask")


def test_a_likely_tool_of_one_of_several_ids_without_any_asks_for_one(fake):
    model, use = fake
    use(FakeModel({'"track_shipment"': ACT_PMI + 1}))
    turn = run(scenario("thank you!!"), model).turns[0]  # track_shipment({}) would look up nothing
    assert turn.calls == [] and turn.workflow_reply == "clarify"
    assert nodes(turn)[0] == ("route", "likelihood", "ask")
    given = run(scenario("where is parcel 1Z999AA10123456784"), model).turns[0]
    assert [(c.name, c.arguments) for c in given.calls] == [
        ("track_shipment", {"tracking_number": "1Z999AA10123456784"})
    ]


def test_nothing_likely_answers_in_plain_text(fake):
    model, use = fake
    use(FakeModel({'"cancel_order"': ACT_PMI / 2}))
    turn = run(scenario("what a lovely day"), model).turns[0]
    assert (
        turn.calls == []
        and turn.reply == "Happy to help."
        and nodes(turn) == [("route", "likelihood", "answer")]
    )


def test_a_free_argument_is_a_short_continuation_of_the_call(fake):
    model, use = fake
    fake_model = FakeModel({'"create_ticket"': 4.0})
    use(fake_model)
    turn = run(scenario("open a ticket please, I'm C-7068"), model).turns[0]
    assert [(c.name, c.arguments) for c in turn.calls] == [
        ("create_ticket", {"customer_id": "C-7068", "subject": "a short subject"})
    ]
    assert fake_model.continued[0].endswith('"customer_id": "C-7068", "subject": "')


def test_a_model_without_likelihoods_decides_by_its_reply():
    trace = run_scenario(
        scenario("thanks!"), model="scripted/oracle", strategy=DECIDE, catalog=CATALOG, settings=FAST
    )
    assert trace.turns[0].calls == [] and nodes(trace.turns[0]) == [("route", "generation", "answer")]


def test_old_turn_records_without_decisions_still_load():
    assert TurnTrace.model_validate({"user": "hi"}).decisions == []


TOOLS = list(CATALOG.names)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scores=st.dictionaries(st.sampled_from(TOOLS), st.floats(-5, 5), min_size=1),
    user=st.sampled_from(
        ["hello", "order A-6511", "I am C-7068", "mail harperw64@inbox.example.org", "A-6511 BLK-644"]
    ),
)
def test_a_decided_call_always_names_a_catalog_tool_and_runs_only_when_valid(fake, scores, user):
    model, use = fake
    use(FakeModel({f'"{name}"': value for name, value in scores.items()}))
    turn = run(scenario(user), model).turns[0]
    for call in turn.calls:
        assert CATALOG.has(call.name)
        assert call.blocked == (CATALOG.validate(call.name, call.arguments)[1] is not None)


@pytest.mark.slow
def test_the_embedded_model_climbs_the_decide_rung_on_dev_scenarios():
    from lab.scenarios import load_scenarios

    dev = {s.id: s for s in load_scenarios("scenarios/dev.jsonl")}
    # a quarter of the calibration: the same scoring path, a quarter of its passes (the bench runs it all)
    strategy = replace(DECIDE, calibration=DECIDE.calibration[: CALIBRATION_MESSAGES // 4])
    for sid in ("dev-0003", "dev-0005", "dev-0014"):  # a customer number, thanks, a subscription id
        trace = run_scenario(
            dev[sid], model="local/smollm2-135m", strategy=strategy, catalog=CATALOG, settings=AgentSettings()
        )
        turn = trace.turns[0]
        assert trace.error is None and turn.decisions[0].node == "route"
        assert turn.decisions[0].method in ("likelihood", "grounding")
        for call in turn.calls:
            assert CATALOG.has(call.name)
