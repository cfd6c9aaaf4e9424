"""The lab's end-to-end benchmark: the whole prompting-vs-tuning loop.

The pipeline (``lab.pipeline``): ladder on dev, baseline run on train, export, LoRA tune, best
prompting strategy and tuned model on test, paired comparison, merged into ``bench/results.json``
(other keys are kept) as ``baseline``, ``tuned``, ``train_examples``, ``tune_seconds``,
``compare`` and ``pipeline``. The harness speed (``harness``) is ``bench/harness.py``'s.

A script, not a test: ``python bench/loop.py [--train-limit N] [--prompt FORM --budget-minutes M
...]``. Besides the pipeline's sections it writes ``cost``: the tuned model's tokens per scenario
and p50 latency over the prompting baseline's on the same test suite (``lab compare``'s
``tokens_ratio`` and ``latency_ratio``), and ``bench_seconds``, the script's wall time. The store
is the lab's usual one (``MLFLOW_TRACKING_URI`` or ``mlruns/``), so every run stays browsable.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network: litellm must not fetch prices

from lab.io import merge_json  # noqa: E402
from lab.pipeline import PipelineConfig, run_pipeline  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"


def pipeline_sections(config: PipelineConfig) -> dict:
    """Run the pipeline and shape its result as the bench's top-level keys."""
    started = time.perf_counter()
    result = run_pipeline(config).as_json()
    cmp = result["compare"]
    return {
        "baseline": {
            k: result["baseline"][k] for k in ("strategy", "call_accuracy", "scenario_success", "run_id")
        },
        "tuned": {
            k: result["tuned"][k]
            for k in ("model", "strategy", "call_accuracy", "scenario_success", "run_id")
        },
        "train_examples": result["tune"]["examples"],
        "tune_seconds": result["tune"]["seconds"],
        "compare": {k: cmp[k] for k in ("delta", "delta_ci95", "mcnemar_p", "verdict", "reason")},
        "cost": cost(cmp),
        "pipeline": {
            "seconds": round(time.perf_counter() - started, 1),
            "ladder": result["ladder"]["runs"],
            "ladder_decision": result["ladder"]["decision"],
            "train_run": result["train_run"],
            "export": {k: result["export"].get(k) for k in ("examples", "train", "val")},
            "tune": {
                k: result["tune"].get(k)
                for k in ("examples", "epochs", "steps", "planned_steps", "final_loss", "prompt", "run_id")
            },
            "config": {
                "train_limit": config.train_limit,
                "max_examples": config.max_examples,
                "epochs": config.epochs,
                "include_passing": config.include_passing,
                "tune_strategy": config.tune_strategy,
                "tuned_strategy": config.tuned_strategy,
                "prompt": config.prompt,
                "budget_minutes": config.budget_minutes,
                "train_model": config.train_model,
                "from_passing": config.from_passing,
            },
        },
    }


def cost(comparison: dict) -> dict:
    """The tuned model's cost over the prompting baseline's on the same suite (candidate / baseline)."""
    return {"tokens_ratio": comparison.get("tokens_ratio"), "latency_ratio": comparison.get("latency_ratio")}


def main() -> None:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-limit", type=int, default=PipelineConfig.train_limit)
    parser.add_argument("--epochs", type=int, default=PipelineConfig.epochs)
    parser.add_argument("--max-examples", type=int, default=None, help="default 300, all with a budget")
    parser.add_argument("--concurrency", type=int, default=PipelineConfig.concurrency)
    parser.add_argument("--prompt", default=PipelineConfig.prompt, help="full, names or none")
    parser.add_argument("--budget-minutes", type=float, default=PipelineConfig.budget_minutes)
    parser.add_argument("--train-model", default=PipelineConfig.train_model)
    parser.add_argument("--train-suite", type=Path, default=PipelineConfig.train)
    parser.add_argument("--from-passing", action="store_true")
    args = parser.parse_args()
    config = PipelineConfig(
        train_limit=args.train_limit,
        epochs=args.epochs,
        max_examples=args.max_examples or (None if args.budget_minutes else PipelineConfig.max_examples),
        concurrency=args.concurrency,
        prompt=args.prompt,
        budget_minutes=args.budget_minutes,
        train_model=args.train_model,
        train=args.train_suite,
        from_passing=args.from_passing,
    )
    merge_json(RESULTS, pipeline_sections(config))
    merge_json(RESULTS, {"bench_seconds": round(time.perf_counter() - started, 1)})
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
