"""Report a comparison: markdown, a baseline-vs-candidate figure per category, and its MLflow run.

The comparison run lives in the baseline's experiment (one experiment per suite), is tagged with
both run ids (and the test of its verdict) so either can be found from it, and holds
``comparison.json``, ``report.md`` and ``categories.png``; ``find_logged`` finds an identical
comparison already logged. Nothing here computes statistics (lab/compare.py does).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lab import tracking  # noqa: E402
from lab.compare import Comparison, GroupDelta, ci_text, p_text  # noqa: E402


def _num(value: float | None, fmt: str = ".3f") -> str:
    return "n/a" if value is None else format(value, fmt)


def _rows(groups: dict[str, GroupDelta], label: str) -> list[str]:
    lines = [f"| {label} | n | baseline | candidate | delta |", "|---|---:|---:|---:|---:|"]
    for name, g in groups.items():
        lines.append(
            f"| {name} | {g.n} | {_num(g.baseline)} | {_num(g.candidate)} | {_num(g.delta, '+.3f')} |"
        )
    return lines


def markdown(c: Comparison, models: tuple[str, str] = ("", "")) -> str:
    """The comparison as a markdown report."""
    ci = "n/a" if c.delta_ci95 is None else ci_text(*c.delta_ci95)
    lines = [
        f"# Comparison: {c.verdict}",
        "",
        c.reason,
        "",
        f"- baseline: `{c.baseline}` {models[0]}",
        f"- candidate: `{c.candidate}` {models[1]}",
        f"- suite sha256: `{c.suite_sha256}`; paired trials {c.scenarios} (unpaired {c.unpaired}); "
        f"paired expected calls {c.calls}",
        "",
        "| measure | baseline | candidate | candidate / baseline or delta |",
        "|---|---:|---:|---:|",
        f"| call_accuracy | {c.baseline_call_accuracy:.3f} | {c.candidate_call_accuracy:.3f} | "
        f"{c.delta:+.3f} |",
        f"| scenario_success | {c.baseline_success:.3f} | {c.candidate_success:.3f} | "
        f"{c.candidate_success - c.baseline_success:+.3f} |",
        f"| latency p50 | | | x{_num(c.latency_ratio, '.2f')} |",
        f"| latency p95 | | | x{_num(c.latency_p95_ratio, '.2f')} |",
        f"| tokens per scenario | | | x{_num(c.tokens_ratio, '.2f')} |",
        "",
        f"- verdict test ({c.test}): paired bootstrap of the call_accuracy delta over scenarios, "
        f"{c.resamples} resamples, seed {c.seed}: 95% CI {ci}, p = {p_text(c.p_value)}",
        "- secondary (not used by the verdict; expected calls only, so blind to extra, hallucinated "
        "and malformed calls):",
        f"  - McNemar exact p (expected calls): {c.mcnemar_p:.4g}; discordant: only baseline right "
        f"{c.discordant['baseline_only']}, only candidate right {c.discordant['candidate_only']}",
        f"  - McNemar exact p (scenario success): {c.mcnemar_p_scenarios:.4g}",
        "",
        "## Per category (call_accuracy)",
        "",
        *_rows(c.per_category, "category"),
        "",
        "## Per tool (expected calls matched)",
        "",
        *_rows(c.per_tool, "tool"),
    ]
    return "\n".join(lines) + "\n"


def title(c: Comparison) -> str:
    """The verdict with the figures it rests on, for titles: ``adopt, delta +0.238, p=0.0005``."""
    return f"{c.verdict}, delta {c.delta:+.3f}, {c.test} p={p_text(c.p_value)}"


def category_figure(c: Comparison) -> Figure:
    """Baseline and candidate ``call_accuracy`` per category as grouped bars."""
    names = list(c.per_category)
    base = [c.per_category[n].baseline or 0.0 for n in names]
    cand = [c.per_category[n].candidate or 0.0 for n in names]
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(names) + 2), 4))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], base, width=0.4, label="baseline")
    ax.bar([x + 0.2 for x in xs], cand, width=0.4, label="candidate")
    ax.set_xticks(list(xs), names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("call_accuracy")
    ax.set_title(f"Baseline vs candidate per category ({title(c)})")
    ax.legend()
    fig.tight_layout()
    return fig


def _tags(c: Comparison) -> dict[str, str]:
    return {
        "lab.kind": "comparison",
        "lab.baseline_run": c.baseline,
        "lab.candidate_run": c.candidate,
        "lab.test": c.test,
    }


def _settings(c: Comparison) -> dict[str, str]:
    """The params that, with the pair of runs, decide a comparison's figures and verdict."""
    return {
        "suite_sha256": c.suite_sha256,
        "target": str(c.target),
        "seed": str(c.seed),
        "resamples": str(c.resamples),
    }


def _same(logged: float | None, value: float) -> bool:
    """A logged metric equals a figure (NaN, MLflow's "nothing to measure", equals NaN)."""
    if logged is None:
        return False
    return math.isnan(logged) if math.isnan(value) else logged == value


def find_logged(c: Comparison) -> str | None:
    """The id of a finished comparison run of the same pair, test and settings whose logged
    figures and verdict equal ``c``'s (so a resumed or rerun input is not matched), else None."""
    experiment_id = tracking.find_run(c.baseline).experiment_id
    for run in tracking.find_runs(experiment_id, _tags(c)):
        same_settings = all(run.params.get(k) == v for k, v in _settings(c).items())
        figures = {k: float("nan") if v is None else v for k, v in _metrics(c).items()}
        same_figures = all(_same(run.metrics.get(k), v) for k, v in figures.items())
        if same_settings and same_figures and run.tags.get("lab.verdict") == c.verdict:
            return run.run_id
    return None


def log_comparison(c: Comparison, base_params: dict[str, str], cand_params: dict[str, str]) -> str:
    """Log the comparison as a run in the baseline's experiment; returns its run id."""
    experiment = tracking.find_run(c.baseline).experiment
    models = (base_params.get("model", ""), cand_params.get("model", ""))
    params = {
        "baseline_run": c.baseline,
        "candidate_run": c.candidate,
        "baseline_model": models[0],
        "candidate_model": models[1],
        "baseline_strategy": base_params.get("strategy", ""),
        "candidate_strategy": cand_params.get("strategy", ""),
        **_settings(c),
        "test": c.test,
    }
    tags = _tags(c)
    run = tracking.start_run(
        experiment, params, tags, run_name=f"compare {c.baseline[:8]} vs {c.candidate[:8]}"
    )
    try:
        tracking.set_tags(run.run_id, {"lab.verdict": c.verdict})
        tracking.log_metrics(run.run_id, _metrics(c))
        tracking.log_dict(run.run_id, c.model_dump(mode="json"), "comparison.json")
        tracking.log_text(run.run_id, markdown(c, models), "report.md")
        fig = category_figure(c)
        tracking.log_figure(run.run_id, fig, "categories.png")
        plt.close(fig)
    except BaseException:
        tracking.set_status(run.run_id, "FAILED")
        raise
    tracking.set_status(run.run_id, "FINISHED")
    return run.run_id


def _metrics(c: Comparison) -> dict[str, float | None]:
    low, high = c.delta_ci95 if c.delta_ci95 is not None else (None, None)
    return {
        "scenarios": c.scenarios,
        "unpaired": c.unpaired,
        "baseline/call_accuracy": c.baseline_call_accuracy,
        "candidate/call_accuracy": c.candidate_call_accuracy,
        "call_accuracy_delta": c.delta,
        "call_accuracy_delta_ci95_low": low,
        "call_accuracy_delta_ci95_high": high,
        "call_accuracy_p_value": c.p_value,
        "call_accuracy_mcnemar_p": c.mcnemar_p,
        "scenario_success_mcnemar_p": c.mcnemar_p_scenarios,
        "latency_p50_s_ratio": c.latency_ratio,
        "latency_p95_s_ratio": c.latency_p95_ratio,
        "tokens_per_scenario_ratio": c.tokens_ratio,
    }
