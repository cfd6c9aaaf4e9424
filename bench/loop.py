"""The lab's end-to-end benchmark: the whole prompting-vs-tuning loop.

The pipeline (``lab.pipeline``): ladder on dev, baseline run on train, export, LoRA tune, best
prompting strategy and tuned model on test, paired comparison, merged into ``bench/results.json``
(other keys are kept) as ``baseline``, ``tuned``, ``train_examples``, ``tune_seconds``,
``compare`` and ``pipeline``. The harness speed (``harness``) is ``bench/harness.py``'s.

A script, not a test: ``python bench/loop.py [--train-limit N]``. The store is the lab's usual
one (``MLFLOW_TRACKING_URI`` or ``mlruns/``), so every run stays browsable.
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
        "pipeline": {
            "seconds": round(time.perf_counter() - started, 1),
            "ladder": result["ladder"]["runs"],
            "ladder_decision": result["ladder"]["decision"],
            "train_run": result["train_run"],
            "export": {k: result["export"].get(k) for k in ("examples", "train", "val")},
            "tune": {
                k: result["tune"].get(k) for k in ("examples", "epochs", "steps", "final_loss", "run_id")
            },
            "config": {
                "train_limit": config.train_limit,
                "max_examples": config.max_examples,
                "epochs": config.epochs,
                "include_passing": config.include_passing,
                "tune_strategy": config.tune_strategy,
                "tuned_strategy": config.tuned_strategy,
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-limit", type=int, default=PipelineConfig.train_limit)
    parser.add_argument("--epochs", type=int, default=PipelineConfig.epochs)
    parser.add_argument("--max-examples", type=int, default=PipelineConfig.max_examples)
    parser.add_argument("--concurrency", type=int, default=PipelineConfig.concurrency)
    args = parser.parse_args()
    config = PipelineConfig(
        train_limit=args.train_limit,
        epochs=args.epochs,
        max_examples=args.max_examples,
        concurrency=args.concurrency,
    )
    merge_json(RESULTS, pipeline_sections(config))
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
