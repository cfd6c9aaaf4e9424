"""`lab ladder`: climb the prompting ladder for one model and suite, and say what to do next."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from lab.cli.common import CONCURRENCY_OPTION, DOMAIN_OPTION, JSON_OPTION, LIMIT_OPTION, TIMEOUT_OPTION, emit

MODEL = typer.Option(..., "--model", help="litellm model string, e.g. local/smollm2-135m.")
# readable=False: lab.scenarios reports an unreadable file as one error line, not a usage panel.
SUITE = typer.Option(..., "--suite", readable=False, help="Scenario file (JSONL) every rung runs on.")
TARGET = typer.Option(..., "--target", help="call_accuracy that is good enough, in [0, 1].")
EPSILON = typer.Option(0.02, "--epsilon", help="Smallest gain over the last two rungs that still counts.")
TRIALS = typer.Option(1, "--trials", help="Trials per scenario.")
RETRIES = typer.Option(3, "--retries", min=0, help="Retries of a rate-limited or timed-out model request.")


def ladder(
    model: str = MODEL,
    suite: Path = SUITE,
    target: float = TARGET,
    epsilon: float = EPSILON,
    limit: int | None = LIMIT_OPTION,
    trials: int = TRIALS,
    concurrency: int = CONCURRENCY_OPTION,
    retries: int = RETRIES,
    timeout: float = TIMEOUT_OPTION,
    domain: str = DOMAIN_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Climb the prompting ladder until call_accuracy reaches the target, then say what to do next.

    Runs zero_shot, instructed, few_shot and workflow in order, each a child run of one parent
    run in the suite's experiment, stopping once the target is met. The decision is target_met,
    fine_tune (a plateau below the target) or keep_iterating (still rising), with its reason.
    """
    from lab.ladder import Rung, ladder_table, run_ladder
    from lab.run import settings_for

    def show(rung: Rung) -> None:
        print(
            f"{rung.strategy:<11} call_accuracy {rung.call_accuracy:.3f} "
            f"[{rung.ci_low:.3f}, {rung.ci_high:.3f}]  failed trials {rung.failed}/{rung.trials}  "
            f"run {rung.run_id}",
            file=sys.stderr,
        )

    settings = settings_for(retries, 0.5, timeout)
    result = run_ladder(
        model, suite, target, epsilon=epsilon, limit=limit, trials=trials, concurrency=concurrency,
        settings=settings, on_rung=show, domain=domain,
    )  # fmt: skip
    payload = result.as_json()
    if json_output:
        emit(payload)
        return
    print(f"decision: {payload['decision']} (plateau: {payload['plateau']})")
    print(f"reason: {payload['reason']}")
    print(f"parent run: {payload['parent_run_id']} in experiment {payload['experiment']}")
    print(ladder_table(result.rungs), end="")
