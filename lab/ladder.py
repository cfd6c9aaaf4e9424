"""The prompting ladder: climb the cheap strategies, detect a plateau, recommend what next.

``decide`` is pure decision logic over a history of rungs (one scored run per strategy).
``run_ladder`` runs the strategies in order through the runner, each as a child run of one
parent MLflow run, stops once the target is met, and logs the ladder's table (``ladder_table``:
accuracy and what the workflow's checks stopped, per rung) and figure to the parent.
This module does not score or talk to models; it reaches MLflow only through lab/tracking.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from lab import figures, tracking
from lab.agent import AgentSettings
from lab.domain import DEFAULT_DOMAIN
from lab.errors import BadInput
from lab.run import RunConfig, RunSummary, resolve, run_suite
from lab.scenarios import load_scenarios
from lab.strategies import DEFAULT_TRAIN
from lab.types import BLOCK_KINDS, Contract

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LADDER: tuple[str, ...] = ("zero_shot", "instructed", "few_shot", "workflow")
BLOCKED_RATES: tuple[str, ...] = tuple(f"blocked_{kind}_rate" for kind in BLOCK_KINDS)
DecisionKind = Literal["target_met", "fine_tune", "keep_iterating"]


class Rung(Contract):
    """One rung of the ladder: a scored run of one strategy, with its 95% interval.

    The workflow fields say how much of the rung's score its checks made (lab/metrics.py): turns
    right only because calls were stopped, questions the workflow wrote, and the share of proposed
    calls stopped per kind; all 0 for a strategy without checks.
    """

    strategy: str
    run_id: str
    call_accuracy: float = Field(ge=0.0, le=1.0)
    ci_low: float = Field(ge=0.0, le=1.0)
    ci_high: float = Field(ge=0.0, le=1.0)
    trials: int = Field(default=0, ge=0, description="scenario trials run (0: not recorded)")
    failed: int = Field(default=0, ge=0, description="trials that failed outright (model errors)")
    turns_saved_by_block: int = Field(default=0, ge=0)
    workflow_clarifications: int = Field(default=0, ge=0)
    blocked_malformed_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    blocked_hallucinated_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    blocked_invalid_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    blocked_valid_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _interval_holds_accuracy(self) -> Rung:
        if not self.ci_low <= self.call_accuracy <= self.ci_high:
            raise ValueError("call_accuracy must lie inside [ci_low, ci_high]")
        return self


class Decision(Contract):
    """What the ladder recommends, and why."""

    decision: DecisionKind
    reason: str
    best: Rung | None
    plateau: bool


def best_rung(history: list[Rung]) -> Rung | None:
    """The rung with the highest call accuracy; on a tie the earlier (cheaper) one."""
    best: Rung | None = None
    for rung in history:
        if best is None or rung.call_accuracy > best.call_accuracy:
            best = rung
    return best


def recent_gain(history: list[Rung]) -> float:
    """What the last two rungs together added: accuracy now minus accuracy two rungs back.

    With only two rungs that is the single step between them.
    """
    if len(history) < 2:
        raise ValueError("a gain needs at least two rungs")
    return history[-1].call_accuracy - history[max(0, len(history) - 3)].call_accuracy


def intervals_overlap(a: Rung, b: Rung) -> bool:
    """Whether the 95% intervals of two rungs overlap (no clear difference between them)."""
    return a.ci_low <= b.ci_high and b.ci_low <= a.ci_high


def is_plateau(history: list[Rung], target: float, epsilon: float = 0.02) -> bool:
    """Plateau: below target, and the last two rungs gained < ``epsilon`` or their intervals overlap."""
    best = best_rung(history)
    if len(history) < 2 or best is None or best.call_accuracy >= target:
        return False
    return recent_gain(history) < epsilon or intervals_overlap(history[-2], history[-1])


def decide(history: list[Rung], target: float, epsilon: float = 0.02) -> Decision:
    """Recommend ``target_met``, ``fine_tune`` (plateau below target) or ``keep_iterating``.

    Args:
        history: the rungs in the order they were run.
        target: the call accuracy that is good enough, in [0, 1].
        epsilon: the smallest gain over the last two rungs that still counts as rising.

    Returns:
        The decision with its reason in words, the best rung and whether it is a plateau.
    """
    if not 0.0 <= target <= 1.0:
        raise ValueError("target must lie in [0, 1]")
    best = best_rung(history)
    if best is None:
        return Decision(decision="keep_iterating", reason="no rung has run yet", best=None, plateau=False)
    if best.call_accuracy >= target:
        reason = f"{best.strategy} reached call_accuracy {best.call_accuracy:.3f} >= target {target:.3f}"
        return Decision(decision="target_met", reason=reason, best=best, plateau=False)
    unmeasured = [r.strategy for r in history if r.trials and r.failed >= r.trials]
    if unmeasured:
        reason = (
            f"every trial of {', '.join(unmeasured)} failed outright (model errors such as timeouts), so "
            "nothing was measured; fix the model setup (e.g. --timeout) and climb again"
        )
        return Decision(decision="keep_iterating", reason=reason, best=best, plateau=False)
    if is_plateau(history, target, epsilon):
        reason = _plateau_reason(history, best, target, epsilon) + _failures_note(history)
        return Decision(decision="fine_tune", reason=reason, best=best, plateau=True)
    reason = _rising_reason(history, best, target, epsilon) + _failures_note(history)
    return Decision(decision="keep_iterating", reason=reason, best=best, plateau=False)


def _failures_note(history: list[Rung]) -> str:
    failed = [f"{r.failed} of {r.trials} in {r.strategy}" for r in history if r.failed]
    return f" (trials that failed outright: {', '.join(failed)})" if failed else ""


def _plateau_reason(history: list[Rung], best: Rung, target: float, epsilon: float) -> str:
    last, previous = history[-1], history[-2]
    gain = recent_gain(history)
    why = []
    if gain < epsilon:
        why.append(f"the last two rungs gained {gain:+.3f} < epsilon {epsilon:.3f}")
    if intervals_overlap(previous, last):
        why.append(
            f"the 95% intervals of {previous.strategy} [{previous.ci_low:.3f}, {previous.ci_high:.3f}] and "
            f"{last.strategy} [{last.ci_low:.3f}, {last.ci_high:.3f}] overlap"
        )
    return (
        f"plateau below target: {' and '.join(why)}; best is {best.strategy} at "
        f"{best.call_accuracy:.3f} < target {target:.3f}, so fine-tuning is the next step"
    )


def _rising_reason(history: list[Rung], best: Rung, target: float, epsilon: float) -> str:
    if len(history) < 2:
        return (
            f"only one rung ({best.strategy} at {best.call_accuracy:.3f} < target {target:.3f}); "
            "climb more rungs before judging a plateau"
        )
    return (
        f"still rising: the last two rungs gained {recent_gain(history):+.3f} >= epsilon {epsilon:.3f} "
        f"with separated 95% intervals; best {best.strategy} at {best.call_accuracy:.3f} < target "
        f"{target:.3f}, so keep improving prompts and workflow"
    )


def ladder_figure(history: list[Rung], target: float) -> Figure:
    """Call accuracy per rung with its 95% interval, and the target as a dashed line."""
    plt = figures.plt
    fig, ax = plt.subplots(figsize=(max(4.5, 1.3 * len(history) + 2), 3.8))
    names = [rung.strategy for rung in history]
    values = [rung.call_accuracy for rung in history]
    errors = [
        [v - r.ci_low for v, r in zip(values, history, strict=True)],
        [r.ci_high - v for v, r in zip(values, history, strict=True)],
    ]
    ax.errorbar(range(len(history)), values, yerr=errors, fmt="o-", capsize=4, label="call_accuracy (95% CI)")
    ax.axhline(target, linestyle="--", color="tab:red", label=f"target {target:.2f}")
    ax.set_xticks(range(len(history)), names)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("call_accuracy")
    ax.set_title("Prompting ladder")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


@dataclass
class LadderResult:
    """A finished ladder: the parent run, the rungs climbed and the decision."""

    parent_run_id: str
    experiment: str
    target: float
    epsilon: float
    rungs: list[Rung]
    decision: Decision

    def as_json(self) -> dict[str, Any]:
        """The ``lab ladder --json`` object."""
        best = self.decision.best
        return {
            "parent_run_id": self.parent_run_id,
            "experiment": self.experiment,
            "target": self.target,
            "epsilon": self.epsilon,
            "runs": [
                {
                    "strategy": r.strategy,
                    "run_id": r.run_id,
                    "call_accuracy": r.call_accuracy,
                    "ci95": [r.ci_low, r.ci_high],
                    "failed_trials": r.failed,
                    "turns_saved_by_block": r.turns_saved_by_block,
                    "workflow_clarifications": r.workflow_clarifications,
                    **{name: getattr(r, name) for name in BLOCKED_RATES},
                }
                for r in self.rungs
            ],
            "best": best.model_dump() if best else None,
            "plateau": self.decision.plateau,
            "decision": self.decision.decision,
            "reason": self.decision.reason,
        }


def ladder_table(rungs: list[Rung]) -> str:
    """The rungs as a markdown table: accuracy, interval, failures and what the workflow stopped."""
    lines = [
        "| rung | call_accuracy | 95% CI | failed trials | turns saved by a block | workflow questions "
        "| blocked malformed | blocked hallucinated | blocked invalid | blocked valid |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rungs:
        blocked = " | ".join(f"{getattr(r, name):.3f}" for name in BLOCKED_RATES)
        lines.append(
            f"| {r.strategy} | {r.call_accuracy:.3f} | [{r.ci_low:.3f}, {r.ci_high:.3f}] "
            f"| {r.failed}/{r.trials} | {r.turns_saved_by_block} | {r.workflow_clarifications} | {blocked} |"
        )
    return "\n".join(lines) + "\n"


def rung_from(summary: RunSummary) -> Rung:
    """A rung from a finished suite run: call accuracy, Wilson 95% interval, what the workflow stopped."""
    metrics = summary.result["metrics"]
    accuracy = metrics.get("call_accuracy")
    if accuracy is None:
        raise BadInput("--suite", f"{summary.suite} has no API calls to score, so call_accuracy is undefined")
    low, high = summary.result["ci95"].get("call_accuracy") or (accuracy, accuracy)
    return Rung(
        strategy=summary.strategy,
        run_id=summary.run_id,
        call_accuracy=accuracy,
        ci_low=min(low, accuracy),
        ci_high=max(high, accuracy),
        trials=len(summary.records),
        failed=summary.failed,
        turns_saved_by_block=int(metrics.get("turns_saved_by_block") or 0),
        workflow_clarifications=int(metrics.get("workflow_clarifications") or 0),
        **{name: metrics.get(name) or 0.0 for name in BLOCKED_RATES},
    )


def check_ladder_options(suite: Path, target: float, epsilon: float) -> None:
    """Check the ladder's own arguments before any run is opened (the model and the suite runs'
    options: ``lab.run.resolve``)."""
    if not 0.0 <= target <= 1.0:
        raise BadInput("--target", f"must lie in [0, 1], not {target}")
    if not 0.0 <= epsilon <= 1.0:
        raise BadInput("--epsilon", f"must lie in [0, 1], not {epsilon}")
    if not load_scenarios(suite):
        raise BadInput(str(suite), "the suite has no scenarios")


def run_ladder(
    model: str,
    suite: Path | str,
    target: float,
    *,
    epsilon: float = 0.02,
    limit: int | None = None,
    trials: int = 1,
    concurrency: int = 1,
    strategies: tuple[str, ...] = LADDER,
    experiment: str | None = None,
    seed: int = 0,
    train_file: Path | str = DEFAULT_TRAIN,
    settings: AgentSettings | None = None,
    on_rung: Callable[[Rung], None] | None = None,
    domain: str = DEFAULT_DOMAIN,
) -> LadderResult:
    """Climb the strategies in order, each a child run of one parent run; stop once the target is met.

    Args:
        model: the litellm model string.
        suite: the scenario file (its stem names the experiment unless ``experiment`` is given).
        target: the call accuracy that is good enough.
        epsilon: the smallest gain over the last two rungs that still counts as rising.
        limit, trials, concurrency, seed, settings: passed to every suite run.
        strategies: the rungs, in order.
        train_file: the train scenarios few_shot draws its examples from.
        on_rung: called with each rung as it finishes.
        domain: the domain (name or module path) every rung runs on.

    Returns:
        The parent run id, the rungs and the decision (also logged to the parent run with a figure).
    """
    suite = Path(suite)
    check_ladder_options(suite, target, epsilon)
    experiment = experiment or suite.stem
    params = dict(model=model, suite=str(suite), target=target, epsilon=epsilon, limit=limit, trials=trials)
    params |= {"strategies": ",".join(strategies), "seed": seed, "domain": domain}
    base = RunConfig(model=model, strategy=strategies[0], suite=suite, limit=limit, trials=trials,
                     concurrency=concurrency, seed=seed, domain=domain)  # fmt: skip
    resolve(base)  # --limit, --trials, --concurrency as every rung checks them, before any run is opened
    parent = tracking.start_run(experiment, params, {"lab.kind": "ladder"}, run_name=f"ladder {model}")
    base = replace(base, experiment=experiment, parent_run_id=parent.run_id, train_file=Path(train_file))
    base = replace(base, settings=settings or AgentSettings(), tags={"lab.ladder": parent.run_id})
    try:
        rungs = climb(base, strategies, target, on_rung)
        result = LadderResult(
            parent.run_id, experiment, target, epsilon, rungs, decide(rungs, target, epsilon)
        )
        log_ladder(result)
    except BaseException as exc:
        tracking.set_status(parent.run_id, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    tracking.set_status(parent.run_id, "FINISHED")
    return result


def climb(
    base: RunConfig, strategies: tuple[str, ...], target: float, on_rung: Callable[[Rung], None] | None
) -> list[Rung]:
    """Run ``base`` with each strategy in turn until one reaches ``target``."""
    rungs: list[Rung] = []
    for strategy in strategies:
        rungs.append(rung_from(run_suite(replace(base, strategy=strategy))))
        if on_rung:
            on_rung(rungs[-1])
        if rungs[-1].call_accuracy >= target:
            break
    return rungs


def log_ladder(result: LadderResult) -> None:
    """Log the decision, per-rung accuracies, the ladder table and figure to the parent run."""
    run_id, decision = result.parent_run_id, result.decision
    metrics = {f"{r.strategy}/call_accuracy": r.call_accuracy for r in result.rungs}
    metrics |= {
        "best/call_accuracy": decision.best.call_accuracy if decision.best else None,
        "plateau": float(decision.plateau),
        "rungs": float(len(result.rungs)),
    }
    tracking.log_metrics(run_id, metrics)
    tags = {"lab.decision": decision.decision, "mlflow.note.content": decision.reason}
    if decision.best:
        tags["lab.best_strategy"] = decision.best.strategy
    tracking.set_tags(run_id, tags)
    tracking.log_dict(run_id, result.as_json(), "ladder.json")
    tracking.log_text(run_id, ladder_table(result.rungs), "ladder.md")
    figure = ladder_figure(result.rungs, result.target)
    try:
        tracking.log_figure(run_id, figure, "ladder.png")
    finally:
        figures.close(figure)
