"""The embedded model on BFCL: prompting rungs on a seeded sample of each single-turn category.

For each category of ``lab.bfcl.importer.SINGLE_TURN``, the imported pack (``lab import bfcl``, into
``exports/bench/bfcl``) is sampled (``--sample`` cases of a seeded shuffle, written beside it as
``CATEGORY-sample.jsonl``) and run with the local model under each ``--strategies`` rung (default
``zero_shot``, ``instructed``, ``workflow``). ``few_shot`` is left out: its examples must come from
a train pack of the domain, and BFCL ships test cases only. Each case offers its own functions,
so no prompt prefix is shared between cases and the engine encodes every prompt whole.

Merges ``bfcl_ladder`` into ``bench/results.json``: ``{category: {strategy: {metric, value, ci95,
scenarios, seconds, run_id}}}`` plus ``config`` (model, sample, seed, strategies, seconds); the
metric is ``call_accuracy``, or for the irrelevance categories BFCL's own rule, no call made
(``abstention_accuracy``). A script, not a test:
``python bench/bfcl_ladder.py [--sample 20 --strategies zero_shot,instructed,workflow]``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network: litellm must not fetch prices

from lab.io import merge_json  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
PACKS = ROOT / "exports" / "bench" / "bfcl"


def sample_pack(category: str, size: int, seed: int) -> Path:
    """A seeded sample of the category's imported cases (their lines kept verbatim, in file order).

    The category is imported on every run: a pack kept from an earlier run would miss the
    importer's changes since."""
    from lab.bfcl.importer import import_packs

    pack = PACKS / f"{category}.jsonl"
    import_packs(PACKS, [category])
    lines = pack.read_text(encoding="utf-8").splitlines(keepends=True)
    chosen = sorted(random.Random(f"{seed}:{category}").sample(range(len(lines)), min(size, len(lines))))
    out = PACKS / f"{category}-sample.jsonl"
    out.write_text("".join(lines[i] for i in chosen), encoding="utf-8")
    return out


def run_category(model: str, suite: Path, strategies: list[str], concurrency: int, metric: str) -> dict:
    """Every rung on one sampled pack: ``metric`` with its interval per strategy."""
    from lab.run import RunConfig, run_suite

    rows = {}
    for strategy in strategies:
        summary = run_suite(
            RunConfig(model=model, strategy=strategy, suite=suite, domain="bfcl", concurrency=concurrency)
        )
        result = summary.result
        rows[strategy] = {
            "metric": metric,
            "value": result["metrics"][metric],
            "ci95": result["ci95"][metric],
            "scenarios": summary.scenarios,
            "seconds": round(summary.seconds, 1),
            "run_id": summary.run_id,
        }
        print(f"{suite.stem} {strategy}: {metric} {rows[strategy]['value']:.3f}", file=sys.stderr)
    return rows


def main() -> None:
    from lab.bfcl.importer import SINGLE_TURN

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="local/smollm2-135m")
    parser.add_argument("--sample", type=int, default=20, help="cases per category")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strategies", default="zero_shot,instructed,workflow")
    parser.add_argument("--categories", default=",".join(SINGLE_TURN))
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    started = time.perf_counter()
    strategies = [s for s in args.strategies.split(",") if s]
    table = {
        category: run_category(
            args.model,
            sample_pack(category, args.sample, args.seed),
            strategies,
            args.concurrency,
            "abstention_accuracy" if SINGLE_TURN[category] == "no_tool" else "call_accuracy",
        )  # fmt: skip
        for category in args.categories.split(",")
    }
    config = {"model": args.model, "sample": args.sample, "seed": args.seed, "strategies": strategies}
    config["seconds"] = round(time.perf_counter() - started, 1)
    merge_json(RESULTS, {"bfcl_ladder": {**table, "config": config}})
    for category, rows in table.items():
        cells = "  ".join(f"{s} {r['value']:.3f}" for s, r in rows.items())
        print(f"{category:24} {cells}")


if __name__ == "__main__":
    main()
