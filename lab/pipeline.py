"""The whole loop in one call: ladder on dev, export from train, tune, compare on test.

Stages, each a call into the stage modules (nothing here reaches into their internals):

1. the prompting ladder on the dev split (the best strategy and the decision);
2. a baseline run of that strategy on (part of) the train split, whose failures
3. are exported as fine-tuning data (train split only; or, with ``from_passing``, the correct turns
   of ``train_model``'s run), in the prompt form ``prompt``,
4. a LoRA adapter is tuned on the export (within ``budget_minutes`` when set; in a child process,
   ``lab.tune.tune_apart``),
5. the best prompting strategy and the tuned model (with the workflow's call checks, in the
   prompt form it was tuned with) run on the held-out test split,
6. and the two test runs are compared, paired, with a verdict.

The pipeline always tunes, even when the ladder met its target, because it is a
measurement; the ladder's decision is reported next to the verdict. It does not pick
hyperparameters or look at the test split before step 5.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.compare import compare
from lab.export import export_run
from lab.ladder import run_ladder
from lab.pipeline_config import PipelineConfig
from lab.run import RunConfig, RunSummary, run_suite
from lab.tune import tune_apart

__all__ = ["PipelineConfig", "PipelineResult", "run_pipeline"]


@dataclass
class PipelineResult:
    """Each stage's outcome, as the JSON that `lab pipeline --json` and `make bench` report."""

    ladder: dict[str, Any]
    train_run: str
    export: dict[str, Any]
    tune: dict[str, Any]
    baseline: dict[str, Any]
    tuned: dict[str, Any]
    compare: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """All stages as one JSON-ready object."""
        return json.loads(json.dumps(self.__dict__, default=str))


def _headline(summary: RunSummary) -> dict[str, Any]:
    metrics = summary.result["metrics"]
    return {
        "run_id": summary.run_id,
        "model": summary.model,
        "strategy": summary.strategy,
        "call_accuracy": metrics.get("call_accuracy"),
        "scenario_success": metrics.get("scenario_success"),
        "ci95": summary.result["ci95"].get("call_accuracy"),
        "seconds": round(summary.seconds, 1),
    }


def _suite_run(
    config: PipelineConfig, model: str, strategy: str, suite: Path, limit: int | None
) -> RunSummary:
    return run_suite(
        RunConfig(
            model=model,
            strategy=strategy,
            suite=suite,
            limit=limit,
            concurrency=config.concurrency,
            seed=config.seed,
            domain=config.domain,
            tags={"pipeline": "1"},
        )
    )


def run_pipeline(config: PipelineConfig) -> PipelineResult:
    """Run every stage in order and return what each produced."""
    ladder = run_ladder(
        config.model,
        config.dev,
        config.target,
        limit=config.dev_limit,
        concurrency=config.concurrency,
        seed=config.seed,
        domain=config.domain,
    )
    best = ladder.decision.best
    strategy = best.strategy if best else config.tune_strategy
    # The tuned model is trained and run with one prompt (the export's strategy), kept short on
    # purpose: prompt length dominates training and inference cost on a CPU.
    train_model = config.train_model or config.model
    train = _suite_run(config, train_model, config.tune_strategy, config.train, config.train_limit)
    exported = export_run(
        train.run_id, config.out / "data", seed=config.seed, domain_spec=config.domain,
        include_passing=0.0 if config.from_passing else config.include_passing,
        from_passing=config.from_passing, prompt=config.prompt,
    )  # fmt: skip
    tuned_adapter = tune_apart(
        config.out / "data",
        config.model,
        config.out / "adapter",
        epochs=config.epochs,
        max_examples=config.max_examples,
        seed=config.seed,
        budget_minutes=config.budget_minutes,
        domain=config.domain,
    )
    baseline = _suite_run(config, config.model, strategy, config.test, config.test_limit)
    tuned = _suite_run(config, tuned_adapter.model, config.tuned_strategy, config.test, config.test_limit)
    comparison = compare(baseline.run_id, tuned.run_id, target=config.target, seed=config.seed)
    return PipelineResult(
        ladder=ladder.as_json(),
        train_run=train.run_id,
        export=exported.model_dump(mode="json"),
        tune=tuned_adapter.model_dump(mode="json"),
        baseline=_headline(baseline),
        tuned=_headline(tuned),
        compare=comparison.model_dump(mode="json", exclude={"per_tool", "per_category"}),
    )
