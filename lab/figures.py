"""Figures of a scored run, drawn with matplotlib's Agg backend (no display needed).

Each function takes plain data (from lab/metrics.py) and returns a matplotlib Figure; the
caller logs it and closes it. Nothing here computes metrics or talks to MLflow.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

NONE = "(none)"


def confusion_figure(cells: dict[tuple[str, str], int]) -> Figure:
    """Expected tool (rows) x called tool (columns) counts as an annotated heat map."""
    expected = sorted({e for e, _ in cells} - {NONE}) + [NONE]
    called = sorted({c for _, c in cells} - {NONE}) + [NONE]
    grid = [[cells.get((e, c), 0) for c in called] for e in expected]
    size = max(4.0, 0.45 * max(len(expected), len(called)) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(called)), called, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(expected)), expected, fontsize=7)
    ax.set_xlabel("called tool")
    ax.set_ylabel("expected tool")
    ax.set_title("Tool confusion (calls)")
    for i, row in enumerate(grid):
        for j, count in enumerate(row):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=6)
    fig.colorbar(image, ax=ax, shrink=0.7)
    fig.tight_layout()
    return fig


def category_figure(categories: dict[str, dict]) -> Figure:
    """Call accuracy and scenario success per category, with 95% interval whiskers."""
    names = list(categories)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(names) + 2), 4))
    for offset, metric in ((-0.2, "call_accuracy"), (0.2, "scenario_success")):
        values = [categories[n]["metrics"].get(metric) or 0.0 for n in names]
        bounds = [categories[n]["ci95"].get(metric) or (v, v) for n, v in zip(names, values, strict=True)]
        errors = [
            [v - lo for v, (lo, _) in zip(values, bounds, strict=True)],
            [hi - v for v, (_, hi) in zip(values, bounds, strict=True)],
        ]
        positions = [i + offset for i in range(len(names))]
        ax.bar(positions, values, width=0.4, yerr=errors, capsize=3, label=metric)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate")
    ax.set_title("Accuracy by category (95% Wilson intervals)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def close(fig: Figure) -> None:
    """Free a figure's memory once it has been saved."""
    plt.close(fig)
