"""`lab compare`'s verdict agrees with its own interval and p-value, judges the headline quantity
(call_accuracy, extra calls included), and refuses comparisons it cannot make honestly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from labcli import invoke, run_count
from mlflow_store import fresh_store
from test_compare import logged_run

from lab import tracking
from lab.compare import ALPHA, Comparison, compare_records
from lab.stats import percentile_test, tail_p
from lab.types import CallOutcome, ExpectedCall, MadeCall, ResultRecord, ScoredScenario, Trace, TurnScore

EVIDENCE = re.compile(r"95% CI (\S+?)\.\.(\S+?)\), paired bootstrap p=(\S+)$")


def trial(sid: str, matched: list[bool], extra: int = 0, clarify: str | None = None) -> ResultRecord:
    """A trial with one calls turn (expected calls matched or missed, ``extra`` unasked-for calls)
    and, when ``clarify`` is given, a clarify turn where the model asks well ("asks"), asks badly
    ("vague") or guesses with a call instead of asking ("guesses")."""
    outcomes = []
    for i, ok in enumerate(matched):
        expected = ExpectedCall(name=f"tool_{i}", arguments={"n": i})
        made = MadeCall(id=f"c{i}", name=expected.name, arguments={"n": i}) if ok else None
        verdict = "matched" if ok else "missing"
        outcomes.append(CallOutcome(verdict=verdict, tool=expected.name, expected=expected, made=made))
    outcomes += [CallOutcome(verdict="extra", tool="tool_9") for _ in range(extra)]
    turns = [TurnScore(index=0, kind="calls", correct=all(matched) and not extra, outcomes=outcomes)]
    if clarify is not None:
        guess = [CallOutcome(verdict="extra", tool="tool_0")] if clarify == "guesses" else []
        ok = clarify == "asks"
        turns.append(TurnScore(index=1, kind="clarify", correct=ok, outcomes=guess, clarify_ok=ok))
    success = all(t.correct for t in turns)
    scored = ScoredScenario(
        scenario_id=sid,
        category="single_call",
        intent="x",
        family="f",
        turns=turns,
        state_match=success,
        success=success,
        latency_s=1.0,
    )
    trace = Trace(scenario_id=sid, model="m", strategy="s", messages=[], turns=[], latency_s=1.0)
    return ResultRecord(scored=scored, trace=trace)


def printed(result: Comparison) -> tuple[float, float, float]:
    """The interval and p-value as the reason prints them."""
    found = EVIDENCE.search(result.reason)
    assert found, result.reason
    low, high, p = (float(text) for text in found.groups())
    return low, high, p


def assert_consistent(result: Comparison) -> None:
    """Verdict, printed interval, printed p and the JSON figures all say the same thing."""
    low, high, p = printed(result)
    excludes = low > 0 or high < 0
    assert excludes == (p < ALPHA) == (result.p_value < ALPHA), result.reason
    assert excludes == (result.delta_ci95[0] > 0 or result.delta_ci95[1] < 0)
    assert result.test == "paired_bootstrap" and "paired bootstrap p=" in result.reason
    if result.target is None:
        expected = "adopt" if low > 0 else "reject" if high < 0 else "inconclusive"
        assert result.verdict == expected, result.reason


# --------------------------------------------------------------------------- agreement by construction


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.sampled_from([-0.3, -0.01, 0.0, 0.0, 0.02, 0.4]), min_size=39, max_size=400),
    st.sampled_from([0.05, 0.01, 0.1, 0.5, 1.0]),
)
def test_interval_excludes_zero_exactly_when_p_is_below_alpha(values: list[float], alpha: float):
    if tail_p(0, len(values)) >= alpha:  # too few resamples for any p below alpha
        with pytest.raises(ValueError):
            percentile_test(values, alpha)
        return
    test = percentile_test(values, alpha)
    assert test.low <= test.high
    assert (test.low > 0 or test.high < 0) == (test.p_value < alpha)
    assert 0 < test.p_value <= 1


def test_the_threshold_and_ties_at_zero():
    # 2000 resamples: k = 50 (tail_p(49) = 100/2001 < 0.05 <= tail_p(50) = 102/2001)
    assert tail_p(49, 2000) < 0.05 <= tail_p(50, 2000)
    for at_or_below, significant in ((49, True), (50, False)):
        values = [-1.0] * at_or_below + [1.0] * (2000 - at_or_below)
        test = percentile_test(values, 0.05)
        assert (test.low > 0) == significant == (test.p_value < 0.05)
    zeros = percentile_test([0.0] * 50 + [1.0] * 1950)  # a resample at exactly 0 is not above 0
    assert zeros.low == 0.0 and zeros.p_value >= 0.05
    tiny = percentile_test([1e-9] * 50 + [1.0] * 1950)
    assert tiny.low > 0 and tiny.p_value < 0.05
    assert percentile_test([0.0] * 2000) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        percentile_test([1.0] * 30, 0.05)  # 30 resamples cannot give p < 0.05


SIDE = st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 2))  # expected, matched, extra


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(SIDE, SIDE), min_size=1, max_size=25), st.integers(0, 3))
def test_the_verdict_never_contradicts_the_printed_interval(scenarios, seed):
    base, cand = [], []
    for i, ((n, b_ok, b_extra), (_, c_ok, c_extra)) in enumerate(scenarios):
        base.append(trial(f"s{i}", [j < b_ok for j in range(n)], b_extra))
        cand.append(trial(f"s{i}", [j < c_ok for j in range(n)], c_extra))
    assert_consistent(compare_records(base, cand, names=("B", "C"), seed=seed))


# --------------------------------------------------------------------------- the headline quantity


def scenarios_differing(change, n: int = 30, every: int = 3) -> tuple[list, list]:
    """``n`` two-call scenarios, the same in both runs except that every ``every``-th one has
    ``change(sid)`` in the candidate (a pair of trials: baseline, candidate)."""
    base = [trial(f"s{i}", [True, True]) for i in range(n)]
    cand = [change(f"s{i}") if i % every == 0 else trial(f"s{i}", [True, True]) for i in range(n)]
    return base, cand


def test_a_candidate_differing_only_in_extra_calls():
    base, cand = scenarios_differing(lambda sid: trial(sid, [True, True], extra=1))
    worse = compare_records(base, cand, names=("B", "C"))
    assert worse.verdict == "reject" and worse.mcnemar_p == 1.0  # McNemar cannot see extra calls
    better = compare_records(cand, base, names=("C", "B"))
    assert better.verdict == "adopt" and better.discordant == {"baseline_only": 0, "candidate_only": 0}
    assert_consistent(worse)
    assert_consistent(better)


def test_a_candidate_differing_only_in_missed_calls():
    base, cand = scenarios_differing(lambda sid: trial(sid, [True, False]))
    assert compare_records(base, cand, names=("B", "C")).verdict == "reject"
    assert compare_records(cand, base, names=("C", "B")).verdict == "adopt"


def test_a_candidate_differing_only_in_clarification_turns():
    asks = [trial(f"s{i}", [True], clarify="asks") for i in range(30)]
    vague = [trial(f"s{i}", [True], clarify="vague" if i % 2 else "asks") for i in range(30)]
    same_calls = compare_records(vague, asks, names=("B", "C"))
    # call_accuracy has no term for the wording of a question: nothing to judge on it
    assert same_calls.verdict == "inconclusive" and same_calls.delta == 0.0
    assert same_calls.delta_ci95 == (0.0, 0.0) and same_calls.p_value == 1.0
    assert same_calls.candidate_success > same_calls.baseline_success
    guesses = [trial(f"s{i}", [True], clarify="guesses" if i % 2 else "asks") for i in range(30)]
    assert compare_records(guesses, asks, names=("B", "C")).verdict == "adopt"
    assert compare_records(asks, guesses, names=("C", "B")).verdict == "reject"


def as_trial(record: ResultRecord, number: int) -> ResultRecord:
    return record.model_copy(update={"scored": record.scored.model_copy(update={"trial": number})})


def test_scenarios_are_the_resampling_unit():
    """Two trials of one scenario move together: the same data as one trial per scenario, with
    every trial's counts summed, gives the same interval and p."""
    one = [trial(f"s{i}", [i % 3 != 0, True], extra=i % 2) for i in range(12)]
    other = [trial(f"s{i}", [True, True]) for i in range(12)]
    twice, twice_other = [[as_trial(r, t) for r in run for t in (0, 1)] for run in (one, other)]
    single = compare_records(one, other, names=("B", "C"), seed=5)
    paired = compare_records(twice, twice_other, names=("B", "C"), seed=5)
    assert paired.scenarios == 24 and single.scenarios == 12
    assert np.allclose(paired.delta_ci95, single.delta_ci95) and paired.p_value == single.p_value


# --------------------------------------------------------------------------- refusals and reuse


@pytest.fixture()
def store(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "mlruns"
    fresh_store(folder, monkeypatch)
    return folder


def pair_of_runs(n: int = 20, limit: int | None = None) -> tuple[str, str]:
    """A baseline with spurious calls and a candidate without, on the same suite (the candidate
    limited to its first ``limit`` scenarios)."""
    base = [trial(f"s{i}", [True], extra=i % 2) for i in range(n)]
    cand = [trial(f"s{i}", [True]) for i in range(limit or n)]
    return logged_run(base, "abc", "scripted/chaos"), logged_run(cand, "abc", "scripted/oracle")


def assert_refused(args: tuple[str, ...], folder: Path, where: str, *words: str) -> None:
    before = run_count(folder)
    outcome = invoke("compare", *args)
    assert outcome.code == 2 and outcome.out == "", outcome
    assert outcome.err.startswith(f"error: {where}: ") and outcome.err.count("\n") == 1, outcome.err
    assert all(word in outcome.err for word in words), outcome.err
    assert run_count(folder) == before


def test_a_run_compared_with_itself_is_refused(store: Path):
    b, _ = pair_of_runs()
    assert_refused(("--baseline", b, "--candidate", b), store, "--candidate", b, "baseline itself")


@pytest.mark.parametrize("status", ["RUNNING", "KILLED", "FAILED"])
@pytest.mark.parametrize("side", ["--baseline", "--candidate"])
def test_unfinished_runs_are_refused(store: Path, status: str, side: str):
    b, c = pair_of_runs()
    target = b if side == "--baseline" else c
    tracking.set_status(target, status)
    assert_refused(("--baseline", b, "--candidate", c), store, side, target, status)


def test_unpaired_scenarios_are_said_on_the_main_output(store: Path):
    b, c = pair_of_runs(20, limit=10)
    outcome = invoke("compare", "--baseline", b, "--candidate", c)
    assert outcome.code == 0, outcome
    assert "judged on 10 paired scenarios; 10 unpaired" in outcome.out
    payload = json.loads(invoke("compare", "--baseline", b, "--candidate", c, "--json").out)
    assert payload["unpaired"] == 10 and payload["scenarios"] == 10


def test_the_same_comparison_is_logged_once_and_reused(store: Path):
    b, c = pair_of_runs()
    first = invoke("compare", "--baseline", b, "--candidate", c, "--json")
    runs = run_count(store)
    again = invoke("compare", "--baseline", b, "--candidate", c)
    assert run_count(store) == runs
    one = json.loads(first.out)
    assert one["reused"] is False and one["verdict"] == "adopt" and one["test"] == "paired_bootstrap"
    assert f"comparison run: {one['run_id']} (reused" in again.out
    assert json.loads(invoke("compare", "--baseline", b, "--candidate", c, "--json").out)["reused"] is True
    other_seed = json.loads(invoke("compare", "--baseline", b, "--candidate", c, "--seed", "1", "--json").out)
    assert other_seed["reused"] is False and run_count(store) == runs + 1
    assert {"p_value", "test", "mcnemar_p", "delta_ci95", "verdict", "reason"} <= set(one)


def test_the_report_and_its_figure_show_the_verdict_and_its_test():
    from lab.compare_report import category_figure, markdown, plt, title

    base, cand = scenarios_differing(lambda sid: trial(sid, [True, True], extra=1))
    result = compare_records(cand, base, names=("C", "B"))
    heading = title(result)
    assert heading.startswith("adopt, ") and "paired_bootstrap p=" in heading
    figure = category_figure(result)
    assert heading in figure.axes[0].get_title()
    plt.close(figure)
    report = markdown(result)
    assert report.startswith("# Comparison: adopt") and result.reason in report
    assert "secondary (not used by the verdict" in report and "McNemar exact p (expected calls): 1" in report
