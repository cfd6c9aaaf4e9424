"""Aggregate scored scenario trials into the design's metrics, intervals and breakdowns.

Pure functions over ``ScoredScenario`` lists: ``tally`` counts verdicts, ``metrics`` turns the
counts into every metric name of the design (always the same names), ``intervals`` gives Wilson
95% intervals of the proportions, ``by_category``/``by_tool``/``confusion`` break them down.
Definitions are in docs/scoring.md. Nothing here scores a single call (lab/score.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from lab.stats import pass_hat_k, percentile, wilson
from lab.types import BLOCK_KINDS, ScoredScenario

METRIC_NAMES: tuple[str, ...] = (
    "call_accuracy",
    "turn_accuracy",
    "tool_selection_accuracy",
    "argument_accuracy",
    "scenario_success",
    "state_match",
    "clarification_accuracy",
    "abstention_accuracy",
    "malformed_rate",
    "hallucinated_tool_rate",
    "extra_call_rate",
    "blocked_malformed_rate",
    "blocked_hallucinated_rate",
    "blocked_invalid_rate",
    "blocked_valid_rate",
    "workflow_clarifications",
    "turns_saved_by_block",
    "pass_hat_k",
    "latency_p50_s",
    "latency_p95_s",
    "tokens_per_scenario",
)
NONE = "(none)"


@dataclass
class Tally:
    """Counts of verdicts over a set of scenario trials."""

    verdicts: Counter = field(default_factory=Counter)
    malformed_outputs: int = 0
    turns: int = 0
    turns_correct: int = 0
    clarify: int = 0
    clarify_ok: int = 0
    no_call: int = 0
    no_call_ok: int = 0
    trials: int = 0
    success: int = 0
    state_match: int = 0
    blocked: Counter = field(default_factory=Counter)
    workflow_clarifications: int = 0
    saved_by_block: int = 0
    state_known: int = 0

    @property
    def expected(self) -> int:
        """Expected calls: every outcome that has an expected call."""
        return sum(self.verdicts[v] for v in ("matched", "wrong_arguments", "wrong_tool", "missing"))

    @property
    def malformed(self) -> int:
        """Malformed calls plus model outputs that tried to call but did not parse."""
        return self.verdicts["malformed"] + self.malformed_outputs

    @property
    def attempts(self) -> int:
        """Calls the model attempted (blocked calls excluded), malformed outputs included."""
        paired = self.verdicts["matched"] + self.verdicts["wrong_arguments"] + self.verdicts["wrong_tool"]
        return paired + self.verdicts["extra"] + self.verdicts["hallucinated"] + self.malformed

    @property
    def proposed(self) -> int:
        """Every call the model proposed: the attempted ones and those a workflow check stopped."""
        return self.attempts + sum(self.blocked.values())

    @property
    def unmatched_made(self) -> int:
        """Made calls that answer no expected call."""
        return self.verdicts["extra"] + self.verdicts["hallucinated"] + self.malformed


def tally(scored: list[ScoredScenario]) -> Tally:
    """Count verdicts, turns and scenario outcomes."""
    counts = Tally()
    for item in scored:
        counts.trials += 1
        counts.success += item.success
        counts.state_match += bool(item.state_match)
        counts.state_known += item.state_match is not None
        for turn in item.turns:
            counts.turns += 1
            counts.turns_correct += turn.correct
            counts.malformed_outputs += turn.malformed
            counts.clarify += turn.kind == "clarify"
            counts.clarify_ok += bool(turn.clarify_ok)
            counts.no_call += turn.kind == "no_call"
            counts.no_call_ok += bool(turn.no_call_ok)
            counts.verdicts.update(outcome.verdict for outcome in turn.outcomes)
            counts.blocked.update(turn.blocked)
            counts.workflow_clarifications += turn.workflow_clarified
            counts.saved_by_block += turn.saved_by_block
    return counts


def proportions(counts: Tally) -> dict[str, tuple[int, int]]:
    """``(numerator, denominator)`` of every proportion metric."""
    v = counts.verdicts
    return {
        "call_accuracy": (v["matched"], counts.expected + counts.unmatched_made),
        "turn_accuracy": (counts.turns_correct, counts.turns),
        "tool_selection_accuracy": (v["matched"] + v["wrong_arguments"], counts.expected),
        "argument_accuracy": (v["matched"], v["matched"] + v["wrong_arguments"]),
        "scenario_success": (counts.success, counts.trials),
        "state_match": (counts.state_match, counts.state_known),
        "clarification_accuracy": (counts.clarify_ok, counts.clarify),
        "abstention_accuracy": (counts.no_call_ok, counts.no_call),
        "malformed_rate": (counts.malformed, counts.attempts),
        "hallucinated_tool_rate": (v["hallucinated"], counts.attempts),
        "extra_call_rate": (v["extra"], counts.attempts),
        **{f"blocked_{kind}_rate": (counts.blocked[kind], counts.proposed) for kind in BLOCK_KINDS},
    }


def _ratio(num: int, den: int, name: str) -> float | None:
    if den:
        return num / den
    # Nothing to get wrong: accuracies of an empty set are undefined, fault rates are zero.
    return 0.0 if name.endswith("_rate") else (1.0 if name == "call_accuracy" else None)


def metrics(scored: list[ScoredScenario], k: int | None = None) -> dict[str, float | None]:
    """Every metric of the design, by name; ``None`` where a metric has nothing to measure.

    Args:
        scored: the scored trials of a run.
        k: trials per scenario for ``pass_hat_k``; defaults to the most trials any scenario has.
    """
    counts = tally(scored)
    result = {name: _ratio(num, den, name) for name, (num, den) in proportions(counts).items()}
    result["workflow_clarifications"] = float(counts.workflow_clarifications)
    result["turns_saved_by_block"] = float(counts.saved_by_block)
    per_task: dict[str, list[bool]] = defaultdict(list)
    for item in scored:
        per_task[item.scenario_id].append(item.success)
    k = k or max((len(runs) for runs in per_task.values()), default=1)
    result["pass_hat_k"] = pass_hat_k([(sum(runs), len(runs)) for runs in per_task.values()], k)
    latencies = [item.latency_s for item in scored]
    result["latency_p50_s"] = percentile(latencies, 50)
    result["latency_p95_s"] = percentile(latencies, 95)
    tokens = [item.prompt_tokens + item.completion_tokens for item in scored]
    result["tokens_per_scenario"] = sum(tokens) / len(tokens) if tokens else None
    return {name: result[name] for name in METRIC_NAMES}


def intervals(scored: list[ScoredScenario]) -> dict[str, tuple[float, float] | None]:
    """Wilson 95% intervals of the proportion metrics (``None`` when the denominator is 0)."""
    return {name: wilson(num, den) for name, (num, den) in proportions(tally(scored)).items()}


def by_category(scored: list[ScoredScenario]) -> dict[str, dict]:
    """Per scenario category: trials, metrics and intervals."""
    groups: dict[str, list[ScoredScenario]] = defaultdict(list)
    for item in scored:
        groups[item.category].append(item)
    return {
        name: {"trials": len(items), "metrics": metrics(items), "ci95": intervals(items)}
        for name, items in sorted(groups.items())
    }


def by_tool(scored: list[ScoredScenario]) -> dict[str, dict]:
    """Per tool: verdict counts of its expected calls and of unmatched calls naming it, accuracy and interval.

    A tool's accuracy is matched / (its expected calls + the extra, hallucinated and malformed
    calls that name it), the headline ``call_accuracy`` restricted to one tool; ``judged`` is that
    denominator. Malformed outputs that named no call belong to no tool.
    """
    rows: dict[str, Counter] = defaultdict(Counter)
    for item in scored:
        for turn in item.turns:
            for outcome in turn.outcomes:
                rows[outcome.tool][outcome.verdict] += 1
    table = {}
    for tool, counts in sorted(rows.items()):
        expected = sum(counts[v] for v in ("matched", "wrong_arguments", "wrong_tool", "missing"))
        judged = expected + sum(counts[v] for v in ("extra", "hallucinated", "malformed"))
        table[tool] = {
            "expected": expected,
            **{v: counts[v] for v in ("matched", "wrong_arguments", "wrong_tool", "missing", "extra")},
            "hallucinated": counts["hallucinated"],
            "malformed": counts["malformed"],
            "judged": judged,
            "accuracy": counts["matched"] / judged if judged else None,
            "ci95": wilson(counts["matched"], judged),
        }
    return table


def confusion(scored: list[ScoredScenario]) -> dict[tuple[str, str], int]:
    """Counts of (expected tool, called tool); ``(none)`` for missing and unasked-for calls."""
    cells: Counter = Counter()
    for item in scored:
        for turn in item.turns:
            for outcome in turn.outcomes:
                expected = outcome.expected.name if outcome.expected else NONE
                called = outcome.made.name if outcome.made else NONE
                if outcome.verdict != "malformed":
                    cells[expected, called] += 1
    return dict(cells)
