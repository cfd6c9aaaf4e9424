"""MLflow tracking for the lab; the only module that imports mlflow.

The store is ``sqlite:///mlruns/mlflow.db`` (artifacts next to it, under ``artifacts/``) unless
``MLFLOW_TRACKING_URI`` names another (a team server). Every write is retried with backoff
while SQLite reports "database is locked", so several processes can share one store. Values
pass through lab.redact before they reach MLflow. Traces are built after the fact from the
lab's Trace records (lab.spans plans them) and linked to their run. This module does not
score, run scenarios or draw figures.
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
from lab.redact import redact, redact_text
from lab.spans import SpanPlan, plan_trace
from lab.types import ResultRecord

DEFAULT_URI = "sqlite:///mlruns/mlflow.db"
RESULTS_ARTIFACT = "results.jsonl"
RETRY_ATTEMPTS, RETRY_BASE_S, RETRY_CAP_S = 12, 0.05, 2.0
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


def log_traces(run: RunRef, records: list[ResultRecord], tools: list[dict[str, Any]], rounds: int = 3) -> int:
    """Log one MLflow trace per record not yet traced in the run; returns how many were missing.

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
            _log_trace(run, record, tools)
        mlflow.flush_trace_async_logging()
    return missing or 0


def _log_trace(run: RunRef, record: ResultRecord, tools: list[dict[str, Any]]) -> None:
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
    for child in plan.children:
        _emit(child, root, origin_ns, tools)
    _end(root, plan, origin_ns)


def _emit(plan: SpanPlan, parent: Any, origin_ns: int, tools: list[dict[str, Any]]) -> None:
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
