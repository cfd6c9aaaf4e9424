"""Small statistics for scored runs: Wilson intervals, percentiles and pass^k, and the paired
tests used to compare two runs (McNemar's exact test, a seeded paired bootstrap whose percentile
interval and p-value agree by construction). Intervals, binomial tests and resampling come from
``scipy.stats``, imported where they are used (about a second: a command refused for bad input
never pays for it).

Pure functions over plain numbers; nothing here knows about scenarios or MLflow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for a binomial proportion (``scipy.stats.binomtest``'s ``wilson``).

    Args:
        successes: number of successes, ``0 <= successes <= n``.
        n: number of trials.
        level: coverage of the interval.

    Returns:
        ``(low, high)`` within [0, 1], or ``None`` when ``n`` is 0.
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} outside 0..{n}")
    from scipy import stats

    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) by linear interpolation, like numpy's default.

    Returns:
        The percentile, or ``None`` for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def pass_hat_k(successes_per_task: Sequence[tuple[int, int]], k: int) -> float | None:
    """τ-bench pass^k: mean over tasks of C(c, k) / C(n, k).

    Args:
        successes_per_task: ``(c, n)`` per task: ``c`` successes in ``n`` trials.
        k: trials that must all succeed; tasks with ``n < k`` are skipped.

    Returns:
        The mean, or ``None`` when no task has at least ``k`` trials.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    ratios = [math.comb(c, k) / math.comb(n, k) for c, n in successes_per_task if n >= k]
    return sum(ratios) / len(ratios) if ratios else None


# --------------------------------------------------------------------------- paired tests


class PairedTest(NamedTuple):
    """A paired resampling test: the interval of the statistic and a p-value that agree.

    ``p_value < alpha`` exactly when the ``1 - alpha`` interval excludes 0 (``low > 0`` or
    ``high < 0``); the direction of a significant difference is the side of 0 the interval is on.
    """

    low: float
    high: float
    p_value: float


def mcnemar_exact(baseline_only: int, candidate_only: int) -> float:
    """McNemar's exact test: two-sided binomial test of the discordant pairs at p = 1/2.

    Args:
        baseline_only: pairs where only the baseline was right (b).
        candidate_only: pairs where only the candidate was right (c).

    Returns:
        ``scipy.stats.binomtest(b, b + c, 0.5)``'s two-sided p; 1.0 when there is no discordant pair.
    """
    if baseline_only < 0 or candidate_only < 0:
        raise ValueError("discordant counts must be non-negative")
    n = baseline_only + candidate_only
    from scipy import stats

    return 1.0 if n == 0 else float(stats.binomtest(baseline_only, n, 0.5).pvalue)


def bootstrap_distribution(
    columns: Sequence[Sequence[float]],
    statistic: Callable[..., np.ndarray],
    resamples: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """The statistic over ``resamples`` paired resamples of the units (``scipy.stats.bootstrap``).

    Args:
        columns: one sequence per variable, each with one value per unit; a resample draws units
            with replacement and keeps every unit's values together (paired).
        statistic: vectorised statistic ``statistic(*columns, axis=-1)`` of resampled columns.
        resamples: number of resamples.
        seed: seed of the resampling; the same seed gives the same distribution.

    Returns:
        The ``resamples`` values; with a single unit every resample is that unit, so every value
        is the statistic of the data (scipy needs two units, so that case is computed here).

    Raises:
        ValueError: when there is no unit.
    """
    data = tuple(np.asarray(column, dtype=float) for column in columns)
    if not data or len(data[0]) == 0:
        raise ValueError("no unit to resample")
    if len(data[0]) == 1:
        return np.full(resamples, float(statistic(*data, axis=-1)))
    from scipy import stats

    result = stats.bootstrap(
        data,
        statistic,
        n_resamples=resamples,
        paired=True,
        vectorized=True,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return np.asarray(result.bootstrap_distribution, dtype=float)


def tail_p(count: int, resamples: int) -> float:
    """Two-sided Monte Carlo p-value of ``count`` resamples on the far side of 0:
    ``min(1, 2 * (count + 1) / (resamples + 1))`` (never 0: the data counts as one resample)."""
    return min(1.0, 2 * (count + 1) / (resamples + 1))


def percentile_test(distribution: Sequence[float], alpha: float = 0.05) -> PairedTest:
    """The ``1 - alpha`` percentile interval of a bootstrap distribution and its p-value for 0.

    With ``B`` values, ``below`` of them ``<= 0`` and ``above`` of them ``>= 0`` (a value of
    exactly 0 counts on both sides, so ties never make a difference significant), the p-value is
    ``tail_p(min(below, above), B)``. The interval is ``(v[k - 1], v[B - k])`` of the sorted values,
    where ``k`` is the smallest count whose ``tail_p`` is at least ``alpha`` (about ``B * alpha / 2``:
    the order statistics of the usual percentile interval). Then ``low > 0`` iff ``below < k`` iff
    ``tail_p(below) < alpha``, and likewise for ``high < 0``: the interval excludes 0 exactly when
    ``p < alpha``, by construction and with no floating-point threshold between them.

    Raises:
        ValueError: for no values, ``alpha`` outside (0, 1], or too few values for ``alpha`` (every
            p-value would be at least ``alpha``).
    """
    values = np.sort(np.asarray(distribution, dtype=float))
    total = len(values)
    if total == 0 or not 0 < alpha <= 1:
        raise ValueError(f"need values and 0 < alpha <= 1 (got {total} values, alpha {alpha})")
    k = next(c for c in range(total + 1) if tail_p(c, total) >= alpha)
    if k == 0:
        raise ValueError(f"{total} resamples cannot give p < {alpha}")
    below, above = int(np.sum(values <= 0)), int(np.sum(values >= 0))
    return PairedTest(float(values[k - 1]), float(values[total - k]), tail_p(min(below, above), total))
