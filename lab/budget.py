"""A tuning time budget: how many training rows fit, from step times measured on this machine.

A training step's time grows with the padded tokens of its batch (rows x width after the shared
prefix; attention to the prefix grows with them too) plus a fixed part (the prefix's own forward
pass, the optimizer). ``StepModel.fit`` fits ``seconds = per_step + per_token * tokens`` to a few
timed steps (least squares, scipy); ``plan_seconds`` predicts a plan's training time from its
batches; ``fit_rows`` finds the most rows whose predicted time fits; ``BudgetFit`` puts these
together for an export's rows. ``Deadline`` tells a training loop when the budget is spent, and
how much of it, on an injectable clock. Nothing here runs a model or reads files (lab/tune.py
times the steps, through ``lab.lora.time_steps``, and trains).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from lab import tune_data
from lab.errors import BadInput

# The share of the remaining budget the predicted training time may fill: step times on a shared
# machine drift, and the val loss and the adapter's save come after training.
FILL = 0.9
# A forward pass without backward costs about a third of a training step (the val loss).
FORWARD_SHARE = 1 / 3


@dataclass(frozen=True)
class StepModel:
    """Seconds of one training step: ``per_step + per_token * tokens`` (tokens padded, after the prefix)."""

    per_step: float
    per_token: float

    @classmethod
    def fit(cls, samples: Sequence[tuple[int, float]]) -> StepModel:
        """The model fitted to ``(tokens, seconds)`` of timed steps.

        One sample, samples of one size, or a fit with a negative part (noise) fall back to all the
        time per token, which overestimates short batches and so never overruns.

        Raises:
            ValueError: no samples, or a sample with no tokens or no time.
        """
        if not samples or any(tokens <= 0 or seconds <= 0 for tokens, seconds in samples):
            raise ValueError("need timed steps with tokens and time")
        tokens = [float(t) for t, _ in samples]
        seconds = [s for _, s in samples]
        proportional = cls(0.0, sum(seconds) / sum(tokens))
        if len(set(tokens)) < 2:
            return proportional
        line = stats.linregress(tokens, seconds)
        if line.slope <= 0 or line.intercept < 0:
            return proportional
        return cls(float(line.intercept), float(line.slope))

    def seconds(self, tokens: int) -> float:
        """Predicted seconds of one step over a batch of ``tokens`` padded tokens."""
        return self.per_step + self.per_token * tokens


def plan_seconds(model: StepModel, batch_tokens: Sequence[int], epochs: int) -> float:
    """Predicted training time of ``epochs`` passes over batches of these padded token counts."""
    return epochs * sum(model.seconds(tokens) for tokens in batch_tokens)


PROBE_QUANTILES = (0.1, 0.5, 0.9)


def probe_batches(batches: Sequence[dict], quantiles: Sequence[float] = PROBE_QUANTILES) -> list[dict]:
    """A short warm-up batch, then the batches at these quantiles of padded tokens, to time: the
    first step of a process is slow, so it is timed but not kept; the largest batches are left out
    (the step model extrapolates to them) because timing them costs the most."""
    ordered = sorted(batches, key=lambda b: len(b["input_ids"]) * len(b["input_ids"][0]))
    if len(ordered) <= 1:
        return ordered * 2
    return [ordered[0], *(ordered[round(q * (len(ordered) - 1))] for q in quantiles)]


def fit_rows(available: int, seconds_for: Callable[[int], float], budget_s: float) -> int:
    """The most rows ``n`` in ``[1, available]`` with ``seconds_for(n) <= budget_s``; 0 if none.

    ``seconds_for`` must not decrease with ``n`` (more rows never train faster); binary search, so
    it is called about ``log2(available)`` times.
    """
    low, high = 0, available
    while low < high:
        middle = (low + high + 1) // 2
        if seconds_for(middle) <= budget_s:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass
class Deadline:
    """When a time budget runs out, on ``clock`` (seconds; ``time.perf_counter`` unless injected)."""

    budget_s: float
    clock: Callable[[], float] = time.perf_counter
    start: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.start < 0:
            self.start = self.clock()

    def left(self) -> float:
        """Seconds left (negative once spent)."""
        return self.start + self.budget_s - self.clock()

    def spent(self, reserve_s: float = 0.0) -> bool:
        """Whether less than ``reserve_s`` seconds are left."""
        return self.left() < reserve_s

    def share_from_now(self, reserve_s: float = 0.0) -> Callable[[], float]:
        """A function giving the share (0 to 1) used, since this call, of the time that was then
        left before only ``reserve_s`` remains: 1 from the moment ``spent(reserve_s)`` is true."""
        total = self.left() - reserve_s

        def share() -> float:
            if total <= 0:
                return 1.0
            return min(1.0, max(0.0, 1.0 - (self.left() - reserve_s) / total))

        return share


@dataclass
class BudgetFit:
    """Chooses how many rows fit what is left of ``deadline``: training, then the val loss.

    Called with the shuffled rows and the val items, it times the steps of a few batches of all the
    rows with ``timer``, fits a ``StepModel`` and returns the most rows whose predicted
    training fits; ``reserve_s`` is then the predicted time of the val loss, which training leaves.
    """

    deadline: Deadline
    timer: Callable[[list[dict[str, Any]]], list[tuple[int, float]]]
    encoder: tune_data.Encoder
    batch_size: int
    epochs: int
    pad_id: int
    reserve_s: float = 0.0

    def __call__(self, rows: list[dict[str, Any]], val: list[tune_data.Item]) -> int:
        """How many of ``rows`` to train on.

        Raises:
            BadInput: at ``--budget-minutes`` when not even one row fits.
        """
        everything = tune_data.encode_rows(rows, self.encoder)
        batches = tune_data.batches(everything, self.batch_size, self.pad_id, seed=0, epoch=0)
        model = StepModel.fit(self.timer(probe_batches(batches))[1:])
        val_tokens = tune_data.batch_tokens(val, self.batch_size)
        self.reserve_s = FORWARD_SHARE * plan_seconds(model, val_tokens, 1)
        left = FILL * self.deadline.left() - self.reserve_s

        def seconds_for(n: int) -> float:
            items = tune_data.encode_rows(rows[:n], self.encoder)
            return plan_seconds(model, tune_data.batch_tokens(items, self.batch_size), self.epochs)

        n = fit_rows(len(rows), seconds_for, left)
        if n == 0:
            raise BadInput(
                "--budget-minutes", f"too short: {max(0.0, left):.0f} s left after loading and timing, "
                f"and one row's {self.epochs} epoch(s) take about {seconds_for(1):.0f} s",
            )  # fmt: skip
        return n
