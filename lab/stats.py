"""Small statistics for scored runs: Wilson intervals, percentiles and pass^k, and the paired
tests used to compare two runs (McNemar's exact test, a seeded percentile bootstrap).

Pure functions over plain numbers; nothing here knows about scenarios or MLflow.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a binomial proportion.

    Args:
        successes: number of successes, ``0 <= successes <= n``.
        n: number of trials.
        z: normal quantile; the default gives a 95% interval.

    Returns:
        ``(low, high)`` within [0, 1], or ``None`` when ``n`` is 0.
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} outside 0..{n}")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, min(p, centre - half))
    high = 1.0 if successes == n else min(1.0, max(p, centre + half))
    return low, high


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


def mcnemar_exact(baseline_only: int, candidate_only: int) -> float:
    """McNemar's exact test: two-sided binomial test of the discordant pairs at p = 1/2.

    Args:
        baseline_only: pairs where only the baseline was right (b).
        candidate_only: pairs where only the candidate was right (c).

    Returns:
        ``min(1, 2 * P(X <= min(b, c)))`` with ``X ~ Binomial(b + c, 1/2)``, computed exactly with
        integers; 1.0 when there is no discordant pair.
    """
    if baseline_only < 0 or candidate_only < 0:
        raise ValueError("discordant counts must be non-negative")
    n = baseline_only + candidate_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(baseline_only, candidate_only) + 1))
    return min(1.0, 2 * tail / 2**n)


def bootstrap_ci(
    units: int,
    statistic: Callable[[list[int]], float],
    resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of a statistic of resampled units (pairs stay together).

    Args:
        units: how many units (e.g. scenarios) there are; each resample draws that many indices
            with replacement.
        statistic: the statistic of one resample, given its unit indices.
        resamples: number of resamples.
        seed: seed of the resampling; the same seed gives the same interval.
        level: coverage of the interval.

    Returns:
        ``(low, high)``, or ``None`` when there are no units.
    """
    if units <= 0:
        return None
    rng = random.Random(seed)
    population = range(units)
    values = [statistic(rng.choices(population, k=units)) for _ in range(resamples)]
    tail = (1 - level) / 2 * 100
    return percentile(values, tail), percentile(values, 100 - tail)
