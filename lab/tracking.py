"""MLflow tracking for the lab; the only module that imports mlflow.

The store is ``sqlite:///mlruns/mlflow.db`` (artifacts next to it, under ``artifacts/``) unless
``MLFLOW_TRACKING_URI`` names another (a team server). Every write is retried with backoff
while SQLite reports "database is locked", so several processes can share one store. Values
pass through lab.redact before they reach MLflow. Traces are built after the fact from the
lab's Trace records (lab.spans plans them) and linked to their run, each carrying the lab's
verdict (lab.explain words it) as assessments. What a person reads next to a run also lands
here: the suite as an evaluation dataset, the system prompt's version in the prompt registry,
a tuned adapter as a LoggedModel. This module does not score, run scenarios or draw figures.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import mlflow
from mlflow.entities import Metric, Param, RunTag, SpanStatus, SpanStatusCode
from mlflow.exceptions import MlflowException
from mlflow.tracing import set_span_chat_tools
from mlflow.tracking import MlflowClient

from lab import results
from lab.errors import BadInput
from lab.explain import TrialVerdict
from lab.redact import redact, redact_text
from lab.spans import SpanPlan, plan_trace
from lab.types import ResultRecord

DEFAULT_URI = "sqlite:///mlruns/mlflow.db"
RESULTS_ARTIFACT = "results.jsonl"
RETRY_ATTEMPTS, RETRY_BASE_S, RETRY_CAP_S = 12, 0.05, 2.0
ASSESSOR = "lab.score"  # the source id of the lab's assessments
LOCKED_MARKERS = ("database is locked", "database table is locked", "database schema is locked")
T = TypeVar("T")
_clients: dict[str, MlflowClient] = {}
_configured: dict[str, str] = {}
logging.getLogger("mlflow").setLevel(logging.WARNING)  # store creation and exit flushes are not news


@dataclass(frozen=True)
class RunRef:
    """What the other stages need to know of an MLflow run."""

    run_id: str
    experiment_id: str
    experiment: str
    status: str
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float]


def tracking_uri() -> str:
    """The store in use: ``MLFLOW_TRACKING_URI`` or the lab's SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def store_dir() -> Path:
    """The local folder of the store: the SQLite file's folder, else ./mlruns."""
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///").split("?", 1)[0]).parent
    return Path("mlruns")


def results_path(run_id: str) -> Path:
    """Where a run's results log is appended while it runs."""
    return store_dir() / "results" / f"{run_id}.jsonl"


def retry_locked(action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``action``, retrying with jittered exponential backoff while the database is locked."""
    for attempt in range(RETRY_ATTEMPTS):
        try:
            return action(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - only lock errors are retried, others re-raised
            if attempt + 1 == RETRY_ATTEMPTS or not any(m in str(exc).lower() for m in LOCKED_MARKERS):
                raise
            time.sleep(min(RETRY_CAP_S, RETRY_BASE_S * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def client() -> MlflowClient:
    """A client of the current store; points MLflow's global URI (and so the tracer) at it too."""
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        store_dir().mkdir(parents=True, exist_ok=True)
    if _configured.get("uri") != uri:
        # An explicit set resets MLflow's tracer, whose exporter otherwise keeps the first store it saw.
        mlflow.set_tracking_uri(uri)
        _configured["uri"] = uri
    if uri not in _clients:
        _clients[uri] = retry_locked(MlflowClient, uri)
    return _clients[uri]


def experiment_id(name: str) -> str:
    """The id of the experiment ``name``, created (artifacts next to a SQLite store) if missing."""
    mlc = client()
    found = retry_locked(mlc.get_experiment_by_name, name)
    if found is not None:
        return found.experiment_id
    location = None
    if tracking_uri().startswith("sqlite:///"):
        folder = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        location = (store_dir() / "artifacts" / folder).resolve().as_uri()
    try:
        return retry_locked(mlc.create_experiment, name, artifact_location=location)
    except MlflowException:  # another process created it first
        found = retry_locked(mlc.get_experiment_by_name, name)
        if found is None:
            raise
        return found.experiment_id


def start_run(
    experiment: str,
    params: dict[str, Any],
    tags: dict[str, str] | None = None,
    run_name: str | None = None,
    parent_run_id: str | None = None,
) -> RunRef:
    """Open a run (status RUNNING) in ``experiment`` with its params and tags."""
    tags = dict(tags or {})
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    name = redact_text(run_name) if run_name else run_name  # it may hold the model string, key and all
    run = retry_locked(client().create_run, experiment_id(experiment), tags=redact(tags), run_name=name)
    log_params(run.info.run_id, params)
    return find_run(run.info.run_id)


def start_child_run(
    parent_run_id: str,
    params: dict[str, Any],
    tags: dict[str, str] | None = None,
    run_name: str | None = None,
) -> RunRef:
    """Open a run nested under ``parent_run_id``, in the parent's experiment."""
    parent = find_run(parent_run_id)
    return start_run(parent.experiment, params, tags, run_name, parent_run_id=parent.run_id)


def find_run(run_id: str, where: str | None = None) -> RunRef:
    """The run ``run_id``.

    Raises:
        BadInput: at ``where`` (default: the run id) when the store has no such run.
    """
    mlc = client()
    try:
        run = retry_locked(mlc.get_run, run_id)
    except MlflowException as exc:
        raise BadInput(where or run_id, f"no MLflow run with this id in {tracking_uri()}") from exc
    name = retry_locked(mlc.get_experiment, run.info.experiment_id).name
    return RunRef(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        experiment=name,
        status=run.info.status,
        params=dict(run.data.params),
        tags=dict(run.data.tags),
        metrics=dict(run.data.metrics),
    )


def run_params(run_id: str) -> dict[str, str]:
    """A run's params (BadInput if there is no such run)."""
    return find_run(run_id).params


def set_status(run_id: str, status: str) -> None:
    """Set a run's status: RUNNING to reopen it, FINISHED/FAILED/KILLED to end it."""
    mlc = client()
    if status == "RUNNING":
        retry_locked(mlc.update_run, run_id, status=status)
    else:
        retry_locked(mlc.set_terminated, run_id, status=status)


def log_params(run_id: str, params: dict[str, Any]) -> None:
    """Log params (values as text, secrets masked); re-logging the same value is harmless."""
    items = [Param(k, redact_text(str(v))[:6000]) for k, v in sorted(params.items())]
    for start in range(0, len(items), 100):
        retry_locked(client().log_batch, run_id, params=items[start : start + 100])


def set_tags(run_id: str, tags: dict[str, str]) -> None:
    """Set tags on a run, secrets masked."""
    retry_locked(client().log_batch, run_id, tags=[RunTag(k, redact_text(str(v))) for k, v in tags.items()])


def log_metrics(run_id: str, values: dict[str, float | None], step: int = 0) -> None:
    """Log metrics; ``None`` (nothing to measure) is logged as NaN so every run has every name."""
    now = int(time.time() * 1000)
    items = [Metric(k, float("nan") if v is None else float(v), now, step) for k, v in values.items()]
    for start in range(0, len(items), 500):
        retry_locked(client().log_batch, run_id, metrics=items[start : start + 500])


def log_dict(run_id: str, data: Any, artifact_file: str) -> None:
    """Log a JSON/YAML artifact, secrets masked."""
    retry_locked(client().log_dict, run_id, redact(data), artifact_file)


def log_text(run_id: str, text: str, artifact_file: str) -> None:
    """Log a text artifact, secrets masked."""
    retry_locked(client().log_text, run_id, redact_text(text), artifact_file)


def log_figure(run_id: str, figure: Any, artifact_file: str) -> None:
    """Log a matplotlib figure as an image artifact."""
    retry_locked(client().log_figure, run_id, figure, artifact_file)


def log_artifact(run_id: str, path: Path, artifact_path: str | None = None) -> None:
    """Log a local file as an artifact (the caller masks secrets in it)."""
    retry_locked(client().log_artifact, run_id, str(path), artifact_path)


def artifacts(run_id: str, path: str | None = None) -> list[str]:
    """Artifact paths of a run (one folder level)."""
    return [info.path for info in retry_locked(client().list_artifacts, run_id, path)]


def log_table(run_id: str, rows: list[dict[str, Any]], artifact_file: str) -> None:
    """Log rows as an MLflow table once; a second call for the same file is skipped.

    (MLflow appends to an existing table; skipping keeps a re-finalised resumed run clean.)
    """
    if artifact_file in artifacts(run_id):
        return
    if not rows:
        return
    table = {col: [redact(row.get(col)) for row in rows] for col in rows[0]}
    retry_locked(client().log_table, run_id, table, artifact_file)


def log_dataset(
    run_id: str, rows: list[dict[str, Any]], name: str, source: str, context: str = "training"
) -> None:
    """Log rows as an MLflow dataset input of the run (secrets masked)."""
    import pandas as pd
    from mlflow.entities import DatasetInput, InputTag

    dataset = mlflow.data.from_pandas(pd.DataFrame(redact(rows)), source=source, name=name)
    tags = [InputTag(key="mlflow.data.context", value=context)]
    retry_locked(client().log_inputs, run_id, datasets=[DatasetInput(dataset._to_mlflow_entity(), tags)])


def load_results(run_id: str) -> list[ResultRecord]:
    """A run's results, from the local results log or else its ``results.jsonl`` artifact.

    Raises:
        BadInput: unknown run id, or a run without results.
    """
    find_run(run_id)
    local = results_path(run_id)
    if local.exists():
        return results.read(local)
    if RESULTS_ARTIFACT not in artifacts(run_id):
        raise BadInput(run_id, "this run has no results log")
    with tempfile.TemporaryDirectory() as folder:
        path = retry_locked(client().download_artifacts, run_id, RESULTS_ARTIFACT, folder)
        return results.read(Path(path))


def ui_path(run: RunRef) -> str:
    """The MLflow UI's URL path (fragment) of a run."""
    return f"#/experiments/{run.experiment_id}/runs/{run.run_id}"


def ui_command(host: str = "127.0.0.1", port: int = 5000) -> list[str]:
    """The command line that serves the MLflow UI on the lab's store."""
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    command += ["--backend-store-uri", tracking_uri()]
    if tracking_uri().startswith("sqlite:///"):
        command += ["--artifacts-destination", str((store_dir() / "artifacts").resolve())]
    return command


# --------------------------------------------------------------------------- traces


def logged_trials(run: RunRef) -> set[tuple[str, int]]:
    """(scenario id, trial) pairs with a complete trace linked to the run."""
    found = retry_locked(
        mlflow.search_traces,
        locations=[run.experiment_id],
        run_id=run.run_id,
        return_type="list",
        include_spans=False,
    )
    return {
        (t.info.tags["lab.scenario_id"], int(t.info.tags["lab.trial"]))
        for t in found
        if "lab.scenario_id" in t.info.tags and t.info.state.value in ("OK", "ERROR")
    }


def log_traces(
    run: RunRef,
    records: list[ResultRecord],
    tools: list[dict[str, Any]],
    rounds: int = 3,
    verdicts: dict[tuple[str, int], TrialVerdict] | None = None,
) -> int:
    """Log one MLflow trace per record not yet traced in the run; returns how many were missing.

    With ``verdicts`` each trace carries the lab's verdict as assessments (see ``_assess``).

    Spans are exported in the background in batches; the export swallows store errors (a
    locked database), so after a flush the run is checked and what is missing is logged again.
    """
    tools = redact(tools)  # attached to every model span: the store gets nothing unmasked
    missing = None
    for _ in range(rounds):
        have = logged_trials(run)
        todo = [r for r in records if (r.trace.scenario_id, r.trace.trial) not in have]
        missing = len(todo) if missing is None else missing
        if not todo:
            break
        for record in todo:
            _log_trace(
                run, record, tools, (verdicts or {}).get((record.trace.scenario_id, record.trace.trial))
            )
        mlflow.flush_trace_async_logging()
    return missing or 0


def _log_trace(
    run: RunRef, record: ResultRecord, tools: list[dict[str, Any]], verdict: TrialVerdict | None = None
) -> None:
    plan = plan_trace(record.trace)
    origin_ns = time.time_ns() - int(plan.end_s * 1e9)
    tags = {
        "lab.scenario_id": record.trace.scenario_id,
        "lab.trial": str(record.trace.trial),
        "lab.success": str(record.scored.success).lower(),
        "lab.category": record.scored.category,
    }
    root = mlflow.start_span_no_context(
        plan.name,
        span_type=plan.span_type,
        inputs=redact(plan.inputs),
        attributes=redact(plan.attributes),
        experiment_id=run.experiment_id,
        start_time_ns=origin_ns,
        tags=tags,
        metadata={"mlflow.sourceRun": run.run_id},
    )
    turns = [_emit(child, root, origin_ns, tools) for child in plan.children]
    if verdict is not None:
        _assess(root, turns, verdict)
    _end(root, plan, origin_ns)


def _emit(plan: SpanPlan, parent: Any, origin_ns: int, tools: list[dict[str, Any]]) -> Any:
    span = mlflow.start_span_no_context(
        plan.name,
        span_type=plan.span_type,
        parent_span=parent,
        inputs=redact(plan.inputs),
        attributes=redact(plan.attributes),
        start_time_ns=origin_ns + int(plan.start_s * 1e9),
    )
    if plan.span_type == "CHAT_MODEL" and tools:
        set_span_chat_tools(span, tools)
    for child in plan.children:
        _emit(child, span, origin_ns, tools)
    _end(span, plan, origin_ns)
    return span


def _assess(root: Any, turns: list[Any], verdict: TrialVerdict) -> None:
    """Attach the verdict to the trace before its root ends, so the export writes it with the trace.

    Trace level: ``passed`` (bool feedback, the reason as rationale) and ``expected_calls`` (an
    expectation: what each turn should have done). Each turn's span: ``turn_correct`` (bool
    feedback, ``expected X, got Y: reason``). Text is masked. The trace's state stays the
    execution's (OK unless the trial errored); pass/fail lives in the assessments.
    """
    from mlflow.entities import AssessmentSource, Expectation, Feedback
    from mlflow.tracing.trace_manager import InMemoryTraceManager

    source, trace_id = AssessmentSource(source_type="CODE", source_id=ASSESSOR), root.trace_id
    items: list[Any] = [
        Feedback(
            name="passed",
            value=verdict.passed,
            rationale=redact_text(verdict.reason),
            source=source,
            trace_id=trace_id,
        ),
        Expectation(
            name="expected_calls",
            value=[redact_text(f"turn {t.index}: {t.expected}") for t in verdict.turns] or ["(no turns)"],
            source=source,
            trace_id=trace_id,
        ),
    ]
    for turn in verdict.turns:
        span = turns[turn.index] if turn.index < len(turns) else root
        items.append(
            Feedback(
                name="turn_correct",
                value=turn.correct,
                rationale=redact_text(f"turn {turn.index}: {turn.rationale}"),
                source=source,
                trace_id=trace_id,
                span_id=span.span_id,
            )
        )
    with InMemoryTraceManager.get_instance().get_trace(trace_id) as trace:
        if trace is not None:
            trace.info.assessments.extend(items)


def trace_assessments(run: RunRef) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The run's traces' assessments as plain dicts (name, value, rationale, span id, kind)."""
    found = retry_locked(
        mlflow.search_traces, locations=[run.experiment_id], run_id=run.run_id, return_type="list",
        include_spans=False,
    )  # fmt: skip
    return {
        (t.info.tags["lab.scenario_id"], int(t.info.tags["lab.trial"])): [
            {
                "name": a.name,
                "kind": "feedback" if a.feedback is not None else "expectation",
                "value": a.feedback.value if a.feedback is not None else a.expectation.value,
                "rationale": a.rationale,
                "span_id": a.span_id,
                "source": a.source.source_id,
            }
            for a in t.info.assessments
        ]
        for t in found
        if "lab.scenario_id" in t.info.tags
    }


def _end(span: Any, plan: SpanPlan, origin_ns: int) -> None:
    status = SpanStatus(SpanStatusCode.ERROR, redact_text(plan.error)) if plan.error else "OK"
    span.end(outputs=redact(plan.outputs), status=status, end_time_ns=origin_ns + int(plan.end_s * 1e9))


def run_traces(run: RunRef) -> list[dict[str, Any]]:
    """The run's traces as plain dicts: tags and spans (name, type, parent, inputs, outputs)."""
    found = retry_locked(
        mlflow.search_traces, locations=[run.experiment_id], run_id=run.run_id, return_type="list"
    )
    return [
        {
            "trace_id": t.info.trace_id,
            "tags": dict(t.info.tags),
            "metadata": dict(t.info.trace_metadata),
            "spans": [
                {
                    "name": s.name,
                    "type": s.span_type,
                    "span_id": s.span_id,
                    "parent_id": s.parent_id,
                    "inputs": s.inputs,
                    "outputs": s.outputs,
                    "status": s.status.status_code.value,
                    "start_ns": s.start_time_ns,
                    "end_ns": s.end_time_ns,
                }
                for s in t.data.spans
            ],
        }
        for t in found
    ]


# --------------------------------------------------------------------------- lookups


def find_runs(experiment_id: str, tags: dict[str, str], status: str = "FINISHED") -> list[RunRef]:
    """Runs of an experiment with every tag of ``tags`` (exact values) and ``status``, newest first."""
    terms = [f"tags.`{key}` = '{value}'" for key, value in tags.items()]
    query = " and ".join([*terms, f"attributes.status = '{status}'"])
    order = ["attributes.start_time DESC"]
    found = retry_locked(client().search_runs, [experiment_id], query, order_by=order)
    return [find_run(run.info.run_id) for run in found]


def latest_run(model: str, split: str, kind: str = "suite") -> RunRef | None:
    """The most recently started finished run of ``model`` on a ``split`` suite, in any experiment."""
    mlc = client()
    experiments = [e.experiment_id for e in retry_locked(mlc.search_experiments)]
    query = (
        f"params.model = '{model}' and tags.`lab.split` = '{split}' and tags.`lab.kind` = '{kind}' "
        "and attributes.status = 'FINISHED'"
    )
    if not experiments:
        return None
    order = ["attributes.start_time DESC"]
    found = retry_locked(mlc.search_runs, experiments, query, order_by=order, max_results=1)
    return find_run(found[0].info.run_id) if found else None


# --------------------------------------------------------------------------- what a person reads


def log_eval_dataset(run: RunRef, name: str, sha256: str, records: list[dict[str, Any]]) -> str:
    """Link the suite to the run as an MLflow evaluation dataset; returns the dataset's id.

    The dataset ``name`` tagged ``lab.suite_sha256`` is reused when the run's experiment already
    has it (a suite's content is created once per experiment); otherwise it is created with
    ``records`` (``inputs``/``expectations``/``tags`` dicts, masked). The run lists it under
    Datasets (context ``eval``). Runs that only log files (``log_dataset``) are not touched.
    """
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.genai.datasets import EvaluationDataset

    mlc = client()
    found = retry_locked(
        mlc.search_datasets, experiment_ids=[run.experiment_id], filter_string=f"name = '{name}'"
    )
    same = [d for d in found if (d.tags or {}).get("lab.suite_sha256") == sha256]
    if same:
        dataset = EvaluationDataset(same[0])
    else:
        tags = {"lab.suite_sha256": sha256, "lab.kind": "suite"}
        dataset = EvaluationDataset(retry_locked(mlc.create_dataset, name, [run.experiment_id], tags))
        retry_locked(dataset.merge_records, redact(records))
    inputs = [DatasetInput(dataset._to_mlflow_entity(), [InputTag("mlflow.data.context", "eval")])]
    retry_locked(mlc.log_inputs, run.run_id, datasets=inputs)
    return dataset.dataset_id


def run_datasets(run_id: str) -> list[dict[str, str]]:
    """The datasets a run lists as inputs: name, digest, source type and context."""
    run = retry_locked(client().get_run, run_id)
    return [
        {
            "name": d.dataset.name,
            "digest": d.dataset.digest,
            "source_type": d.dataset.source_type,
            "source": d.dataset.source,
            "context": next((t.value for t in d.tags if t.key == "mlflow.data.context"), ""),
        }
        for d in run.inputs.dataset_inputs
    ]


def dataset_records(dataset_id: str) -> list[dict[str, Any]]:
    """An evaluation dataset's records: inputs, expectations and tags."""
    dataset = retry_locked(client().get_dataset, dataset_id)
    return [{"inputs": r.inputs, "expectations": r.expectations, "tags": r.tags} for r in dataset.records]


def log_prompt(run_id: str, name: str, text: str, tags: dict[str, str] | None = None) -> int:
    """Link the prompt ``name`` with ``text`` to the run; returns the version the run used.

    A new version is registered only when no version of ``name`` has this (masked) text. The run
    gets the tags ``lab.prompt`` (name) and ``lab.prompt_version`` and MLflow's own link (its
    Prompts section). Nothing is registered for an empty text.
    """
    mlc, template = client(), redact_text(text)
    known = []
    if retry_locked(mlc.get_prompt, name) is not None:
        known = [v for v in retry_locked(mlc.search_prompt_versions, name, 1000) if v.template == template]
    if known:
        version = min(known, key=lambda v: int(v.version))
    else:
        version = retry_locked(
            mlc.register_prompt,
            name,
            template,
            commit_message="lab: a run used this text",
            tags=redact(tags or {}),
        )
    retry_locked(mlc.link_prompt_version_to_run, run_id, version)
    set_tags(run_id, {"lab.prompt": name, "lab.prompt_version": str(version.version)})
    return int(version.version)


def prompt_text(name: str, version: int) -> str:
    """The template of one registered prompt version."""
    return retry_locked(client().get_prompt_version, name, version).template


def log_adapter_model(run_id: str, name: str, folder: Path, params: dict[str, Any]) -> str:
    """Record a tuned adapter as an MLflow LoggedModel produced by the run; returns its model id.

    The model is external (not an MLflow-format model): its params (masked) and its small text
    files (``*.json``, ``*.md``: the adapter config, the tune summary) are on it; the weights stay
    once, in the run's ``adapter/`` artifacts, which the tag ``lab.weights`` names. The run lists
    the model among its outputs.
    """
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus

    mlc, run = client(), find_run(run_id)
    tags = {"mlflow.model.isExternal": "true", "lab.kind": "lora-adapter"}
    tags |= {"lab.weights": f"runs:/{run_id}/adapter", "lab.adapter": redact_text(str(folder))}
    model = retry_locked(
        mlc.create_logged_model,
        run.experiment_id,
        name=name,
        source_run_id=run_id,
        tags=tags,
        params={k: redact_text(str(v))[:6000] for k, v in params.items()},
        model_type="lora-adapter",
    )
    with tempfile.TemporaryDirectory() as copy:
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in (".json", ".md"):
                (Path(copy) / path.name).write_text(redact_text(path.read_text(encoding="utf-8")))
        retry_locked(mlc.log_model_artifacts, model.model_id, copy)
    retry_locked(mlc.finalize_logged_model, model.model_id, LoggedModelStatus.READY)
    retry_locked(mlc.log_outputs, run_id, [LoggedModelOutput(model.model_id, 0)])
    return model.model_id


def run_models(run_id: str) -> list[dict[str, Any]]:
    """The LoggedModels a run produced: id, name, status, source run and params."""
    mlc = client()
    run = retry_locked(mlc.get_run, run_id)
    models = [retry_locked(mlc.get_logged_model, o.model_id) for o in run.outputs.model_outputs]
    return [
        {"model_id": m.model_id, "name": m.name, "status": str(m.status), "source_run_id": m.source_run_id,
         "params": dict(m.params), "artifacts": [f.path for f in mlc.list_logged_model_artifacts(m.model_id)]}
        for m in models
    ]  # fmt: skip


def ui_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of ``ui_command``: the caller's, with MLflow's job-execution workers off.

    Browsing a local store needs no job runner (huey consumers and their workers, used for
    server-side judges and scheduled scoring); ``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false`` keeps
    the server to one web process.
    """
    env = dict(os.environ if environ is None else environ)
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return env
