"""The prompting ladder: climb the cheap strategies, detect a plateau, recommend what next.

``decide`` is pure decision logic over a history of rungs (one scored run per strategy).
``run_ladder`` runs the strategies in order through the runner, each as a child run of one
parent MLflow run, stops once the target is met, and logs a ladder figure to the parent.
This module does not score, does not talk to models and does not import MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from lab.types import Contract

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LADDER: tuple[str, ...] = ("zero_shot", "instructed", "few_shot", "workflow")
DecisionKind = Literal["target_met", "fine_tune", "keep_iterating"]


class Rung(Contract):
    """One rung of the ladder: a scored run of one strategy, with its 95% interval."""

    strategy: str
    run_id: str
    call_accuracy: float = Field(ge=0.0, le=1.0)
    ci_low: float = Field(ge=0.0, le=1.0)
    ci_high: float = Field(ge=0.0, le=1.0)

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
    if is_plateau(history, target, epsilon):
        return Decision(
            decision="fine_tune", reason=_plateau_reason(history, target, epsilon), best=best, plateau=True
        )
    return Decision(
        decision="keep_iterating", reason=_rising_reason(history, target, epsilon), best=best, plateau=False
    )


def _plateau_reason(history: list[Rung], target: float, epsilon: float) -> str:
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
    best = best_rung(history)
    assert best is not None
    return (
        f"plateau below target: {' and '.join(why)}; best is {best.strategy} at "
        f"{best.call_accuracy:.3f} < target {target:.3f}, so fine-tuning is the next step"
    )


def _rising_reason(history: list[Rung], target: float, epsilon: float) -> str:
    best = best_rung(history)
    assert best is not None
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
