"""`lab compare`: paired comparison of a candidate run against a baseline run on the same suite."""

from __future__ import annotations

import typer

from lab.cli.common import JSON_OPTION, emit

BASELINE = typer.Option(..., "--baseline", help="Run id of the baseline (e.g. the best prompting strategy).")
CANDIDATE = typer.Option(..., "--candidate", help="Run id of the candidate (e.g. the tuned model).")
TARGET = typer.Option(None, "--target", min=0.0, max=1.0, help="call_accuracy the candidate must reach.")
SEED = typer.Option(0, "--seed", help="Seed of the bootstrap resampling.")


def compare_command(
    baseline: str = BASELINE,
    candidate: str = CANDIDATE,
    target: float | None = TARGET,
    seed: int = SEED,
    json_output: bool = JSON_OPTION,
) -> None:
    """Compare two finished runs of the same suite: call_accuracy delta with a 95% CI and p from one
    paired bootstrap over scenarios (they agree), McNemar's exact test as a secondary figure,
    per-tool/category deltas, latency ratio, and a verdict (adopt / reject / inconclusive), logged
    to MLflow as a comparison run (an identical comparison already logged is reused)."""
    from lab.compare import compare

    result = compare(baseline, candidate, target=target, seed=seed)
    payload = {
        "baseline": result.baseline,
        "candidate": result.candidate,
        "delta": result.delta,
        "delta_ci95": result.delta_ci95,
        "p_value": result.p_value,
        "test": result.test,
        "mcnemar_p": result.mcnemar_p,
        "latency_ratio": result.latency_ratio,
        "verdict": result.verdict,
        "reason": result.reason,
        "run_id": result.run_id,
        "reused": result.reused,
        "scenarios": result.scenarios,
        "unpaired": result.unpaired,
        "baseline_call_accuracy": result.baseline_call_accuracy,
        "candidate_call_accuracy": result.candidate_call_accuracy,
        "mcnemar_p_scenarios": result.mcnemar_p_scenarios,
        "tokens_ratio": result.tokens_ratio,
    }
    if json_output:
        emit(payload)
        return
    print(f"{result.verdict}: {result.reason}")
    if result.unpaired:
        print(f"judged on {result.scenarios} paired scenarios; {result.unpaired} unpaired")
    reused = " (reused: this comparison was already logged)" if result.reused else ""
    print(f"comparison run: {result.run_id}{reused}")
