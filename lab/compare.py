"""Paired comparison of two runs on the same suite: is the candidate better than the baseline?

``compare_records`` pairs the two results logs by (scenario, trial) and, inside each pair, by
expected call. The verdict rests on one paired test of the headline quantity: the ``call_accuracy``
delta (ratio of sums, extra/hallucinated/malformed calls included, as lab/metrics.py defines it)
resampled by scenario (seeded paired bootstrap); its 95% interval and its p-value come from the same
resamples and agree by construction (lab/stats.py ``percentile_test``). McNemar's exact test on the
expected calls (and on scenario success) is kept as a secondary figure; per-tool and per-category
deltas, latency and token ratios (candidate / baseline) complete the report. ``compare`` loads two
finished MLflow runs, refuses a run compared with itself, unfinished runs and runs on different
suites, and logs the result (lab/compare_report.py) unless the same comparison is already logged.
Nothing here scores a call (lab/score.py) or runs a model.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Literal

import numpy as np

from lab import metrics, tracking
from lab.errors import BadInput
from lab.stats import PairedTest, bootstrap_distribution, mcnemar_exact, percentile, percentile_test
from lab.types import Contract, ResultRecord, ScoredScenario

ALPHA = 0.05
RESAMPLES = 2000
TEST = "paired_bootstrap"  # the test the verdict uses (``Comparison.test``)
TEST_TEXT = "paired bootstrap"
SUITE_PARAM = "suite_sha256"
CallKey = tuple[str, int, int, str, int]
Pair = tuple[ScoredScenario, ScoredScenario]


class GroupDelta(Contract):
    """Baseline and candidate accuracy of one group (a tool or a category)."""

    n: int
    baseline: float | None
    candidate: float | None
    delta: float | None


class Comparison(Contract):
    """The paired comparison of a candidate run against a baseline run (``comparison.json``)."""

    baseline: str
    candidate: str
    suite_sha256: str = ""
    scenarios: int
    unpaired: int
    calls: int
    baseline_call_accuracy: float
    candidate_call_accuracy: float
    delta: float
    delta_ci95: tuple[float, float] | None
    p_value: float
    test: str = TEST
    mcnemar_p: float
    discordant: dict[str, int]
    baseline_success: float
    candidate_success: float
    mcnemar_p_scenarios: float
    latency_ratio: float | None
    latency_p95_ratio: float | None
    tokens_ratio: float | None
    per_tool: dict[str, GroupDelta]
    per_category: dict[str, GroupDelta]
    target: float | None = None
    seed: int = 0
    resamples: int = RESAMPLES
    verdict: Literal["adopt", "reject", "inconclusive"]
    reason: str
    run_id: str | None = None
    reused: bool = False


def pair_records(
    baseline: Sequence[ResultRecord], candidate: Sequence[ResultRecord]
) -> tuple[list[Pair], int]:
    """Trials of both runs paired by (scenario, trial), in baseline order, and the unpaired count."""
    theirs = {(r.scored.scenario_id, r.scored.trial): r.scored for r in candidate}
    pairs = [
        (r.scored, theirs[(r.scored.scenario_id, r.scored.trial)])
        for r in baseline
        if (r.scored.scenario_id, r.scored.trial) in theirs
    ]
    return pairs, len(baseline) + len(candidate) - 2 * len(pairs)


def expected_calls(scored: ScoredScenario) -> dict[CallKey, tuple[str, bool]]:
    """Each expected call of a trial, keyed by turn and content, with its tool and whether it was matched."""
    found: dict[CallKey, tuple[str, bool]] = {}
    seen: Counter = Counter()
    for turn in scored.turns:
        for outcome in turn.outcomes:
            if outcome.expected is None:
                continue
            content = json.dumps(outcome.expected.model_dump(mode="json"), sort_keys=True)
            seen[turn.index, content] += 1
            key = (scored.scenario_id, scored.trial, turn.index, content, seen[turn.index, content])
            found[key] = (outcome.tool, outcome.verdict == "matched")
    return found


def call_pairs(pairs: Sequence[Pair]) -> list[tuple[str, bool, bool]]:
    """``(tool, baseline matched, candidate matched)`` for every expected call present in both trials."""
    result = []
    for base, cand in pairs:
        theirs = expected_calls(cand)
        for key, (tool, matched) in expected_calls(base).items():
            if key in theirs:
                result.append((tool, matched, theirs[key][1]))
    return result


def accuracy_counts(scored: ScoredScenario) -> tuple[int, int]:
    """``call_accuracy`` numerator and denominator of one trial, as lab/metrics.py defines them."""
    return metrics.proportions(metrics.tally([scored]))["call_accuracy"]


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0  # no call expected or made: nothing to get wrong (as lab/metrics.py)


def unit_counts(pairs: Sequence[Pair]) -> list[tuple[int, int, int, int]]:
    """Per scenario (the resampling unit; its paired trials summed): baseline numerator and
    denominator of ``call_accuracy``, then the candidate's, in order of first appearance."""
    units: dict[str, list[int]] = {}
    for base, cand in pairs:
        row = units.setdefault(base.scenario_id, [0, 0, 0, 0])
        for i, value in enumerate((*accuracy_counts(base), *accuracy_counts(cand))):
            row[i] += value
    return [(a, b, c, d) for a, b, c, d in units.values()]


def _ratios(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 1.0)


def delta_statistic(
    bn: np.ndarray, bd: np.ndarray, cn: np.ndarray, cd: np.ndarray, axis: int = -1
) -> np.ndarray:
    """Candidate minus baseline ``call_accuracy`` (ratio of sums over ``axis``; vectorised)."""
    return _ratios(cn.sum(axis), cd.sum(axis)) - _ratios(bn.sum(axis), bd.sum(axis))


def discordant(outcomes: Sequence[tuple[bool, bool]]) -> dict[str, int]:
    """Counts of pairs where only the baseline, or only the candidate, was right."""
    return {
        "baseline_only": sum(1 for b, c in outcomes if b and not c),
        "candidate_only": sum(1 for b, c in outcomes if c and not b),
    }


def _mean(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _group(base: float | None, cand: float | None, n: int) -> GroupDelta:
    delta = None if base is None or cand is None else cand - base
    return GroupDelta(n=n, baseline=base, candidate=cand, delta=delta)


def per_tool(calls: Sequence[tuple[str, bool, bool]]) -> dict[str, GroupDelta]:
    """Accuracy of each tool's expected calls in both runs."""
    tools = sorted({tool for tool, _, _ in calls})
    rows = {t: [(b, c) for tool, b, c in calls if tool == t] for t in tools}
    return {t: _group(_mean([b for b, _ in r]), _mean([c for _, c in r]), len(r)) for t, r in rows.items()}


def per_category(pairs: Sequence[Pair]) -> dict[str, GroupDelta]:
    """``call_accuracy`` of each scenario category in both runs."""
    result = {}
    for category in sorted({base.category for base, _ in pairs}):
        group = [(b, c) for b, c in pairs if b.category == category]
        base = metrics.metrics([b for b, _ in group])["call_accuracy"]
        cand = metrics.metrics([c for _, c in group])["call_accuracy"]
        result[category] = _group(base, cand, len(group))
    return result


def value_ratio(base: Sequence[float], cand: Sequence[float], q: float | None) -> float | None:
    """Candidate / baseline of a percentile (``q``) or of the mean (``q`` None); None when undefined."""
    if not base or not cand:
        return None
    b = percentile(base, q) if q is not None else sum(base) / len(base)
    c = percentile(cand, q) if q is not None else sum(cand) / len(cand)
    return c / b if b else None


def decide(
    delta: float,
    test: PairedTest,
    accuracies: tuple[float, float],
    target: float | None,
) -> tuple[Literal["adopt", "reject", "inconclusive"], str]:
    """The verdict and its reason, read from the paired test of the ``call_accuracy`` delta.

    ``adopt`` when the candidate is significantly better (the 95% interval above 0, which is the
    same as p < 0.05 with the interval on the positive side), or meets ``target`` while the
    baseline does not; ``reject`` when it is significantly worse (the interval below 0); else
    ``inconclusive``. The reason prints the interval and p with enough digits that neither seems
    to say otherwise. McNemar's test is not used: it counts expected calls only, so it cannot see
    extra, hallucinated or malformed calls, which ``call_accuracy`` counts.
    """
    base, cand = accuracies
    ci = ci_text(test.low, test.high)
    evidence = (
        f"call_accuracy {base:.3f} -> {cand:.3f} (delta {delta:+.3f}, 95% CI {ci}), "
        f"{TEST_TEXT} p={p_text(test.p_value)}"
    )
    if test.low > 0:
        return "adopt", f"candidate significantly better: {evidence}"
    if test.high < 0:
        return "reject", f"candidate significantly worse: {evidence}"
    if target is not None and cand >= target > base:
        return "adopt", f"candidate meets the target {target:g} and the baseline does not: {evidence}"
    why = "no significant difference"
    if target is not None:
        met = {(True, True): "met by both", (True, False): "met by the baseline only"}
        why += f"; target {target:g} {met.get((base >= target, cand >= target), 'met by neither')}"
    return "inconclusive", f"{why}: {evidence}"


def _signed(value: float) -> str:
    """``value`` to 3 decimals, or to 2 significant digits when 3 decimals would print it as 0."""
    text = f"{value:+.3f}"
    return text if value == 0 or float(text) != 0 else f"{value:+.2g}"


def ci_text(low: float, high: float) -> str:
    """An interval as ``+0.170..+0.305``; an endpoint that is not 0 never prints as 0."""
    return f"{_signed(low)}..{_signed(high)}"


def p_text(p: float) -> str:
    """``p`` with the fewest significant digits (3 or more) that stay on its side of ALPHA."""
    for digits in range(3, 18):
        text = f"{p:.{digits}g}"
        if (float(text) < ALPHA) == (p < ALPHA):
            return text
    return repr(p)


def compare_records(
    baseline: Sequence[ResultRecord],
    candidate: Sequence[ResultRecord],
    *,
    names: tuple[str, str] = ("baseline", "candidate"),
    target: float | None = None,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> Comparison:
    """Compare two results logs of the same suite (pure: no MLflow).

    Raises:
        BadInput: at the candidate's name when no (scenario, trial) is in both logs.
    """
    pairs, unpaired = pair_records(baseline, candidate)
    if not pairs:
        raise BadInput(names[1], f"shares no scenario trial with {names[0]}")
    units = unit_counts(pairs)
    totals = [sum(row[i] for row in units) for i in range(4)]
    accuracies = (_ratio(totals[0], totals[1]), _ratio(totals[2], totals[3]))
    delta = accuracies[1] - accuracies[0]
    columns = [[row[i] for row in units] for i in range(4)]
    test = percentile_test(bootstrap_distribution(columns, delta_statistic, resamples, seed), ALPHA)
    calls = call_pairs(pairs)
    split = discordant([(b, c) for _, b, c in calls])
    success = discordant([(b.success, c.success) for b, c in pairs])
    verdict, reason = decide(delta, test, accuracies, target)
    base_lat, cand_lat = [b.latency_s for b, _ in pairs], [c.latency_s for _, c in pairs]
    base_tok = [b.prompt_tokens + b.completion_tokens for b, _ in pairs]
    cand_tok = [c.prompt_tokens + c.completion_tokens for _, c in pairs]
    return Comparison(
        baseline=names[0],
        candidate=names[1],
        scenarios=len(pairs),
        unpaired=unpaired,
        calls=len(calls),
        baseline_call_accuracy=accuracies[0],
        candidate_call_accuracy=accuracies[1],
        delta=delta,
        delta_ci95=(test.low, test.high),
        p_value=test.p_value,
        mcnemar_p=mcnemar_exact(split["baseline_only"], split["candidate_only"]),
        discordant=split,
        baseline_success=_mean([b.success for b, _ in pairs]) or 0.0,
        candidate_success=_mean([c.success for _, c in pairs]) or 0.0,
        mcnemar_p_scenarios=mcnemar_exact(success["baseline_only"], success["candidate_only"]),
        latency_ratio=value_ratio(base_lat, cand_lat, 50),
        latency_p95_ratio=value_ratio(base_lat, cand_lat, 95),
        tokens_ratio=value_ratio(base_tok, cand_tok, None),
        per_tool=per_tool(calls),
        per_category=per_category(pairs),
        target=target,
        seed=seed,
        resamples=resamples,
        verdict=verdict,
        reason=reason,
    )


def finished_params(run_id: str, where: str) -> dict[str, str]:
    """The params of a run that may be compared.

    Raises:
        BadInput: at the run id when the store has no such run; at ``where`` when the run is not
            FINISHED (RUNNING, KILLED or FAILED: its results may be partial).
    """
    run = tracking.find_run(run_id)
    if run.status != "FINISHED":
        raise BadInput(
            where,
            f"run {run_id} is {run.status}; only FINISHED runs are compared (its results may be partial)",
        )
    return run.params


def compare(
    baseline_run: str,
    candidate_run: str,
    target: float | None = None,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> Comparison:
    """Compare two MLflow runs of the same suite and log the comparison as its own run.

    When a comparison run of the same pair with the same settings and the same figures is already
    logged, that run is returned (``reused``) and nothing new is logged.

    Raises:
        BadInput: at ``--candidate`` when it is the baseline run itself or the runs are on different
            suites; at ``--baseline``/``--candidate`` when that run is not FINISHED; at a run id when
            it is unknown or has no results log.
    """
    from lab import compare_report  # figures and MLflow logging; keeps this module pure to import

    if baseline_run == candidate_run:
        raise BadInput(
            "--candidate", f"run {candidate_run} is the baseline itself; compare two different runs"
        )
    base_params = finished_params(baseline_run, "--baseline")
    cand_params = finished_params(candidate_run, "--candidate")
    base_suite, cand_suite = base_params.get(SUITE_PARAM), cand_params.get(SUITE_PARAM)
    if not base_suite or base_suite != cand_suite:
        raise BadInput(
            "--candidate",
            f"run {candidate_run} is on suite {cand_suite or '(unknown)'} but the baseline {baseline_run} "
            f"is on {base_suite or '(unknown)'}; a paired comparison needs the same suite",
        )
    result = compare_records(
        tracking.load_results(baseline_run),
        tracking.load_results(candidate_run),
        names=(baseline_run, candidate_run),
        target=target,
        seed=seed,
        resamples=resamples,
    )
    result = result.model_copy(update={"suite_sha256": base_suite})
    existing = compare_report.find_logged(result)
    if existing is not None:
        return result.model_copy(update={"run_id": existing, "reused": True})
    run_id = compare_report.log_comparison(result, base_params, cand_params)
    return result.model_copy(update={"run_id": run_id})
