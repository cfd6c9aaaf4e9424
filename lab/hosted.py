"""Hosted fine-tuning through litellm's files and fine-tuning API (OpenAI or a compatible server).

``start_hosted_job`` uploads an export's OpenAI-format train file (and its val file when it has
rows) with ``purpose="fine-tune"``, starts a fine-tuning job on it, reads the job back for its
status, and records the job in an MLflow run. ``hosted_status`` reads a job's status later.
The API key comes from the environment (``OPENAI_API_KEY``; litellm reads it) and is never
passed around, printed or logged. This module does not wait for the job or download the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import litellm

from lab import tracking
from lab.errors import BadInput
from lab.tune_data import data_file, read_rows

EXPERIMENT = "tune"


def _upload(path: Path, provider: str, api_base: str | None) -> str:
    """Upload a JSONL file for fine-tuning; returns the file id."""
    created = litellm.create_file(
        file=(path.name, path.read_bytes()),
        purpose="fine-tune",
        custom_llm_provider=provider,
        api_base=api_base,
    )
    return created.id


def _val_file(data_dir: str | Path) -> Path | None:
    """The OpenAI-format val file of an export, when it exists and has rows."""
    try:
        path = data_file(data_dir, "openai", "val")
    except BadInput:
        return None
    return path if read_rows(path) else None


def hosted_status(job_id: str, provider: str = "openai", api_base: str | None = None) -> dict[str, Any]:
    """A fine-tuning job's status: ``{"job_id", "status", "fine_tuned_model"}``."""
    job = litellm.retrieve_fine_tuning_job(
        fine_tuning_job_id=job_id, custom_llm_provider=provider, api_base=api_base
    )
    return {"job_id": job.id, "status": job.status, "fine_tuned_model": job.fine_tuned_model}


def start_hosted_job(
    data_dir: str | Path,
    base_model: str,
    provider: str = "openai",
    api_base: str | None = None,
    *,
    suffix: str | None = None,
    seed: int | None = 0,
) -> dict[str, Any]:
    """Upload an export's OpenAI-format data and start a hosted fine-tuning job.

    Args:
        data_dir: a `lab export` folder.
        base_model: the model to tune, e.g. ``openai/gpt-4o-mini-2024-07-18``.
        provider: litellm provider of the files and fine-tuning API.
        api_base: the API's base URL (default: the provider's, or ``OPENAI_BASE_URL``).
        suffix: optional suffix of the tuned model's name.
        seed: the job's seed.

    Returns:
        ``{"job_id", "status", "training_file", "validation_file", "model", "run_id"}``.

    Raises:
        BadInput: at the train file when it has no rows, or at the folder when it has none.
    """
    train = data_file(data_dir, "openai", "train")
    if not read_rows(train):
        raise BadInput(f"{train}:1", "no training examples in this file")
    val = _val_file(data_dir)
    training_file = _upload(train, provider, api_base)
    validation_file = _upload(val, provider, api_base) if val else None
    job = litellm.create_fine_tuning_job(
        model=base_model,
        training_file=training_file,
        validation_file=validation_file,
        suffix=suffix,
        seed=seed,
        custom_llm_provider=provider,
        api_base=api_base,
    )
    status = hosted_status(job.id, provider, api_base)["status"]
    result = {
        "job_id": job.id,
        "status": status,
        "training_file": training_file,
        "validation_file": validation_file,
        "model": base_model,
    }
    return {**result, "run_id": _record(result, data_dir, provider, api_base, train)}


def _record(
    job: dict[str, Any], data_dir: str | Path, provider: str, api_base: str | None, train: Path
) -> str:
    """Record the job in an MLflow run (no secrets: the key is never in these values)."""
    params = {
        "kind": "hosted",
        "provider": provider,
        "api_base": api_base or "(default)",
        "base_model": job["model"],
        "data": str(data_dir),
        "train_file": str(train),
        "examples": len(read_rows(train)),
    }
    tags = {"lab.kind": "tune", "lab.job_id": job["job_id"]}
    run = tracking.start_run(EXPERIMENT, params, tags, run_name=f"hosted {job['model']}")
    tracking.log_dict(run.run_id, job, "hosted_job.json")
    tracking.set_status(run.run_id, "FINISHED")
    return run.run_id
