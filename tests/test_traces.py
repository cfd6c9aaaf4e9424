"""Traces as the lab writes them to MLflow: span tree, tags, run link, assessments, masking.

Two hand-built trials (one that passed, one that failed outright with a blocked call) are logged
to a fresh SQLite store and read back through ``tracking.run_traces`` and
``tracking.trace_assessments``; the expectation is written out by hand. Also: logging again adds
nothing, and a trace whose spans never reached the store is replaced.
"""

from __future__ import annotations

import json

import pytest
from mlflow_store import fresh_store

from lab import tracking
from lab.explain import TrialVerdict, TurnVerdict
from lab.redact import MASK
from lab.types import MadeCall, ModelCall, ResultRecord, ScoredScenario, Trace, TurnScore, TurnTrace

SECRET = "sk-traces-Q81mPw0rT5vB3nYh6Jz"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_order",
            "description": "Get one order by its id.",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
]
MESSAGES = [
    {"role": "system", "content": "You are a shop agent."},
    {"role": "user", "content": "where is A-1234?"},
    {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function"}]},
    {"role": "tool", "tool_call_id": "c1", "content": "{}"},
    {"role": "assistant", "content": "It has shipped."},
    {"role": "user", "content": "thanks"},
    {"role": "assistant", "content": "You're welcome."},
]


def _record(scenario_id: str, failed: bool) -> ResultRecord:
    """Turn 0: a model call that calls get_order, the call, a model call that replies; turn 1: one
    model call. The failed trial's call was blocked, its result holds a key, and the trial errored."""
    call = MadeCall(
        id="c1",
        name="get_order",
        arguments={"order_id": "A-1234"},
        result={"status": "shipped", "note": f"key {SECRET}" if failed else ""},
        blocked=failed,
    )
    turns = [
        TurnTrace(
            user="where is A-1234?",
            model_calls=[
                ModelCall(started_s=0.0, latency_s=0.2, tool_calls=1),
                ModelCall(started_s=0.5, latency_s=0.1),
            ],
            calls=[call],
            reply="It has shipped.",
        ),
        TurnTrace(
            user="thanks", model_calls=[ModelCall(started_s=1.0, latency_s=0.1)], reply="You're welcome."
        ),
    ]
    trace = Trace(
        scenario_id=scenario_id,
        model="scripted/oracle",
        strategy="zero_shot",
        messages=MESSAGES,
        turns=turns,
        latency_s=1.5,
        error="run_error: boom" if failed else None,
    )
    scored = ScoredScenario(
        scenario_id=scenario_id,
        category="single_call",
        intent="order_status",
        family="f",
        state_match=True,
        success=not failed,
        latency_s=1.5,
        turns=[
            TurnScore(index=0, kind="calls", correct=not failed),
            TurnScore(index=1, kind="no_call", correct=True),
        ],
    )
    return ResultRecord(scored=scored, trace=trace)


def _verdict(record: ResultRecord) -> TrialVerdict:
    passed = record.scored.success
    turns = [
        TurnVerdict(
            index=0,
            correct=passed,
            expected="get_order(order_id=A-1234)",
            got="get_order(order_id=A-1234)",
            reason="right" if passed else "blocked",
        ),
        TurnVerdict(index=1, correct=True, expected="no call", got="no call", reason="right"),
    ]
    reason = "passed" if passed else f"turn 0: {turns[0].rationale}"
    return TrialVerdict(
        scenario_id=record.trace.scenario_id, trial=0, passed=passed, reason=reason, turns=turns
    )


# The root's type and its subtree as (name, type, children): what the MLflow UI shows as the span tree
TREE = (
    "AGENT",
    [
        (
            "turn 0",
            "CHAIN",
            [("model", "CHAT_MODEL", []), ("get_order", "TOOL", []), ("model", "CHAT_MODEL", [])],
        ),
        ("turn 1", "CHAIN", [("model", "CHAT_MODEL", [])]),
    ],
)


def _tree(spans: list[dict], parent: str | None) -> list[tuple]:
    children = sorted(
        (s for s in spans if s["parent_id"] == parent), key=lambda s: (s["start_ns"], s["name"])
    )
    return [(s["name"], s["type"], _tree(spans, s["span_id"])) for s in children]


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """The two trials logged to a fresh store, with a secret in the environment."""
    with pytest.MonkeyPatch.context() as mp:
        fresh_store(tmp_path_factory.mktemp("traces"), mp)
        mp.setenv("SHOP_API_KEY", SECRET)
        run = tracking.start_run("traces", {"model": "scripted/oracle"})
        records = [_record("s-ok", failed=False), _record("s-bad", failed=True)]
        verdicts = {(r.trace.scenario_id, 0): _verdict(r) for r in records}
        logged = tracking.log_traces(run, records, TOOLS, verdicts=verdicts)
        again = tracking.log_traces(run, records, TOOLS, verdicts=verdicts)
        traces = {t["tags"]["lab.scenario_id"]: t for t in tracking.run_traces(run)}
        yield run, records, verdicts, (logged, again), traces, tracking.trace_assessments(run)


def test_each_trial_has_one_trace_with_the_plan_s_span_tree(logged) -> None:
    run, _, _, (first, again), traces, _ = logged
    assert (first, again) == (2, 0) and set(traces) == {"s-ok", "s-bad"}
    for scenario_id, trace in traces.items():
        root_type, turns = TREE
        assert _tree(trace["spans"], None) == [(f"{scenario_id} #0", root_type, turns)]
        root = next(s for s in trace["spans"] if s["parent_id"] is None)
        assert (root["end_ns"] - root["start_ns"]) / 1e9 == pytest.approx(1.5, abs=1e-3)
        assert root["inputs"] == {
            "scenario_id": scenario_id,
            "trial": 0,
            "user": ["where is A-1234?", "thanks"],
        }
        chats = [s for s in trace["spans"] if s["type"] == "CHAT_MODEL"]
        assert [s["inputs"]["messages"] for s in chats] == [MESSAGES[:2], MESSAGES[:4], MESSAGES[:6]]
        assert all(s["attributes"]["mlflow.chat.tools"] == TOOLS for s in chats)
        tool = next(s for s in trace["spans"] if s["type"] == "TOOL")
        assert tool["inputs"] == {"order_id": "A-1234"} and tool["attributes"]["call_id"] == "c1"


def test_tags_run_link_and_state(logged) -> None:
    run, _, _, _, traces, _ = logged
    for scenario_id, success, state in (("s-ok", "true", "OK"), ("s-bad", "false", "ERROR")):
        trace = traces[scenario_id]
        assert trace["state"] == state
        assert {k: v for k, v in trace["tags"].items() if k.startswith("lab.")} == {
            "lab.scenario_id": scenario_id,
            "lab.trial": "0",
            "lab.success": success,
            "lab.category": "single_call",
        }
        assert trace["tags"]["mlflow.traceName"] == f"{scenario_id} #0"
        assert trace["metadata"]["mlflow.sourceRun"] == run.run_id
        assert json.loads(trace["metadata"]["mlflow.traceInputs"])["scenario_id"] == scenario_id
    statuses = {s["name"]: s["status"] for s in traces["s-bad"]["spans"]}
    assert statuses["s-bad #0"] == "ERROR" and statuses["get_order"] == "ERROR" and statuses["turn 0"] == "OK"
    assert tracking.logged_trials(run) == {("s-ok", 0), ("s-bad", 0)}


def test_assessments_say_passed_expected_and_each_turn_on_its_span(logged) -> None:
    _, _, verdicts, _, traces, assessed = logged
    for scenario_id, trace in traces.items():
        verdict = verdicts[(scenario_id, 0)]
        turn_ids = {s["name"]: s["span_id"] for s in trace["spans"] if s["type"] == "CHAIN"}
        items = sorted(
            (
                (a["name"], a["kind"], a["value"], a["rationale"], a["span_id"], a["source"])
                for a in assessed[(scenario_id, 0)]
            ),
            key=lambda a: (a[0], a[3] or ""),
        )
        assert items == [
            (
                "expected_calls",
                "expectation",
                ["turn 0: get_order(order_id=A-1234)", "turn 1: no call"],
                None,
                None,
                tracking.ASSESSOR,
            ),
            ("passed", "feedback", verdict.passed, verdict.reason, None, tracking.ASSESSOR),
            (
                "turn_correct",
                "feedback",
                verdict.turns[0].correct,
                f"turn 0: {verdict.turns[0].rationale}",
                turn_ids["turn 0"],
                tracking.ASSESSOR,
            ),
            (
                "turn_correct",
                "feedback",
                True,
                "turn 1: expected no call, got no call: right",
                turn_ids["turn 1"],
                tracking.ASSESSOR,
            ),
        ]


def test_nothing_written_holds_the_secret(logged) -> None:
    _, _, _, _, traces, assessed = logged
    text = json.dumps([traces, {str(k): v for k, v in assessed.items()}], default=str)
    assert SECRET not in text and f"key {MASK}" in text


def test_a_trace_whose_spans_never_arrived_is_replaced(tmp_path, monkeypatch) -> None:
    """A write cut off between a trace's info and its spans leaves it IN_PROGRESS: not counted as
    logged, deleted and written again by the next call."""
    fresh_store(tmp_path, monkeypatch)
    run = tracking.start_run("traces", {"model": "scripted/oracle"})
    record = _record("s-ok", failed=False)
    info, _ = tracking._trace_entities(run, record, json.dumps(TOOLS), None)
    tracking._trace_store().start_trace(info)  # the info alone, as a write cut off after it leaves it
    assert tracking.logged_trials(run) == set()
    assert tracking.log_traces(run, [record], TOOLS) == 1
    traces = tracking.run_traces(run)
    assert [(t["state"], len(t["spans"])) for t in traces] == [("OK", 7)]
    assert traces[0]["trace_id"] != info.trace_id
