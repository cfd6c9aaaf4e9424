"""What ``lab pipeline`` runs on and where it writes: the defaults of the pipeline and of its CLI.

Kept apart from lab/pipeline.py, which imports torch and MLflow, so the CLI shows these defaults
in its help without loading either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab import tune_data
from lab.domain import DEFAULT_DOMAIN


@dataclass(frozen=True)
class PipelineConfig:
    """What the pipeline runs on and where it writes."""

    model: str = "local/smollm2-135m"
    dev: Path = Path("scenarios/dev.jsonl")
    train: Path = Path("scenarios/train.jsonl")
    test: Path = Path("scenarios/test.jsonl")
    target: float = 0.95
    dev_limit: int | None = None
    train_limit: int | None = 300
    test_limit: int | None = None
    include_passing: float = 1.0  # every correct turn: without them a tuned model forgets plain replies
    max_examples: int | None = 300  # the cap; 2 epochs of 300 folded rows fit 20 minutes on 2 cores
    tune_strategy: str = "instructed"  # the export's prompt: the tuned model is trained on it
    # The tuned model runs with the workflow (the same instructed prompt, plus call checks): on dev
    # it turned the bench adapter's wrong and invented calls into none, 0.309 -> 0.373 call_accuracy.
    tuned_strategy: str = "workflow"
    out: Path = Path("exports/pipeline")
    concurrency: int = 64  # keeps the local engine's batches of 32 full while trials wait on tools
    epochs: int = tune_data.EPOCHS
    seed: int = 0
    domain: str = DEFAULT_DOMAIN
    # The prompt form of the export's rows, the tune and the tuned model's test run (lab.models.promptform).
    prompt: str = "full"
    # A time budget for the tune (lab tune --budget-minutes): as many rows as fit, up to max_examples.
    budget_minutes: float | None = None
    # The model whose train run is exported (default: ``model``); with ``from_passing`` its correct
    # turns are the examples (e.g. scripted/oracle: the gold dialogues, cheap to make by thousands).
    train_model: str | None = None
    from_passing: bool = False
