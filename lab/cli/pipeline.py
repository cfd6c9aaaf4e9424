"""`lab pipeline`: the whole loop, from the prompting ladder to the tuned model's verdict."""

from __future__ import annotations

from pathlib import Path

import typer

from lab.cli.common import CONCURRENCY_OPTION, DOMAIN_OPTION, JSON_OPTION, emit
from lab.pipeline_config import PipelineConfig

DEFAULTS = PipelineConfig()


def pipeline_command(
    model: str = typer.Option(DEFAULTS.model, "--model", help="Local model to climb, tune and compare."),
    target: float = typer.Option(
        DEFAULTS.target, "--target", help="call_accuracy that is good enough, in [0, 1]."
    ),
    train_limit: int = typer.Option(
        DEFAULTS.train_limit, "--train-limit", help="Train scenarios the baseline runs on."
    ),
    test_limit: int | None = typer.Option(
        DEFAULTS.test_limit, "--test-limit", help="Test scenarios to compare on (all)."
    ),
    include_passing: float = typer.Option(
        DEFAULTS.include_passing, "--include-passing", help="Share of correct turns exported."
    ),
    max_examples: int | None = typer.Option(
        None,
        "--max-examples",
        min=1,
        help=f"Export rows to tune on at most (a seeded sample; default {DEFAULTS.max_examples}, "
        "or all that fit with --budget-minutes).",
    ),
    budget_minutes: float | None = typer.Option(
        None, "--budget-minutes", min=0.1, help="Tune on as many rows as fit this time."
    ),
    prompt: str = typer.Option(
        DEFAULTS.prompt, "--prompt", help="Prompt form of export, tune, tuned run: full, names, none."
    ),
    train_model: str | None = typer.Option(
        None, "--train-model", help="Model whose train run is exported (default --model)."
    ),
    train_suite: Path = typer.Option(DEFAULTS.train, "--train-suite", help="Train scenarios."),
    from_passing: bool = typer.Option(
        False, "--from-passing", help="Export the train run's correct turns (distillation) instead."
    ),
    epochs: int = typer.Option(DEFAULTS.epochs, "--epochs", help="LoRA epochs."),
    tuned_strategy: str = typer.Option(
        DEFAULTS.tuned_strategy, "--tuned-strategy", help="Strategy the tuned model runs with on test."
    ),
    out: Path = typer.Option(DEFAULTS.out, "--out", help="Folder for the export and adapter."),
    concurrency: int = CONCURRENCY_OPTION,
    domain: str = DOMAIN_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Ladder on dev, baseline run on train, export, tune, then the best prompting strategy and the
    tuned model (with --tuned-strategy) on test, compared paired; prints the verdict."""
    from lab.strategies import check_name

    check_name(tuned_strategy, "--tuned-strategy")  # before an hour of pipeline, not after
    from lab.models.promptform import check_form

    check_form(prompt)
    from lab.pipeline import run_pipeline

    config = PipelineConfig(
        model=model,
        target=target,
        train_limit=train_limit,
        test_limit=test_limit,
        include_passing=include_passing,
        max_examples=max_examples or (None if budget_minutes else DEFAULTS.max_examples),
        budget_minutes=budget_minutes,
        prompt=prompt,
        train_model=train_model,
        train=train_suite,
        from_passing=from_passing,
        epochs=epochs,
        tuned_strategy=tuned_strategy,
        out=out,
        concurrency=concurrency,
        domain=domain,
    )
    result = run_pipeline(config).as_json()
    if json_output:
        emit(result)
        return
    ladder, cmp = result["ladder"], result["compare"]
    print(f"ladder: {ladder['decision']}: {ladder['reason']}")
    for name in ("baseline", "tuned"):
        run = result[name]
        print(f"{name} ({run['model']}, {run['strategy']}) on test: call_accuracy {run['call_accuracy']:.3f}")
    print(f"verdict: {cmp['verdict']}: {cmp['reason']}")
