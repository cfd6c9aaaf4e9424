"""`lab run` (score a suite) and `lab ui` (browse the runs): thin commands over lab.run and lab.tracking."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from lab.cli.common import (
    CONCURRENCY,
    CONCURRENCY_OPTION,
    DOMAIN_OPTION,
    JSON_OPTION,
    LIMIT_OPTION,
    TIMEOUT_OPTION,
    emit,
)
from lab.errors import BadInput

if TYPE_CHECKING:
    from lab.run import RunConfig, RunSummary

UI_PORT = 5000
OTHER = ("latency_p50_s", "latency_p95_s", "tokens_per_scenario")
INTERRUPTED = 130  # the shell's status for a process stopped by SIGINT

MODEL = typer.Option(
    None, "--model", help="litellm model string, e.g. local/smollm2-135m. Required unless --resume."
)
STRATEGY = typer.Option(
    None, "--strategy", help="zero_shot, instructed, few_shot, workflow or decide. Required unless --resume."
)
# readable=False: lab.scenarios reports an unreadable file as one error line, not a usage panel.
SUITE = typer.Option(None, "--suite", readable=False, help="Scenario pack (JSONL). Required unless --resume.")
TRIALS = typer.Option(None, "--trials", help="Trials per scenario (pass^k with k = trials); default 1.")
EXPERIMENT = typer.Option(None, "--experiment", help="MLflow experiment (default: the suite file's name).")
RESUME = typer.Option(
    None, "--resume", help="Continue an unfinished run, by its MLflow run id (a finished one is refused)."
)
SYSTEM_PROMPT = typer.Option(
    None, "--system-prompt", help="File whose text replaces the strategy's instructions."
)
PROMPT = typer.Option(
    None, "--prompt", help="Prompt form: full, names or none (default: the adapter's, else full)."
)
RETRIES = typer.Option(3, "--retries", min=0, help="Retries of a rate-limited or timed-out model request.")
RETRY_DELAY = typer.Option(
    0.5, "--retry-delay", min=0.0, help="Seconds before the first retry; doubles each time."
)
PORT = typer.Option(UI_PORT, "--port", help="Port on 127.0.0.1.")


def run_command(
    model: str | None = MODEL,
    strategy: str | None = STRATEGY,
    suite: Path | None = SUITE,
    limit: int | None = LIMIT_OPTION,
    trials: int | None = TRIALS,
    concurrency: int = CONCURRENCY_OPTION,
    experiment: str | None = EXPERIMENT,
    resume: str | None = RESUME,
    system_prompt: Path | None = SYSTEM_PROMPT,
    prompt: str | None = PROMPT,
    retries: int = RETRIES,
    retry_delay: float = RETRY_DELAY,
    timeout: float = TIMEOUT_OPTION,
    domain: str = DOMAIN_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Run a scenario suite with a model and a strategy, score every API call, and log the run to MLflow.

    Progress goes to stderr (also with --json). Ctrl-C stops the run, leaves it resumable and prints
    the `lab run --resume` command that finishes it; the exit status is then 130.
    """
    from lab.run import Interrupted, RunConfig, settings_for

    if not resume:
        _require(model=model, strategy=strategy, suite=suite)
    config = RunConfig(
        model=model,
        strategy=strategy,
        suite=suite,
        limit=limit,
        trials=trials,
        concurrency=concurrency,
        experiment=experiment,
        resume=resume,
        system_prompt=system_prompt,
        prompt=prompt,
        settings=settings_for(retries, retry_delay, timeout),
        domain=domain,
    )
    console = Console(stderr=json_output)
    if not console.is_terminal:  # piped or logged: wide enough that the tables do not wrap
        console = Console(stderr=json_output, width=max(console.width, 140))
    try:
        summary = _run_with_progress(config, console)
    except Interrupted as stop:
        command = _resume_command(stop.run_id, concurrency, retries, retry_delay, timeout, json_output)
        print(f"interrupted: run {stop.run_id} is resumable; finish it with\n  {command}", file=sys.stderr)
        raise typer.Exit(INTERRUPTED) from None
    except KeyboardInterrupt:
        print("interrupted before the run started: nothing to resume", file=sys.stderr)
        raise typer.Exit(INTERRUPTED) from None
    if json_output:
        emit(summary.as_json())
    else:
        print_summary(console, summary)


def _require(**options: object) -> None:
    """Refuse, in one error, every option of ``options`` that has no value."""
    missing = [f"--{name}" for name, value in options.items() if not value]
    if missing:
        raise BadInput(", ".join(missing), "required (unless --resume names a run)")


def _resume_command(
    run_id: str, concurrency: int, retries: int, delay: float, timeout: float, json_output: bool
) -> str:
    """The shell command that resumes ``run_id`` with this invocation's settings that a run does not
    store (those away from their defaults) and its --json."""
    command = ["lab", "run", "--resume", run_id]
    for flag, value, default in (
        ("--concurrency", concurrency, CONCURRENCY),
        ("--retries", retries, RETRIES.default),
        ("--retry-delay", delay, RETRY_DELAY.default),
        ("--timeout", timeout, TIMEOUT_OPTION.default),
    ):
        if value != default:
            command += [flag, str(value)]
    return shlex.join(command + ["--json"] * json_output)


def _run_with_progress(config: RunConfig, console: Console) -> RunSummary:
    """``run_suite`` with a progress bar on ``console``, stopped (its last state shown) however the
    run ends, so that a message printed afterwards comes after it."""
    from lab.run import run_suite

    progress, on_progress = _progress(console)
    try:
        return run_suite(config, on_progress)
    finally:
        if progress.live.is_started:
            progress.stop()


def _progress(console: Console) -> tuple[Progress, Callable[[int, int, float | None], None]]:
    """A progress bar on ``console`` and the callback that moves it, showing itself from the first
    finished trial on (so bad input never leaves a bar behind)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("call_accuracy {task.fields[accuracy]}"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    progress = Progress(*columns, console=console, transient=False)
    task = progress.add_task("trials", total=None, accuracy="-", rate="")
    started, resumed_at = time.monotonic(), {}

    def on_progress(done: int, total: int, accuracy: float | None) -> None:
        progress.start()
        resumed_at.setdefault("done", done - 1)  # trials already done before this process started
        rate = (done - resumed_at["done"]) / max(time.monotonic() - started, 1e-9)
        shown = f"{accuracy:.3f}" if accuracy is not None else "-"
        progress.update(task, completed=done, total=total, accuracy=shown, rate=f"{rate:.2f} trials/s")

    return progress, on_progress


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ci(bounds: list[float] | None) -> str:
    return "-" if not bounds else f"[{bounds[0]:.3f}, {bounds[1]:.3f}]"


def print_summary(console: Console, summary: RunSummary) -> None:
    """Headline metrics with 95% intervals, per-category and per-tool tables, and where the run is."""
    from lab import tracking
    from lab.metrics import METRIC_NAMES

    result = summary.result
    head = Table(
        title=f"{summary.model} · {summary.strategy} · {summary.scenarios} scenarios × {summary.trials}"
    )
    for column in ("metric", "value", "95% CI"):
        head.add_column(column)
    for name in (name for name in METRIC_NAMES if name not in OTHER):
        head.add_row(name, _fmt(result["metrics"][name]), _ci(result["ci95"].get(name)))
    for name in OTHER:
        head.add_row(name, _fmt(result["metrics"][name], 2), "")
    console.print(head)
    cats = Table(title="by category")
    for column in ("category", "trials", "call_accuracy", "95% CI", "turn_accuracy", "scenario_success"):
        cats.add_column(column)
    for name, row in result["by_category"].items():
        m = row["metrics"]
        cats.add_row(
            name,
            str(row["trials"]),
            _fmt(m["call_accuracy"]),
            _ci(row["ci95"]["call_accuracy"]),
            _fmt(m["turn_accuracy"]),
            _fmt(m["scenario_success"]),
        )
    console.print(cats)
    tools = Table(title="by tool (accuracy: matched / expected + unmatched calls naming the tool)")
    for column in (
        "tool",
        "expected",
        "matched",
        "wrong args",
        "wrong tool",
        "missing",
        "extra",
        "accuracy",
        "95% CI",
    ):
        tools.add_column(column)
    for name, row in result["by_tool"].items():
        tools.add_row(
            name,
            *(
                str(row[k])
                for k in ("expected", "matched", "wrong_arguments", "wrong_tool", "missing", "extra")
            ),
            _fmt(row["accuracy"]),
            _ci(row["ci95"]),
        )
    console.print(tools)
    if summary.failed:
        console.print(
            f"[yellow]{summary.failed} trial(s) failed outright; see failures.jsonl in the run.[/yellow]"
        )
    console.print(
        f"MLflow run: {summary.run_id} (experiment {summary.experiment}) in {tracking.tracking_uri()}"
    )
    console.print(f"UI: {ui_base()}{summary.ui_path}   (start it with `lab ui`)")


def ui_base() -> str:
    """The UI's base URL: the tracking server itself, or what `lab ui` serves."""
    from lab import tracking

    uri = tracking.tracking_uri()
    return (
        uri.rstrip("/") + "/" if uri.startswith(("http://", "https://")) else f"http://127.0.0.1:{UI_PORT}/"
    )


def ui_command(port: int = PORT, json_output: bool = JSON_OPTION) -> None:
    """Serve the MLflow UI for the lab's store on 127.0.0.1 (Ctrl-C stops it)."""
    from lab import tracking

    command = tracking.ui_command("127.0.0.1", port)
    if json_output:
        emit(
            {
                "url": f"http://127.0.0.1:{port}/",
                "store": tracking.tracking_uri(),
                "command": command,
                "env": tracking.ui_env({}),
            }
        )
    else:
        print(f"MLflow UI on http://127.0.0.1:{port}/ for {tracking.tracking_uri()} (Ctrl-C stops it)")
    try:
        subprocess.run(command, check=False, env=tracking.ui_env())
    except KeyboardInterrupt:
        pass
