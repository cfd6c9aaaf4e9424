"""Learning curve: how many training examples does the tuned model need on this suite?

``curve`` tunes the base model on nested subsets of an export (the first n rows of one seeded
shuffle, so every subset contains the smaller ones), runs each tuned model on the suite with the
export's strategy (the prompt it was trained on), and reports tuned ``call_accuracy`` (with its
95% interval) against the number of examples, optionally with the untuned base as the n=0 point.
A parent MLflow run in the suite's experiment holds the table and the figure; the suite runs are
its children and the tune runs are tagged with it. Tuning is lab/tune.py's, running lab/run.py's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lab import tracking, tune_data  # noqa: E402
from lab.domain import DEFAULT_DOMAIN  # noqa: E402
from lab.errors import BadInput  # noqa: E402
from lab.io import atomic_write_text  # noqa: E402
from lab.run import RunConfig, resolve, run_suite  # noqa: E402
from lab.tune import tune_apart  # noqa: E402
from lab.types import Contract  # noqa: E402


class CurvePoint(Contract):
    """One point of the curve: a model tuned on ``examples`` rows (0: the base model), run on the suite."""

    examples: int
    model: str
    call_accuracy: float | None
    ci95: tuple[float, float] | None
    scenario_success: float | None
    tune_seconds: float | None
    final_loss: float | None
    tune_run_id: str | None
    suite_run_id: str


class Curve(Contract):
    """The whole curve (``curve.json``)."""

    run_id: str
    base: str
    data: str
    suite: str
    strategy: str
    points: list[CurvePoint]


def parse_sizes(text: str) -> list[int]:
    """``"25,50,100"`` as sorted distinct positive sizes.

    Raises:
        BadInput: at ``--sizes`` for anything else.
    """
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise BadInput("--sizes", f"expected comma-separated integers, not {text!r}") from exc
    if not sizes or sizes[0] < 1:
        raise BadInput("--sizes", "give at least one size, each at least 1")
    return sizes


def usable_sizes(sizes: Sequence[int], available: int) -> list[int]:
    """The sizes that fit the export; sizes beyond it collapse into one point at ``available``."""
    fitting = [n for n in sizes if n < available]
    return fitting + [available] if any(n >= available for n in sizes) else fitting


def export_strategy(data_dir: str | Path) -> str:
    """The strategy whose prompt the export's examples use (zero_shot when the manifest does not say)."""
    manifest = Path(data_dir) / "manifest.json"
    if manifest.is_file():
        return json.loads(manifest.read_text(encoding="utf-8")).get("strategy") or "zero_shot"
    return "zero_shot"


def curve_figure(points: Sequence[CurvePoint], title: str) -> Figure:
    """Tuned call_accuracy (with 95% interval) against training examples."""
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [p.examples for p in points]
    ys = [p.call_accuracy or 0.0 for p in points]
    low = [y - (p.ci95[0] if p.ci95 else y) for p, y in zip(points, ys, strict=True)]
    high = [(p.ci95[1] if p.ci95 else y) - y for p, y in zip(points, ys, strict=True)]
    ax.errorbar(xs, ys, yerr=[low, high], marker="o", capsize=4)
    ax.set_xlabel("training examples")
    ax.set_ylabel("call_accuracy (95% CI)")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def table(points: Sequence[CurvePoint]) -> str:
    """The curve as a markdown table."""
    lines = [
        "| examples | call_accuracy | 95% CI | scenario_success | tune s | final loss |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        ci = f"{p.ci95[0]:.3f}..{p.ci95[1]:.3f}" if p.ci95 else "n/a"
        lines.append(
            f"| {p.examples} | {_num(p.call_accuracy)} | {ci} | {_num(p.scenario_success)} | "
            f"{_num(p.tune_seconds, '.0f')} | {_num(p.final_loss)} |"
        )
    return "\n".join(lines) + "\n"


def _num(value: float | None, fmt: str = ".3f") -> str:
    return "n/a" if value is None else format(value, fmt)


def _point(examples: int, model: str, suite_run, tuned=None) -> CurvePoint:
    metrics, ci = suite_run.result["metrics"], suite_run.result["ci95"]
    interval = ci.get("call_accuracy")
    return CurvePoint(
        examples=examples,
        model=model,
        call_accuracy=metrics.get("call_accuracy"),
        ci95=tuple(interval) if interval else None,
        scenario_success=metrics.get("scenario_success"),
        tune_seconds=tuned.seconds if tuned else None,
        final_loss=tuned.final_loss if tuned else None,
        tune_run_id=tuned.run_id if tuned else None,
        suite_run_id=suite_run.run_id,
    )


def curve(
    data_dir: str | Path,
    base: str,
    suite: str | Path,
    sizes: Sequence[int],
    out_dir: str | Path,
    *,
    strategy: str | None = None,
    with_base: bool = False,
    limit: int | None = None,
    concurrency: int = 1,
    seed: int = 0,
    domain: str = DEFAULT_DOMAIN,
    **tune_options,
) -> Curve:
    """Tune on nested subsets of ``data_dir`` and run each tuned model on ``suite``.

    Args:
        data_dir: a `lab export` folder.
        base: the local base model, ``local/NAME``.
        suite: the scenarios to evaluate on (normally the test split).
        sizes: numbers of training rows; sizes at or beyond the export collapse into one point.
        out_dir: where the adapters (``n<size>/``) and ``curve.{json,md,png}`` go.
        strategy: the prompting strategy at evaluation; default the export's.
        with_base: also run the untuned base model (the n=0 point).
        limit, concurrency: passed to the suite runs.
        seed: the shuffle and tuning seed (the same for every size, so subsets are nested).
        domain: the domain (name or module path) the suite runs on.
        tune_options: epochs, lr, rank, alpha, batch_size... for lab.tune.tune (run in a child
            process, ``tune_apart``).
    """
    rows = tune_data.read_rows(tune_data.data_file(data_dir, "hf", "train"))
    if not rows:
        raise BadInput(str(tune_data.data_file(data_dir, "hf", "train")) + ":1", "no training examples")
    strategy = strategy or export_strategy(data_dir)
    out, chosen = Path(out_dir), usable_sizes(sizes, len(rows))
    params = {"base_model": base, "data": str(data_dir), "suite": str(suite), "strategy": strategy,
              "sizes": ",".join(map(str, chosen)), "seed": seed, "limit": limit, "domain": domain,
              **tune_options}  # fmt: skip
    config = RunConfig(model=base, strategy=strategy, suite=Path(suite), limit=limit, concurrency=concurrency,
                       seed=seed, domain=domain)  # fmt: skip
    resolve(config)  # the suite runs' checks (--limit, --concurrency), before any run is opened
    parent = tracking.start_run(Path(suite).stem, params, {"lab.kind": "curve"}, run_name=f"curve {base}")
    config = replace(config, parent_run_id=parent.run_id, tags={"lab.curve_run": parent.run_id})
    points: list[CurvePoint] = []
    try:
        if with_base:
            points.append(_point(0, base, run_suite(_with_model(config, base))))
        for n in chosen:
            tuned = tune_apart(data_dir, base, out / f"n{n}", max_examples=n, seed=seed, **tune_options)
            tracking.set_tags(tuned.run_id, {"lab.curve_run": parent.run_id})
            points.append(_point(n, tuned.model, run_suite(_with_model(config, tuned.model)), tuned))
        result = Curve(run_id=parent.run_id, base=base, data=str(data_dir), suite=str(suite),
                       strategy=strategy, points=points)  # fmt: skip
        _publish(result, out)
    except BaseException:
        tracking.set_status(parent.run_id, "FAILED")
        raise
    return result


def _with_model(config: RunConfig, model: str) -> RunConfig:
    return replace(config, model=model)


def _publish(result: Curve, out: Path) -> None:
    """Write curve.json/md/png into ``out`` and log them, with one metric step per point."""
    title = f"{result.base} tuned: call_accuracy vs examples"
    atomic_write_text(out / "curve.json", result.model_dump_json(indent=2) + "\n")
    atomic_write_text(out / "curve.md", table(result.points))
    fig = curve_figure(result.points, title)
    fig.savefig(out / ".curve.png.tmp", format="png")
    (out / ".curve.png.tmp").replace(out / "curve.png")
    run_id = result.run_id
    tracking.log_figure(run_id, fig, "curve.png")
    plt.close(fig)
    tracking.log_dict(run_id, result.model_dump(mode="json"), "curve.json")
    tracking.log_text(run_id, table(result.points), "curve.md")
    tracking.log_table(run_id, [p.model_dump(mode="json") for p in result.points], "curve_table.json")
    for point in result.points:
        tracking.log_metrics(run_id, {"call_accuracy": point.call_accuracy}, step=point.examples)
    tracking.set_status(run_id, "FINISHED")
