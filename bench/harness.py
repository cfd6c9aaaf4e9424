"""Harness speed: what the lab itself costs, with no model in the way.

Three measurements of the ``lab`` command as a user starts it (a fresh process each time, so
imports count), merged into ``bench/results.json`` under ``harness`` (other keys are kept):

- ``help_s``: ``lab --help``, the median wall time of ``--repeat`` starts;
- ``bad_input_s``: ``lab run`` on a suite file that does not exist (exit 2, one error line), the
  same median;
- ``oracle``: ``lab run --model scripted/oracle`` on a generated pack of ``--scenarios`` scenarios
  (the generator's packs for seeds 1, 2, ..., ids prefixed with the seed so they stay unique) with
  tracking on, traces included, in a throwaway store under a temporary folder. The store is
  created first by a one-scenario run, so the timed run pays for its own work, not for creating
  the database. Reported as scenarios per second of the whole process.

Each figure stands beside its target (``targets``) and whether it was met. A script, not a test:
``python bench/harness.py [--scenarios 1000] [--concurrency N] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network: litellm must not fetch prices

from lab.cli.common import CONCURRENCY  # noqa: E402
from lab.io import merge_json, write_jsonl_atomic  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
TARGETS = {"help_s": 1.5, "bad_input_s": 1.5, "oracle_scenarios_per_s": 50.0}
ORACLE = ("run", "--model", "scripted/oracle", "--strategy", "instructed")


def lab(args: list[str], store: Path, expect: int) -> tuple[float, str]:
    """Run ``lab ARGS`` (this checkout's code) on ``store``; return its wall seconds and stdout.

    Raises ``SystemExit`` when the exit status is not ``expect``: a bench of a broken command
    measures nothing.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}"}
    command = [sys.executable, "-c", "from lab.cli import main; main()", *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != expect:
        raise SystemExit(f"lab {' '.join(args)}: exit {done.returncode}, not {expect}\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def median_seconds(args: list[str], store: Path, expect: int, repeat: int) -> float:
    """The median wall time of ``repeat`` runs of ``lab ARGS``."""
    return round(statistics.median(lab(args, store, expect)[0] for _ in range(repeat)), 3)


def make_pack(path: Path, size: int) -> Path:
    """Write a pack of ``size`` generated scenarios (seeds 1, 2, ...; ids ``s<seed>-<id>``)."""
    from lab.generate import generate

    rows: list[dict] = []
    seed = 0
    while len(rows) < size:
        seed += 1
        for scenarios in generate(seed).values():
            for scenario in scenarios:
                row = scenario.model_dump(mode="json", exclude_defaults=True)
                rows.append({**row, "id": f"s{seed}-{scenario.id}"})
    write_jsonl_atomic(path, rows[:size])
    return path


def oracle(suite: Path, store: Path, concurrency: int) -> dict:
    """Time ``lab run --model scripted/oracle`` over ``suite`` in an existing store."""
    args = [*ORACLE, "--suite", str(suite), "--concurrency", str(concurrency), "--json"]
    lab([*args, "--limit", "1"], store, expect=0)  # creates the store's database
    seconds, out = lab(args, store, expect=0)
    summary = json.loads(out)
    return {
        "scenarios": summary["scenarios"],
        "concurrency": concurrency,
        "seconds": round(seconds, 2),
        "scenarios_per_s": round(summary["scenarios"] / seconds, 2),
        "call_accuracy": summary["metrics"]["call_accuracy"],
    }


def measure(scenarios: int, concurrency: int, repeat: int) -> dict:
    """All three measurements, in a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lab-bench-") as folder:
        store = Path(folder)
        help_s = median_seconds(["--help"], store, 0, repeat)
        missing = str(store / "missing.jsonl")
        bad_s = median_seconds([*ORACLE, "--suite", missing], store, 2, repeat)
        run = oracle(make_pack(store / "pack.jsonl", scenarios), store, concurrency)
    measured = {"help_s": help_s, "bad_input_s": bad_s, "oracle_scenarios_per_s": run["scenarios_per_s"]}
    met = {
        "help_s": help_s <= TARGETS["help_s"],
        "bad_input_s": bad_s <= TARGETS["bad_input_s"],
        "oracle_scenarios_per_s": run["scenarios_per_s"] >= TARGETS["oracle_scenarios_per_s"],
    }
    return {**measured, "oracle": run, "targets": TARGETS, "met": met, "repeat": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", type=int, default=1000, help="size of the generated pack")
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENCY, help="trials in flight (lab run's default)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="starts per median (help, bad input)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON file to merge into")
    args = parser.parse_args()
    result = measure(args.scenarios, args.concurrency, args.repeat)
    merge_json(args.results, {"harness": result})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
