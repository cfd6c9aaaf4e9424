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
WIDTH_IN, DPI = 4.8, 200  # 480 px wide at 100 px/inch: MLflow's artifact viewer size, drawn at 2x
NONE_CAPTION = (
    f"{NONE} row: calls made where none was expected (extra or unknown tool).\n"
    f"{NONE} column: expected calls that were never made (missing)."
)


def confusion_figure(cells: dict[tuple[str, str], int]) -> Figure:
    """Expected tool (rows) x called tool (columns) counts as an annotated heat map.

    Drawn for a 480 px wide view: every count is printed inside its cell (light on dark cells),
    no colour bar, and a caption says what the ``(none)`` row and column mean.
    """
    expected = sorted({e for e, _ in cells} - {NONE}) + [NONE]
    called = sorted({c for _, c in cells} - {NONE}) + [NONE]
    grid = [[cells.get((e, c), 0) for c in called] for e in expected]
    peak = max((count for row in grid for count in row), default=0) or 1
    cell_in = min(0.32, 3.2 / max(len(expected), len(called)))
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.7 + cell_in * len(expected)), dpi=DPI)
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=peak)
    labels = {"fontsize": 6.5}
    ax.set_xticks(range(len(called)), called, rotation=90, **labels)
    ax.set_yticks(range(len(expected)), expected, **labels)
    ax.set_xlabel(f"called tool   {NONE} = no call made", fontsize=7.5)
    ax.set_ylabel(f"expected tool   {NONE} = none expected", fontsize=7.5)
    ax.set_title("Tool confusion (counts of calls)", fontsize=9)
    number = max(6.5, min(8.0, cell_in * 26))
    for i, row in enumerate(grid):
        for j, count in enumerate(row):
            if count:
                colour = "white" if count > peak / 2 else "black"
                ax.text(j, i, str(count), ha="center", va="center", fontsize=number, color=colour)
    fig.text(0.01, 0.005, NONE_CAPTION, fontsize=6.5, va="bottom", ha="left", color="0.25")
    fig.tight_layout(rect=(0, 0.06, 1, 0.98), pad=0.5)
    return fig


def category_figure(categories: dict[str, dict]) -> Figure:
    """Call accuracy and scenario success per category, with 95% interval whiskers.

    Drawn for a 480 px wide view: the legend sits above the bars, never on them.
    """
    names = list(categories)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.6), dpi=DPI)
    for offset, metric in ((-0.2, "call_accuracy"), (0.2, "scenario_success")):
        values = [categories[n]["metrics"].get(metric) or 0.0 for n in names]
        bounds = [categories[n]["ci95"].get(metric) or (v, v) for n, v in zip(names, values, strict=True)]
        errors = [
            [v - lo for v, (lo, _) in zip(values, bounds, strict=True)],
            [hi - v for v, (_, hi) in zip(values, bounds, strict=True)],
        ]
        positions = [i + offset for i in range(len(names))]
        ax.bar(positions, values, width=0.4, yerr=errors, capsize=2, label=metric, error_kw={"lw": 0.8})
    ax.set_xticks(
        range(len(names)), [n.replace("_", " ") for n in names], rotation=35, ha="right", fontsize=7
    )
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("rate", fontsize=8)
    ax.set_title("Accuracy by category (95% Wilson intervals)", fontsize=9, pad=18)
    ax.legend(fontsize=7, ncols=2, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def close(fig: Figure) -> None:
    """Free a figure's memory once it has been saved."""
    plt.close(fig)
