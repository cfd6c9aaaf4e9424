"""Paired comparison: exact McNemar p, seeded bootstrap, suite check, verdicts and the logged run."""

from __future__ import annotations

import json
from fractions import Fraction
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow_store import fresh_store

from lab import results, tracking
from lab.compare import compare, compare_records, delta_statistic
from lab.errors import BadInput
from lab.stats import bootstrap_distribution, mcnemar_exact
from lab.types import CallOutcome, ExpectedCall, MadeCall, ResultRecord, ScoredScenario, Trace, TurnScore


def record(
    sid: str,
    matched: list[bool],
    category: str = "single_call",
    latency: float = 1.0,
    tokens: int = 100,
    extra: int = 0,
) -> ResultRecord:
    """A hand-built trial: one turn whose expected calls are matched or missed as given."""
    outcomes = []
    for i, ok in enumerate(matched):
        expected = ExpectedCall(name=f"tool_{i % 2}", arguments={"n": i})
        made = MadeCall(id=f"c{i}", name=expected.name, arguments=dict(expected.arguments)) if ok else None
        outcomes.append(
            CallOutcome(
                verdict="matched" if ok else "missing", tool=expected.name, expected=expected, made=made
            )
        )
    outcomes += [CallOutcome(verdict="extra", tool="tool_9") for _ in range(extra)]
    success = all(matched) and not extra
    turn = TurnScore(index=0, kind="calls", correct=success, outcomes=outcomes)
    scored = ScoredScenario(
        scenario_id=sid,
        category=category,
        intent="x",
        family="f",
        turns=[turn],
        state_match=success,
        success=success,
        latency_s=latency,
        prompt_tokens=tokens,
    )
    trace = Trace(scenario_id=sid, model="m", strategy="s", messages=[], turns=[], latency_s=latency)
    return ResultRecord(scored=scored, trace=trace)


def run_pair(base_ok: list[bool], cand_ok: list[bool], **cand_kwargs) -> tuple[list, list]:
    """One single-call scenario per position: baseline and candidate right or wrong as given."""
    base = [record(f"s{i}", [ok]) for i, ok in enumerate(base_ok)]
    cand = [record(f"s{i}", [ok], **cand_kwargs) for i, ok in enumerate(cand_ok)]
    return base, cand


def test_mcnemar_matches_hand_computation():
    # b=2, c=9: n=11, P(X<=2) = (C(11,0)+C(11,1)+C(11,2)) / 2^11 = 67/2048, two-sided 134/2048
    assert mcnemar_exact(2, 9) == 134 / 2048
    assert mcnemar_exact(9, 2) == 134 / 2048
    assert mcnemar_exact(0, 12) == 2 / 4096
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(0, 0) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40))
def test_mcnemar_is_the_two_sided_binomial_tail(b, c):
    n = b + c
    exact = Fraction(2 * sum(comb(n, i) for i in range(min(b, c) + 1)), 2**n) if n else Fraction(1)
    assert mcnemar_exact(b, c) == pytest.approx(float(min(Fraction(1), exact)), rel=1e-12)
    assert mcnemar_exact(b, c) == mcnemar_exact(c, b)


def test_compare_records_gives_exact_p_from_discordant_calls():
    # 20 scenarios; baseline right on s0..s4 plus s18,s19; candidate right on s2..s17
    base_ok = [i < 5 or i >= 18 for i in range(20)]
    cand_ok = [2 <= i < 18 for i in range(20)]
    base, cand = run_pair(base_ok, cand_ok)
    result = compare_records(base, cand, names=("B", "C"), seed=3)
    # only baseline right: s0, s1, s18, s19 (b=4); only candidate right: s5..s17 (c=13)
    assert result.discordant == {"baseline_only": 4, "candidate_only": 13}
    n = 17
    assert result.mcnemar_p == 2 * sum(comb(n, i) for i in range(5)) / 2**n
    assert result.baseline_call_accuracy == pytest.approx(7 / 20)
    assert result.candidate_call_accuracy == pytest.approx(16 / 20)
    assert result.delta == pytest.approx(9 / 20)
    assert result.scenarios == 20 and result.calls == 20 and result.unpaired == 0


def test_clear_improvement_is_adopted_and_clear_regression_rejected():
    base, cand = run_pair([False] * 15 + [True] * 5, [True] * 20)
    better = compare_records(base, cand, names=("B", "C"))
    assert better.verdict == "adopt" and better.delta_ci95[0] > 0 and better.mcnemar_p < 0.05
    worse = compare_records(cand, base, names=("C", "B"))
    assert worse.verdict == "reject" and worse.delta_ci95[1] < 0


def test_small_difference_is_inconclusive_unless_only_the_candidate_meets_the_target():
    base, cand = run_pair([True] * 17 + [False] * 3, [True] * 19 + [False])
    plain = compare_records(base, cand, names=("B", "C"))
    assert plain.verdict == "inconclusive" and "no significant difference" in plain.reason
    targeted = compare_records(base, cand, names=("B", "C"), target=0.9)
    assert targeted.verdict == "adopt" and "target 0.9" in targeted.reason
    both = compare_records(base, cand, names=("B", "C"), target=0.8)
    assert both.verdict == "inconclusive" and "met by both" in both.reason
    neither = compare_records(base, cand, names=("B", "C"), target=0.99)
    assert neither.verdict == "inconclusive" and "met by neither" in neither.reason
    backwards = compare_records(cand, base, names=("C", "B"), target=0.9)
    assert backwards.verdict == "inconclusive" and "baseline only" in backwards.reason


def test_bootstrap_is_deterministic_for_a_seed_and_brackets_the_delta():
    base, cand = run_pair([i % 3 == 0 for i in range(30)], [i % 3 != 1 for i in range(30)])
    one = compare_records(base, cand, names=("B", "C"), seed=11)
    two = compare_records(base, cand, names=("B", "C"), seed=11)
    assert one.delta_ci95 == two.delta_ci95
    low, high = one.delta_ci95
    assert low <= one.delta <= high
    with pytest.raises(ValueError):
        bootstrap_distribution([[], [], [], []], delta_statistic)


def test_extra_calls_lower_call_accuracy_but_do_not_pair():
    base, cand = run_pair([True] * 4, [True] * 4, extra=1)
    result = compare_records(base, cand, names=("B", "C"))
    assert result.candidate_call_accuracy == pytest.approx(4 / 8)  # 4 matched over 4 expected + 4 extra
    assert result.discordant == {"baseline_only": 0, "candidate_only": 0} and result.mcnemar_p == 1.0


def test_per_tool_per_category_and_ratios():
    base = [record("a", [True, False], "single_call", latency=1.0, tokens=100)]
    base.append(record("b", [False], "multi_call", latency=3.0, tokens=300))
    cand = [record("a", [True, True], "single_call", latency=2.0, tokens=50)]
    cand.append(record("b", [True], "multi_call", latency=6.0, tokens=150))
    result = compare_records(base, cand, names=("B", "C"))
    assert result.per_tool["tool_1"].baseline == 0.0 and result.per_tool["tool_1"].candidate == 1.0
    assert result.per_tool["tool_0"].n == 2
    assert result.per_category["multi_call"].delta == pytest.approx(1.0)
    assert result.per_category["single_call"].delta == pytest.approx(0.5)
    assert result.latency_ratio == pytest.approx(2.0) and result.tokens_ratio == pytest.approx(0.5)


def test_runs_sharing_no_trial_are_refused():
    base, _ = run_pair([True], [True])
    other = [record("zzz", [True])]
    with pytest.raises(BadInput):
        compare_records(base, other, names=("B", "C"))


@pytest.fixture()
def store(tmp_path, monkeypatch):
    fresh_store(tmp_path / "mlruns", monkeypatch)
    return tmp_path


def logged_run(records: list[ResultRecord], suite: str, model: str) -> str:
    run = tracking.start_run("suite-x", {"suite_sha256": suite, "model": model, "strategy": "few_shot"})
    for item in records:
        results.append(tracking.results_path(run.run_id), item)
    tracking.set_status(run.run_id, "FINISHED")
    return run.run_id


def test_compare_logs_a_comparison_run_referencing_both(store):
    base, cand = run_pair([False] * 15 + [True] * 5, [True] * 20)
    b, c = logged_run(base, "abc", "local/a"), logged_run(cand, "abc", "local/b")
    result = compare(b, c, seed=0)
    assert result.verdict == "adopt" and result.suite_sha256 == "abc"
    run = tracking.find_run(result.run_id)
    assert run.tags["lab.baseline_run"] == b and run.tags["lab.candidate_run"] == c
    assert run.experiment == "suite-x" and run.status == "FINISHED"
    assert {"comparison.json", "report.md", "categories.png"} <= set(tracking.artifacts(run.run_id))
    assert run.metrics["call_accuracy_mcnemar_p"] == pytest.approx(result.mcnemar_p)


def test_compare_refuses_runs_on_different_suites(store):
    base, cand = run_pair([True] * 3, [True] * 3)
    b, c = logged_run(base, "abc", "local/a"), logged_run(cand, "def", "local/b")
    with pytest.raises(BadInput) as error:
        compare(b, c)
    assert error.value.where == "--candidate" and "same suite" in error.value.reason


def test_compare_cli_prints_the_contract(store):
    from typer.testing import CliRunner

    from lab.cli import app

    base, cand = run_pair([False] * 15 + [True] * 5, [True] * 20)
    b, c = logged_run(base, "abc", "local/a"), logged_run(cand, "abc", "local/b")
    out = CliRunner().invoke(app, ["compare", "--baseline", b, "--candidate", c, "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    keys = {"baseline", "candidate", "delta", "delta_ci95", "mcnemar_p", "latency_ratio", "verdict", "reason"}
    assert keys <= set(payload) and payload["verdict"] == "adopt"
