"""`lab export`: fine-tuning data (OpenAI and HF/TRL JSONL) from a train-split run."""

from __future__ import annotations

from pathlib import Path

import typer

from lab.cli.common import JSON_OPTION, emit

EMBEDDED = "local/smollm2-135m"
RUN = typer.Option(..., "--run", help="Run id of a train-split run, or 'latest' (the latest of --model).")
OUT = typer.Option(..., "--out", help="Folder to write (an earlier export there is replaced whole).")
INCLUDE_PASSING = typer.Option(0.0, "--include-passing", help="Share of correct turns to add, in [0, 1].")
FROM_PASSING = typer.Option(False, "--from-passing", help="Distil: examples from the run's correct turns.")
MODEL = typer.Option(EMBEDDED, "--model", help="With --run latest: the model whose latest train run.")
DOMAIN = typer.Option(None, "--domain", help="Domain (name or module path); it must be the run's (default).")
PROMPT = typer.Option(
    "full", "--prompt", help="Prompt form of the rows: full, names or none (the tuned model keeps it)."
)
SEED = typer.Option(0, "--seed", help="Seeds the sample of correct turns and the choice of val families.")


def export(
    run: str = RUN,
    out: Path = OUT,
    include_passing: float = INCLUDE_PASSING,
    from_passing: bool = FROM_PASSING,
    model: str = MODEL,
    seed: int = SEED,
    domain: str | None = DOMAIN,
    prompt: str = PROMPT,
    json_output: bool = JSON_OPTION,
) -> None:
    """Turn a train-split run's failing turns, corrected by the gold answers, into fine-tuning data.

    Writes OUT/openai/{train,val}.jsonl (OpenAI chat fine-tuning), OUT/hf/{train,val}.jsonl
    (Hugging Face / TRL) and OUT/manifest.json; val holds phrasing families train does not.
    Runs on dev or test are refused. The dataset is logged to MLflow as an export run.
    """
    from lab.export import export_run, latest_train_run

    run_id = latest_train_run(model) if run == "latest" else run
    summary = export_run(
        run_id, out, include_passing=include_passing, from_passing=from_passing, seed=seed,
        domain_spec=domain, prompt=prompt,
    )  # fmt: skip
    payload = {
        "run_id": summary.run_id,
        "examples": summary.examples,
        "train": summary.train,
        "val": summary.val,
        "formats": summary.formats,
        "manifest": str(Path(summary.out_dir) / "manifest.json"),
        "export_run_id": summary.export_run_id,
        "per_error_type": summary.manifest.per_error_type,
        "prompt": summary.manifest.prompt,
    }
    if json_output:
        emit(payload)
        return
    print(f"{summary.examples} examples ({summary.train} train, {summary.val} val) from run {summary.run_id}")
    print("by error type: " + ", ".join(f"{k} {v}" for k, v in summary.manifest.per_error_type.items()))
    for fmt, path in summary.formats.items():
        print(f"{fmt}: {path}")
