"""`lab tune`: LoRA-tune a local model on an export (or start a hosted fine-tuning job)."""

from __future__ import annotations

from pathlib import Path

import typer

from lab import tune_data
from lab.cli.common import JSON_OPTION, emit
from lab.errors import BadInput

DATA = typer.Option(..., "--data", help="A `lab export` folder.")
BASE = typer.Option("local/smollm2-135m", "--base", help="Base model: local/NAME, or the hosted model.")
OUT = typer.Option(None, "--out", help="Adapter folder to write (local tuning).")
EPOCHS = typer.Option(tune_data.EPOCHS, "--epochs", min=1, help="Passes over the training examples.")
LR = typer.Option(tune_data.LR, "--lr", min=0.0, help="Peak learning rate (AdamW, linear warm-up and decay).")
RANK = typer.Option(tune_data.RANK, "--rank", min=1, help="LoRA rank.")
ALPHA = typer.Option(tune_data.ALPHA, "--alpha", min=1, help="LoRA alpha (scale = alpha / rank).")
MAX_EXAMPLES = typer.Option(
    None, "--max-examples", min=1, help="Use the first N examples of a seeded shuffle."
)
BATCH = typer.Option(tune_data.BATCH_SIZE, "--batch-size", min=1, help="Sequences per optimizer step.")
SEED = typer.Option(0, "--seed", help="Seed of LoRA initialisation, shuffle and batch order.")
PRECISION = typer.Option(
    "auto", "--precision", help="Training arithmetic: bf16, fp32, or auto (bf16 where the device has it)."
)
BUDGET = typer.Option(
    None, "--budget-minutes", min=0.1,
    help="Time for the whole tune: as many rows as fit (steps timed first); stops early if it runs out.",
)  # fmt: skip
DOMAIN = typer.Option(
    None, "--domain", help="The export's domain, checked against its manifest (default: the export's)."
)
PROVIDER = typer.Option("local", "--provider", help="local, or a hosted fine-tuning provider (openai).")
API_BASE = typer.Option(None, "--api-base", help="Hosted API base URL (default: the provider's).")


def _progress(step: int, steps: int, loss: float) -> None:
    typer.echo(f"step {step}/{steps} loss {loss:.4f}", err=True)


def tune_command(
    data: Path = DATA,
    base: str = BASE,
    out: Path | None = OUT,
    epochs: int = EPOCHS,
    lr: float = LR,
    rank: int = RANK,
    alpha: int = ALPHA,
    max_examples: int | None = MAX_EXAMPLES,
    batch_size: int = BATCH,
    seed: int = SEED,
    precision: str = PRECISION,
    budget_minutes: float | None = BUDGET,
    domain: str | None = DOMAIN,
    provider: str = PROVIDER,
    api_base: str | None = API_BASE,
    json_output: bool = JSON_OPTION,
) -> None:
    """Tune a model on an export: LoRA on a local model (prints the model string `lab run` takes),
    or with --provider openai upload the OpenAI-format data and start a hosted fine-tuning job."""
    tune_data.check_domain(data, domain)
    if provider != "local":
        from lab.hosted import start_hosted_job

        job = start_hosted_job(data, base, provider=provider, api_base=api_base, seed=seed)
        if json_output:
            emit(job)
        else:
            print(f"job {job['job_id']}: {job['status']} (run {job['run_id']})")
        return
    if out is None:
        raise BadInput("--out", "required for local tuning (the adapter folder)")
    from lab.tune import tune

    summary = tune(
        data, base, out, epochs=epochs, lr=lr, rank=rank, alpha=alpha,
        max_examples=max_examples, seed=seed, batch_size=batch_size, precision=precision, progress=_progress,
        budget_minutes=budget_minutes, domain=domain,
    )  # fmt: skip
    payload = {
        "run_id": summary.run_id,
        "model": summary.model,
        "adapter": summary.adapter,
        "examples": summary.examples,
        "seconds": summary.seconds,
        "final_loss": summary.final_loss,
        "first_loss": summary.first_loss,
        "val_loss": summary.val_loss,
        "steps": summary.steps,
        "planned_steps": summary.planned_steps,
        "prompt": summary.prompt,
        "domain": summary.domain,
        "tokens": summary.tokens,
        "prefix_tokens": summary.prefix_tokens,
        "device": summary.device,
        "precision": summary.precision,
    }
    if json_output:
        emit(payload)
        return
    print(
        f"tuned on {summary.examples} examples in {summary.seconds:.0f} s "
        f"(loss {summary.first_loss:.3f} -> {summary.final_loss:.3f}); run {summary.run_id}"
    )
    print(summary.model)
