"""Statistics and metric aggregation against hand-computed references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.metrics import METRIC_NAMES, by_tool, confusion, metrics
from lab.stats import pass_hat_k, percentile, wilson
from lab.types import CallOutcome, ExpectedCall, MadeCall, ScoredScenario, TurnScore, TurnTrace


def test_wilson_matches_reference_values() -> None:
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    assert wilson(0, 0) is None


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_holds_the_estimate(counts: tuple[int, int]) -> None:
    k, n = counts
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=30), st.sampled_from([0, 25, 50, 95, 100]))
def test_percentile_matches_numpy(values: list[float], q: int) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), abs=1e-9)


def test_pass_hat_k_is_the_tau_bench_estimator() -> None:
    assert pass_hat_k([(2, 4), (4, 4)], 2) == pytest.approx((math.comb(2, 2) / math.comb(4, 2) + 1) / 2)
    assert pass_hat_k([(1, 1), (0, 1)], 1) == 0.5
    assert pass_hat_k([(1, 1)], 2) is None


def _scored(sid: str, trial: int, verdicts: list[str], success: bool) -> ScoredScenario:
    outcomes = []
    for v in verdicts:
        expected = (
            ExpectedCall(name="get_order")
            if v in ("matched", "wrong_arguments", "wrong_tool", "missing")
            else None
        )
        name = "track_shipment" if v == "wrong_tool" else "get_order"
        made = None if v == "missing" else MadeCall(id="1", name=name, arguments={})
        outcomes.append(CallOutcome(verdict=v, tool="get_order", expected=expected, made=made))
    turn = TurnScore(index=0, kind="calls", correct=success, outcomes=outcomes)
    return ScoredScenario(
        scenario_id=sid,
        category="single_call",
        intent="i",
        family="f",
        trial=trial,
        turns=[turn],
        state_match=success,
        success=success,
        latency_s=1.0 + trial,
        prompt_tokens=10,
        completion_tokens=5,
    )


def test_metrics_from_verdict_counts() -> None:
    scored = [
        _scored("a", 0, ["matched", "extra"], False),
        _scored("a", 1, ["matched"], True),
        _scored("b", 0, ["wrong_arguments", "hallucinated"], False),
        _scored("b", 1, ["wrong_tool", "malformed"], False),
    ]
    m = metrics(scored)
    assert list(m) == list(METRIC_NAMES)
    assert m["call_accuracy"] == pytest.approx(2 / (4 + 3))
    assert m["tool_selection_accuracy"] == pytest.approx(3 / 4)
    assert m["argument_accuracy"] == pytest.approx(2 / 3)
    assert m["extra_call_rate"] == m["hallucinated_tool_rate"] == m["malformed_rate"] == pytest.approx(1 / 7)
    assert m["pass_hat_k"] == pytest.approx((0 + 0) / 2) and m["scenario_success"] == 0.25
    assert m["latency_p50_s"] == pytest.approx(1.5) and m["tokens_per_scenario"] == 15
    assert m["clarification_accuracy"] is None and m["abstention_accuracy"] is None
    assert by_tool(scored)["get_order"]["expected"] == 4
    assert confusion(scored)[("get_order", "track_shipment")] == 1


def test_metrics_of_nothing_keep_every_name() -> None:
    assert list(metrics([])) == list(METRIC_NAMES)


def test_a_tools_accuracy_counts_the_unmatched_calls_naming_it() -> None:
    scored = [
        _scored("a", 0, ["matched", "extra"], False),
        _scored("b", 0, ["wrong_arguments", "hallucinated"], False),
        _scored("b", 1, ["wrong_tool", "malformed"], False),
    ]
    row = by_tool(scored)["get_order"]
    assert (
        row["judged"] == 3 + 3 and row["accuracy"] == pytest.approx(1 / 6) == metrics(scored)["call_accuracy"]
    )
    only_extra = by_tool([_scored("c", 0, ["extra"], False)])["get_order"]
    assert only_extra["expected"] == 0 and only_extra["accuracy"] == 0.0


VERDICTS = st.sampled_from(
    ["matched", "wrong_arguments", "wrong_tool", "missing", "extra", "hallucinated", "malformed"]
)
OUTCOME = st.tuples(VERDICTS, st.sampled_from(["get_order", "track_shipment", "teleport"])).map(
    lambda vt: CallOutcome(
        verdict=vt[0],
        tool=vt[1],
        expected=ExpectedCall(name=vt[1])
        if vt[0] in ("matched", "wrong_arguments", "wrong_tool", "missing")
        else None,
    )
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(OUTCOME, max_size=5), min_size=1, max_size=6))
def test_the_tools_accuracies_add_up_to_the_headline(turns: list[list[CallOutcome]]) -> None:
    scored = [_scored("s", 0, [], False).model_copy(update={"turns": [
        TurnScore(index=i, kind="calls", correct=False, outcomes=outcomes) for i, outcomes in enumerate(turns)
    ]})]  # fmt: skip
    table = by_tool(scored)
    matched, judged = sum(r["matched"] for r in table.values()), sum(r["judged"] for r in table.values())
    headline = metrics(scored)["call_accuracy"]
    assert headline == (matched / judged if judged else 1.0)
    for row in table.values():
        assert row["accuracy"] is None or row["accuracy"] <= row["matched"] / max(1, row["expected"])


def _turn(kind: str, correct: bool, blocked: dict, clarified: bool = False) -> TurnScore:
    return TurnScore(
        index=0,
        kind=kind,
        correct=correct,
        outcomes=[CallOutcome(verdict="matched", tool="get_order", expected=ExpectedCall(name="get_order"))],
        blocked=blocked,
        saved_by_block=correct and bool(blocked),
        workflow_clarified=clarified,
    )


def test_what_the_workflow_stopped_is_counted_per_kind() -> None:
    base = _scored("a", 0, [], True)
    turns = [
        _turn("calls", True, {"malformed": 2, "hallucinated": 1}),
        _turn("no_call", True, {"invalid": 1}, clarified=True),
        _turn("calls", False, {"valid": 1, "invalid": 1}),
    ]
    m = metrics([base.model_copy(update={"turns": turns})])
    proposed = 3 + 6  # three matched calls attempted, six stopped
    assert m["blocked_malformed_rate"] == pytest.approx(2 / proposed)
    assert m["blocked_hallucinated_rate"] == pytest.approx(1 / proposed)
    assert m["blocked_invalid_rate"] == pytest.approx(2 / proposed)
    assert m["blocked_valid_rate"] == pytest.approx(1 / proposed)
    assert m["workflow_clarifications"] == 1.0 and m["turns_saved_by_block"] == 2.0
    assert m["malformed_rate"] == m["hallucinated_tool_rate"] == 0.0 and m["call_accuracy"] == 1.0
    nothing = metrics([_scored("b", 0, ["matched"], True)])
    stopped = [
        n
        for n in METRIC_NAMES
        if n.startswith("blocked_") or n in ("workflow_clarifications", "turns_saved_by_block")
    ]
    assert len(stopped) == 6 and all(nothing[n] == 0.0 for n in stopped)


def test_old_results_logs_without_the_new_fields_still_load() -> None:
    old = {"index": 0, "kind": "clarify", "correct": True, "clarify_ok": True}
    turn = TurnScore.model_validate(old)
    assert turn.blocked == {} and not turn.saved_by_block and not turn.workflow_clarified
    trace = TurnTrace.model_validate({"user": "hi", "reply": "Hello", "malformed": 0})
    assert trace.sent_back == 0 and trace.workflow_reply is None
