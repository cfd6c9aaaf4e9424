"""`lab curve`: tuned accuracy against the number of training examples."""

from __future__ import annotations

from pathlib import Path

import typer

from lab import tune_data
from lab.cli.common import CONCURRENCY_OPTION, DOMAIN_OPTION, JSON_OPTION, LIMIT_OPTION, emit

DATA = typer.Option(..., "--data", help="A `lab export` folder.")
BASE = typer.Option("local/smollm2-135m", "--base", help="Local base model (local/NAME).")
# readable=False: lab.scenarios reports an unreadable file as one error line, not a usage panel.
SUITE = typer.Option(
    ..., "--suite", readable=False, help="Scenarios to evaluate each tuned model on (the test split)."
)
SIZES = typer.Option(
    "300,1000,3000", "--sizes", help="Comma-separated numbers of training examples (beyond the export: all)."
)
OUT = typer.Option(..., "--out", help="Folder for the adapters and curve.{json,md,png}.")
STRATEGY = typer.Option(None, "--strategy", help="Strategy at evaluation (default: the export's).")
WITH_BASE = typer.Option(False, "--with-base", help="Also run the untuned base model (0 examples).")
EPOCHS = typer.Option(tune_data.EPOCHS, "--epochs", min=1, help="Passes over each subset.")
LR = typer.Option(tune_data.LR, "--lr", min=0.0, help="Peak learning rate.")
RANK = typer.Option(tune_data.RANK, "--rank", min=1, help="LoRA rank.")
SEED = typer.Option(0, "--seed", help="Seed of the shuffle (the subsets are nested) and of tuning.")


def curve_command(
    data: Path = DATA,
    base: str = BASE,
    suite: Path = SUITE,
    sizes: str = SIZES,
    out: Path = OUT,
    strategy: str | None = STRATEGY,
    with_base: bool = WITH_BASE,
    limit: int | None = LIMIT_OPTION,
    concurrency: int = CONCURRENCY_OPTION,
    epochs: int = EPOCHS,
    lr: float = LR,
    rank: int = RANK,
    seed: int = SEED,
    domain: str = DOMAIN_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Tune on nested subsets of an export (first N of a seeded shuffle), run each tuned model on the
    suite, and report call_accuracy against the number of examples (table, figure, MLflow run)."""
    from lab.curve import curve, parse_sizes, table

    result = curve(
        data, base, suite, parse_sizes(sizes), out, strategy=strategy, with_base=with_base,
        limit=limit, concurrency=concurrency, seed=seed, domain=domain, epochs=epochs, lr=lr, rank=rank,
        alpha=2 * rank,
    )  # fmt: skip
    if json_output:
        emit(result.model_dump(mode="json"))
        return
    print(table(result.points), end="")
    print(f"curve run: {result.run_id}; files in {out}")
