"""Run a scenario suite: model x strategy x scenarios x trials, each trial scored and logged.

``run_suite`` opens (or, with ``resume``, reopens) an MLflow run, runs the trials on a thread
pool of ``concurrency`` workers, scores each trial as soon as it finishes and appends it to the
run's results log (written at once, fsynced at most every ``SYNC_S`` and at the end), so a
killed run loses at most the trial in flight and a resumed run skips what is done. At the end the
results, read back from the log in suite order, are summarised and logged: metrics, the
per-scenario table, failures, figures, the results log and one trace per trial (a large run's
traces are written meanwhile by a child process, ``lab.tracewriter``). A run that cannot
write its log or its store (a full disk, a read-only folder, traces the store did not keep) ends
FAILED with a ``StoreError`` that says how to resume it.
This module does not score calls itself nor import MLflow.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lab import report, results, tracewriter
from lab.agent_settings import DEFAULT_TIMEOUT_S, AgentSettings
from lab.catalog import Catalog
from lab.domain import DEFAULT_DOMAIN, load_domain
from lab.errors import BadInput, StoreError
from lab.explain import explain
from lab.io import atomic_write_text
from lab.lazy import lazy_module
from lab.metrics import confusion, proportions, tally
from lab.models import promptform
from lab.models.gateway import RetryPolicy, check_model
from lab.provenance import run_params
from lab.redact import redact
from lab.scenarios import load_suite
from lab.score import GoldReplay, gold_replay, score_scenario
from lab.strategies import DEFAULT_TRAIN, Strategy, make_strategy
from lab.types import ResultRecord, Scenario, Trace

# Loaded on first use, so that bad input is refused before MLflow and matplotlib are imported.
figures = lazy_module("lab.figures")
tracking = lazy_module("lab.tracking")

SYNC_S = 0.5  # the results log is fsynced at most this often while trials end (and at the end)
RESUMABLE = ("model", "strategy", "suite", "limit", "trials", "system_prompt", "prompt")
Progress = Callable[[int, int, float | None], None]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run: the run is marked KILLED, its results log kept, ``run_id`` resumable."""

    def __init__(self, run_id: str):
        super().__init__(run_id)
        self.run_id = run_id


@dataclass(frozen=True)
class RunConfig:
    """What to run. With ``resume`` the stored run's model, strategy, suite, limit, trials and
    system prompt are used; any of them also given here must agree."""

    model: str | None = None
    strategy: str | None = None
    suite: Path | None = None
    limit: int | None = None
    trials: int | None = None
    concurrency: int = 1
    experiment: str | None = None
    resume: str | None = None
    system_prompt: Path | None = None
    seed: int = 0
    domain: str = DEFAULT_DOMAIN
    train_file: Path = DEFAULT_TRAIN
    parent_run_id: str | None = None
    settings: AgentSettings = field(default_factory=AgentSettings)
    tags: dict[str, str] = field(default_factory=dict)
    prompt: str | None = None  # prompt form (lab.models.promptform); default: the adapter's, else full


@dataclass
class RunSummary:
    """What a finished run reports."""

    run_id: str
    experiment_id: str
    experiment: str
    model: str
    strategy: str
    suite: str
    suite_sha256: str
    scenarios: int
    trials: int
    failed: int
    seconds: float
    ui_path: str
    result: dict[str, Any]
    records: list[ResultRecord] = field(repr=False, default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The ``lab run --json`` object."""
        keys = ("run_id", "model", "strategy", "suite_sha256", "scenarios", "trials", "experiment", "ui_path")
        return {
            **{k: getattr(self, k) for k in keys},
            "metrics": self.result["metrics"],
            "ci95": self.result["ci95"],
        }


@dataclass
class Plan:
    """A resolved run: its config, suite, catalog, strategy and the open MLflow run."""

    config: RunConfig
    scenarios: list[Scenario]
    sha256: str
    catalog: Catalog
    strategy: Strategy
    run: tracking.RunRef
    golds: dict[str, GoldReplay] = field(default_factory=dict)
    traces: tracewriter.TraceWriter | None = None  # writes traces while the trials run (large runs)


def run_suite(config: RunConfig, on_progress: Progress | None = None) -> RunSummary:
    """Run (or resume) a suite and return its summary; see the module docstring."""
    started = time.perf_counter()
    plan = prepare(config)
    try:
        records = execute(plan, on_progress)
        summary = finalize(plan, records, time.perf_counter() - started)
    except BaseException as exc:
        if plan.traces is not None:
            plan.traces.abort()
        end_run(plan.run.run_id, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, Interrupted):
            raise Interrupted(plan.run.run_id) from exc
        failure = exc if isinstance(exc, StoreError) else tracking.store_failure(exc)
        if failure is None:
            raise
        hint = f"then `lab run --resume {plan.run.run_id}` (the run and its results so far are kept)"
        raise StoreError(failure.where, f"{failure.reason}; {hint}") from exc
    return summary


def end_run(run_id: str, status: str) -> None:
    """Mark a run that stopped early; where the store itself fails, it stays RUNNING (resumable too)."""
    try:
        tracking.set_status(run_id, status)
    except Exception:  # noqa: BLE001 - the error that stopped the run is the one to report
        return


def resolve(config: RunConfig) -> RunConfig:
    """Fill a resumed run's settings from the stored run; check the arguments."""
    if config.resume:
        stored = tracking.find_run(config.resume, where="--resume")
        if stored.tags.get("lab.kind") != "suite":
            raise BadInput("--resume", f"run {config.resume} is not a suite run")
        if stored.status == "FINISHED":
            raise BadInput("--resume", f"run {config.resume} is finished; start a new run to run it again")
        config = _merge_stored(config, stored.params)
    for option, value in (
        ("--model", config.model),
        ("--strategy", config.strategy),
        ("--suite", config.suite),
    ):
        if not value:
            raise BadInput(option, "required (unless --resume names a run)")
    for option, value in (
        ("--limit", config.limit),
        ("--trials", config.trials),
        ("--concurrency", config.concurrency),
    ):
        if value is not None and value < 1:
            raise BadInput(option, f"must be at least 1, not {value}")
    check_model(config.model)
    prompt = promptform.check_form(
        config.prompt or promptform.adapter_form(config.model) or promptform.DEFAULT_FORM
    )
    return replace(config, trials=config.trials or 1, prompt=prompt)


def _merge_stored(config: RunConfig, params: dict[str, str]) -> RunConfig:
    def parse(key: str, text: str) -> Any:
        if key in ("limit", "trials"):
            return None if text in ("", "None") else int(text)
        return Path(text) if key in ("suite", "system_prompt") and text else (text or None)

    merged = {}
    for key in RESUMABLE:
        stored, given = parse(key, params.get(key, "")), getattr(config, key)
        if given is not None and stored is not None and not _same(given, stored):
            raise BadInput("--resume", f"the run has {key}={stored}, not {given}")
        merged[key] = stored if stored is not None else given
    return replace(config, **merged)


def _same(given: Any, stored: Any) -> bool:
    if isinstance(stored, Path):
        return Path(given).resolve() == stored.resolve()
    return str(given) == str(stored)


def prepare(config: RunConfig) -> Plan:
    """Resolve the config, load suite, catalog and strategy, and open or reopen the run."""
    config = resolve(config)
    domain = load_domain(config.domain)
    tuned_on = promptform.adapter_summary(config.model).get("domain")
    if tuned_on and tuned_on != domain.name:
        raise BadInput("--model", f"the adapter was tuned on domain {tuned_on}, not {domain.name}")
    catalog = domain.catalog
    suite = load_suite(config.suite, catalog, config.limit)
    scenarios, sha = suite.scenarios, suite.sha256
    if not scenarios:
        raise BadInput(str(config.suite), "the suite has no scenarios")
    strategy = make_strategy(
        config.strategy, domain, system_prompt_file=config.system_prompt, train_file=config.train_file,
        prompt=config.prompt or promptform.DEFAULT_FORM,
    )  # fmt: skip
    if config.resume:
        run = tracking.find_run(config.resume, where="--resume")
        if run.params.get("suite_sha256") != sha:
            raise BadInput(
                "--resume", f"{config.suite} changed since run {run.run_id} started (sha256 differs)"
            )
        tracking.set_status(run.run_id, "RUNNING")
    else:
        tags = {"lab.kind": "suite", "lab.split": scenarios[0].split, **config.tags}
        run = tracking.start_run(
            config.experiment or Path(config.suite).stem,
            run_params(config, sha, len(scenarios)) | strategy.run_params(),
            tags,
            run_name=f"{config.model} {config.strategy}",
            parent_run_id=config.parent_run_id,
        )
    return Plan(config, scenarios, sha, catalog, strategy, run)


def execute(plan: Plan, on_progress: Progress | None = None) -> list[ResultRecord]:
    """Run every trial not yet in the results log; return all records in suite order.

    Each worker thread logs its own trial as it ends (``TrialLog``): with many trials in flight
    the main thread would rarely get the interpreter to do it, and the log, the progress and the
    trace writer would only see the trials at the end.
    """
    path = tracking.results_path(plan.run.run_id)
    results.repair(path)
    done = results.done(results.read(path))
    trials = plan.config.trials or 1
    jobs = [(s, t) for s in plan.scenarios for t in range(trials) if (s.id, t) not in done]
    if tracewriter.worthwhile(len(jobs)):
        plan.traces = tracewriter.TraceWriter(plan.run, plan.catalog.schemas(), tracking.tracking_uri())
    total = len(plan.scenarios) * trials
    log = TrialLog(plan, path, total, total - len(jobs), on_progress)
    pool = ThreadPoolExecutor(max_workers=plan.config.concurrency, thread_name_prefix="trial")
    try:
        for future in as_completed([pool.submit(log.run, scenario, trial) for scenario, trial in jobs]):
            future.result()
    except BaseException:  # Ctrl-C included: say so now; trials still in flight are not logged
        log.stop()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    results.sync(path)
    return collect(plan, path)


class TrialLog:
    """Runs a trial and logs it: masked, appended to the results log (fsynced at most every
    ``SYNC_S``; ``execute`` syncs at its end), handed to the trace writer, counted in the progress.
    Safe to call from many threads; after ``stop`` nothing more is logged."""

    def __init__(self, plan: Plan, path: Path, total: int, finished: int, on_progress: Progress | None):
        self.plan, self.path, self.on_progress = plan, path, on_progress
        self.total, self.finished = total, finished
        self.by_id = {s.id: s for s in plan.scenarios}
        self.matched = self.scored_calls = 0
        self.synced, self.stopped = time.monotonic(), False
        self.lock = threading.Lock()

    def run(self, scenario: Scenario, trial: int) -> None:
        record = run_trial(self.plan, scenario, trial)
        masked = ResultRecord.model_validate(redact(record.model_dump(mode="json")))
        verdict = explain(masked, self.by_id[scenario.id]) if self.plan.traces is not None else None
        num, den = proportions(tally([record.scored]))["call_accuracy"]
        with self.lock:
            if self.stopped:
                return
            now = time.monotonic()
            sync = now - self.synced >= SYNC_S
            results.append(self.path, masked, sync=sync)
            self.synced = now if sync else self.synced
            if self.plan.traces is not None and verdict is not None:
                self.plan.traces.send(masked, verdict)
            self.matched, self.scored_calls, self.finished = (
                self.matched + num, self.scored_calls + den, self.finished + 1
            )  # fmt: skip
            if self.on_progress:
                accuracy = self.matched / self.scored_calls if self.scored_calls else None
                self.on_progress(self.finished, self.total, accuracy)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True


def collect(plan: Plan, path: Path) -> list[ResultRecord]:
    """This run's records from its log: only the planned (scenario, trial) pairs, in suite order."""
    wanted = {(s.id, t) for s in plan.scenarios for t in range(plan.config.trials or 1)}
    records = [r for r in results.read(path) if (r.scored.scenario_id, r.scored.trial) in wanted]
    return results.in_suite_order(records, [s.id for s in plan.scenarios])


def run_trial(plan: Plan, scenario: Scenario, trial: int) -> ResultRecord:
    """Run and score one trial; an unexpected failure becomes a failed trial, not a crash."""
    from lab.agent import run_scenario  # LangGraph: only once trials run

    config, started = plan.config, time.perf_counter()
    try:
        trace = run_scenario(
            scenario,
            model=config.model,
            strategy=plan.strategy,
            catalog=plan.catalog,
            trial=trial,
            settings=config.settings,
        )
    except Exception as exc:  # noqa: BLE001 - one trial's failure must not stop the run
        trace = Trace(
            scenario_id=scenario.id,
            trial=trial,
            model=config.model,
            strategy=plan.strategy.name,
            messages=[],
            turns=[],
            latency_s=time.perf_counter() - started,
            error=f"run_error: {type(exc).__name__}: {exc}",
        )
    if scenario.id not in plan.golds:
        plan.golds[scenario.id] = gold_replay(scenario, plan.catalog)
    return ResultRecord(
        scored=score_scenario(scenario, trace, plan.catalog, plan.golds[scenario.id]), trace=trace
    )


def finalize(plan: Plan, records: list[ResultRecord], seconds: float) -> RunSummary:
    """Summarise the records and log everything to the run; mark it finished."""
    run_id, trials = plan.run.run_id, plan.config.trials or 1
    scored = [r.scored for r in records]
    result = report.summary(scored, trials)
    failed = sum(r.scored.error is not None for r in records)
    extra = {"trials_failed": failed, "trials_run": len(records)}
    tracking.log_metrics(run_id, {**report.flat_metrics(result), **extra})
    tracking.log_table(run_id, [report.scenario_row(r) for r in records], "scenarios.json")
    tracking.log_dict(run_id, {k: result[k] for k in ("by_category", "by_tool")}, "breakdown.json")
    failures = report.failures(records, plan.scenarios)
    tracking.log_text(run_id, "".join(json.dumps(row) + "\n" for row in failures), "failures.jsonl")
    judged = report.verdicts(records, plan.scenarios)
    tracking.log_text(run_id, report.failures_markdown(list(judged.values())), "failures.md")
    stem, n = Path(plan.config.suite).stem, len(plan.scenarios)
    suite_name = stem + (f"-first{n}" if plan.config.limit else "")
    tracking.log_eval_dataset(plan.run, suite_name, plan.sha256, report.suite_records(plan.scenarios))
    tracking.log_prompt(run_id, f"lab-{plan.strategy.name}", plan.strategy.system_prompt)
    note = report.description(plan.config.model, plan.config.strategy, stem, result, trials, n)
    tracking.set_tags(run_id, {"mlflow.note.content": note})
    for name, fig in (
        ("confusion.png", figures.confusion_figure(confusion(scored))),
        ("accuracy_by_category.png", figures.category_figure(result["by_category"])),
    ):
        tracking.log_figure(run_id, fig, name)
        figures.close(fig)
    log = tracking.results_path(run_id)
    atomic_write_text(log, "".join(r.model_dump_json() + "\n" for r in records))  # suite order, no strays
    with tempfile.TemporaryDirectory() as folder:
        ordered = Path(folder) / tracking.RESULTS_ARTIFACT
        shutil.copyfile(log, ordered)
        tracking.log_artifact(run_id, ordered)
    if plan.traces is not None:
        plan.traces.close()
    tracking.log_traces(plan.run, records, plan.catalog.schemas(), verdicts=judged)
    tracking.set_status(run_id, "FINISHED")
    config = plan.config
    return RunSummary(
        run_id=run_id,
        experiment_id=plan.run.experiment_id,
        experiment=plan.run.experiment,
        model=config.model,
        strategy=config.strategy,
        suite=str(config.suite),
        suite_sha256=plan.sha256,
        scenarios=len(plan.scenarios),
        trials=trials,
        failed=failed,
        seconds=seconds,
        ui_path=tracking.ui_path(plan.run),
        result=result,
        records=records,
    )


def settings_for(retries: int, retry_delay_s: float, timeout_s: float = DEFAULT_TIMEOUT_S) -> AgentSettings:
    """Agent settings with a retry policy for transient model errors (rate limits, timeouts)."""
    return AgentSettings(
        timeout_s=timeout_s, retry=RetryPolicy(max_retries=retries, base_delay_s=retry_delay_s)
    )
